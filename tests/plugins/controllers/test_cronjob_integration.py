"""The CronJob controller with the job controller, the scheduler and fake-runtime kubelets.

The CronJob controller reads a wall clock set a moment before a schedule time (``spec(now=)``),
so a ``* * * * *`` schedule fires within a second instead of a minute; the clock runs at real
speed from there, so requeueing at the next schedule time is what makes each run happen.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any

from kframe.api import from_dict
from kframe.api.models import CronJob, Event, Job
from kframe.controller import registered_controllers
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import cronjob

UTC = dt.UTC


def aio(fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    @functools.wraps(fn)
    def run() -> None:
        asyncio.run(fn())

    return run


class ShiftedClock:
    """Real time, shifted so that ``lead`` seconds from now is a whole minute."""

    def __init__(self, lead: float = 0.5) -> None:
        real = time.time()
        target = (int(real) // 60 + 10) * 60  # some minute boundary in the future
        self.offset = target - lead - real

    def __call__(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(time.time() + self.offset, UTC)

    def jump(self, seconds: float) -> None:
        self.offset += seconds


def cron_manifest(
    name: str,
    schedule: str = "* * * * *",
    *,
    exit_after: str = "100ms",
    exit_code: int = 0,
    **spec: Any,
) -> CronJob:
    return from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "schedule": schedule,
                **spec,
                "jobTemplate": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "backoffLimit": 0,
                        "template": {
                            "metadata": {
                                "annotations": {
                                    "fake.kframe.io/exit-after": exit_after,
                                    "fake.kframe.io/exit-code": str(exit_code),
                                }
                            },
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "c", "image": "busybox"}],
                            },
                        },
                    },
                },
            },
        },
        CronJob,
    )


def plane(clock: ShiftedClock) -> Any:
    specs = dict(registered_controllers())
    specs[cronjob.NAME] = cronjob.spec(now=clock)
    return control_plane(
        ["cronjob-controller", "job-controller"],
        nodes=1,
        scheduler=True,
        specs=specs,
        options={"job-pod-failure-backoff": "50ms"},
    )


async def owned_jobs(cp: ControlPlane, cj: CronJob) -> list[Job]:
    jobs = await cp.client.list(Job, namespace="default")
    uid = cj.metadata.uid  # type: ignore[union-attr]
    return [j for j in jobs.items if any(r.uid == uid for r in j.metadata.owner_references or ())]  # type: ignore[union-attr]


def finished(job: Job, type_: str = "Complete") -> bool:
    return any(
        c.type == type_ and c.status == "True"
        for c in (job.status.conditions if job.status else ()) or ()
    )


async def make(cp: ControlPlane, clock: ShiftedClock, manifest: CronJob) -> CronJob:
    # Created "before" the minute boundary, as the shifted clock has it: the controller counts
    # schedule times from the creation timestamp, which the API server writes in real time.
    created: CronJob = await cp.client.create(manifest)
    return created


@aio
async def test_a_cronjob_runs_a_job_each_minute_and_records_it() -> None:
    clock = ShiftedClock(lead=0.3)
    async with plane(clock) as cp:
        # The API server stamps creation in real time, far before the shifted clock's minute.
        cj = await make(cp, clock, cron_manifest("tick", startingDeadlineSeconds=30))

        async def one_done() -> list[Job] | None:
            jobs = await owned_jobs(cp, cj)
            return jobs if jobs and all(finished(j) for j in jobs) else None

        jobs = await cp.wait_for(one_done, what="the first scheduled job to complete")
        assert len(jobs) == 1
        job = jobs[0]
        scheduled = (job.metadata.annotations or {})[cronjob.SCHEDULED_TIMESTAMP]  # type: ignore[union-attr]
        when = dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00"))
        assert when.second == 0 and scheduled.endswith("Z")
        assert job.metadata.name == f"tick-{int(when.timestamp()) // 60}"  # type: ignore[union-attr]
        assert (job.metadata.labels or {})["app"] == "tick"  # type: ignore[union-attr]

        async def recorded() -> CronJob | None:
            cur = await cp.client.get(CronJob, "tick", namespace="default")
            st = cur.status
            ok = st and st.last_successful_time and not st.active and st.last_schedule_time
            return cur if ok else None

        cur = await cp.wait_for(recorded, what="lastSuccessfulTime and an empty active list")
        assert cur.status.last_schedule_time == when  # type: ignore[union-attr]
        # The next minute comes in 60 s of real time: jump there instead.
        await jump(cp, clock, 59.0, "tick")
        await cp.wait_for(lambda: _count(cp, cj, 2), timeout=30, what="a second job")
        events = await cp.client.list(Event, namespace="default")
        reasons = {
            e.reason
            for e in events.items
            if e.involved_object and e.involved_object.kind == "CronJob"
        }
        assert {"SuccessfulCreate", "SawCompletedJob"} <= reasons


async def jump(cp: ControlPlane, clock: ShiftedClock, seconds: float, *names: str) -> None:
    """Move the clock on and make the CronJobs sync (their requeue timers run in real time)."""
    clock.jump(seconds)
    for name in names:
        patch = {"metadata": {"annotations": {"test/poke": str(clock().timestamp())}}}
        await cp.client.patch(CronJob, name, patch, namespace="default")


async def _count(cp: ControlPlane, cj: CronJob, n: int) -> bool:
    return len(await owned_jobs(cp, cj)) >= n


@aio
async def test_forbid_skips_while_a_job_runs_and_replace_replaces_it() -> None:
    clock = ShiftedClock(lead=0.3)
    async with plane(clock) as cp:
        forbid = await make(
            cp,
            clock,
            cron_manifest(
                "forbid", exit_after="1h", concurrencyPolicy="Forbid", startingDeadlineSeconds=30
            ),
        )
        replace = await make(
            cp,
            clock,
            cron_manifest(
                "replace", exit_after="1h", concurrencyPolicy="Replace", startingDeadlineSeconds=30
            ),
        )
        await cp.wait_for(lambda: _count(cp, forbid, 1), what="forbid's first job")
        await cp.wait_for(lambda: _count(cp, replace, 1), what="replace's first job")
        first_replace = (await owned_jobs(cp, replace))[0]
        await jump(cp, clock, 60.0, "forbid", "replace")

        async def replaced() -> bool:
            jobs = [
                j for j in await owned_jobs(cp, replace) if j.metadata.deletion_timestamp is None
            ]  # type: ignore[union-attr]
            return len(jobs) == 1 and jobs[0].metadata.uid != first_replace.metadata.uid  # type: ignore[union-attr]

        await cp.wait_for(replaced, what="the running job replaced")

        async def forbidden() -> bool:
            events = await cp.client.list(Event, namespace="default")
            return any(e.reason == "JobAlreadyActive" for e in events.items)

        await cp.wait_for(forbidden, what="JobAlreadyActive")
        assert len(await owned_jobs(cp, forbid)) == 1


@aio
async def test_history_limits_keep_the_newest_finished_jobs() -> None:
    clock = ShiftedClock(lead=0.3)
    async with plane(clock) as cp:
        cj = await make(
            cp,
            clock,
            cron_manifest("hist", successfulJobsHistoryLimit=1, startingDeadlineSeconds=30),
        )
        names: list[str] = []
        for _ in range(2):

            async def next_done() -> str | None:
                jobs = [
                    j
                    for j in await owned_jobs(cp, cj)
                    if finished(j) and j.metadata.name not in names
                ]  # type: ignore[union-attr]
                return jobs[0].metadata.name if jobs else None  # type: ignore[union-attr]

            names.append(await cp.wait_for(next_done, what="a completed job"))
            await jump(cp, clock, 60.0, "hist")

        async def only_last() -> bool:
            jobs = [j for j in await owned_jobs(cp, cj) if finished(j)]
            return (
                [j.metadata.name for j in jobs] == [names[-1]]
                or (  # type: ignore[union-attr]
                    len(jobs) == 1 and jobs[0].metadata.name not in names[:-1]  # type: ignore[union-attr]
                )
            )

        await cp.wait_for(only_last, what="older successful jobs deleted")


@aio
async def test_suspended_creates_nothing_and_resumed_runs_the_latest_missed_time() -> None:
    clock = ShiftedClock(lead=0.3)
    async with plane(clock) as cp:
        sus = await make(cp, clock, cron_manifest("sus", suspend=True))
        ok = await make(cp, clock, cron_manifest("ok", startingDeadlineSeconds=30))
        await cp.wait_for(lambda: _count(cp, ok, 1), what="the unsuspended cronjob's job")
        assert await owned_jobs(cp, sus) == []
        # Resumed with no starting deadline, the ten minutes missed since it was created (the
        # shifted clock is ten minutes ahead) start one Job, for the latest of them.
        await cp.client.patch(CronJob, "sus", {"spec": {"suspend": False}}, namespace="default")
        jobs = await cp.wait_for(lambda: owned_jobs(cp, sus), what="a job after resume")
        assert len(jobs) == 1
        scheduled = (jobs[0].metadata.annotations or {})[cronjob.SCHEDULED_TIMESTAMP]  # type: ignore[union-attr]
        when = dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00"))
        assert clock() - when < dt.timedelta(seconds=61)
