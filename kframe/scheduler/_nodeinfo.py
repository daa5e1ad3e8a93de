"""A node as one scheduling cycle sees it: the Node, its pods, and what they add up to.

Upstream framework.NodeInfo. The scheduler's cache keeps one per node and updates it
incrementally as pods are assumed, bound and deleted; a cycle reads a snapshot of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from kframe.api.models import Node, Taint

from ._podinfo import HostPort, PodInfo
from ._resource import Resource

__all__ = ["NO_IMAGES", "HostPortInfo", "ImageStateSummary", "NodeInfo", "next_generation"]

_generations = itertools.count(1)


def next_generation() -> int:
    """A number larger than every one handed out before: how snapshots notice changed nodes."""
    return next(_generations)


_ANY_IP = "0.0.0.0"


class HostPortInfo:
    """Host ports in use on a node, by IP (upstream framework.HostPortInfo)."""

    __slots__ = ("_by_ip",)

    def __init__(self) -> None:
        self._by_ip: dict[str, dict[tuple[str, int], int]] = {}

    def add(self, port: HostPort) -> None:
        ip, protocol, number = port
        used = self._by_ip.setdefault(ip, {})
        used[(protocol, number)] = used.get((protocol, number), 0) + 1

    def remove(self, port: HostPort) -> None:
        ip, protocol, number = port
        used = self._by_ip.get(ip)
        if used is None or (protocol, number) not in used:
            return
        used[(protocol, number)] -= 1
        if not used[(protocol, number)]:
            del used[(protocol, number)]
            if not used:
                del self._by_ip[ip]

    def conflicts(self, port: HostPort) -> bool:
        """``CheckConflict``: 0.0.0.0 clashes with the same protocol and port on any IP."""
        ip, protocol, number = port
        key = (protocol, number)
        if ip == _ANY_IP:
            return any(key in used for used in self._by_ip.values())
        return key in self._by_ip.get(ip, ()) or key in self._by_ip.get(_ANY_IP, ())

    def __len__(self) -> int:
        return sum(len(used) for used in self._by_ip.values())

    def clone(self) -> HostPortInfo:
        other = HostPortInfo()
        other._by_ip = {ip: dict(used) for ip, used in self._by_ip.items()}
        return other


class ImageStateSummary:
    """An image's size and how many nodes of the cluster have it (for ImageLocality)."""

    __slots__ = ("num_nodes", "size")

    def __init__(self, size: int, num_nodes: int) -> None:
        self.size = size
        self.num_nodes = num_nodes

    def __repr__(self) -> str:
        return f"ImageStateSummary(size={self.size}, num_nodes={self.num_nodes})"


#: The image states of a node with no images: one shared mapping, never changed, so that
#: telling which nodes have images reads no per-node object.
NO_IMAGES: dict[str, ImageStateSummary] = {}


class NodeInfo:
    """The node, the pods on it (bound, assumed or nominated-and-added), and their totals.

    ``requested`` sums the pods' requests; ``non_zero_requested`` counts CPU and memory with
    upstream's defaults for containers that request none; ``allocatable`` is the node's.
    ``taints`` and ``unschedulable`` are the node's ``spec.taints`` and ``spec.unschedulable``
    (empty and False without a Node or spec), read once per Node rather than per cycle.
    """

    __slots__ = (
        "allocatable",
        "generation",
        "image_states",
        "name",
        "node",
        "non_zero_requested",
        "pods",
        "pods_with_affinity",
        "pods_with_required_anti_affinity",
        "requested",
        "taints",
        "unschedulable",
        "used_ports",
    )

    def __init__(self, node: Node | None = None, pods: Iterable[PodInfo] = ()) -> None:
        self.node: Node | None = None
        self.name = ""
        self.allocatable = Resource()
        self.image_states: dict[str, ImageStateSummary] = NO_IMAGES
        self.pods: list[PodInfo] = []
        self.pods_with_affinity: list[PodInfo] = []
        self.pods_with_required_anti_affinity: list[PodInfo] = []
        self.requested = Resource()
        self.non_zero_requested = Resource()
        self.used_ports = HostPortInfo()
        self.taints: tuple[Taint, ...] = ()
        self.unschedulable = False
        self.generation = next_generation()
        if node is not None:
            self.set_node(node)
        for pod in pods:
            self.add_pod(pod)

    def set_node(self, node: Node) -> None:
        self.node = node
        self.name = (node.metadata.name if node.metadata else None) or ""
        status = node.status
        self.allocatable = Resource.from_list(status.allocatable if status else {})
        spec = node.spec
        self.taints = spec.taints if spec is not None else ()
        self.unschedulable = bool(spec is not None and spec.unschedulable)
        self.generation = next_generation()

    def clear_node(self) -> None:
        """The Node is gone while pods are still counted here (upstream keeps the NodeInfo)."""
        self.node = None
        self.taints = ()
        self.unschedulable = False
        self.generation = next_generation()

    def add_pod(self, pod: PodInfo) -> None:
        self.pods.append(pod)
        if pod.has_affinity:
            self.pods_with_affinity.append(pod)
        if pod.required_anti_affinity_terms:
            self.pods_with_required_anti_affinity.append(pod)
        self._update(pod, 1)

    def remove_pod(self, key: str) -> PodInfo | None:
        """Take the pod with this ``namespace/name`` key off the node; None if it is not here."""
        for i, pod in enumerate(self.pods):
            if pod.key == key:
                del self.pods[i]
                _remove(self.pods_with_affinity, key)
                _remove(self.pods_with_required_anti_affinity, key)
                self._update(pod, -1)
                return pod
        return None

    def _update(self, pod: PodInfo, sign: int) -> None:
        self.requested.add(pod.requests, sign)
        self.non_zero_requested.milli_cpu += sign * pod.non_zero_cpu
        self.non_zero_requested.memory += sign * pod.non_zero_memory
        for port in pod.host_ports:
            if sign > 0:
                self.used_ports.add(port)
            else:
                self.used_ports.remove(port)
        self.generation = next_generation()

    def clone(self) -> NodeInfo:
        """A copy whose pod lists and totals change independently of this one."""
        other = NodeInfo.__new__(NodeInfo)
        other.node = self.node
        other.name = self.name
        other.allocatable = self.allocatable
        other.image_states = self.image_states
        other.pods = list(self.pods)
        other.pods_with_affinity = list(self.pods_with_affinity)
        other.pods_with_required_anti_affinity = list(self.pods_with_required_anti_affinity)
        other.requested = self.requested.clone()
        other.non_zero_requested = self.non_zero_requested.clone()
        other.used_ports = self.used_ports.clone()
        other.taints = self.taints
        other.unschedulable = self.unschedulable
        other.generation = self.generation
        return other

    def __repr__(self) -> str:
        return f"NodeInfo({self.name!r}, pods={len(self.pods)})"


def _remove(pods: list[PodInfo], key: str) -> None:
    for i, pod in enumerate(pods):
        if pod.key == key:
            del pods[i]
            return
