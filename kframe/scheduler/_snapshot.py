"""The cluster as one scheduling cycle sees it: every node's NodeInfo, in node-tree order.

Upstream internal/cache.Snapshot plus the node tree: nodes are listed zone by zone in turn
(one from each zone, then the next from each), so that when the scheduler stops after enough
feasible nodes it has not looked at one zone only.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Iterable

from kframe.api.models import Node, Pod

from ._nodeinfo import NO_IMAGES, ImageStateSummary, NodeInfo
from ._nodelist import NodeChanges, NodeList
from ._podinfo import PodInfo

__all__ = ["NodeNotFoundError", "Snapshot", "zone_key"]

_ZONE, _REGION = "topology.kubernetes.io/zone", "topology.kubernetes.io/region"
_ZONE_BETA, _REGION_BETA = (
    "failure-domain.beta.kubernetes.io/zone",
    ("failure-domain.beta.kubernetes.io/region"),
)


class NodeNotFoundError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f'nodeinfo not found for node name "{name}"')
        self.name = name


def zone_key(node: Node) -> str:
    """``utilnode.GetZoneKey``: region and zone (GA labels first, then the beta ones)."""
    labels = node.metadata.labels if node.metadata else {}
    zone = labels.get(_ZONE) or labels.get(_ZONE_BETA) or ""
    region = labels.get(_REGION) or labels.get(_REGION_BETA) or ""
    if not zone and not region:
        return ""
    return f"{region}:\x00:{zone}"


_WITH_AFFINITY = operator.attrgetter("pods_with_affinity")
_WITH_ANTI_AFFINITY = operator.attrgetter("pods_with_required_anti_affinity")


def _tree_order(infos: list[NodeInfo]) -> list[NodeInfo]:
    zones: dict[str, list[NodeInfo]] = {}
    for info in infos:
        assert info.node is not None
        zones.setdefault(zone_key(info.node), []).append(info)
    if len(zones) <= 1:
        return infos
    ordered: list[NodeInfo] = []
    columns = list(zones.values())
    for i in range(max(len(c) for c in columns)):
        ordered.extend(c[i] for c in columns if i < len(c))
    return ordered


class Snapshot:
    """NodeInfos by name and in order, plus the short lists the affinity plugins walk."""

    __slots__ = (
        "_by_name",
        "_has_images",
        "_list",
        "_with_affinity",
        "_with_required_anti_affinity",
    )

    def __init__(self, infos: Iterable[NodeInfo], *, tracked: bool = False) -> None:
        """``tracked``: the owner (the scheduler's cache) notes in ``changes`` which nodes'
        pods change while this node list lives; otherwise ``changes`` is None."""
        ordered = _tree_order([i for i in infos if i.node is not None])
        changes = NodeChanges(ordered) if tracked else None
        self._list = NodeList.of(ordered, changes, range(len(ordered)))
        self._by_name = {info.name: info for info in self._list}
        self._with_affinity = list(filter(_WITH_AFFINITY, self._list))
        self._with_required_anti_affinity = list(filter(_WITH_ANTI_AFFINITY, self._list))
        # Which images a node has changes only with its Node, and so with the node list.
        self._has_images = any(info.image_states for info in ordered)

    def with_affinity_lists_updated(self) -> Snapshot:
        """The same nodes in the same order, with the short lists made again: for when only
        the pods on nodes changed (upstream UpdateSnapshot without updateAllLists), so the node
        tree is not walked again."""
        other = Snapshot.__new__(Snapshot)
        other._list = self._list
        other._by_name = self._by_name
        other._has_images = self._has_images
        other._with_affinity = list(filter(_WITH_AFFINITY, self._list))
        other._with_required_anti_affinity = list(filter(_WITH_ANTI_AFFINITY, self._list))
        return other

    @classmethod
    def build(cls, nodes: Iterable[Node], pods: Iterable[Pod | PodInfo] = ()) -> Snapshot:
        """A snapshot of these nodes with the pods bound to them (``spec.nodeName``).

        Pods bound to a node not in ``nodes`` are left out, as the scheduler's cache lists only
        nodes it has a Node object for.
        """
        infos = {}
        for node in nodes:
            info = NodeInfo(node)
            infos[info.name] = info
        for pod in pods:
            pod_info = pod if isinstance(pod, PodInfo) else PodInfo(pod)
            spec = pod_info.pod.spec
            target = infos.get(spec.node_name or "") if spec else None
            if target is not None:
                target.add_pod(pod_info)
        _set_image_states(infos.values())
        return cls(infos.values())

    def list(self) -> NodeList:
        return self._list

    @property
    def changes(self) -> NodeChanges | None:
        return self._list.changes

    def renew_changes(self) -> None:
        """Start the change log over (every memo then starts over once)."""
        if self._list.changes is not None:
            self._list.changes = self._list.changes.renewed()

    def get(self, name: str) -> NodeInfo:
        try:
            return self._by_name[name]
        except KeyError:
            raise NodeNotFoundError(name) from None

    def have_images(self) -> bool:
        """Whether any node reports images (``NodeInfo.image_states``): most clusters' nodes
        a scheduler benchmark makes report none."""
        return self._has_images

    def have_pods_with_affinity(self) -> builtins.list[NodeInfo]:
        return self._with_affinity

    def have_pods_with_required_anti_affinity(self) -> builtins.list[NodeInfo]:
        return self._with_required_anti_affinity

    def __len__(self) -> int:
        return len(self._list)


def _set_image_states(infos: Iterable[NodeInfo]) -> None:
    """Each node's images with their size and the number of nodes that have them."""
    infos = list(infos)
    counts: dict[str, int] = {}
    for info in infos:
        for name in _image_sizes(info):
            counts[name] = counts.get(name, 0) + 1
    for info in infos:
        info.image_states = {
            name: ImageStateSummary(size, counts[name]) for name, size in _image_sizes(info).items()
        } or NO_IMAGES


def _image_sizes(info: NodeInfo) -> dict[str, int]:
    status = info.node.status if info.node else None
    sizes: dict[str, int] = {}
    for image in status.images if status else ():
        for name in image.names:
            sizes[name] = image.size_bytes or 0
    return sizes
