"""A Deployment's status and conditions (upstream sync.go ``calculateStatus``, progress.go
``syncRolloutStatus``/``requeueStuckDeployment``, and the condition helpers of deployment util).

``Progressing`` tells ``kubectl rollout status`` whether a rollout moves, finished
(NewReplicaSetAvailable) or is stuck (ProgressDeadlineExceeded after progressDeadlineSeconds
without progress); ``Available`` whether at least spec.replicas - maxUnavailable pods are
available; ``ReplicaFailure`` is copied from the ReplicaSets.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import attrs

from kframe.api import Time, go_quote, time_now
from kframe.api.models import (
    Deployment,
    DeploymentCondition,
    DeploymentStatus,
    ReplicaSet,
    ReplicaSetCondition,
)

from ._replicas import (
    MAX_INT32,
    actual_count,
    available_count,
    deployment_replicas,
    max_unavailable,
    ready_count,
    replica_count,
)

__all__ = [
    "AVAILABLE",
    "FAILED_RS_CREATE_REASON",
    "FOUND_NEW_RS_REASON",
    "MINIMUM_REPLICAS_AVAILABLE",
    "MINIMUM_REPLICAS_UNAVAILABLE",
    "NEW_RS_AVAILABLE_REASON",
    "NEW_RS_REASON",
    "PAUSED_REASON",
    "PROGRESSING",
    "REPLICA_FAILURE",
    "RESUMED_REASON",
    "RS_UPDATED_REASON",
    "TIMED_OUT_REASON",
    "calculate_status",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "get_condition",
    "has_progress_deadline",
    "new_condition",
    "paused_condition",
    "remove_condition",
    "rollout_status",
    "set_condition",
    "stuck_requeue_after",
]

PROGRESSING = "Progressing"
AVAILABLE = "Available"
REPLICA_FAILURE = "ReplicaFailure"

RS_UPDATED_REASON = "ReplicaSetUpdated"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"


def new_condition(
    type_: str, status: str, reason: str, message: str, now: _dt.datetime | None = None
) -> DeploymentCondition:
    at = Time(now) if now is not None else time_now()
    return DeploymentCondition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_update_time=at,
        last_transition_time=at,
    )


def get_condition(status: DeploymentStatus | None, type_: str) -> DeploymentCondition | None:
    for cond in (status.conditions if status is not None else None) or ():
        if cond.type == type_:
            return cond
    return None


def set_condition(status: DeploymentStatus, cond: DeploymentCondition) -> DeploymentStatus:
    """SetDeploymentCondition: unchanged when status and reason are the same; the transition
    time kept when only the reason changes; the condition moves to the end."""
    current = get_condition(status, cond.type or "")
    if current is not None and current.status == cond.status and current.reason == cond.reason:
        return status
    if current is not None and current.status == cond.status:
        cond = attrs.evolve(cond, last_transition_time=current.last_transition_time)
    rest = tuple(c for c in status.conditions if c.type != cond.type)
    return attrs.evolve(status, conditions=(*rest, cond))


def remove_condition(status: DeploymentStatus, type_: str) -> DeploymentStatus:
    return attrs.evolve(status, conditions=tuple(c for c in status.conditions if c.type != type_))


def has_progress_deadline(d: Deployment) -> bool:
    deadline = d.spec.progress_deadline_seconds if d.spec is not None else None
    return deadline is not None and deadline != MAX_INT32


def _nz(value: int) -> int | None:
    """Zero as absent: upstream's int32 status fields are omitempty."""
    return value or None


def calculate_status(
    all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None, d: Deployment
) -> DeploymentStatus:
    """calculateStatus: the counts over the ReplicaSets, observedGeneration, the kept
    collisionCount and conditions, and Available by minimum availability."""
    available = available_count(all_rss)
    unavailable = max(0, replica_count(all_rss) - available)
    old = d.status or DeploymentStatus()
    status = DeploymentStatus(
        observed_generation=_nz((d.metadata.generation if d.metadata is not None else None) or 0),
        replicas=_nz(actual_count(all_rss)),
        updated_replicas=_nz(actual_count([new_rs])),
        ready_replicas=_nz(ready_count(all_rss)),
        available_replicas=_nz(available),
        unavailable_replicas=_nz(unavailable),
        collision_count=old.collision_count,
        conditions=tuple(old.conditions),
    )
    if available >= deployment_replicas(d) - max_unavailable(d):
        cond = new_condition(
            AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE, "Deployment has minimum availability."
        )
    else:
        cond = new_condition(
            AVAILABLE,
            "False",
            MINIMUM_REPLICAS_UNAVAILABLE,
            "Deployment does not have minimum availability.",
        )
    return set_condition(status, cond)


def _counts(status: DeploymentStatus | None) -> tuple[int, int, int, int]:
    s = status or DeploymentStatus()
    return (
        s.replicas or 0,
        s.updated_replicas or 0,
        s.ready_replicas or 0,
        s.available_replicas or 0,
    )


def deployment_complete(d: Deployment, status: DeploymentStatus) -> bool:
    """DeploymentComplete: every desired replica updated and available, no old pods, and
    this generation observed."""
    replicas = deployment_replicas(d)
    total, updated, _, available = _counts(status)
    generation = (d.metadata.generation if d.metadata is not None else None) or 0
    return (
        updated == replicas
        and total == replicas
        and available == replicas
        and (status.observed_generation or 0) >= generation
    )


def deployment_progressing(d: Deployment, status: DeploymentStatus) -> bool:
    """DeploymentProgressing: more updated, ready or available pods, or fewer old ones."""
    old_total, old_updated, old_ready, old_available = _counts(d.status)
    total, updated, ready, available = _counts(status)
    return (
        updated > old_updated
        or (total - updated) < (old_total - old_updated)
        or ready > old_ready
        or available > old_available
    )


