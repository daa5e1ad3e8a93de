"""Pod resource metrics for controllers (the HPA): what upstream reads from ``metrics.k8s.io``.

Upstream, metrics-server scrapes every kubelet's ``/metrics/resource`` (formerly
``/stats/summary``) and serves ``PodMetrics`` through the aggregated ``metrics.k8s.io`` API; the
HPA's ``resourceMetricsClient`` lists them by namespace and selector. kframe has no aggregation
layer, so a controller is handed a :class:`MetricsSource` instead:

- :class:`KubeletSummaryMetrics` (the reference) asks the kubelet of each node running a
  selected pod for its ``/stats/summary``, at the address and port the Node reports (as the API
  server's node proxy finds a kubelet);
- :class:`FixedMetrics` answers what a test or a demo set.

Values are what metrics.k8s.io carries: cpu in nano-cores (``usageNanoCores``), memory as the
working set in bytes; :meth:`ContainerUsage.milli` gives the milli-units upstream's HPA computes
with (``Quantity.MilliValue``).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import aiohttp
import attrs

from kframe.api import Selector
from kframe.api.models import Node, Pod
from kframe.client import Client

__all__ = [
    "METRIC_WINDOW",
    "ContainerUsage",
    "FixedMetrics",
    "KubeletSummaryMetrics",
    "MetricsSource",
    "PodUsage",
    "pod_usage_from_summary",
]

log = logging.getLogger("kframe.controller")

#: The window a usage sample covers: metrics-server's default ``--metric-resolution`` (15 s).
METRIC_WINDOW = 15.0
#: Upstream's default ``--kubelet-preferred-address-types`` (metrics-server and the API server).
_PREFERRED_ADDRESS_TYPES = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")
_KUBELET_PORT = 10250


@attrs.frozen(kw_only=True)
class ContainerUsage:
    """One container's usage; None when the source did not report that resource."""

    cpu_nano_cores: int | None = None
    memory_bytes: int | None = None

    def milli(self, resource: str) -> int | None:
        """The usage of ``resource`` (``cpu``, ``memory``) in milli-units, rounded up as
        ``Quantity.MilliValue`` rounds (``1n`` of cpu is 1m)."""
        if resource == "cpu":
            return None if self.cpu_nano_cores is None else -(-self.cpu_nano_cores // 1_000_000)
        if resource == "memory":
            return None if self.memory_bytes is None else self.memory_bytes * 1000
        return None


@attrs.frozen(kw_only=True)
class PodUsage:
    """A pod's containers' usage, sampled at ``timestamp`` over ``window`` seconds
    (metrics.k8s.io ``PodMetrics``)."""

    containers: Mapping[str, ContainerUsage]
    timestamp: _dt.datetime
    window: float = METRIC_WINDOW

    def milli(self, resource: str, container: str = "") -> int | None:
        """The pod's usage of ``resource`` in milli-units (only ``container``'s if named); None
        when a container lacks it, as upstream's metrics client then drops the pod."""
        total = 0
        items = [(n, c) for n, c in self.containers.items() if not container or n == container]
        if not items:
            return None
        for _, usage in items:
            value = usage.milli(resource)
            if value is None:
                return None
            total += value
        return total


@runtime_checkable
class MetricsSource(Protocol):
    """Where a controller reads pod resource usage (metrics.k8s.io's ``PodMetrics`` list)."""

    async def pod_metrics(self, namespace: str, selector: Selector) -> Mapping[str, PodUsage]:
        """Usage by pod name of the pods in ``namespace`` that ``selector`` selects; a pod
        without a sample is left out. Raises when no metrics can be read at all."""
        ...


class FixedMetrics:
    """Usage set by hand (tests, demos): :meth:`set` a pod's containers, :meth:`forget` it."""

    def __init__(self) -> None:
        self._pods: dict[tuple[str, str], tuple[PodUsage, Mapping[str, str] | None]] = {}

    def set(
        self,
        namespace: str,
        pod: str,
        containers: Mapping[str, ContainerUsage],
        *,
        labels: Mapping[str, str] | None = None,
        timestamp: _dt.datetime | None = None,
        window: float = METRIC_WINDOW,
    ) -> None:
        """Report ``containers`` for ``pod``; ``labels`` are matched against the selector (None:
        the pod matches every selector)."""
        stamp = timestamp if timestamp is not None else _dt.datetime.now(_dt.UTC)
        usage = PodUsage(containers=dict(containers), timestamp=stamp, window=window)
        self._pods[(namespace, pod)] = (usage, dict(labels) if labels is not None else None)

    def forget(self, namespace: str, pod: str) -> None:
        self._pods.pop((namespace, pod), None)

    async def pod_metrics(self, namespace: str, selector: Selector) -> Mapping[str, PodUsage]:
        return {
            name: usage
            for (ns, name), (usage, labels) in self._pods.items()
            if ns == namespace and (labels is None or selector.matches(labels))
        }


def _parse_time(value: Any) -> _dt.datetime:
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return _dt.datetime.now(_dt.UTC)


def pod_usage_from_summary(summary: Mapping[str, Any]) -> dict[tuple[str, str], PodUsage]:
    """The Summary API JSON of one kubelet as usage by (namespace, pod name): each container's
    ``cpu.usageNanoCores`` and ``memory.workingSetBytes`` (what metrics-server keeps)."""
    out: dict[tuple[str, str], PodUsage] = {}
    for pod in summary.get("pods") or ():
        ref = pod.get("podRef") or {}
        containers: dict[str, ContainerUsage] = {}
        stamps = []
        for item in pod.get("containers") or ():
            cpu = item.get("cpu") or {}
            memory = item.get("memory") or {}
            nano, working = cpu.get("usageNanoCores"), memory.get("workingSetBytes")
            containers[str(item.get("name", ""))] = ContainerUsage(
                cpu_nano_cores=int(nano) if isinstance(nano, int) else None,
                memory_bytes=int(working) if isinstance(working, int) else None,
            )
            if "time" in cpu:
                stamps.append(_parse_time(cpu["time"]))
        if ref.get("name") and containers:
            stamp = max(stamps) if stamps else _parse_time(None)
            out[(str(ref.get("namespace", "")), str(ref["name"]))] = PodUsage(
                containers=containers, timestamp=stamp
            )
    return out


def _kubelet_address(node: Node) -> tuple[str, int] | None:
    status = node.status
    if status is None:
        return None
    addresses = status.addresses or ()
    for kind in _PREFERRED_ADDRESS_TYPES:
        host = next((a.address for a in addresses if a.type == kind and a.address), None)
        if host:
            break
    else:
        return None
    endpoint = status.daemon_endpoints.kubelet_endpoint if status.daemon_endpoints else None
    port = endpoint.port if endpoint is not None and endpoint.port else _KUBELET_PORT
    return host, port


class KubeletSummaryMetrics:
    """Reads ``/stats/summary`` from the kubelet of every node that runs a selected pod.

    The ``node`` query parameter names the node, for the kubelet servers that serve several
    (``kframe up``); a kubelet that cannot be reached leaves its pods without metrics.
    """

    def __init__(self, client: Client, *, timeout: float = 10.0) -> None:
        self._client = client
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _summary(self, session: aiohttp.ClientSession, node: Node) -> dict[str, Any]:
        where = _kubelet_address(node)
        name = node.metadata.name if node.metadata is not None else ""
        if where is None or not name:
            return {}
        host, port = where
        host = f"[{host}]" if ":" in host else host
        url = f"http://{host}:{port}/stats/summary"
        try:
            async with session.get(url, params={"node": name}) as response:
                if response.status != 200:
                    log.info("stats of node %s: %s answered %d", name, url, response.status)
                    return {}
                body = await response.json()
                return body if isinstance(body, dict) else {}
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            log.info("stats of node %s: %s: %s", name, url, exc or type(exc).__name__)
            return {}

    async def pod_metrics(self, namespace: str, selector: Selector) -> Mapping[str, PodUsage]:
        pods = await self._client.list(Pod, namespace=namespace, label_selector=str(selector))
        wanted = {p.metadata.name for p in pods.items if p.metadata is not None}
        node_names = {p.spec.node_name for p in pods.items if p.spec and p.spec.node_name}
        if not node_names:
            return {}
        nodes = [
            n
            for n in (await self._client.list(Node)).items
            if n.metadata is not None and n.metadata.name in node_names
        ]
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            summaries: Iterable[dict[str, Any]] = await asyncio.gather(
                *(self._summary(session, n) for n in nodes)
            )
        out: dict[str, PodUsage] = {}
        for summary in summaries:
            for (ns, name), usage in pod_usage_from_summary(summary).items():
                if ns == namespace and name in wanted:
                    out[name] = usage
        return out
