"""What the job controller reads from its pods: tracking finalizer, failure, finish time, the
order in which surplus pods are deleted (upstream job_controller.go, backoff_utils.go and
controller_utils.go ActivePods)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kframe.api.models import Job, Pod
from kframe.controller import is_pod_ready, pod_ready_since

__all__ = [
    "TRACKING_FINALIZER",
    "deletion_order",
    "finished_time",
    "has_tracking_finalizer",
    "is_pod_failed",
    "is_terminating",
    "only_replace_failed_pods",
    "phase",
]

#: upstream batch.JobTrackingFinalizer: a pod is not deleted before the controller counted it.
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def phase(pod: Pod) -> str:
    return (pod.status.phase if pod.status is not None else None) or ""


def has_tracking_finalizer(pod: Pod) -> bool:
    return TRACKING_FINALIZER in ((pod.metadata.finalizers if pod.metadata else None) or ())


def is_terminating(pod: Pod) -> bool:
    """Being deleted and not terminal yet (controller.IsPodTerminating)."""
    deleting = pod.metadata is not None and pod.metadata.deletion_timestamp is not None
    return deleting and phase(pod) not in ("Succeeded", "Failed")


def only_replace_failed_pods(job: Job) -> bool:
    """Replacements wait for terminating pods to finish (podReplacementPolicy Failed)."""
    spec = job.spec
    return spec is not None and (
        spec.pod_replacement_policy == "Failed" or spec.pod_failure_policy is not None
    )


def is_pod_failed(pod: Pod, job: Job) -> bool:
    """Failed, or (unless only failed pods are replaced) deleted before it succeeded: an
    orphan that never reaches Failed still counts (isPodFailed)."""
    if phase(pod) == "Failed":
        return True
    if only_replace_failed_pods(job):
        return False
    deleting = pod.metadata is not None and pod.metadata.deletion_timestamp is not None
    return deleting and phase(pod) != "Succeeded"


def finished_time(pod: Pod) -> _dt.datetime:
    """When the pod finished: its containers' last finish, else Ready=False's transition, else
    the deletion time less the grace period, else its creation (backoff_utils getFinishedTime)."""
    status = pod.status
    latest: _dt.datetime | None = None
    statuses = (status.container_statuses if status is not None else None) or ()
    for cs in statuses:
        term = cs.state.terminated if cs.state is not None else None
        at = term.finished_at if term is not None else None
        if at is None:
            latest = None
            break
        latest = at if latest is None or at > latest else latest
    if latest is not None:
        return latest
    for cond in (status.conditions if status is not None else None) or ():
        if cond.type == "Ready" and cond.status == "False" and cond.last_transition_time:
            return cond.last_transition_time
    meta = pod.metadata
    if meta is not None and meta.deletion_timestamp is not None:
        grace = meta.deletion_grace_period_seconds or 0
        return meta.deletion_timestamp - _dt.timedelta(seconds=grace)
    created = meta.creation_timestamp if meta is not None else None
    return created if created is not None else _EPOCH


def _max_restarts(pod: Pod) -> int:
    statuses = (pod.status.container_statuses if pod.status is not None else None) or ()
    return max((cs.restart_count or 0 for cs in statuses), default=0)


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_order(pod: Pod) -> tuple[Any, ...]:
    """Sort key, first deleted first (controller.ActivePods): unscheduled before scheduled,
    pending before running, not ready before ready, ready for less time first, more restarts
    first, newer first."""
    node = pod.spec.node_name if pod.spec is not None else None
    ready = is_pod_ready(pod)
    since = pod_ready_since(pod) if ready else None
    created = pod.metadata.creation_timestamp if pod.metadata is not None else None
    return (
        1 if node else 0,
        _PHASE_RANK.get(phase(pod), 3),
        1 if ready else 0,
        -(since or _EPOCH).timestamp() if ready else 0.0,
        -_max_restarts(pod),
        -(created or _EPOCH).timestamp(),
    )
