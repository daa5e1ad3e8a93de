"""Which pods a ReplicaSet deletes first when it scales down (upstream controller_utils.go
``ActivePodsWithRanks`` and replica_set.go ``getPodsToDelete``).

:func:`deletion_precedes` is a port of ``ActivePodsWithRanks.Less`` with the PodDeletionCost
and LogarithmicScaleDown features on (both default on upstream); :func:`pods_to_delete` ranks
each pod by how many active related pods share its node and takes the first ``diff``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from collections.abc import Iterable, Sequence

import attrs

from kframe.api.models import Pod
from kframe.controller import is_pod_active, is_pod_ready, pod_ready_since

__all__ = [
    "POD_DELETION_COST",
    "PodFacts",
    "deletion_cost",
    "deletion_precedes",
    "pod_facts",
    "pods_to_delete",
    "rank_by_colocation",
]

#: core.PodDeletionCost: lower cost, deleted first (int32, default 0).
POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"

_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}  # podPhaseToOrdinal; others 0


@attrs.frozen
class PodFacts:
    """What the ordering reads of one pod, computed once per sort."""

    node: str
    phase: int
    ready: bool
    cost: int
    ready_since: _dt.datetime | None  # None: not ready, or no lastTransitionTime
    restarts: int
    created: _dt.datetime | None
    uid: str
    rank: int


def deletion_cost(pod: Pod) -> int:
    """The pod-deletion-cost annotation as an int32; 0 when absent or not a valid int32
    (upstream GetDeletionCostFromPodAnnotations: an invalid value is an error, read as 0)."""
    annotations = (pod.metadata.annotations if pod.metadata is not None else None) or {}
    raw = annotations.get(POD_DELETION_COST)
    if raw is None:
        return 0
    if _INT.fullmatch(raw) is None:  # strconv.ParseInt(raw, 10, 32)
        return 0
    value = int(raw)
    return value if -(2**31) <= value < 2**31 else 0


def pod_facts(pod: Pod, rank: int) -> PodFacts:
    meta, spec, status = pod.metadata, pod.spec, pod.status
    restarts = 0
    for cs in (status.container_statuses if status is not None else None) or ():
        restarts = max(restarts, cs.restart_count or 0)
    return PodFacts(
        node=(spec.node_name if spec is not None else None) or "",
        phase=_PHASE_ORDINAL.get((status.phase if status is not None else None) or "", 0),
        ready=is_pod_ready(pod),
        cost=deletion_cost(pod),
        ready_since=pod_ready_since(pod),
        restarts=restarts,
        created=meta.creation_timestamp if meta is not None else None,
        uid=(meta.uid if meta is not None else None) or "",
        rank=rank,
    )


def _after_or_zero(t1: _dt.datetime | None, t2: _dt.datetime | None) -> bool:
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _log_rank(t: _dt.datetime, now: _dt.datetime) -> int:
    # Go: int64(math.Log2(float64(now.Sub(t)))) over nanoseconds; -1 when not in the past.
    d = now - t
    ns = (d.days * 86_400 + d.seconds) * 1_000_000_000 + d.microseconds * 1_000
    return int(math.log2(ns)) if ns > 0 else -1


def _time_precedes(
    t1: _dt.datetime | None,
    t2: _dt.datetime | None,
    a: PodFacts,
    b: PodFacts,
    now: _dt.datetime | None,
) -> bool:
    """Newer first, compared in log2 buckets of age; a tie in bucket goes by uid."""
    if now is None or t1 is None or t2 is None:
        return _after_or_zero(t1, t2)
    diff = _log_rank(t1, now) - _log_rank(t2, now)
    if diff == 0:
        return a.uid < b.uid
    return diff < 0


def deletion_precedes(a: PodFacts, b: PodFacts, now: _dt.datetime | None) -> bool:
    """True when ``a`` should be deleted before ``b`` (ActivePodsWithRanks.Less)."""
    # 1. Unassigned < assigned.
    if a.node != b.node and (not a.node or not b.node):
        return not a.node
    # 2. Pending < Unknown < Running.
    if a.phase != b.phase:
        return a.phase < b.phase
    # 3. Not ready < ready.
    if a.ready != b.ready:
        return not a.ready
    # 4. Lower pod-deletion-cost < higher.
    if a.cost != b.cost:
        return a.cost < b.cost
    # 5. Doubled up < not doubled up: more related pods on the same node first.
    if a.rank != b.rank:
        return a.rank > b.rank
    # 6. Been ready for empty time < less time < more time.
    if a.ready and b.ready and a.ready_since != b.ready_since:
        return _time_precedes(a.ready_since, b.ready_since, a, b, now)
    # 7. Higher restart count < lower.
    if a.restarts != b.restarts:
        return a.restarts > b.restarts
    # 8. Empty creation time < newer < older.
    if a.created != b.created:
        return _time_precedes(a.created, b.created, a, b, now)
    return False


def _compare(now: _dt.datetime | None, a: PodFacts, b: PodFacts) -> int:
    if deletion_precedes(a, b, now):
        return -1
    if deletion_precedes(b, a, now):
        return 1
    return 0


def rank_by_colocation(pods: Sequence[Pod], related: Iterable[Pod]) -> list[int]:
    """getPodsRankedByRelatedPodsOnSameNode: each pod's rank is the number of active pods in
    ``related`` on its node (unassigned pods share the node ``""``)."""
    on_node: dict[str, int] = {}
    for pod in related:
        if is_pod_active(pod):
            node = (pod.spec.node_name if pod.spec is not None else None) or ""
            on_node[node] = on_node.get(node, 0) + 1
    return [on_node.get((p.spec.node_name if p.spec is not None else None) or "", 0) for p in pods]


def pods_to_delete(
    pods: Sequence[Pod], related: Iterable[Pod], diff: int, now: _dt.datetime | None
) -> list[Pod]:
    """The ``diff`` pods of ``pods`` to delete first (getPodsToDelete). Every pod when ``diff``
    covers them all (no sort, as upstream)."""
    if diff >= len(pods):
        return list(pods)
    ranks = rank_by_colocation(pods, related)
    facts = [pod_facts(p, r) for p, r in zip(pods, ranks, strict=True)]

    def compare(i: int, j: int) -> int:
        return _compare(now, facts[i], facts[j])

    order = sorted(range(len(pods)), key=functools.cmp_to_key(compare))
    return [pods[i] for i in order[:diff]]
