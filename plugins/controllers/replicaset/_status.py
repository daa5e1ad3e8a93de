"""A ReplicaSet's status from its pods (upstream replica_set_utils.go ``calculateStatus`` and the
``ReplicaFailure`` condition helpers)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import attrs

from kframe.api import time_now
from kframe.api.models import Pod, ReplicaSet, ReplicaSetCondition, ReplicaSetStatus
from kframe.controller import is_pod_available, is_pod_ready, pod_ready_since

__all__ = [
    "REPLICA_FAILURE",
    "ReplicaCounts",
    "calculate_status",
    "count_replicas",
    "next_availability_check",
    "status_unchanged",
]

#: apps.ReplicaSetReplicaFailure
REPLICA_FAILURE = "ReplicaFailure"


def _set_condition(
    conditions: Sequence[ReplicaSetCondition], cond: ReplicaSetCondition
) -> tuple[ReplicaSetCondition, ...]:
    """SetCondition: replace the condition of its type, unless one with the same status and
    reason is there already (its message and transition time stay)."""
    for c in conditions:
        if c.type == cond.type and c.status == cond.status and c.reason == cond.reason:
            return tuple(conditions)
    return (*(c for c in conditions if c.type != cond.type), cond)


@attrs.frozen
class ReplicaCounts:
    """The status counts of a ReplicaSet (``terminating`` None: the field left unset)."""

    replicas: int = 0
    fully_labeled: int = 0
    ready: int = 0
    available: int = 0
    terminating: int | None = None


def count_replicas(
    rs: ReplicaSet,
    active: Sequence[Pod],
    terminating: Sequence[Pod] | None,
    now: _dt.datetime,
) -> ReplicaCounts:
    """calculateStatus's counts over the claimed active pods: those carrying every template
    label, the ready ones, the ones ready for ``minReadySeconds``; and the terminating ones."""
    assert rs.spec is not None
    template = rs.spec.template
    template_labels = (template.metadata.labels if template and template.metadata else None) or {}
    min_ready = rs.spec.min_ready_seconds or 0
    fully_labeled = ready = available = 0
    for pod in active:
        labels = (pod.metadata.labels if pod.metadata is not None else None) or {}
        if all(labels.get(k) == v for k, v in template_labels.items()):
            fully_labeled += 1
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(pod, min_ready, now):
                available += 1
    return ReplicaCounts(
        len(active),
        fully_labeled,
        ready,
        available,
        None if terminating is None else len(terminating),
    )


def calculate_status(
    rs: ReplicaSet, counts: ReplicaCounts, manage_error: BaseException | None
) -> ReplicaSetStatus:
    """The new status: ``counts``, and the ReplicaFailure condition set on a manage error
    (FailedCreate while short of replicas, FailedDelete while over) or removed after a clean
    manage. ``observedGeneration`` is the writer's."""
    assert rs.spec is not None
    status = rs.status or ReplicaSetStatus()
    conditions = tuple(status.conditions)
    if manage_error is not None:
        diff = counts.replicas - (rs.spec.replicas if rs.spec.replicas is not None else 1)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        if reason:
            cond = ReplicaSetCondition(
                type=REPLICA_FAILURE,
                status="True",
                reason=reason,
                message=str(manage_error),
                last_transition_time=time_now(),
            )
            conditions = _set_condition(conditions, cond)
    else:
        conditions = tuple(c for c in conditions if c.type != REPLICA_FAILURE)
    return attrs.evolve(
        status,
        replicas=counts.replicas,
        fully_labeled_replicas=counts.fully_labeled,
        ready_replicas=counts.ready,
        available_replicas=counts.available,
        terminating_replicas=counts.terminating,
        conditions=conditions,
    )


def status_unchanged(rs: ReplicaSet, new: ReplicaSetStatus) -> bool:
    """updateReplicaSetStatus's steady state: the counts and conditions as written, and the
    generation observed already (then nothing is written)."""
    old = rs.status or ReplicaSetStatus()
    generation = rs.metadata.generation if rs.metadata is not None else None
    return (
        (old.replicas or 0) == (new.replicas or 0)
        and (old.fully_labeled_replicas or 0) == (new.fully_labeled_replicas or 0)
        and (old.ready_replicas or 0) == (new.ready_replicas or 0)
        and (old.available_replicas or 0) == (new.available_replicas or 0)
        and old.terminating_replicas == new.terminating_replicas
        and generation == old.observed_generation
        and tuple(old.conditions) == tuple(new.conditions)
    )


def next_availability_check(
    pods: Sequence[Pod], min_ready_seconds: int, now: _dt.datetime
) -> float | None:
    """Seconds until the first ready but not yet available pod becomes available
    (FindMinNextPodAvailabilityCheck); None when there is none."""
    soonest: float | None = None
    for pod in pods:
        since = pod_ready_since(pod)
        if since is None or is_pod_available(pod, min_ready_seconds, now):
            continue
        left = (since + _dt.timedelta(seconds=min_ready_seconds) - now).total_seconds()
        if soonest is None or left < soonest:
            soonest = left
    return None if soonest is None else max(soonest, 0.0)
