"""Making and deleting a Job's pods (upstream job_controller.go manageJob, deleteJobPods,
activePodsForRemoval, indexed_job_utils.go firstPendingIndexes): :class:`PodControl` is the
part of the controller that does it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kframe.api import Time
from kframe.api.models import Job, Pod
from kframe.controller import ControllerContext, Expectations, is_pod_ready

from ._backoff import BackoffRecord, remaining_backoff
from ._indexes import UNKNOWN_INDEX, completion_index
from ._per_index import (
    FAILURE_COUNT,
    IGNORED_FAILURE_COUNT,
    absolute_failure_count,
    has_backoff_limit_per_index,
    new_failure_counts,
)
from ._podfacts import (
    TRACKING_FINALIZER,
    deletion_order,
    finished_time,
    has_tracking_finalizer,
    is_terminating,
    only_replace_failed_pods,
)
from ._state import SyncState
from ._template import job_pod

__all__ = ["MAX_POD_CREATE_DELETE_PER_SYNC", "REMOVE_FINALIZER", "PodControl", "index_of"]

#: upstream MaxPodCreateDeletePerSync.
MAX_POD_CREATE_DELETE_PER_SYNC = 500
#: The strategic merge patch that takes the tracking finalizer off a pod.
REMOVE_FINALIZER = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}


class PodControl:
    """Creates and deletes pods for :class:`~._controller.JobController` (a mixin)."""

    ctx: ControllerContext
    expectations: Expectations
    default_backoff: float
    max_backoff: float

    async def _manage(
        self, key: str, sync: SyncState, record: BackoffRecord, now: Time
    ) -> tuple[int, BaseException | None, float | None]:
        """Pods towards the wanted number (manageJob): (active, error, wait before retrying)."""
        job = sync.job
        spec = job.spec
        assert spec is not None
        active = len(sync.active_pods)
        parallelism = spec.parallelism if spec.parallelism is not None else 1
        if spec.suspend:
            to_delete = _pods_for_removal(job, sync.active_pods, active)
            self.expectations.expect_deletions(key, len(to_delete))
            removed, removed_ready, err = await self._delete_pods(job, to_delete, key=key)
            sync.terminating += removed
            sync.ready -= removed_ready
            return active - removed, err, None
        if spec.completions is None:
            # Any success ends the work: leave the running pods be, start no more.
            want = active if sync.succeeded > 0 else parallelism
        else:
            want = max(0, min(spec.completions - sync.succeeded, parallelism))
        to_delete = _pods_for_removal(job, sync.active_pods, max(0, active - want))
        to_delete = to_delete[:MAX_POD_CREATE_DELETE_PER_SYNC]
        if to_delete:
            # Deleting and creating in one sync is never done: deleting goes first.
            self.expectations.expect_deletions(key, len(to_delete))
            removed, removed_ready, err = await self._delete_pods(job, to_delete, key=key)
            sync.terminating += removed
            sync.ready -= removed_ready
            return active - removed, err, None
        terminating = sync.terminating if only_replace_failed_pods(job) else 0
        diff = want - terminating - active
        if diff <= 0:
            return active, None, None
        per_index = has_backoff_limit_per_index(job)
        if not per_index:
            wait = remaining_backoff(record, now, self.default_backoff, self.max_backoff)
            if wait > 0:
                # upstream reports active 0 here; the pods still running are reported instead.
                return active, None, wait
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        indexes: list[int | None] = [None] * diff
        if spec.completion_mode == "Indexed":
            pending = _first_pending_indexes(sync, diff, spec.completions or 0)
            if per_index:
                # Each index waits for its own backoff (getPodCreationInfoForIndependentIndexes).
                waits = {ix: self._index_backoff(sync.delayed.get(ix), now) for ix in pending}
                ready_now = [ix for ix in pending if waits[ix] <= 0]
                if pending and not ready_now:
                    return active, None, min(waits.values())
                pending = ready_now
            indexes = list(pending)
            diff = len(indexes)
        if diff == 0:
            return active, None, None
        self.expectations.expect_creations(key, diff)
        created, err = await _slow_start(self, job, key, indexes, sync.delayed)
        return active + created, err, None

    def _index_backoff(self, last_failed: Pod | None, now: Time) -> float:
        if last_failed is None:
            return 0.0
        record = BackoffRecord(absolute_failure_count(last_failed) + 1, finished_time(last_failed))
        return remaining_backoff(record, now, self.default_backoff, self.max_backoff)

    async def _delete_pods(
        self, job: Job, pods: Sequence[Pod], *, remove_finalizer: bool = True, key: str = ""
    ) -> tuple[int, int, BaseException | None]:
        """Delete ``pods`` (deleteJobPods; with ``remove_finalizer`` False, deleteActivePods,
        which keeps the finalizer so the pod is counted as failed). Returns (deleted, of them
        ready, first error)."""

        async def one(pod: Pod) -> bool:
            meta = pod.metadata
            assert meta is not None
            try:
                if remove_finalizer and has_tracking_finalizer(pod):
                    await self.ctx.client.patch(
                        Pod, meta.name or "", REMOVE_FINALIZER, namespace=meta.namespace
                    )
                await self.ctx.client.delete(Pod, meta.name or "", namespace=meta.namespace)
            except Exception as exc:
                if key:
                    self.expectations.deletion_observed(key)  # the informer will not see it
                if getattr(exc, "code", None) != 404:
                    raise
                return True
            self.ctx.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {meta.name}")
            return True

        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        deleted = ready = 0
        first: BaseException | None = None
        for pod, res in zip(pods, results, strict=True):
            if isinstance(res, BaseException):
                first = first or res
                continue
            deleted += 1
            ready += is_pod_ready(pod)
        return deleted, ready, first

    # -- status ---------------------------------------------------------------------------------


def index_of(pod: Pod) -> int:
    return completion_index(pod.metadata.annotations if pod.metadata is not None else None)


def _first_pending_indexes(sync: SyncState, count: int, completions: int) -> list[int]:
    """The lowest indexes neither succeeded nor held by an active pod (firstPendingIndexes)."""
    taken = set(sync.succeeded_indexes) | (sync.failed_indexes or set())
    taken.update(completion_index(p.metadata.annotations) for p in sync.active_pods)  # type: ignore[union-attr]
    if only_replace_failed_pods(sync.job):
        # a terminating pod still holds its index until it is gone
        taken.update(index_of(p) for p in sync.pods if is_terminating(p))
    out: list[int] = []
    for ix in range(completions):
        if len(out) >= count:
            break
        if ix not in taken:
            out.append(ix)
    return out


def _pods_for_removal(job: Job, pods: Sequence[Pod], at_least: int) -> list[Pod]:
    """Pods to delete: for Indexed Jobs first those with no, a too high or a repeated index
    (keeping the best of each index), then by :func:`deletion_order` (activePodsForRemoval)."""
    spec = job.spec
    rm: list[Pod] = []
    left: list[Pod] = list(pods)
    if spec is not None and spec.completion_mode == "Indexed":
        completions = spec.completions or 0
        by_index: dict[int, list[Pod]] = {}
        left = []
        for pod in pods:
            ix = completion_index(pod.metadata.annotations)  # type: ignore[union-attr]
            if ix == UNKNOWN_INDEX or ix >= completions:
                rm.append(pod)
            else:
                by_index.setdefault(ix, []).append(pod)
        for ix in sorted(by_index):
            group = sorted(by_index[ix], key=deletion_order)
            rm.extend(group[:-1])
            left.append(group[-1])
    if len(rm) < at_least:
        left.sort(key=deletion_order)
        rm.extend(left[: at_least - len(rm)])
    return rm


def _count_annotations(job: Job, delayed: dict[int, Pod], ix: int | None) -> dict[str, str]:
    """The failure-count annotations of a new pod for index ``ix`` (addIndexFailureCount...)."""
    if ix is None or not has_backoff_limit_per_index(job):
        return {}
    count, ignored = new_failure_counts(job, delayed.get(ix))
    out = {FAILURE_COUNT: str(count)}
    if ignored > 0:
        out[IGNORED_FAILURE_COUNT] = str(ignored)
    return out


async def _slow_start(
    controller: PodControl,
    job: Job,
    key: str,
    indexes: list[int | None],
    delayed: dict[int, Pod] | None = None,
) -> tuple[int, BaseException | None]:
    """Create one pod per entry of ``indexes`` in batches 1, 2, 4, ... (slowStartBatch);
    the pods never attempted after a failed batch are taken off the expectations."""
    ctx = controller.ctx
    delayed = delayed or {}
    pending = list(indexes)
    created = 0
    batch = 1
    while pending:
        now_batch, pending = pending[:batch], pending[batch:]

        async def create(ix: int | None) -> None:
            try:
                pod = await ctx.client.create(
                    job_pod(job, ix, _count_annotations(job, delayed, ix))
                )
            except Exception as exc:
                controller.expectations.creation_observed(key)
                ctx.event(job, "Warning", "FailedCreate", f"Error creating: {exc}")
                raise
            name = pod.metadata.name if pod.metadata is not None else ""
            ctx.event(job, "Normal", "SuccessfulCreate", f"Created pod: {name}")

        results = await asyncio.gather(*(create(ix) for ix in now_batch), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        created += len(now_batch) - len(errors)
        if errors:
            for _ in pending:
                controller.expectations.creation_observed(key)
            return created, errors[0]
        batch *= 2
    return created, None
