"""Helpers for testing scheduler plugins: short pod and node builders and a static Handle.

Plugin tests call a plugin's extension points directly, as upstream's plugin tests do::

    snapshot = Snapshot.build([make_node("n1", cpu="4")], [make_pod("p0", cpu="1", node="n1")])
    plugin = factory.new(args, StaticHandle(snapshot))
    state = CycleState()
    plugin.pre_filter(state, pod, snapshot.list())
    plugin.filter(state, pod, snapshot.get("n1"))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from kframe.api import from_dict
from kframe.api.models import Node, Pod
from kframe.scheduler import Snapshot

__all__ = ["StaticHandle", "make_node", "make_pod"]

T = TypeVar("T")


def _resources(cpu: str | None, memory: str | None, extra: Mapping[str, str]) -> dict[str, str]:
    out = dict(extra)
    if cpu is not None:
        out["cpu"] = cpu
    if memory is not None:
        out["memory"] = memory
    return out


def make_pod(
    name: str,
    namespace: str = "default",
    *,
    cpu: str | None = None,
    memory: str | None = None,
    resources: Mapping[str, str] = {},
    labels: Mapping[str, str] = {},
    node: str | None = None,
    priority: int | None = None,
    uid: str | None = None,
    spec: Mapping[str, Any] = {},
) -> Pod:
    """A pod with one container ``c`` requesting ``cpu``/``memory``/``resources``.

    ``spec`` is merged over the built spec (JSON names), for anything else: tolerations,
    affinity, topologySpreadConstraints, more containers.
    """
    requests = _resources(cpu, memory, resources)
    container: dict[str, Any] = {"name": "c", "image": "registry.k8s.io/pause:3.10"}
    if requests:
        container["resources"] = {"requests": requests}
    body: dict[str, Any] = {"containers": [container]}
    if node is not None:
        body["nodeName"] = node
    if priority is not None:
        body["priority"] = priority
    body.update(spec)
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": uid or f"{namespace}-{name}",
    }
    if labels:
        metadata["labels"] = dict(labels)
    return from_dict({"metadata": metadata, "spec": body}, Pod)


def make_node(
    name: str,
    *,
    cpu: str | None = "32",
    memory: str | None = "64Gi",
    pods: str | None = "110",
    allocatable: Mapping[str, str] = {},
    labels: Mapping[str, str] = {},
    taints: Sequence[Mapping[str, Any]] = (),
    unschedulable: bool = False,
    images: Sequence[Mapping[str, Any]] = (),
    status: Mapping[str, Any] = {},
) -> Node:
    """A node with this allocatable (and capacity), labels, taints and images.

    ``kubernetes.io/hostname`` is set to the name unless ``labels`` sets it.
    """
    alloc = _resources(cpu, memory, allocatable)
    if pods is not None:
        alloc.setdefault("pods", pods)
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    if unschedulable:
        spec["unschedulable"] = True
    node_status: dict[str, Any] = {"allocatable": alloc, "capacity": dict(alloc)}
    if images:
        node_status["images"] = [dict(i) for i in images]
    node_status.update(status)
    all_labels = {"kubernetes.io/hostname": name, **labels}
    return from_dict(
        {"metadata": {"name": name, "labels": all_labels}, "spec": spec, "status": node_status},
        Node,
    )


class StaticHandle:
    """A :class:`kframe.scheduler.Handle` over a fixed snapshot and fixed object lists."""

    def __init__(self, snapshot: Snapshot | None = None, objects: Iterable[object] = ()) -> None:
        self._snapshot = snapshot if snapshot is not None else Snapshot(())
        self._objects = list(objects)

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def list_objects(self, cls: type[T]) -> Sequence[T]:
        return [o for o in self._objects if isinstance(o, cls)]

    @property
    def client(self) -> None:
        return None
