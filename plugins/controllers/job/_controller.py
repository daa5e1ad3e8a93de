"""The job controller's sync (upstream pkg/controller/job/job_controller.go ``syncJob``).

One reconcile of a Job: claim its pods, count the newly finished ones through
``status.uncountedTerminatedPods`` and the ``batch.kubernetes.io/job-tracking`` finalizer (a pod
is added to the uncounted list, its finalizer removed, then it moves to the counters, so no pod
is counted twice or lost), decide whether the Job has failed (backoff limit, deadline) or met
its success criteria, create or delete pods towards ``parallelism`` (with the failure backoff),
and write the status. Terminal conditions are delayed as in 1.33: ``FailureTarget`` or
``SuccessCriteriaMet`` first, ``Failed`` or ``Complete`` once no pod is left terminating.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from kframe.api import Time
from kframe.api.models import (
    Job,
    JobCondition,
    JobStatus,
    Pod,
    UncountedTerminatedPods,
)
from kframe.client import object_key
from kframe.controller import (
    CONTROLLER_UID_INDEX,
    ControllerContext,
    Result,
    claim_objects,
    controller_ref,
    controller_uid_index,
    done,
    is_pod_active,
    is_pod_ready,
    requeue_after,
)

from ._backoff import DEFAULT_BACKOFF, MAX_BACKOFF, BackoffRecord, BackoffStore, remaining_backoff
from ._failure_policy import match_pod_failure_policy
from ._indexes import (
    UNKNOWN_INDEX,
    completion_index,
    format_indexes,
    match_success_policy,
    parse_indexes,
)
from ._per_index import (
    FAILURE_COUNT,
    IGNORED_FAILURE_COUNT,
    absolute_failure_count,
    delayed_deletion_per_index,
    failed_indexes,
    has_backoff_limit_per_index,
    new_failure_counts,
)
from ._podfacts import (
    TRACKING_FINALIZER,
    deletion_order,
    finished_time,
    has_tracking_finalizer,
    is_pod_failed,
    is_terminating,
    only_replace_failed_pods,
    phase,
)
from ._template import job_pod, job_selector

__all__ = ["MAX_POD_CREATE_DELETE_PER_SYNC", "MAX_UNCOUNTED_PODS", "JobController", "is_finished"]

log = logging.getLogger("kframe.controllers.job")

#: upstream MaxUncountedPods and MaxPodCreateDeletePerSync.
MAX_UNCOUNTED_PODS = 500
MAX_POD_CREATE_DELETE_PER_SYNC = 500
_MANAGER = "kubernetes.io/job-controller"
_ORPHAN = "pod:"  # work-queue keys of orphan pods whose finalizer is to be removed
_REMOVE_FINALIZER = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}


def _condition(job: Job, type_: str) -> JobCondition | None:
    for cond in (job.status.conditions if job.status is not None else None) or ():
        if cond.type == type_:
            return cond
    return None


def is_finished(job: Job) -> bool:
    """Complete or Failed is True (util.IsJobFinished)."""
    return any(
        (c := _condition(job, t)) is not None and c.status == "True" for t in ("Complete", "Failed")
    )


def _new_condition(type_: str, reason: str, message: str, now: _dt.datetime) -> JobCondition:
    return JobCondition(
        type=type_,
        status="True",
        reason=reason,
        message=message,
        last_probe_time=now,  # type: ignore[arg-type]
        last_transition_time=now,  # type: ignore[arg-type]
    )


def _ensure_condition(
    conds: list[JobCondition], type_: str, status: str, reason: str, message: str, now: Any
) -> bool:
    """Set or add the condition (ensureJobConditionStatus: never add one that is False)."""
    for i, cond in enumerate(conds):
        if cond.type == type_:
            if (cond.status, cond.reason, cond.message) == (status, reason, message):
                return False
            conds[i] = attrs.evolve(_new_condition(type_, reason, message, now), status=status)
            return True
    if status == "False":
        return False
    conds.append(_new_condition(type_, reason, message, now))
    return True


_ORPHANS_INDEX = "job-controller/orphans-by-namespace"


def _orphan_index(pod: Pod) -> list[str]:
    """Pods without a controller, by namespace: the candidates for adoption."""
    if pod.metadata is None or controller_ref(pod) is not None:
        return []
    return [pod.metadata.namespace or ""]


def _labels_match(selector: Any, pod: Pod) -> bool:
    return bool(selector.matches((pod.metadata.labels if pod.metadata else None) or {}))


def job_key_of(pod: Pod) -> str | None:
    """``namespace/name`` of the Job controlling ``pod``, if one does."""
    ref = controller_ref(pod)
    if ref is None or ref.kind != "Job" or ref.api_version != "batch/v1":
        return None
    return f"{pod.metadata.namespace}/{ref.name}"  # type: ignore[union-attr]


@attrs.define
class _Sync:
    """What one sync has worked out so far (upstream syncJobCtx)."""

    job: Job
    pods: list[Pod]
    active_pods: list[Pod]
    expected_rm: set[str]
    succeeded: int = 0
    failed: int = 0
    ready: int = 0
    terminating: int = 0
    finished: JobCondition | None = None
    prev_succeeded_indexes: set[int] = attrs.field(factory=set)
    succeeded_indexes: set[int] = attrs.field(factory=set)
    failed_indexes: set[int] | None = None  # with backoffLimitPerIndex only
    delayed: dict[int, Pod] = attrs.field(factory=dict)


class JobController:
    """The ``job-controller``. Options: ``job-pod-failure-backoff`` (10s) and
    ``job-pod-failure-max-backoff`` (6m), upstream's constants, settable for tests."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.jobs = ctx.watch(Job, keys=self._job_keys)
        self.jobs.add_handler(None, None, self._job_deleted)
        self.pods = ctx.informer(
            Pod,
            indexers={CONTROLLER_UID_INDEX: controller_uid_index, _ORPHANS_INDEX: _orphan_index},
        )
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.expectations = ctx.expectations()
        # upstream finalizerExpectations: uids whose finalizer removal is not yet observed.
        self.rm_finalizers: dict[str, set[str]] = {}
        self.backoff = BackoffStore()
        # key -> (resourceVersion written over, the Job written): until the informer has the
        # write, the next sync starts from it instead of conflicting on a stale copy.
        self.written: dict[str, tuple[str, Job]] = {}
        self.default_backoff = ctx.option("job-pod-failure-backoff", DEFAULT_BACKOFF, _seconds)
        self.max_backoff = ctx.option("job-pod-failure-max-backoff", MAX_BACKOFF, _seconds)

    # -- event handlers -------------------------------------------------------------------------

    def _job_keys(self, job: Job) -> Iterable[str]:
        key = object_key(job)
        if job.metadata is not None and job.metadata.deletion_timestamp is not None:
            # A Job being deleted lets go of its pods' finalizers in its sync; a Job already
            # gone leaves orphans (upstream deleteJob enqueues them).
            for pod in self.pods.store.by_index(CONTROLLER_UID_INDEX, job.metadata.uid or ""):
                if has_tracking_finalizer(pod):
                    self.ctx.queue.add(_ORPHAN + object_key(pod))
        return (key,)

    def _job_deleted(self, job: Job) -> None:
        # The Job is gone: its pods' finalizers are removed by the orphan sync.
        for pod in self.pods.store.by_index(CONTROLLER_UID_INDEX, job.metadata.uid or ""):  # type: ignore[union-attr]
            if has_tracking_finalizer(pod):
                self.ctx.queue.add(_ORPHAN + object_key(pod))

    def _enqueue_orphan_if_needed(self, pod: Pod) -> None:
        if not has_tracking_finalizer(pod):
            return
        key = job_key_of(pod)
        job = self.jobs.store.get(key) if key is not None else None
        ref = controller_ref(pod)
        if job is None or ref is None or job.metadata.uid != ref.uid or is_finished(job):  # type: ignore[union-attr]
            self.ctx.queue.add(_ORPHAN + object_key(pod))

    def _enqueue_adopters(self, pod: Pod) -> None:
        """An orphan: sync the Jobs whose selector matches it, to adopt it (getPodJobs)."""
        meta = pod.metadata
        if meta is None or controller_ref(pod) is not None or meta.deletion_timestamp:
            return
        for job in self.jobs.store.by_index("namespace", meta.namespace or ""):
            if job.spec is not None and job_selector(job).matches(meta.labels or {}):
                self.ctx.queue.add(object_key(job))

    def _pod_added(self, pod: Pod) -> None:
        self._enqueue_adopters(pod)
        key = job_key_of(pod)
        if key is not None:
            if pod.metadata is not None and pod.metadata.deletion_timestamp is not None:
                self.expectations.deletion_observed(key)
            else:
                self.expectations.creation_observed(key)
            self.ctx.queue.add(key)
        self._enqueue_orphan_if_needed(pod)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if (old.metadata.labels if old.metadata else None) != (
            new.metadata.labels if new.metadata else None
        ) or controller_ref(old) != controller_ref(new):
            self._enqueue_adopters(new)
        key = job_key_of(new)
        old_key = job_key_of(old)
        if old_key is not None and old_key != key:
            self.ctx.queue.add(old_key)
        if key is not None:
            was_deleting = old.metadata is not None and old.metadata.deletion_timestamp is not None
            if new.metadata is not None and new.metadata.deletion_timestamp and not was_deleting:
                self.expectations.deletion_observed(key)
            if has_tracking_finalizer(old) and not has_tracking_finalizer(new):
                self._finalizer_removal_observed(key, new)
            self.ctx.queue.add(key)
        self._enqueue_orphan_if_needed(new)

    def _pod_deleted(self, pod: Pod) -> None:
        key = job_key_of(pod)
        if key is None:
            return
        if pod.metadata is None or pod.metadata.deletion_timestamp is None:
            self.expectations.deletion_observed(key)
        self._finalizer_removal_observed(key, pod)
        self.ctx.queue.add(key)

    def _finalizer_removal_observed(self, key: str, pod: Pod) -> None:
        uids = self.rm_finalizers.get(key)
        if uids is not None:
            uids.discard(pod.metadata.uid or "")  # type: ignore[union-attr]

    # -- reconcile ------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        if key.startswith(_ORPHAN):
            await self._sync_orphan(key[len(_ORPHAN) :])
            return done()
        job = self.jobs.store.get(key)
        seen = self.written.pop(key, None)
        if job is not None and seen is not None:
            cached = job.metadata.resource_version if job.metadata is not None else None
            if cached == seen[0]:
                job = seen[1]  # the cache lags behind our own status write
        if job is None:
            self.expectations.delete(key)
            self.rm_finalizers.pop(key, None)
            self.backoff.remove(key)
            return done()
        spec = job.spec
        if spec is None or (spec.managed_by and spec.managed_by != _MANAGER):
            return done()  # another controller's (spec.managedBy)
        if is_finished(job):
            self.backoff.remove(key)
            return done()
        if spec.completion_mode not in (None, "NonIndexed", "Indexed"):
            self.ctx.event(
                job,
                "Warning",
                "UnknownCompletionMode",
                "Skipped Job sync because completion mode is unknown",
            )
            return done()
        return await self._sync(key, job)

    async def _sync_orphan(self, pod_key: str) -> None:
        """Remove the tracking finalizer of a pod whose Job is gone or finished (syncOrphanPod)."""
        pod = self.pods.store.get(pod_key)
        if pod is None or not has_tracking_finalizer(pod):
            return
        ref = controller_ref(pod)
        if ref is not None:
            if ref.kind != "Job" or ref.api_version != "batch/v1":
                return  # not a Job's pod: not ours to touch
            job = self.jobs.store.get(f"{pod.metadata.namespace}/{ref.name}")  # type: ignore[union-attr]
            meta = job.metadata if job is not None else None
            if (
                job is not None
                and meta is not None
                and meta.uid == ref.uid
                and meta.deletion_timestamp is None
                and not is_finished(job)
            ):
                return  # still counted by its Job
        await self._remove_finalizer(pod)

    async def _remove_finalizer(self, pod: Pod) -> None:
        meta = pod.metadata
        assert meta is not None
        try:
            await self.ctx.client.patch(
                Pod, meta.name or "", _REMOVE_FINALIZER, namespace=meta.namespace
            )
        except Exception as exc:
            if getattr(exc, "code", None) != 404:
                raise

    async def _pods_for(self, job: Job) -> list[Pod]:
        """The Job's pods, as ClaimPods: those it controls, less those whose labels no longer
        match (released), plus matching orphans (adopted, and given the tracking finalizer,
        unless the Job is being deleted)."""
        meta = job.metadata
        assert meta is not None
        owned = self.pods.store.by_index(CONTROLLER_UID_INDEX, meta.uid or "")
        selector = job_selector(job)
        orphans = [
            p
            for p in self.pods.store.by_index(_ORPHANS_INDEX, meta.namespace or "")
            if p.metadata is not None
            and p.metadata.deletion_timestamp is None
            and selector.matches(p.metadata.labels or {})
        ]
        if not orphans and all(_labels_match(selector, p) for p in owned):
            return list(owned)
        can_adopt = meta.deletion_timestamp is None
        claimed = await claim_objects(
            self.ctx.client, job, selector, [*owned, *orphans], can_adopt=can_adopt
        )
        owned_uids = {p.metadata.uid for p in owned if p.metadata is not None}
        out = []
        for pod in claimed:
            if pod.metadata is not None and pod.metadata.uid not in owned_uids:
                pod = await self._add_finalizer(pod)  # adopted
            out.append(pod)
        return out

    async def _add_finalizer(self, pod: Pod) -> Pod:
        """Adopted pods are tracked like made ones (upstream adopts with the finalizer)."""
        if has_tracking_finalizer(pod) or pod.metadata is None:
            return pod
        patch = {"metadata": {"finalizers": [TRACKING_FINALIZER]}}
        patched = await self.ctx.client.patch(
            Pod, pod.metadata.name or "", patch, namespace=pod.metadata.namespace
        )
        return patched

    async def _sync(self, key: str, job: Job) -> Result | None:
        spec = job.spec
        assert spec is not None and job.metadata is not None
        now = Time(self.ctx.clock.wall())
        status = job.status or JobStatus()
        if status.uncounted_terminated_pods is None:
            status = attrs.evolve(status, uncounted_terminated_pods=UncountedTerminatedPods())
        job = attrs.evolve(job, status=status)
        # Expectations first: a pod added after this check only defers the sync.
        satisfied = self.expectations.satisfied(key)
        pods = await self._pods_for(job)
        sync = _Sync(
            job=job,
            pods=pods,
            active_pods=[p for p in pods if is_pod_active(p)],
            expected_rm=set(self.rm_finalizers.get(key, ())),
        )
        sync.ready = sum(1 for p in sync.active_pods if is_pod_ready(p))
        sync.terminating = sum(1 for p in pods if is_terminating(p))
        active = len(sync.active_pods)
        uncounted = status.uncounted_terminated_pods
        assert uncounted is not None
        unc_succeeded, unc_failed = set(uncounted.succeeded), set(uncounted.failed)
        new_succeeded = self._new_finished(sync, unc_succeeded, lambda p: phase(p) == "Succeeded")
        new_failed = self._new_finished(sync, unc_failed, lambda p: is_pod_failed(p, job))
        sync.succeeded = (status.succeeded or 0) + len(new_succeeded) + len(unc_succeeded)
        counted = [p for p in new_failed if match_pod_failure_policy(spec.pod_failure_policy, p)[1]]
        sync.failed = (status.failed or 0) + len(counted) + len(unc_failed)
        suspended = bool(spec.suspend)
        if status.start_time is None and not suspended:
            status = attrs.evolve(status, start_time=now)
            sync.job = job = attrs.evolve(job, status=status)
        record = self.backoff.new_record(key, new_succeeded, new_failed)
        result: Result | None = None

        sync.finished = _condition(job, "SuccessCriteriaMet")
        if sync.finished is not None and sync.finished.status != "True":
            sync.finished = None
        if sync.finished is None:
            target = _condition(job, "FailureTarget")
            if target is not None and target.status == "True":
                sync.finished = _new_condition(
                    "Failed", target.reason or "", target.message or "", now
                )
            else:
                message = _fail_job_message(job, pods)
                if message is not None:
                    # Recorded as FailureTarget before the finalizers let the pods go.
                    reason = "PodFailurePolicy"
                    sync.finished = _new_condition("FailureTarget", reason, message, now)
        if sync.finished is None:
            backoff_limit = spec.backoff_limit if spec.backoff_limit is not None else 6
            if sync.failed > backoff_limit or _past_backoff_limit_on_failure(job, pods):
                sync.finished = _new_condition(
                    "FailureTarget",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                    now,
                )
            elif _past_active_deadline(job, now):
                sync.finished = _new_condition(
                    "FailureTarget",
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline",
                    now,
                )
            elif spec.active_deadline_seconds is not None and not suspended:
                start = status.start_time
                assert start is not None
                left = spec.active_deadline_seconds - (now - start).total_seconds()
                result = requeue_after(max(left, 0.0))

        indexed = spec.completion_mode == "Indexed"
        completions = spec.completions
        if indexed:
            sync.prev_succeeded_indexes, sync.succeeded_indexes = _succeeded_indexes(job, pods)
            sync.succeeded = len(sync.succeeded_indexes)
            if has_backoff_limit_per_index(job):
                sync.failed_indexes = failed_indexes(job, pods)
                n_failed = len(sync.failed_indexes)
                if sync.finished is None:
                    if spec.max_failed_indexes is not None and n_failed > spec.max_failed_indexes:
                        sync.finished = _new_condition(
                            "FailureTarget",
                            "MaxFailedIndexesExceeded",
                            "Job has exceeded the specified maximal number of failed indexes",
                            now,
                        )
                    elif n_failed and n_failed + sync.succeeded >= (completions or 0):
                        sync.finished = _new_condition(
                            "FailureTarget", "FailedIndexes", "Job has failed indexes", now
                        )
                sync.delayed = delayed_deletion_per_index(
                    job,
                    pods,
                    sync.active_pods,
                    sync.succeeded_indexes,
                    sync.failed_indexes,
                    sync.expected_rm,
                )
            met = None
            if sync.finished is None:
                met = match_success_policy(
                    spec.success_policy, completions or 0, sync.succeeded_indexes
                )
            if met is not None:
                # The remaining pods are deleted; Complete follows once they are gone.
                sync.finished = _new_condition("SuccessCriteriaMet", "SuccessPolicy", met, now)

        manage_error: BaseException | None = None
        suspend_changed = False
        conditions = list(status.conditions or ())
        if sync.finished is not None:
            deleted, deleted_ready, manage_error = await self._delete_pods(
                job, sync.active_pods, remove_finalizer=False
            )
            if deleted != active or not satisfied:
                # Not finished yet: pods may remain, or be missing from the cache.
                sync.finished = None
            active -= deleted
            sync.terminating += deleted
            sync.ready -= deleted_ready
        else:
            manage_called = False
            if satisfied and job.metadata.deletion_timestamp is None:  # type: ignore[union-attr]
                active, manage_error, wait = await self._manage(key, sync, record, now)
                manage_called = True
                if wait is not None:
                    result = _sooner(result, requeue_after(wait))
            if completions is None:
                complete = sync.succeeded > 0 and active == 0
            else:
                complete = sync.succeeded >= completions and active == 0
            if complete:
                sync.finished = _new_condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    now,
                )
            elif manage_called:
                if suspended:
                    if _ensure_condition(
                        conditions, "Suspended", "True", "JobSuspended", "Job suspended", now
                    ):
                        suspend_changed = True
                        self.ctx.event(job, "Normal", "Suspended", "Job suspended")
                elif _ensure_condition(
                    conditions, "Suspended", "False", "JobResumed", "Job resumed", now
                ):
                    suspend_changed = True
                    self.ctx.event(job, "Normal", "Resumed", "Job resumed")
                    # The deadline counts time continuously active: it restarts on resume.
                    status = attrs.evolve(status, start_time=now)

        needs_update = (
            suspend_changed
            or active != (status.active or 0)
            or sync.ready != status.ready
            or sync.terminating != status.terminating
        )
        status = attrs.evolve(
            status,
            conditions=tuple(conditions),
            active=active,
            ready=sync.ready,
            terminating=sync.terminating,
        )
        sync.job = attrs.evolve(sync.job, status=status)
        await self._track_status(key, sync, record, needs_update, now)
        if manage_error is not None:
            raise manage_error
        return result

    def _new_finished(self, sync: _Sync, uncounted: set[str], test: Any) -> list[Pod]:
        """Finished pods not yet in the counters or the uncounted lists (getNewFinishedPods)."""
        spec = sync.job.spec
        assert spec is not None
        out = []
        for pod in sync.pods:
            uid = pod.metadata.uid or ""  # type: ignore[union-attr]
            if not has_tracking_finalizer(pod) or uid in uncounted or uid in sync.expected_rm:
                continue
            if spec.completion_mode == "Indexed":
                ix = completion_index(pod.metadata.annotations)  # type: ignore[union-attr]
                if ix == UNKNOWN_INDEX or ix >= (spec.completions or 0):
                    continue
            if test(pod):
                out.append(pod)
        return out

    # -- creating and deleting pods -------------------------------------------------------------

    async def _manage(
        self, key: str, sync: _Sync, record: BackoffRecord, now: Time
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
                        Pod, meta.name or "", _REMOVE_FINALIZER, namespace=meta.namespace
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

    async def _track_status(
        self, key: str, sync: _Sync, record: BackoffRecord, needs_flush: bool, now: Time
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
        status, cleaned = _clean_uncounted(status, with_finalizer)
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
                or (failed and sync.delayed.get(_index_of(pod)) is not pod)
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
            finished = _new_condition("Failed", finished.reason or "", finished.message or "", now)
        elif finished is not None and finished.type == "SuccessCriteriaMet":
            if _condition(job, "SuccessCriteriaMet") is None:
                conditions.append(finished)
                needs_flush = True
            finished = _new_condition(
                "Complete", finished.reason or "", finished.message or "", now
            )
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
        status, cleaned = _clean_uncounted(job.status, with_finalizer)
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
            _ensure_condition(conds, finished.type or "", "True", reason, message, now)
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


def _clean_uncounted(status: JobStatus, with_finalizer: set[str]) -> tuple[JobStatus, bool]:
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


def _sooner(a: Result | None, b: Result) -> Result:
    if a is None or a.requeue_after is None:
        return b
    assert b.requeue_after is not None
    return a if a.requeue_after <= b.requeue_after else b


def _fail_job_message(job: Job, pods: Sequence[Pod]) -> str | None:
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


def _past_backoff_limit_on_failure(job: Job, pods: Sequence[Pod]) -> bool:
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


def _past_active_deadline(job: Job, now: _dt.datetime) -> bool:
    spec, status = job.spec, job.status
    if spec is None or spec.active_deadline_seconds is None or spec.suspend:
        return False
    if status is None or status.start_time is None:
        return False
    return (now - status.start_time).total_seconds() >= spec.active_deadline_seconds


def _succeeded_indexes(job: Job, pods: Sequence[Pod]) -> tuple[set[int], set[int]]:
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


def _index_of(pod: Pod) -> int:
    return completion_index(pod.metadata.annotations if pod.metadata is not None else None)


def _first_pending_indexes(sync: _Sync, count: int, completions: int) -> list[int]:
    """The lowest indexes neither succeeded nor held by an active pod (firstPendingIndexes)."""
    taken = set(sync.succeeded_indexes) | (sync.failed_indexes or set())
    taken.update(completion_index(p.metadata.annotations) for p in sync.active_pods)  # type: ignore[union-attr]
    if only_replace_failed_pods(sync.job):
        # a terminating pod still holds its index until it is gone
        taken.update(_index_of(p) for p in sync.pods if is_terminating(p))
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
    controller: JobController,
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


def _seconds(text: str) -> float:
    """A Go duration (``10s``, ``500ms``, ``6m``, ``1m30s``) or a number of seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total, number, i = 0.0, "", 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        if unit not in units or not number:
            raise ValueError(f"invalid duration {text!r}")
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number:
        raise ValueError(f"invalid duration {text!r}: missing unit")
    return total
