"""The job controller against an in-process control plane: scheduler, fake-runtime kubelets
whose containers exit by themselves (``fake.kframe.io/exit-after`` and ``exit-code``)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Event, Job, Pod
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers.job import (
    COMPLETION_INDEX,
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    TRACKING_FINALIZER,
    format_indexes,
)


def aio(fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
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
        job = await cp.client.create(job_manifest("fails", exit_code=1, backoffLimit=1))
        failed = await wait_condition(cp, "fails", "Failed")
        assert condition(failed, "FailureTarget").reason == "BackoffLimitExceeded"
        assert condition(failed, "Failed").reason == "BackoffLimitExceeded"
        assert failed.status is not None
        assert failed.status.failed == 2 and failed.status.succeeded in (None, 0)
        assert failed.status.completion_time is None
        assert len(await job_pods(cp, job)) == 2


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
        # the pods go first, then the status write (one sync): wait for the condition
        suspended = await wait_condition(cp, "sus", "Suspended")
        assert condition(suspended, "Suspended").reason == "JobSuspended"

        async def reasons() -> bool:
            events = await cp.client.list(Event, namespace="default")
            got = {e.reason for e in events.items}
            return {"Suspended", "Resumed", "SuccessfulCreate", "SuccessfulDelete"} <= got

        await cp.wait_for(reasons, what="the events (recorded in the background)")


@aio
async def test_work_queue_job_completes_when_all_pods_finished() -> None:
    async with control_plane(["job-controller"], nodes=2, scheduler=True, options=FAST) as cp:
        # completions unset: any success ends the job once the running pods are done
        await cp.client.create(job_manifest("queue", parallelism=3))
        done = await wait_condition(cp, "queue", "Complete")
        assert done.status is not None
        assert done.status.succeeded == 3 and done.status.active == 0


@aio
async def test_a_deleted_running_pod_counts_as_failed_and_is_replaced() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(job_manifest("del", exit_after="1h", backoffLimit=5))

        async def running() -> Pod | None:
            pods = [p for p in await job_pods(cp, job) if p.status and p.status.phase == "Running"]
            return pods[0] if pods else None

        victim = await cp.wait_for(running, what="a running pod")
        await cp.client.delete(Pod, victim.metadata.name, namespace="default")  # type: ignore[union-attr]

        async def replaced() -> Job | None:
            cur = await cp.client.get(Job, "del", namespace="default")
            pods = await job_pods(cp, job)
            others = [p for p in pods if p.metadata.uid != victim.metadata.uid]  # type: ignore[union-attr]
            ok = cur.status and cur.status.failed == 1 and len(others) == 1
            return cur if ok else None

        cur = await cp.wait_for(replaced, what="the failure counted and a replacement made")
        assert cur.status is not None and cur.status.active == 1

        # the deleted pod's finalizer was removed once counted, so it is gone for good
        async def victim_gone() -> bool:
            return all(p.metadata.uid != victim.metadata.uid for p in await job_pods(cp, job))  # type: ignore[union-attr]

        await cp.wait_for(victim_gone, what="the deleted pod to go")


@aio
async def test_deleting_a_job_releases_its_pods_finalizers() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(job_manifest("gone", exit_after="1h"))

        async def has_pod() -> list[Pod]:
            return await job_pods(cp, job)

        await cp.wait_for(has_pod, what="a pod")
        await cp.client.delete(Job, "gone", namespace="default")

        async def released() -> bool:
            pods = await job_pods(cp, job)
            return all(TRACKING_FINALIZER not in (p.metadata.finalizers or ()) for p in pods)  # type: ignore[union-attr]

        await cp.wait_for(released, what="the tracking finalizers removed")


@aio
async def test_restarts_count_against_the_backoff_limit_with_on_failure() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        await cp.client.create(
            job_manifest("crash", exit_code=1, restart_policy="OnFailure", backoffLimit=1)
        )
        failed = await wait_condition(cp, "crash", "Failed", timeout=60)
        assert condition(failed, "Failed").reason == "BackoffLimitExceeded"

        async def warned() -> bool:
            events = await cp.client.list(Event, namespace="default")
            return any(
                e.reason == "BackoffLimitExceeded" and e.type == "Warning" for e in events.items
            )

        await cp.wait_for(
            warned, what="the BackoffLimitExceeded event (recorded in the background)"
        )


async def _run_and_watch(completions: int, parallelism: int, mode: str) -> tuple[Job, int, int]:
    """Run a Job to completion; (the finished Job, pods made, most pods active at once)."""
    async with control_plane(["job-controller"], nodes=2, scheduler=True, options=FAST) as cp:
        active: set[str] = set()
        seen: set[str] = set()
        most = 0

        async def watch() -> None:
            nonlocal most
            async for event in cp.client.watch(Pod, namespace="default"):
                pod = event.object
                if pod is None or pod.metadata is None:
                    continue
                uid = pod.metadata.uid or ""
                seen.add(uid)
                phase = pod.status.phase if pod.status else None
                if event.type == "DELETED" or phase in ("Succeeded", "Failed"):
                    active.discard(uid)
                else:
                    active.add(uid)
                most = max(most, len(active))

        watcher = asyncio.ensure_future(watch())
        try:
            await cp.client.create(
                job_manifest(
                    "prop", completions=completions, parallelism=parallelism, completionMode=mode
                )
            )
            done = await wait_condition(cp, "prop", "Complete", timeout=60)
        finally:
            watcher.cancel()
        return done, len(seen), most


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    completions=st.integers(1, 4),
    parallelism=st.integers(1, 3),
    mode=st.sampled_from(["NonIndexed", "Indexed"]),
)
def test_property_a_job_makes_exactly_its_completions_within_parallelism(
    completions: int, parallelism: int, mode: str
) -> None:
    done, made, most = asyncio.run(_run_and_watch(completions, parallelism, mode))
    assert done.status is not None
    assert done.status.succeeded == completions
    assert made == completions  # no pod made twice, none lost
    assert most <= parallelism
    if mode == "Indexed":
        assert done.status.completed_indexes == format_indexes(range(completions))


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    completions=st.integers(1, 8),
    parallelism=st.integers(1, 5),
    mode=st.sampled_from(["NonIndexed", "Indexed"]),
)
def test_property_soak_a_job_makes_exactly_its_completions_within_parallelism(
    completions: int, parallelism: int, mode: str
) -> None:
    test_property_a_job_makes_exactly_its_completions_within_parallelism.hypothesis.inner_test(  # type: ignore[attr-defined]
        completions, parallelism, mode
    )


def _policy(action: str, codes: list[int]) -> dict[str, Any]:
    return {"rules": [{"action": action, "onExitCodes": {"operator": "In", "values": codes}}]}


@aio
async def test_pod_failure_policy_fail_job_fails_at_once() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        await cp.client.create(
            job_manifest(
                "fatal", exit_code=42, backoffLimit=6, podFailurePolicy=_policy("FailJob", [42])
            )
        )
        failed = await wait_condition(cp, "fatal", "Failed")
        cond = condition(failed, "Failed")
        assert cond.reason == "PodFailurePolicy"
        assert cond.message.startswith("Container c for pod default/fatal-")
        assert cond.message.endswith("failed with exit code 42 matching FailJob rule at index 0")
        assert condition(failed, "FailureTarget").reason == "PodFailurePolicy"
        assert failed.status is not None and failed.status.failed == 1


@aio
async def test_pod_failure_policy_ignore_does_not_count() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(
            job_manifest(
                "flaky", exit_code=3, backoffLimit=0, podFailurePolicy=_policy("Ignore", [3])
            )
        )

        async def retried() -> bool:
            pods = await job_pods(cp, job)
            return len([p for p in pods if p.status and p.status.phase == "Failed"]) >= 2

        # with backoffLimit 0 a counted failure would fail the Job at the first pod
        await cp.wait_for(retried, what="ignored failures replaced")
        cur = await cp.client.get(Job, "flaky", namespace="default")
        assert condition(cur, "Failed") is None and condition(cur, "FailureTarget") is None
        assert cur.status is not None and (cur.status.failed or 0) == 0


@aio
async def test_success_policy_completes_an_indexed_job_early() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(
            job_manifest(
                "early",
                completions=3,
                parallelism=1,
                completionMode="Indexed",
                successPolicy={"rules": [{"succeededCount": 1}]},
            )
        )
        done = await wait_condition(cp, "early", "Complete")
        assert condition(done, "SuccessCriteriaMet").reason == "SuccessPolicy"
        assert condition(done, "Complete").message == "Matched rules at index 0"
        assert done.status is not None
        assert done.status.succeeded == 1 and done.status.completed_indexes == "0"
        assert len(await job_pods(cp, job)) == 1


@aio
async def test_backoff_limit_per_index_fails_each_index_after_its_retries() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        job = await cp.client.create(
            job_manifest(
                "perindex",
                exit_code=1,
                completions=2,
                parallelism=2,
                completionMode="Indexed",
                backoffLimitPerIndex=1,
            )
        )
        failed = await wait_condition(cp, "perindex", "Failed")
        assert condition(failed, "Failed").reason == "FailedIndexes"
        assert condition(failed, "Failed").message == "Job has failed indexes"
        assert failed.status is not None
        assert failed.status.failed_indexes == "0,1" and failed.status.failed == 4
        pods = await job_pods(cp, job)
        counts = sorted(
            (
                (p.metadata.annotations or {})[COMPLETION_INDEX],  # type: ignore[union-attr]
                (p.metadata.annotations or {})["batch.kubernetes.io/job-index-failure-count"],  # type: ignore[union-attr]
            )
            for p in pods
        )
        # each index ran twice: its first pod, then one retry carrying the failure count
        assert counts == [("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")]
        assert all(TRACKING_FINALIZER not in (p.metadata.finalizers or ()) for p in pods)  # type: ignore[union-attr]


@aio
async def test_max_failed_indexes_fails_the_job_early() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        await cp.client.create(
            job_manifest(
                "maxfail",
                exit_code=1,
                completions=4,
                parallelism=1,
                completionMode="Indexed",
                backoffLimitPerIndex=0,
                maxFailedIndexes=0,
            )
        )
        failed = await wait_condition(cp, "maxfail", "Failed")
        assert condition(failed, "Failed").reason == "MaxFailedIndexesExceeded"
        assert failed.status is not None and failed.status.failed_indexes == "0"


@aio
async def test_a_matching_orphan_pod_is_adopted_and_counted() -> None:
    async with control_plane(["job-controller"], nodes=1, scheduler=True, options=FAST) as cp:
        orphan = from_dict(
            {
                "metadata": {
                    "name": "stray",
                    "namespace": "default",
                    "labels": {"app": "adopt"},
                    "annotations": {"fake.kframe.io/exit-after": "1s"},
                },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}],
                },
            },
            Pod,
        )
        await cp.client.create(orphan)

        async def stray_running() -> bool:
            pod = await cp.client.get(Pod, "stray", namespace="default")
            return pod.status is not None and pod.status.phase == "Running"

        # Running: by now the controller's pod cache surely holds it too
        await cp.wait_for(stray_running, what="the orphan running")
        manifest = job_manifest(
            "adopt",
            exit_after="1h",
            manualSelector=True,
            selector={"matchLabels": {"app": "adopt"}},
        )
        tmpl = manifest.spec.template  # type: ignore[union-attr]
        manifest = attrs.evolve(
            manifest,
            spec=attrs.evolve(
                manifest.spec,  # type: ignore[arg-type]
                template=attrs.evolve(
                    tmpl,  # type: ignore[arg-type]
                    metadata=attrs.evolve(tmpl.metadata, labels={"app": "adopt"}),  # type: ignore[union-attr,arg-type]
                ),
            ),
        )
        job = await cp.client.create(manifest)
        done = await wait_condition(cp, "adopt", "Complete")
        assert done.status is not None and done.status.succeeded == 1
        pods = await job_pods(cp, job)
        assert [p.metadata.name for p in pods] == ["stray"]  # type: ignore[union-attr]
        assert TRACKING_FINALIZER not in (pods[0].metadata.finalizers or ())  # type: ignore[union-attr]
