"""Facts one Job sync decides on: finished pods moved to the counters, the backoff limit
with OnFailure restarts, the active deadline, pod failure policy failures, succeeded indexes
(upstream job_controller.go)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import attrs

from kframe.api.models import Job, JobStatus, Pod, UncountedTerminatedPods
from kframe.controller import Result

from ._failure_policy import match_pod_failure_policy
from ._indexes import UNKNOWN_INDEX, completion_index, parse_indexes
from ._podfacts import has_tracking_finalizer, is_pod_failed, phase

__all__ = [
    "clean_uncounted",
    "fail_job_message",
    "past_active_deadline",
    "past_backoff_limit_on_failure",
    "sooner",
    "succeeded_indexes",
]


def clean_uncounted(status: JobStatus, with_finalizer: set[str]) -> tuple[JobStatus, bool]:
    """Move uncounted uids whose pod has lost its finalizer to the counters
    (cleanUncountedPodsWithoutFinalizers)."""
    unc = status.uncounted_terminated_pods or UncountedTerminatedPods()
    succeeded = [u for u in unc.succeeded if u in with_finalizer]
    failed = [u for u in unc.failed if u in with_finalizer]
    if len(succeeded) == len(unc.succeeded) and len(failed) == len(unc.failed):
        return status, False
    return (
        attrs.evolve(
            status,
            succeeded=(status.succeeded or 0) + len(unc.succeeded) - len(succeeded),
            failed=(status.failed or 0) + len(unc.failed) - len(failed),
            uncounted_terminated_pods=UncountedTerminatedPods(
                succeeded=tuple(succeeded), failed=tuple(failed)
            ),
        ),
        True,
    )


def sooner(a: Result | None, b: Result) -> Result:
    if a is None or a.requeue_after is None:
        return b
    assert b.requeue_after is not None
    return a if a.requeue_after <= b.requeue_after else b


def fail_job_message(job: Job, pods: Sequence[Pod]) -> str | None:
    """The message of the first failed pod a FailJob rule matches (getFailJobMessage)."""
    policy = job.spec.pod_failure_policy if job.spec is not None else None
    if policy is None:
        return None
    for pod in pods:
        if is_pod_failed(pod, job):
            message = match_pod_failure_policy(policy, pod)[0]
            if message is not None:
                return message
    return None


def past_backoff_limit_on_failure(job: Job, pods: Sequence[Pod]) -> bool:
    """With restartPolicy OnFailure, container restarts count against the backoff limit."""
    spec = job.spec
    tspec = spec.template.spec if spec is not None and spec.template is not None else None
    if tspec is None or tspec.restart_policy != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        if phase(pod) in ("Running", "Pending") and pod.status is not None:
            st = pod.status
            for cs in (*(st.init_container_statuses or ()), *(st.container_statuses or ())):
                restarts += cs.restart_count or 0
    limit = spec.backoff_limit if spec is not None and spec.backoff_limit is not None else 6
    return restarts > 0 if limit == 0 else restarts >= limit


def past_active_deadline(job: Job, now: _dt.datetime) -> bool:
    spec, status = job.spec, job.status
    if spec is None or spec.active_deadline_seconds is None or spec.suspend:
        return False
    if status is None or status.start_time is None:
        return False
    return (now - status.start_time).total_seconds() >= spec.active_deadline_seconds


def succeeded_indexes(job: Job, pods: Sequence[Pod]) -> tuple[set[int], set[int]]:
    """(indexes in status.completedIndexes, those plus the succeeded pods' not yet counted)."""
    completions = (job.spec.completions if job.spec is not None else None) or 0
    prev = parse_indexes(job.status.completed_indexes if job.status else None, completions)
    new = set(prev)
    for pod in pods:
        ix = completion_index(pod.metadata.annotations)  # type: ignore[union-attr]
        if (
            phase(pod) == "Succeeded"
            and ix != UNKNOWN_INDEX
            and ix < completions
            and has_tracking_finalizer(pod)
        ):
            new.add(ix)
    return prev, new
