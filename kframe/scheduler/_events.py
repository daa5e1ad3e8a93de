"""Cluster events that can make an unschedulable pod schedulable (upstream framework/types.go).

A plugin that rejects pods says which events may change its mind by implementing
``EnqueueExtensions.events_to_register()``; the queue moves a pod rejected by plugin P back only
on an event P registered. A plugin without EnqueueExtensions is interested in every event, as
upstream assumes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs

from kframe.api.models import Node, Pod

__all__ = [
    "ActionType",
    "ClusterEvent",
    "EventInterest",
    "node_update_actions",
    "pod_update_actions",
]


class ActionType(enum.IntFlag):
    ADD = 1
    DELETE = 2
    UPDATE_NODE_ALLOCATABLE = 4
    UPDATE_NODE_LABEL = 8
    UPDATE_NODE_TAINT = 16
    UPDATE_NODE_CONDITION = 32
    UPDATE_NODE_ANNOTATION = 64
    UPDATE_POD_LABEL = 128
    UPDATE_POD_SCALE_DOWN = 256
    UPDATE_POD_TOLERATION = 512
    UPDATE_POD_SCHEDULING_GATES_ELIMINATED = 1024
    # Any other change of the object.
    UPDATE_OTHER = 2048
    UPDATE = 4 | 8 | 16 | 32 | 64 | 128 | 256 | 512 | 1024 | 2048
    ALL = ADD | DELETE | UPDATE


# Resources events are about: "Node", "Pod" (a pod bound to a node), "UnscheduledPod" (one in
# the queue), and any other kind by name ("Namespace", "Service", ...); "*" matches all.
@attrs.frozen
class ClusterEvent:
    resource: str
    action: ActionType
    label: str = ""

    def matches(self, other: ClusterEvent) -> bool:
        """Whether this registered event covers ``other``, an event that happened."""
        return (self.resource in ("*", other.resource)) and bool(self.action & other.action)


WILDCARD = ClusterEvent("*", ActionType.ALL, "WildCardEvent")


class EventInterest:
    """Which events each plugin registered; built once per profile."""

    def __init__(self, registered: Mapping[str, Iterable[ClusterEvent]]) -> None:
        self._by_plugin = {name: tuple(events) for name, events in registered.items()}

    def worth_requeuing(self, plugins: Iterable[str], event: ClusterEvent) -> bool:
        """Whether ``event`` may help a pod that ``plugins`` rejected."""
        if event is WILDCARD:
            return True
        plugins = list(plugins)
        if not plugins:
            return True
        for name in plugins:
            events = self._by_plugin.get(name)
            if events is None or any(e.matches(event) for e in events):
                return True
        return False


def node_update_actions(old: Node, new: Node) -> ActionType:
    """What changed on a node, as upstream's nodeSchedulingPropertiesChange."""
    actions = ActionType(0)
    os, ns = old.status, new.status
    if (os.allocatable if os else {}) != (ns.allocatable if ns else {}):
        actions |= ActionType.UPDATE_NODE_ALLOCATABLE
    om, nm = old.metadata, new.metadata
    if (om.labels if om else {}) != (nm.labels if nm else {}):
        actions |= ActionType.UPDATE_NODE_LABEL
    if (om.annotations if om else {}) != (nm.annotations if nm else {}):
        actions |= ActionType.UPDATE_NODE_ANNOTATION
    osp, nsp = old.spec, new.spec
    if (osp.taints if osp else ()) != (nsp.taints if nsp else ()) or (
        osp.unschedulable if osp else None
    ) != (nsp.unschedulable if nsp else None):
        actions |= ActionType.UPDATE_NODE_TAINT
    if (os.conditions if os else ()) != (ns.conditions if ns else ()):
        actions |= ActionType.UPDATE_NODE_CONDITION
    return actions or ActionType.UPDATE_OTHER


def pod_update_actions(old: Pod, new: Pod) -> ActionType:
    actions = ActionType(0)
    om, nm = old.metadata, new.metadata
    if (om.labels if om else {}) != (nm.labels if nm else {}):
        actions |= ActionType.UPDATE_POD_LABEL
    osp, nsp = old.spec, new.spec
    if osp and nsp:
        if osp.tolerations != nsp.tolerations:
            actions |= ActionType.UPDATE_POD_TOLERATION
        if osp.scheduling_gates and not nsp.scheduling_gates:
            actions |= ActionType.UPDATE_POD_SCHEDULING_GATES_ELIMINATED
        if osp.containers != nsp.containers:
            actions |= ActionType.UPDATE_POD_SCALE_DOWN
    return actions or ActionType.UPDATE_OTHER
