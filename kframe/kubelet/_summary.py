"""The kubelet's Summary API (``GET /stats/summary``), built from the runtime's CRI stats.

Upstream the kubelet answers ``/stats/summary`` (``k8s.io/kubelet/pkg/apis/stats/v1alpha1``)
from cAdvisor and CRI ``ListContainerStats``; metrics-server scrapes it (or
``/metrics/resource``) for ``metrics.k8s.io``, which the HPA reads. kframe builds the same JSON
from :meth:`RuntimeService.list_container_stats` alone: the node's usage is the sum of its
containers' (there is no cAdvisor root cgroup to read), and only the ``cpu`` and ``memory``
blocks are filled. :mod:`kframe.kubelet._server` serves it; ``kframe.controller``'s
``KubeletSummaryMetrics`` reads it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from kframe.kubelet._cri import (
    LABEL_CONTAINER_NAME,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
)
from kframe.runtime import ContainerStats, RuntimeService

if TYPE_CHECKING:
    from kframe.kubelet._kubelet import Kubelet

__all__ = ["Summary", "kubelet_summaries", "node_summary"]

#: ``summary(node) -> Summary JSON``; ``node`` is the ``?node=`` query parameter ("" when
#: absent). KeyError: no such node here (404); LookupError: which node is meant is unclear (400).
Summary = Callable[[str], Awaitable[dict[str, Any]]]


def _time(nanos: int) -> str:
    stamp = _dt.datetime.fromtimestamp(nanos / 1e9, _dt.UTC).replace(microsecond=0)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cpu(stats: Sequence[ContainerStats], now: int) -> dict[str, Any]:
    cpus = [s.cpu for s in stats if s.cpu is not None]
    return {
        "time": _time(max((c.timestamp for c in cpus), default=now)),
        "usageNanoCores": sum(c.usage_nano_cores for c in cpus),
        "usageCoreNanoSeconds": sum(c.usage_core_nano_seconds for c in cpus),
    }


def _memory(stats: Sequence[ContainerStats], now: int) -> dict[str, Any]:
    mems = [s.memory for s in stats if s.memory is not None]
    return {
        "time": _time(max((m.timestamp for m in mems), default=now)),
        "workingSetBytes": sum(m.working_set_bytes for m in mems),
        "usageBytes": sum(m.usage_bytes for m in mems),
        "rssBytes": sum(m.rss_bytes for m in mems),
        "pageFaults": sum(m.page_faults for m in mems),
        "majorPageFaults": sum(m.major_page_faults for m in mems),
    }


async def node_summary(node_name: str, service: RuntimeService) -> dict[str, Any]:
    """The Summary of one node: every running container's cpu and memory, grouped by pod."""
    now = _dt.datetime.now(_dt.UTC)
    now_ns = int(now.timestamp() * 1e9)
    stats = await service.list_container_stats()
    created = {c.id: c.created_at for c in await service.list_containers()}
    sandboxes = {
        (s.metadata.namespace, s.metadata.name, s.metadata.uid): s.created_at
        for s in await service.list_pod_sandbox()
    }
    by_pod: dict[tuple[str, str, str], list[ContainerStats]] = {}
    for item in stats:
        labels = item.attributes.labels
        ref = (
            labels.get(LABEL_POD_NAMESPACE, ""),
            labels.get(LABEL_POD_NAME, ""),
            labels.get(LABEL_POD_UID, ""),
        )
        if ref[1]:  # a container the kubelet did not start (no pod labels) is not a pod's
            by_pod.setdefault(ref, []).append(item)
    pods = []
    for (namespace, name, uid), items in sorted(by_pod.items()):
        containers = [
            {
                "name": s.attributes.labels.get(LABEL_CONTAINER_NAME, s.attributes.metadata.name),
                "startTime": _time(created.get(s.attributes.id, now_ns)),
                "cpu": _cpu([s], now_ns),
                "memory": _memory([s], now_ns),
            }
            for s in items
        ]
        pods.append(
            {
                "podRef": {"name": name, "namespace": namespace, "uid": uid},
                "startTime": _time(sandboxes.get((namespace, name, uid), now_ns)),
                "containers": containers,
                "cpu": _cpu(items, now_ns),
                "memory": _memory(items, now_ns),
            }
        )
    return {
        "node": {
            "nodeName": node_name,
            "startTime": _time(min(sandboxes.values(), default=now_ns)),
            "cpu": _cpu(stats, now_ns),
            "memory": _memory(stats, now_ns),
        },
        "pods": pods,
    }


def kubelet_summaries(kubelets: Callable[[], Sequence[Kubelet]]) -> Summary:
    """The server's :data:`Summary` over the kubelets it serves (one for ``kframe kubelet``,
    every hosted node for ``kframe up``). Several nodes share one server in kframe, so a
    ``?node=`` query parameter (a kframe extension) names the node when there is more than one."""

    async def summary(node: str) -> dict[str, Any]:
        hosted = list(kubelets())
        if not node:
            if len(hosted) != 1:
                raise LookupError(
                    f"this kubelet server serves {len(hosted)} nodes: name one with ?node=<name>"
                )
            chosen = hosted[0]
        else:
            found = [k for k in hosted if k.node_name == node]
            if not found:
                raise KeyError(f'node "{node}" is not served here')
            chosen = found[0]
        return await node_summary(chosen.node_name, chosen.runtime.runtime_service)

    return summary
