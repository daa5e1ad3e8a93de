"""``spec.backoffLimitPerIndex`` of Indexed Jobs (upstream indexed_job_utils.go).

Each index may fail ``backoffLimitPerIndex`` times before the index itself is failed (listed in
``status.failedIndexes``) and gets no more pods; the Job fails once every index has succeeded
or failed with some failed (``FailedIndexes``), or when more than ``maxFailedIndexes`` failed
(``MaxFailedIndexesExceeded``). A pod carries its index's failure count so far in the
``batch.kubernetes.io/job-index-failure-count`` annotation (failures an ``Ignore`` rule matched
in ``...-ignored-failure-count``); the last failed pod of an index keeps its finalizer until
its replacement exists, so the count can be carried over.
"""

from __future__ import annotations

from collections.abc import Iterable

from kframe.api.models import Job, Pod

from ._failure_policy import match_pod_failure_policy
from ._indexes import UNKNOWN_INDEX, completion_index, parse_indexes
from ._podfacts import finished_time, has_tracking_finalizer, is_pod_failed

__all__ = [
    "FAILURE_COUNT",
    "IGNORED_FAILURE_COUNT",
    "absolute_failure_count",
    "delayed_deletion_per_index",
    "failed_indexes",
    "failure_count",
    "has_backoff_limit_per_index",
    "new_failure_counts",
]

FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
_INT32_MAX = 2**31 - 1


def has_backoff_limit_per_index(job: Job) -> bool:
    return job.spec is not None and job.spec.backoff_limit_per_index is not None


def _annotation_int(pod: Pod, key: str) -> int:
    """The annotation as a count; 0 when missing, unparseable or out of int32 (parseInt32)."""
    raw = ((pod.metadata.annotations if pod.metadata else None) or {}).get(key)
    try:
        value = int(raw) if raw is not None else 0
    except ValueError:
        return 0
    return value if 0 <= value <= _INT32_MAX else 0


def failure_count(pod: Pod) -> int:
    return _annotation_int(pod, FAILURE_COUNT)


def absolute_failure_count(pod: Pod) -> int:
    return _annotation_int(pod, FAILURE_COUNT) + _annotation_int(pod, IGNORED_FAILURE_COUNT)


def is_index_failed(job: Job, pod: Pod) -> bool:
    """The pod's failure fails its index (isIndexFailed): a FailIndex rule matched, or a
    counted failure when the index had already failed backoffLimitPerIndex times."""
    spec = job.spec
    assert spec is not None
    counted = False
    if is_pod_failed(pod, job):
        if spec.pod_failure_policy is not None:
            _, counts, action = match_pod_failure_policy(spec.pod_failure_policy, pod)
            if action == "FailIndex":
                return True
            counted = counts
        else:
            counted = True
    return counted and failure_count(pod) >= (spec.backoff_limit_per_index or 0)


def failed_indexes(job: Job, pods: Iterable[Pod]) -> set[int]:
    """``status.failedIndexes`` plus the indexes failed since (calculateFailedIndexes)."""
    completions = (job.spec.completions if job.spec else None) or 0
    prev = job.status.failed_indexes if job.status is not None else None
    result = parse_indexes(prev, completions) if prev is not None else set()
    for pod in pods:
        ix = completion_index(pod.metadata.annotations if pod.metadata else None)
        if (
            ix != UNKNOWN_INDEX
            and ix < completions
            and has_tracking_finalizer(pod)
            and is_index_failed(job, pod)
        ):
            result.add(ix)
    return result


def delayed_deletion_per_index(
    job: Job,
    pods: Iterable[Pod],
    active_pods: Iterable[Pod],
    succeeded: set[int],
    failed: set[int],
    expected_rm: set[str],
) -> dict[int, Pod]:
    """Per index still to run, its last failed pod, kept (finalizer and all) until its
    replacement carries the failure count on (getPodsWithDelayedDeletionPerIndex)."""
    completions = (job.spec.completions if job.spec else None) or 0
    active = {completion_index(p.metadata.annotations if p.metadata else None) for p in active_pods}
    out: dict[int, Pod] = {}
    for pod in pods:
        uid = pod.metadata.uid if pod.metadata else None
        if not has_tracking_finalizer(pod) or uid in expected_rm or not is_pod_failed(pod, job):
            continue
        ix = completion_index(pod.metadata.annotations if pod.metadata else None)
        if ix == UNKNOWN_INDEX or ix >= completions:
            continue
        if ix in succeeded or ix in failed or ix in active:
            continue
        last = out.get(ix)
        if last is None or (
            absolute_failure_count(last) <= absolute_failure_count(pod)
            and finished_time(pod) >= finished_time(last)
        ):
            out[ix] = pod
    return out


def new_failure_counts(job: Job, replaced: Pod | None) -> tuple[int, int]:
    """(failure count, ignored failure count) of a pod replacing ``replaced``."""
    if replaced is None:
        return 0, 0
    count, ignored = failure_count(replaced), _annotation_int(replaced, IGNORED_FAILURE_COUNT)
    policy = job.spec.pod_failure_policy if job.spec is not None else None
    if policy is not None and not match_pod_failure_policy(policy, replaced)[1]:
        return count, ignored + 1
    return count + 1, ignored
