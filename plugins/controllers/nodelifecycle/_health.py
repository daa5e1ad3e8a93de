"""Node health as the node lifecycle controller tracks it (upstream node_lifecycle_controller.go
nodeHealthData and tryUpdateNodeHealth).

A node is heard from when its Ready condition's ``lastHeartbeatTime`` changes or its Lease in
``kube-node-lease`` is renewed; the controller's monotonic clock stamps the moment it noticed
(``probe``). Past the grace period without news, Ready and the pressure conditions become
Unknown.
"""

from __future__ import annotations

import datetime as _dt

import attrs

from kframe.api import Time
from kframe.api.models import Lease, Node, NodeCondition

__all__ = ["NodeHealth", "ready_condition", "unknown_conditions"]

#: The conditions set to Unknown when the kubelet goes quiet (NetworkUnavailable is managed by
#: the control plane and left alone).
_MONITORED = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


@attrs.define
class NodeHealth:
    probe: float  #: monotonic time the node was last heard from
    ready_transition: float
    ready: NodeCondition | None  #: the Ready condition as last seen
    lease_renew: _dt.datetime | None = None


def ready_condition(node: Node) -> NodeCondition | None:
    for cond in (node.status.conditions if node.status is not None else ()) or ():
        if cond.type == "Ready":
            return cond
    return None


def observe(
    health: NodeHealth | None,
    node: Node,
    lease: Lease | None,
    now: float,
    wall: _dt.datetime,
) -> NodeHealth:
    """The node's health after looking at it now (the bookkeeping half of
    tryUpdateNodeHealth)."""
    current = ready_condition(node)
    if current is None:
        meta = node.metadata
        created = meta.creation_timestamp if meta is not None else None
        # upstream: a node that never posted status counts from its creation.
        since = now - max(0.0, (wall - created).total_seconds()) if created else now
        if health is not None:
            health = attrs.evolve(health, ready=None)
        else:
            health = NodeHealth(probe=since, ready_transition=since, ready=None)
    else:
        saved = health.ready if health is not None else None
        if health is None or saved is None:
            lease_renew = health.lease_renew if health is not None else None
            health = NodeHealth(now, now, current, lease_renew)
        elif saved.last_heartbeat_time != current.last_heartbeat_time:
            transition = (
                now
                if saved.last_transition_time != current.last_transition_time
                else health.ready_transition
            )
            health = NodeHealth(now, transition, current, health.lease_renew)
    renew = lease.spec.renew_time if lease is not None and lease.spec is not None else None
    if renew is not None and (health.lease_renew is None or health.lease_renew < renew):
        # upstream: a renewed lease always counts as hearing from the node.
        health = attrs.evolve(health, lease_renew=renew, probe=now)
    return health


def unknown_conditions(node: Node, wall: _dt.datetime) -> tuple[NodeCondition, ...]:
    """The node's conditions with the monitored ones Unknown (a missing one added as never
    updated), as tryUpdateNodeHealth writes them once the grace period has passed."""
    conditions = list((node.status.conditions if node.status is not None else ()) or ())
    meta = node.metadata
    created = meta.creation_timestamp if meta is not None else None
    for kind in _MONITORED:
        index = next((i for i, c in enumerate(conditions) if c.type == kind), None)
        if index is None:
            conditions.append(
                NodeCondition(
                    type=kind,
                    status="Unknown",
                    reason="NodeStatusNeverUpdated",
                    message="Kubelet never posted node status.",
                    last_heartbeat_time=created,
                    last_transition_time=Time(wall),
                )
            )
        elif conditions[index].status != "Unknown":
            conditions[index] = attrs.evolve(
                conditions[index],
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
                last_transition_time=Time(wall),
            )
    return tuple(conditions)
