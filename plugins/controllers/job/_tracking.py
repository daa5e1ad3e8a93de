"""Counting a Job's finished pods and writing its status (upstream job_controller.go
trackJobStatusAndRemoveFinalizers, flushUncountedAndRemoveFinalizers, enactJobFinished):
:class:`StatusTracking` is the part of the controller that does it.

A finished pod is first written into ``status.uncountedTerminatedPods``, then its tracking
finalizer is removed, then it moves to ``succeeded``/``failed``: a failure between the steps
loses nothing and counts nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import attrs

from kframe.api import Time
from kframe.api.models import Job, JobCondition, Pod, UncountedTerminatedPods
from kframe.client import object_key
from kframe.controller import ControllerContext

from ._backoff import BackoffRecord, BackoffStore
from ._checks import clean_uncounted
from ._conditions import condition, ensure_condition, new_condition
from ._creation import REMOVE_FINALIZER, index_of
from ._failure_policy import match_pod_failure_policy
from ._indexes import UNKNOWN_INDEX, completion_index, format_indexes
from ._podfacts import has_tracking_finalizer, is_pod_failed, phase
from ._state import SyncState

__all__ = ["MAX_UNCOUNTED_PODS", "StatusTracking"]

#: upstream MaxUncountedPods: at most this many pods move through the uncounted lists a sync.
MAX_UNCOUNTED_PODS = 500


class StatusTracking:
    """Counts pods and writes the status for :class:`~._controller.JobController` (a mixin)."""

    ctx: ControllerContext
    backoff: BackoffStore
    rm_finalizers: dict[str, set[str]]
    written: dict[str, tuple[str, Job]]

    async def _track_status(
        self, key: str, sync: SyncState, record: BackoffRecord, needs_flush: bool, now: Time
    ) -> None:
        """Count finished pods through the uncounted lists and write the status
        (trackJobStatusAndRemoveFinalizers, flushUncountedAndRemoveFinalizers)."""
        job = sync.job
        spec = job.spec
        assert spec is not None and job.status is not None
        indexed = spec.completion_mode == "Indexed"
        completions = spec.completions or 0
        pods = sorted(sync.pods, key=lambda p: completion_index(p.metadata.annotations))  # type: ignore[union-attr]
        with_finalizer = {
            uid
            for p in pods
            if has_tracking_finalizer(p)
            and (uid := p.metadata.uid or "")  # type: ignore[union-attr]
            not in sync.expected_rm
        }
        status = job.status
        status, cleaned = clean_uncounted(status, with_finalizer)
        needs_flush = needs_flush or cleaned
        uncounted = status.uncounted_terminated_pods
        assert uncounted is not None
        unc_succeeded, unc_failed = list(uncounted.succeeded), list(uncounted.failed)
        new_indexes: list[int] = []
        to_remove: list[Pod] = []
        reached_max = False
        finished = sync.finished
        for pod in pods:
            uid = pod.metadata.uid or ""  # type: ignore[union-attr]
            if not has_tracking_finalizer(pod) or uid in sync.expected_rm:
                continue  # counted in an earlier sync
            failed = is_pod_failed(pod, job)
            if not (
                job.metadata.deletion_timestamp is not None  # type: ignore[union-attr]
                or finished is not None
                or phase(pod) == "Succeeded"
                or (failed and sync.delayed.get(index_of(pod)) is not pod)
            ):
                continue  # canRemoveFinalizer (a delayed pod waits for its replacement)
            to_remove.append(pod)
            if phase(pod) == "Succeeded" and uid not in unc_failed:
                if indexed:
                    ix = completion_index(pod.metadata.annotations)  # type: ignore[union-attr]
                    if (
                        ix != UNKNOWN_INDEX
                        and ix < completions
                        and (ix not in sync.prev_succeeded_indexes)
                    ):
                        new_indexes.append(ix)
                        needs_flush = True
                elif uid not in unc_succeeded:
                    unc_succeeded.append(uid)
                    needs_flush = True
            elif failed or (finished is not None and finished.type != "SuccessCriteriaMet"):
                # A Job that failed counts every pod it stops as failed.
                ix = completion_index(pod.metadata.annotations)  # type: ignore[union-attr]
                valid = not indexed or (ix != UNKNOWN_INDEX and ix < completions)
                counts = match_pod_failure_policy(spec.pod_failure_policy, pod)[1]
                if uid not in unc_failed and valid and counts:
                    unc_failed.append(uid)
                    needs_flush = True
            if len(new_indexes) + len(unc_succeeded) + len(unc_failed) >= MAX_UNCOUNTED_PODS:
                reached_max = True  # the rest waits for the next sync (keeps status small)
                break
        status = attrs.evolve(
            status,
            uncounted_terminated_pods=UncountedTerminatedPods(
                succeeded=tuple(unc_succeeded), failed=tuple(unc_failed)
            ),
        )
        if indexed:
            sync.succeeded_indexes |= set(new_indexes)
            text = format_indexes(sync.succeeded_indexes)
            if text != (status.completed_indexes or ""):
                needs_flush = True
            status = attrs.evolve(
                status, succeeded=len(sync.succeeded_indexes), completed_indexes=text
            )
            if sync.failed_indexes is not None:
                failed_text = format_indexes(sync.failed_indexes)
                if failed_text != status.failed_indexes:
                    needs_flush = True
                status = attrs.evolve(status, failed_indexes=failed_text)
        conditions = list(status.conditions or ())
        if finished is not None and finished.type == "FailureTarget":
            conditions.append(finished)
            needs_flush = True
            finished = new_condition("Failed", finished.reason or "", finished.message or "", now)
        elif finished is not None and finished.type == "SuccessCriteriaMet":
            if condition(job, "SuccessCriteriaMet") is None:
                conditions.append(finished)
                needs_flush = True
            finished = new_condition("Complete", finished.reason or "", finished.message or "", now)
        status = attrs.evolve(status, conditions=tuple(conditions))
        job = attrs.evolve(job, status=status)

        # Flush the uncounted uids before removing finalizers: a pod whose finalizer is gone
        # must already be on record.
        if needs_flush:
            job = await self._update_status(job)
            self.backoff.update(key, record)
            needs_flush = False
        error: BaseException | None = None
        if to_remove:
            removed, error = await self._remove_finalizers(key, to_remove)
            with_finalizer -= removed
        assert job.status is not None
        status, cleaned = clean_uncounted(job.status, with_finalizer)
        job = attrs.evolve(job, status=status)
        if cleaned:
            needs_flush = True
        if error is not None:
            if needs_flush:
                await self._update_status(job)
            raise error
        job_finished = not reached_max and finished is not None
        if job_finished:
            unc = status.uncounted_terminated_pods
            if unc is not None and (unc.succeeded or unc.failed):
                job_finished = False  # counted first, finished after
            elif sync.terminating > 0:
                job_finished = False  # 1.33: the terminal condition waits for terminating pods
        if job_finished:
            assert finished is not None
            conds = list(status.conditions or ())
            reason, message = finished.reason or "", finished.message or ""
            ensure_condition(conds, finished.type or "", "True", reason, message, now)
            status = attrs.evolve(status, conditions=tuple(conds))
            if finished.type == "Complete":
                status = attrs.evolve(status, completion_time=now)
            job = attrs.evolve(job, status=status)
            needs_flush = True
        if needs_flush:
            job = await self._update_status(job)
            if job_finished:
                self._record_finished(job, finished)

    def _record_finished(self, job: Job, finished: JobCondition | None) -> None:
        if finished is None:
            return
        if finished.type == "Complete":
            spec, status = job.spec, job.status
            if spec and status and (status.succeeded or 0) > (spec.completions or 1 << 62):
                self.ctx.event(
                    job,
                    "Warning",
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                )
            self.ctx.event(job, "Normal", "Completed", "Job completed")
        else:
            self.ctx.event(job, "Warning", finished.reason or "", finished.message or "")

    async def _update_status(self, job: Job) -> Job:
        before = job.metadata.resource_version if job.metadata is not None else None
        written = await self.ctx.client.update(job, subresource="status")
        if before:
            self.written[object_key(job)] = (before, written)
        return written

    async def _remove_finalizers(self, key: str, pods: Sequence[Pod]) -> tuple[set[str], Any]:
        """Remove the tracking finalizer from ``pods``; the uids it is gone from (a pod
        already deleted counts), and the first error."""
        uids = {p.metadata.uid or "" for p in pods}  # type: ignore[union-attr]
        self.rm_finalizers.setdefault(key, set()).update(uids)
        removed: set[str] = set()
        first: BaseException | None = None

        async def one(pod: Pod) -> None:
            uid = pod.metadata.uid or ""  # type: ignore[union-attr]
            try:
                await self._remove_finalizer(pod)
            except Exception:
                self.rm_finalizers.get(key, set()).discard(uid)
                raise
            removed.add(uid)

        for res in await asyncio.gather(*(one(p) for p in pods), return_exceptions=True):
            if isinstance(res, BaseException):
                first = first or res
        return removed, first

    async def _remove_finalizer(self, pod: Pod) -> None:
        meta = pod.metadata
        assert meta is not None
        try:
            await self.ctx.client.patch(
                Pod, meta.name or "", REMOVE_FINALIZER, namespace=meta.namespace
            )
        except Exception as exc:
            if getattr(exc, "code", None) != 404:
                raise
