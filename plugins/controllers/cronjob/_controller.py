"""The CronJob controller's sync (upstream pkg/controller/cronjob/cronjob_controllerv2.go).

One reconcile of a CronJob: forget finished or vanished Jobs from ``status.active``, delete
finished Jobs past the history limits, then, unless suspended, find the most recent schedule
time not yet run (``startingDeadlineSeconds`` bounds how late), apply the concurrency policy
and create ``<cronjob>-<scheduled minutes since the epoch>``; the key is requeued for the next
schedule time (100 ms after it, as upstream's ``nextScheduleDelta``).
"""

from __future__ import annotations

import datetime as _dt
import logging
import zoneinfo
from collections.abc import Callable, Iterable, Sequence

import attrs

from kframe.api import Time
from kframe.api.models import CronJob, CronJobStatus, Job, ObjectMeta, ObjectReference
from kframe.controller import (
    CONTROLLER_UID_INDEX,
    ControllerContext,
    Result,
    controller_ref,
    controller_uid_index,
    done,
    new_controller_ref,
    requeue_after,
)

from ._cron import CronError, Schedule, parse_schedule

__all__ = [
    "NEXT_SCHEDULE_DELTA",
    "SCHEDULED_TIMESTAMP",
    "CronJobController",
    "job_name",
    "most_recent_schedule_time",
    "next_schedule_delay",
]

log = logging.getLogger("kframe.controllers.cronjob")

#: The Job annotation with its scheduled time (RFC 3339, in the CronJob's time zone).
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: upstream nextScheduleDelta: requeue a little after the schedule time.
NEXT_SCHEDULE_DELTA = 0.1
# upstream: more than this many missed start times is reported as TooManyMissedTimes.
_MANY_MISSED = 100
_UTC = _dt.UTC


def job_name(cronjob: CronJob, scheduled: _dt.datetime) -> str:
    """``<cronjob>-<minutes since the epoch>`` (getJobName): one name per schedule time, so a
    Job is never made twice for it."""
    return f"{cronjob.metadata.name}-{int(scheduled.timestamp()) // 60}"  # type: ignore[union-attr]


def _finished(job: Job) -> str | None:
    """``Complete`` or ``Failed`` if that condition is True (jobutil.FinishedCondition)."""
    for cond in (job.status.conditions if job.status is not None else None) or ():
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            return cond.type
    return None


def most_recent_schedule_time(
    cronjob: CronJob, now: _dt.datetime, schedule: Schedule, *, with_deadline: bool
) -> tuple[_dt.datetime, _dt.datetime | None, int]:
    """(earliest time considered, the latest schedule time in (earliest, now] or None, how many
    were missed: 0, 1 for a few, 2 for over a hundred) as upstream's mostRecentScheduleTime.
    Raises CronError for a schedule whose two next times coincide."""
    meta, spec, status = cronjob.metadata, cronjob.spec, cronjob.status
    earliest: _dt.datetime = (meta.creation_timestamp if meta else None) or now
    if status is not None and status.last_schedule_time is not None:
        earliest = status.last_schedule_time
    if with_deadline and spec is not None and spec.starting_deadline_seconds is not None:
        deadline = now - _dt.timedelta(seconds=spec.starting_deadline_seconds)
        earliest = max(earliest, deadline)
    t1 = schedule.next(earliest)
    t2 = schedule.next(t1) if t1 is not None else None
    if t1 is None or now < t1:
        return earliest, None, 0
    if t2 is None or now < t2:
        return earliest, t1, 0
    between = round((t2 - t1).total_seconds() / 60) * 60
    if between < 1:
        raise CronError("time difference between two schedules is less than 1 second")
    elapsed = int((now - t1).total_seconds())
    missed = elapsed // between + 1
    # Start two intervals before the estimate and walk forward: exact for irregular schedules.
    t: _dt.datetime | None = schedule.next(t1 + _dt.timedelta(seconds=(missed - 2) * between))
    recent: _dt.datetime | None = None
    while t is not None and t <= now:
        recent = t
        t = schedule.next(t)
    level = 2 if missed > _MANY_MISSED else 1
    return earliest, recent, level


