"""The TTL-after-finished controller: a finished Job with ``ttlSecondsAfterFinished`` is
deleted (foreground) once its TTL has passed; one without a TTL stays."""

from __future__ import annotations

import asyncio
import datetime as dt

from kframe.api import from_dict
from kframe.api.models import Job, Pod
from kframe.testing.controllers import control_plane
from kframe_plugins.controllers.job import expire_time


def _job(name: str, **spec: object) -> Job:
    return from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                **spec,
                "template": {
                    "metadata": {"annotations": {"fake.kframe.io/exit-after": "50ms"}},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "busybox"}],
                    },
                },
            },
        },
        Job,
    )


def _finished(type_: str, **spec: object) -> Job:
    cond = {"type": type_, "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}
    body = {"metadata": {"name": "j"}, "spec": spec, "status": {"conditions": [cond]}}
    return from_dict(body, Job)


def test_expire_time_is_the_finish_plus_the_ttl() -> None:
    due = dt.datetime(2024, 1, 1, 0, 0, 30, tzinfo=dt.UTC)
    assert expire_time(_finished("Complete", ttlSecondsAfterFinished=30)) == due
    assert expire_time(_finished("Failed", ttlSecondsAfterFinished=30)) == due
    assert expire_time(_finished("Failed")) is None  # no TTL
    running = from_dict({"metadata": {"name": "j"}, "spec": {"ttlSecondsAfterFinished": 30}}, Job)
    assert expire_time(running) is None


def test_a_finished_job_is_deleted_after_its_ttl() -> None:
    async def main() -> None:
        async with control_plane(
            ["job-controller", "ttl-after-finished", "garbagecollector"], nodes=1, scheduler=True
        ) as cp:
            await cp.client.create(_job("short", ttlSecondsAfterFinished=0))
            await cp.client.create(_job("keep"))

            async def gone() -> bool:
                try:
                    await cp.client.get(Job, "short", namespace="default")
                except Exception as exc:
                    return getattr(exc, "code", None) == 404
                return False

            # foreground: the garbage collector deletes the pods, then the Job
            await cp.wait_for(gone, what="the expired job deleted")
            pods = await cp.client.list(Pod, namespace="default")
            names = {p.metadata.name for p in pods.items if p.metadata is not None}
            assert names and all(n.startswith("keep-") for n in names)
            kept = await cp.client.get(Job, "keep", namespace="default")
            assert kept.metadata is not None and kept.metadata.deletion_timestamp is None

    asyncio.run(main())
