"""The taints the node lifecycle controller owns, and what a node's conditions call for
(upstream node_lifecycle_controller.go nodeConditionToTaintKeyStatusMap, the NoExecute
templates, and controller_utils.go SwapNodeControllerTaint)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence

import attrs

from kframe.api import Time
from kframe.api.models import Node, NodeSpec, Taint
from kframe.client import Client

__all__ = [
    "NOT_READY",
    "TaintId",
    "UNREACHABLE",
    "UNSCHEDULABLE",
    "no_execute_taints_for",
    "no_schedule_taints_for",
    "swap_taints",
]

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"

# TaintNodesByCondition: condition type -> status -> NoSchedule taint key.
_CONDITION_TAINTS = {
    "Ready": {"False": NOT_READY, "Unknown": UNREACHABLE},
    "MemoryPressure": {"True": "node.kubernetes.io/memory-pressure"},
    "DiskPressure": {"True": "node.kubernetes.io/disk-pressure"},
    "NetworkUnavailable": {"True": "node.kubernetes.io/network-unavailable"},
    "PIDPressure": {"True": "node.kubernetes.io/pid-pressure"},
}
_NO_SCHEDULE_KEYS = {k for m in _CONDITION_TAINTS.values() for k in m.values()} | {UNSCHEDULABLE}
_NO_EXECUTE_KEYS = {NOT_READY, UNREACHABLE}

TaintId = tuple[str, str]  # (key, effect)


def _ids(taints: Iterable[Taint]) -> set[TaintId]:
    return {(t.key or "", t.effect or "") for t in taints}


def no_schedule_taints_for(node: Node) -> tuple[set[TaintId], set[TaintId]]:
    """(wanted, managed-and-present) NoSchedule taints (doNoScheduleTaintingPass)."""
    want: set[TaintId] = set()
    for cond in (node.status.conditions if node.status is not None else ()) or ():
        key = _CONDITION_TAINTS.get(cond.type or "", {}).get(cond.status or "")
        if key is not None:
            want.add((key, "NoSchedule"))
    if node.spec is not None and node.spec.unschedulable:
        want.add((UNSCHEDULABLE, "NoSchedule"))
    taints = node.spec.taints if node.spec is not None else ()
    have = {i for i in _ids(taints) if i[1] == "NoSchedule" and i[0] in _NO_SCHEDULE_KEYS}
    return want, have


def no_execute_taints_for(ready_status: str, node: Node) -> tuple[set[TaintId], set[TaintId]]:
    """(wanted, managed-and-present) NoExecute taints for a Ready status
    (processTaintBaseEviction: False -> not-ready, Unknown -> unreachable, True -> none)."""
    key = {"False": NOT_READY, "Unknown": UNREACHABLE}.get(ready_status)
    want = {(key, "NoExecute")} if key else set()
    taints = node.spec.taints if node.spec is not None else ()
    have = {i for i in _ids(taints) if i[1] == "NoExecute" and i[0] in _NO_EXECUTE_KEYS}
    return want, have


async def swap_taints(
    client: Client,
    name: str,
    add: Sequence[TaintId],
    remove: Sequence[TaintId],
    now: _dt.datetime,
    *,
    attempts: int = 5,
) -> Node | None:
    """Add and remove taints on the current node (SwapNodeControllerTaint): added taints get
    ``timeAdded``; a conflict is retried on a fresh read. None when the node is gone."""
    for attempt in range(attempts):
        try:
            node = await client.get(Node, name)
        except Exception as exc:
            if getattr(exc, "code", None) == 404:
                return None
            raise
        spec = node.spec if node.spec is not None else NodeSpec()
        present = _ids(spec.taints)
        kept = [t for t in spec.taints if ((t.key or ""), (t.effect or "")) not in set(remove)]
        new = [
            Taint(key=k, effect=e, time_added=Time(now))  # type: ignore[arg-type]
            for k, e in add
            if (k, e) not in present
        ]
        if len(kept) == len(spec.taints) and not new:
            return node
        try:
            return await client.update(
                attrs.evolve(node, spec=attrs.evolve(spec, taints=(*kept, *new)))
            )
        except Exception as exc:
            if getattr(exc, "code", None) != 409 or attempt == attempts - 1:
                raise
    return None