def next_schedule_delay(cronjob: CronJob, now: _dt.datetime, schedule: Schedule) -> float:
    """Seconds until the sync after the next schedule time (nextScheduleTimeDuration)."""
    try:
        earliest, recent, missed = most_recent_schedule_time(
            cronjob, now, schedule, with_deadline=False
        )
    except CronError:
        recent = now
    else:
        if recent is None:
            recent = earliest if missed == 0 else now
    nxt = schedule.next(recent)
    if nxt is None:
        return 3600.0 * 24  # never again (robfig's zero time): look in a day
    return (nxt - now).total_seconds() + NEXT_SCHEDULE_DELTA


def _owner_keys(job: Job) -> Iterable[str]:
    ref = controller_ref(job)
    if ref is None or ref.kind != "CronJob" or ref.api_version != "batch/v1":
        return ()
    return (f"{job.metadata.namespace}/{ref.name}",)  # type: ignore[union-attr]


def _start_time_order(job: Job) -> tuple[int, float, str]:
    """Oldest started first, never started last, then by name (byJobStartTime)."""
    start = job.status.start_time if job.status is not None else None
    name = (job.metadata.name if job.metadata else None) or ""
    return (1, 0.0, name) if start is None else (0, start.timestamp(), name)


def _ref(job: Job) -> ObjectReference:
    meta = job.metadata
    assert meta is not None
    return ObjectReference(
        api_version="batch/v1",
        kind="Job",
        name=meta.name,
        namespace=meta.namespace,
        uid=meta.uid,
        resource_version=meta.resource_version,
    )


@attrs.define
class _Status:
    """The status a sync works on, and the CronJob it is written over."""

    base: CronJob
    active: list[ObjectReference]
    last_schedule_time: Time | None
    last_successful_time: Time | None

    @classmethod
    def of(cls, cronjob: CronJob) -> _Status:
        st = cronjob.status or CronJobStatus()
        return cls(cronjob, list(st.active or ()), st.last_schedule_time, st.last_successful_time)

    def drop(self, uid: str | None) -> None:
        self.active = [r for r in self.active if r.uid != uid]

    def has(self, uid: str | None) -> bool:
        return any(r.uid == uid for r in self.active)


