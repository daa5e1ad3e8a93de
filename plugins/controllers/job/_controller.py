"""The job controller's sync (upstream pkg/controller/job/job_controller.go ``syncJob``).

One reconcile of a Job: claim its pods, count the newly finished ones through
``status.uncountedTerminatedPods`` and the ``batch.kubernetes.io/job-tracking`` finalizer (a pod
is added to the uncounted list, its finalizer removed, then it moves to the counters, so no pod
is counted twice or lost), decide whether the Job has failed (backoff limit, deadline) or met
its success criteria, create or delete pods towards ``parallelism`` (with the failure backoff),
and write the status. Terminal conditions are delayed as in 1.33: ``FailureTarget`` or
``SuccessCriteriaMet`` first, ``Failed`` or ``Complete`` once no pod is left terminating.
Creating and deleting pods is :mod:`._creation`'s part, counting and writing the status
:mod:`._tracking`'s; this module holds the event handlers and the decisions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import attrs

from kframe.api import Time
from kframe.api.models import (
    Job,
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

from ._backoff import DEFAULT_BACKOFF, MAX_BACKOFF, BackoffStore, parse_seconds
from ._checks import (
    fail_job_message,
    past_active_deadline,
    past_backoff_limit_on_failure,
    sooner,
    succeeded_indexes,
)
from ._conditions import condition, ensure_condition, is_finished, new_condition
from ._creation import MAX_POD_CREATE_DELETE_PER_SYNC, PodControl
from ._failure_policy import match_pod_failure_policy
from ._indexes import UNKNOWN_INDEX, completion_index, match_success_policy
from ._per_index import (
    delayed_deletion_per_index,
    failed_indexes,
    has_backoff_limit_per_index,
)
from ._podfacts import (
    TRACKING_FINALIZER,
    has_tracking_finalizer,
    is_pod_failed,
    is_terminating,
    phase,
)
from ._state import SyncState
from ._template import job_selector
from ._tracking import MAX_UNCOUNTED_PODS, StatusTracking

__all__ = ["MAX_POD_CREATE_DELETE_PER_SYNC", "MAX_UNCOUNTED_PODS", "JobController", "is_finished"]

log = logging.getLogger("kframe.controllers.job")

_MANAGER = "kubernetes.io/job-controller"
_ORPHAN = "pod:"  # work-queue keys of orphan pods whose finalizer is to be removed


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


class JobController(PodControl, StatusTracking):
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
        self.default_backoff = ctx.option("job-pod-failure-backoff", DEFAULT_BACKOFF, parse_seconds)
        self.max_backoff = ctx.option("job-pod-failure-max-backoff", MAX_BACKOFF, parse_seconds)

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
        sync = SyncState(
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

        sync.finished = condition(job, "SuccessCriteriaMet")
        if sync.finished is not None and sync.finished.status != "True":
            sync.finished = None
        if sync.finished is None:
            target = condition(job, "FailureTarget")
            if target is not None and target.status == "True":
                sync.finished = new_condition(
                    "Failed", target.reason or "", target.message or "", now
                )
            else:
                message = fail_job_message(job, pods)
                if message is not None:
                    # Recorded as FailureTarget before the finalizers let the pods go.
                    reason = "PodFailurePolicy"
                    sync.finished = new_condition("FailureTarget", reason, message, now)
        if sync.finished is None:
            backoff_limit = spec.backoff_limit if spec.backoff_limit is not None else 6
            if sync.failed > backoff_limit or past_backoff_limit_on_failure(job, pods):
                sync.finished = new_condition(
                    "FailureTarget",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                    now,
                )
            elif past_active_deadline(job, now):
                sync.finished = new_condition(
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
            sync.prev_succeeded_indexes, sync.succeeded_indexes = succeeded_indexes(job, pods)
            sync.succeeded = len(sync.succeeded_indexes)
            if has_backoff_limit_per_index(job):
                sync.failed_indexes = failed_indexes(job, pods)
                n_failed = len(sync.failed_indexes)
                if sync.finished is None:
                    if spec.max_failed_indexes is not None and n_failed > spec.max_failed_indexes:
                        sync.finished = new_condition(
                            "FailureTarget",
                            "MaxFailedIndexesExceeded",
                            "Job has exceeded the specified maximal number of failed indexes",
                            now,
                        )
                    elif n_failed and n_failed + sync.succeeded >= (completions or 0):
                        sync.finished = new_condition(
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
                sync.finished = new_condition("SuccessCriteriaMet", "SuccessPolicy", met, now)

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
                    result = sooner(result, requeue_after(wait))
            if completions is None:
                complete = sync.succeeded > 0 and active == 0
            else:
                complete = sync.succeeded >= completions and active == 0
            if complete:
                sync.finished = new_condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    now,
                )
            elif manage_called:
                if suspended:
                    if ensure_condition(
                        conditions, "Suspended", "True", "JobSuspended", "Job suspended", now
                    ):
                        suspend_changed = True
                        self.ctx.event(job, "Normal", "Suspended", "Job suspended")
                elif ensure_condition(
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

    def _new_finished(self, sync: SyncState, uncounted: set[str], test: Any) -> list[Pod]:
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