def deployment_timed_out(d: Deployment, status: DeploymentStatus, now: _dt.datetime) -> bool:
    """DeploymentTimedOut: the Progressing condition was last updated more than
    progressDeadlineSeconds ago (never after a completed rollout; always once timed out)."""
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, PROGRESSING)
    if cond is None:
        return False
    if cond.reason == NEW_RS_AVAILABLE_REASON:
        return False
    if cond.reason == TIMED_OUT_REASON:
        return True
    if cond.last_update_time is None:
        return False
    deadline = d.spec.progress_deadline_seconds or 0  # type: ignore[union-attr]
    return cond.last_update_time + _dt.timedelta(seconds=deadline) < now


def _rs_message(d: Deployment, new_rs: ReplicaSet | None, what: str) -> str:
    if new_rs is not None and new_rs.metadata is not None:
        return f"ReplicaSet {go_quote(new_rs.metadata.name or '')} {what}."
    return f"Deployment {go_quote((d.metadata.name if d.metadata else None) or '')} {what}."


def _replica_failure(rs: ReplicaSet) -> list[DeploymentCondition]:
    def convert(c: ReplicaSetCondition) -> DeploymentCondition:
        return DeploymentCondition(
            type=c.type,
            status=c.status,
            reason=c.reason,
            message=c.message,
            last_transition_time=c.last_transition_time,
            last_update_time=c.last_transition_time,
        )

    conds = (rs.status.conditions if rs.status is not None else None) or ()
    return [convert(c) for c in conds if c.type == REPLICA_FAILURE]


def rollout_status(
    all_rss: Sequence[ReplicaSet | None],
    new_rs: ReplicaSet | None,
    d: Deployment,
    now: _dt.datetime | None = None,
) -> DeploymentStatus:
    """syncRolloutStatus's new status: calculateStatus, then Progressing (complete,
    progressing, or timed out, unless the last rollout already completed), then the
    ReplicaFailure of the new ReplicaSet (else of any)."""
    at = now if now is not None else time_now()
    status = calculate_status(all_rss, new_rs, d)
    if not has_progress_deadline(d):
        status = remove_condition(status, PROGRESSING)
    current = get_condition(d.status, PROGRESSING)
    complete_before = (
        (status.replicas or 0) == (status.updated_replicas or 0)
        and current is not None
        and current.reason == NEW_RS_AVAILABLE_REASON
    )
    if has_progress_deadline(d) and not complete_before:
        if deployment_complete(d, status):
            cond = new_condition(
                PROGRESSING,
                "True",
                NEW_RS_AVAILABLE_REASON,
                _rs_message(d, new_rs, "has successfully progressed"),
                at,
            )
            status = set_condition(status, cond)
        elif deployment_progressing(d, status):
            cond = new_condition(
                PROGRESSING,
                "True",
                RS_UPDATED_REASON,
                _rs_message(d, new_rs, "is progressing"),
                at,
            )
            # Progress refreshes lastUpdateTime even with the same reason (so the deadline
            # counts from the last progress), keeping the transition time if it was True.
            if current is not None:
                if current.status == "True":
                    cond = attrs.evolve(cond, last_transition_time=current.last_transition_time)
                status = remove_condition(status, PROGRESSING)
            status = set_condition(status, cond)
        elif deployment_timed_out(d, status, at):
            cond = new_condition(
                PROGRESSING,
                "False",
                TIMED_OUT_REASON,
                _rs_message(d, new_rs, "has timed out progressing"),
                at,
            )
            status = set_condition(status, cond)
    failures = _replica_failure(new_rs) if new_rs is not None else []
    if not failures:
        for rs in all_rss:
            if rs is not None:
                failures += _replica_failure(rs)
    if failures:
        status = set_condition(status, failures[0])
    else:
        status = remove_condition(status, REPLICA_FAILURE)
    return status


def stuck_requeue_after(d: Deployment, status: DeploymentStatus, now: _dt.datetime) -> float | None:
    """requeueStuckDeployment: seconds until the next progress check of a rollout that has
    not finished nor timed out (0: now), None when none is due. Upstream adds a second to
    the delay against timer skew."""
    current = get_condition(d.status, PROGRESSING)
    if not has_progress_deadline(d) or current is None:
        return None
    if deployment_complete(d, status) or current.reason == TIMED_OUT_REASON:
        return None
    if current.last_update_time is None:
        return None
    deadline = d.spec.progress_deadline_seconds or 0  # type: ignore[union-attr]
    due: _dt.datetime = current.last_update_time + _dt.timedelta(seconds=deadline)
    after = (due - now).total_seconds()
    return 0.0 if after < 1 else after + 1


def paused_condition(d: Deployment) -> DeploymentCondition | None:
    """checkPausedConditions: Progressing Unknown DeploymentPaused on pause, DeploymentResumed
    on resume; None when nothing changes (no deadline, already timed out, or as it is)."""
    if not has_progress_deadline(d):
        return None
    cond = get_condition(d.status, PROGRESSING)
    if cond is not None and cond.reason == TIMED_OUT_REASON:
        return None
    paused_exists = cond is not None and cond.reason == PAUSED_REASON
    paused = bool(d.spec is not None and d.spec.paused)
    if paused and not paused_exists:
        return new_condition(PROGRESSING, "Unknown", PAUSED_REASON, "Deployment is paused")
    if not paused and paused_exists:
        return new_condition(PROGRESSING, "Unknown", RESUMED_REASON, "Deployment is resumed")
    return None