class CronJobController:
    """The ``cronjob-controller``. ``now`` is its wall clock (default ``ctx.clock.wall``): a test
    sets it to just before a schedule time instead of waiting for one."""

    def __init__(
        self, ctx: ControllerContext, now: Callable[[], _dt.datetime] | None = None
    ) -> None:
        self.ctx = ctx
        self.now = now if now is not None else ctx.clock.wall
        self.cronjobs = ctx.watch(CronJob)
        self.jobs = ctx.watch(
            Job, keys=_owner_keys, indexers={CONTROLLER_UID_INDEX: controller_uid_index}
        )

    async def reconcile(self, key: str) -> Result | None:
        cronjob = self.cronjobs.store.get(key)
        if cronjob is None or cronjob.metadata is None:
            return done()
        jobs = self.jobs.store.by_index(CONTROLLER_UID_INDEX, cronjob.metadata.uid or "")
        status = _Status.of(cronjob)
        changed = await self._cleanup_finished(cronjob, status, jobs)
        error: BaseException | None = None
        delay: float | None = None
        try:
            delay, synced_change = await self._sync(cronjob, status, jobs)
            changed = changed or synced_change
        except Exception as exc:
            error = exc
            changed = True  # write what was done before the failure
        if changed:
            cronjob = status.base
            old = cronjob.status or CronJobStatus()
            new = attrs.evolve(
                old,
                active=tuple(status.active),
                last_schedule_time=status.last_schedule_time,
                last_successful_time=status.last_successful_time,
            )
            if new != old:
                await self.ctx.client.update(
                    attrs.evolve(cronjob, status=new), subresource="status"
                )
        if error is not None:
            raise error
        return requeue_after(delay) if delay is not None else done()

    # -- history --------------------------------------------------------------------------------

    async def _cleanup_finished(
        self, cronjob: CronJob, status: _Status, jobs: Sequence[Job]
    ) -> bool:
        spec = cronjob.spec
        assert spec is not None
        if spec.failed_jobs_history_limit is None and spec.successful_jobs_history_limit is None:
            return False
        succeeded = [j for j in jobs if _finished(j) == "Complete"]
        failed = [j for j in jobs if _finished(j) == "Failed"]
        changed = False
        for limit, group in (
            (spec.successful_jobs_history_limit, succeeded),
            (spec.failed_jobs_history_limit, failed),
        ):
            if limit is None or len(group) <= limit:
                continue
            for job in sorted(group, key=_start_time_order)[: len(group) - limit]:
                if await self._delete_job(cronjob, status, job):
                    changed = True
        return changed

    async def _delete_job(self, cronjob: CronJob, status: _Status, job: Job) -> bool:
        meta = job.metadata
        assert meta is not None
        try:
            await self.ctx.client.delete(
                Job, meta.name or "", namespace=meta.namespace, propagation_policy="Background"
            )
        except Exception as exc:
            self.ctx.event(cronjob, "Warning", "FailedDelete", f"Deleted job: {exc}")
            return False
        status.drop(meta.uid)
        self.ctx.event(cronjob, "Normal", "SuccessfulDelete", f"Deleted job {meta.name}")
        return True

    # -- scheduling -----------------------------------------------------------------------------

    def _schedule(self, cronjob: CronJob) -> Schedule:
        """formatSchedule + ParseStandard: ``timeZone`` becomes a ``TZ=`` prefix."""
        spec = cronjob.spec
        assert spec is not None
        text = spec.schedule or ""
        if "TZ" in text:
            self.ctx.event(
                cronjob,
                "Warning",
                "UnsupportedSchedule",
                f"CRON_TZ or TZ used in schedule {text!r} is not officially supported, see "
                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ "
                "for more details",
            )
        elif spec.time_zone is not None:
            text = f"TZ={spec.time_zone} {text}"
        return parse_schedule(text)

    async def _sync(
        self, cronjob: CronJob, status: _Status, jobs: Sequence[Job]
    ) -> tuple[float | None, bool]:
        """syncCronJob: (seconds until the next sync or None, whether the status changed)."""
        spec, meta = cronjob.spec, cronjob.metadata
        assert spec is not None and meta is not None
        changed = False
        children = set()
        for job in jobs:
            uid = job.metadata.uid if job.metadata else None
            children.add(uid)
            found = status.has(uid)
            finished = _finished(job)
            if not found and finished is None:
                fresh = await self.ctx.client.get(
                    CronJob, meta.name or "", namespace=meta.namespace
                )
                fresh_active = (fresh.status.active if fresh.status else None) or ()
                if any(r.uid == uid for r in fresh_active):
                    # Our cache is behind our own write: go on from the server's copy.
                    fresh_status = _Status.of(fresh)
                    status.base, status.active = fresh, fresh_status.active
                    status.last_schedule_time = fresh_status.last_schedule_time
                    if fresh_status.last_successful_time is not None:
                        status.last_successful_time = fresh_status.last_successful_time
                    continue
                # Made by us just before a crash, or by someone for us to adopt.
                self.ctx.event(
                    cronjob,
                    "Warning",
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {job.metadata.name}",  # type: ignore[union-attr]
                )
            elif found and finished is not None:
                status.drop(uid)
                self.ctx.event(
                    cronjob,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {job.metadata.name}, condition: {finished}",  # type: ignore[union-attr]
                )
                changed = True
            elif finished == "Complete":
                done_at = job.status.completion_time if job.status else None
                if done_at is not None and (
                    status.last_successful_time is None or done_at > status.last_successful_time
                ):
                    status.last_successful_time = done_at
                    changed = True
        for ref in list(status.active):
            if ref.uid in children:
                continue
            # Not in the cache: ask the server before calling it gone (a slow watch).
            try:
                await self.ctx.client.get(Job, ref.name or "", namespace=ref.namespace)
            except Exception as exc:
                if getattr(exc, "code", None) != 404:
                    raise
                self.ctx.event(
                    cronjob, "Normal", "MissingJob", f"Active job went missing: {ref.name}"
                )
                status.drop(ref.uid)
                changed = True

        if meta.deletion_timestamp is not None:
            return None, changed
        if spec.time_zone is not None:
            try:
                zoneinfo.ZoneInfo(spec.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                self.ctx.event(
                    cronjob,
                    "Warning",
                    "UnknownTimeZone",
                    f"invalid timeZone: {spec.time_zone!r}: {exc}",
                )
                return None, changed
        if spec.suspend:
            return None, changed
        try:
            schedule = self._schedule(cronjob)
        except CronError as exc:
            self.ctx.event(
                cronjob,
                "Warning",
                "UnparseableSchedule",
                f"unparseable schedule: {spec.schedule!r} : {exc}",
            )
            return None, changed
        now = self.now()
        probe = self._with_status(cronjob, status)
        try:
            _, scheduled, missed = most_recent_schedule_time(
                probe, now, schedule, with_deadline=True
            )
        except CronError as exc:
            self.ctx.event(
                cronjob, "Warning", "InvalidSchedule", f"invalid schedule: {spec.schedule} : {exc}"
            )
            return None, changed
        if scheduled is not None and missed == 2:
            self.ctx.event(
                cronjob,
                "Warning",
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew",
            )
        if scheduled is None:
            return next_schedule_delay(probe, now, schedule), changed
        deadline = spec.starting_deadline_seconds
        if deadline is not None and scheduled + _dt.timedelta(seconds=deadline) < now:
            self.ctx.event(
                cronjob,
                "Warning",
                "MissSchedule",
                "Missed scheduled time to start a job: "
                + scheduled.astimezone(_UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            )
            return next_schedule_delay(probe, now, schedule), changed
        name = job_name(cronjob, scheduled)
        if any(r.name == name for r in status.active) or status.last_schedule_time == scheduled:
            return next_schedule_delay(probe, now, schedule), changed
        policy = spec.concurrency_policy or "Allow"
        if policy == "Forbid" and status.active:
            # There may be an active Job not seen yet: Forbid holds only for runs far apart.
            self.ctx.event(
                cronjob,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy "
                "is Forbid",
            )
            return next_schedule_delay(probe, now, schedule), changed
        if policy == "Replace":
            for ref in list(status.active):
                try:
                    job = await self.ctx.client.get(Job, ref.name or "", namespace=ref.namespace)
                except Exception as exc:
                    self.ctx.event(cronjob, "Warning", "FailedGet", f"Get job: {exc}")
                    raise
                if not await self._delete_job(cronjob, status, job):
                    raise RuntimeError(f"could not replace job {ref.namespace}/{ref.name}")
                changed = True

        request = self._job_for(cronjob, scheduled)
        try:
            created = await self.ctx.client.create(request)
        except Exception as exc:
            if getattr(exc, "code", None) != 409:
                self.ctx.event(cronjob, "Warning", "FailedCreate", f"Error creating job: {exc}")
                raise
            # Made already (by us before a restart, or by someone else).
            created = await self.ctx.client.get(Job, name, namespace=meta.namespace)
            owner = controller_ref(created)
            if owner is None or owner.uid != meta.uid:
                return None, changed  # someone else's: they keep the status
            if status.has(created.metadata.uid if created.metadata else None):
                return None, changed
        else:
            self.ctx.event(cronjob, "Normal", "SuccessfulCreate", f"Created job {name}")
        status.active.append(_ref(created))
        status.last_schedule_time = Time(scheduled.astimezone(_UTC))
        changed = True
        return next_schedule_delay(self._with_status(cronjob, status), now, schedule), changed

    @staticmethod
    def _with_status(cronjob: CronJob, status: _Status) -> CronJob:
        old = cronjob.status or CronJobStatus()
        new = attrs.evolve(
            old,
            active=tuple(status.active),
            last_schedule_time=status.last_schedule_time,
        )
        return attrs.evolve(cronjob, status=new)

    def _job_for(self, cronjob: CronJob, scheduled: _dt.datetime) -> Job:
        """The Job of one schedule time (getJobFromTemplate2)."""
        spec, meta = cronjob.spec, cronjob.metadata
        assert spec is not None and meta is not None
        template = spec.job_template
        tmeta = template.metadata if template is not None else None
        zone: _dt.tzinfo = _UTC
        if spec.time_zone:
            zone = zoneinfo.ZoneInfo(spec.time_zone)
        annotations = dict((tmeta.annotations if tmeta else None) or {})
        annotations[SCHEDULED_TIMESTAMP] = _rfc3339(scheduled.astimezone(zone))
        return Job(
            metadata=ObjectMeta(
                name=job_name(cronjob, scheduled),
                namespace=meta.namespace,
                labels=dict((tmeta.labels if tmeta else None) or {}),
                annotations=annotations,
                owner_references=(new_controller_ref(cronjob),),
            ),
            spec=template.spec if template is not None else None,
        )


def _rfc3339(t: _dt.datetime) -> str:
    """Go's time.RFC3339: ``Z`` for UTC, else ``+hh:mm``."""
    text = t.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if t.utcoffset() == _dt.timedelta(0) else text
