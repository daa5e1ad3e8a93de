"""The job controller against an in-process control plane: scheduler, fake-runtime kubelets
whose containers exit by themselves (``fake.kframe.io/exit-after`` and ``exit-code``)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from kframe.api import from_dict
from kframe.api.models import Event, Job, Pod
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers.job import (
    COMPLETION_INDEX,
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    TRACKING_FINALIZER,
)


def aio(fn: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """A test body run on a fresh event loop."""

    @functools.wraps(fn)
    def run() -> None:
        asyncio.run(fn())

    return run


FAST = {"job-pod-failure-backoff": "50ms", "job-pod-failure-max-backoff": "200ms"}


def job_manifest(
    name: str,
    *,
    exit_after: str = "100ms",
    exit_code: int = 0,
    restart_policy: str = "Never",
    **spec: Any,
) -> Job:
    return from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                **spec,
                "template": {
                    "metadata": {
                        "annotations": {
                            "fake.kframe.io/exit-after": exit_after,
                            "fake.kframe.io/exit-code": str(exit_code),
                        }
                    },
                    "spec": {
                        "restartPolicy": restart_policy,
                        "containers": [{"name": "c", "image": "busybox"}],
                    },
                },
            },
        },
        Job,
    )


async def job_pods(cp: ControlPlane, job: Job) -> list[Pod]:
    pods = await cp.client.list(Pod, namespace="default")
    uid = job.metadata.uid  # type: ignore[union-attr]
    return [
        p
        for p in pods.items
        if any(r.uid == uid for r in p.metadata.owner_references or ())  # type: ignore[union-attr]
    ]


def condition(job: Job, type_: str) -> Any:
    for cond in (job.status.conditions if job.status else ()) or ():
        if cond.type == type_ and cond.status == "True":
            return cond
    return None


async def wait_condition(cp: ControlPlane, name: str, type_: str, timeout: float = 30) -> Job:
    async def check() -> Job | None:
        job = await cp.client.get(Job, name, namespace="default")
        return job if condition(job, type_) else None

    result: Job = await cp.wait_for(check, timeout=timeout, what=f"{name} {type_}")
    return result


@aio
async def test_nonindexed_job_completes_with_parallelism() -> None:
    async with control_plane(["job-controller"], nodes=2, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(job_manifest("work", completions=4, parallelism=2))
        done = await wait_condition(cp, "work", "Complete")
        status = done.status
        assert status is not None
        assert status.succeeded == 4 and (status.failed or 0) == 0 and status.active == 0
        assert status.start_time is not None and status.completion_time is not None
        assert condition(done, "SuccessCriteriaMet").reason == "CompletionsReached"
        assert condition(done, "Complete").reason == "CompletionsReached"
        unc = status.uncounted_terminated_pods
        assert unc is None or (not unc.succeeded and not unc.failed)
        pods = await job_pods(cp, job)
        assert len(pods) == 4
        for pod in pods:
            labels = pod.metadata.labels or {}  # type: ignore[union-attr]
            assert labels[CONTROLLER_UID_LABEL] == job.metadata.uid  # type: ignore[union-attr]
            assert labels[JOB_NAME_LABEL] == "work"
            assert labels["job-name"] == "work"
            # every pod was counted, so its finalizer is gone
            assert TRACKING_FINALIZER not in (pod.metadata.finalizers or ())  # type: ignore[union-attr]


@aio
async def test_indexed_job_gives_each_index_once() -> None:
    async with control_plane(["job"], nodes=2, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(
            job_manifest("idx", completions=3, parallelism=3, completionMode="Indexed")
        )
        done = await wait_condition(cp, "idx", "Complete")
        assert done.status is not None
        assert done.status.completed_indexes == "0-2"
        assert done.status.succeeded == 3
        pods = await job_pods(cp, job)
        indexes = sorted(int((p.metadata.annotations or {})[COMPLETION_INDEX]) for p in pods)  # type: ignore[union-attr]
        assert indexes == [0, 1, 2]
        for pod in pods:
            ix = (pod.metadata.annotations or {})[COMPLETION_INDEX]  # type: ignore[union-attr]
            assert (pod.metadata.labels or {})[COMPLETION_INDEX] == ix  # type: ignore[union-attr]
            assert pod.spec.hostname == f"idx-{ix}"  # type: ignore[union-attr]
            assert pod.metadata.name.startswith(f"idx-{ix}-")  # type: ignore[union-attr]
            env = {e.name for e in pod.spec.containers[0].env or ()}  # type: ignore[union-attr]
            assert "JOB_COMPLETION_INDEX" in env


@aio
async def test_backoff_limit_exceeded() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(job_manifest("fails", exit_code=1, backoffLimit=2))
        failed = await wait_condition(cp, "fails", "Failed")
        assert condition(failed, "FailureTarget").reason == "BackoffLimitExceeded"
        assert condition(failed, "Failed").reason == "BackoffLimitExceeded"
        assert failed.status is not None
        assert failed.status.failed == 3 and failed.status.succeeded in (None, 0)
        assert failed.status.completion_time is None
        assert len(await job_pods(cp, job)) == 3


@aio
async def test_active_deadline_exceeded_stops_pods() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        await cp.client.create(job_manifest("slow", exit_after="1h", activeDeadlineSeconds=1))
        failed = await wait_condition(cp, "slow", "Failed")
        assert condition(failed, "Failed").reason == "DeadlineExceeded"
        assert failed.status is not None
        assert failed.status.active == 0 and failed.status.failed == 1


@aio
async def test_suspend_deletes_pods_and_resume_restarts() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(job_manifest("sus", exit_after="1h", suspend=True))
        await wait_condition(cp, "sus", "Suspended")
        assert await job_pods(cp, job) == []
        current = await cp.client.get(Job, "sus", namespace="default")
        assert current.status is not None and current.status.start_time is None
        await cp.client.patch(Job, "sus", {"spec": {"suspend": False}}, namespace="default")

        async def running() -> bool:
            return (
                len(
                    [p for p in await job_pods(cp, job) if p.status and p.status.phase == "Running"]
                )
                == 1
            )

        await cp.wait_for(running, what="a pod after resume")
        resumed = await cp.client.get(Job, "sus", namespace="default")
        assert resumed.status is not None and resumed.status.start_time is not None
        await cp.client.patch(Job, "sus", {"spec": {"suspend": True}}, namespace="default")

        async def gone() -> bool:
            pods = await job_pods(cp, job)
            return all(p.metadata.deletion_timestamp for p in pods)  # type: ignore[union-attr]

        await cp.wait_for(gone, what="pods deleted on suspend")
        suspended = await cp.client.get(Job, "sus", namespace="default")
        assert condition(suspended, "Suspended").reason == "JobSuspended"
        events = await cp.client.list(Event, namespace="default")
        reasons = {e.reason for e in events.items}
        assert {"Suspended", "Resumed", "SuccessfulCreate", "SuccessfulDelete"} <= reasons
