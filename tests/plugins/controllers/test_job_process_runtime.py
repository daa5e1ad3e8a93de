"""Acceptance: a Job and a CronJob run to completion with the PROCESS runtime (real processes
on the host): once on the host network (no root needed), once with a network namespace per pod
(``network: auto`` as root with iproute2; skipped otherwise, as tests/e2e does)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import sys
import time
from typing import Any

import pytest

from kframe.api import from_dict
from kframe.api.models import CronJob, Job, Pod
from kframe.controller import registered_controllers
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import cronjob

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")

PY = sys.executable


def container(script: str) -> dict[str, Any]:
    return {"name": "main", "image": "python:3", "command": [PY, "-c", script]}


def complete(obj: Job) -> bool:
    conds = (obj.status.conditions if obj.status else ()) or ()
    return any(c.type == "Complete" and c.status == "True" for c in conds)


class Shifted:
    """Real time, shifted so that a minute boundary is half a second away."""

    def __init__(self) -> None:
        real = time.time()
        self.offset = (int(real) // 60 + 5) * 60 - 0.5 - real

    def __call__(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(time.time() + self.offset, dt.UTC)


async def _body(cp: ControlPlane) -> None:
    # An Indexed Job: each pod writes its index, read back from the env the controller set.
    script = (
        "import os, sys; ix = os.environ['JOB_COMPLETION_INDEX']; "
        "print('index', ix); sys.exit(0 if ix in ('0', '1', '2') else 3)"
    )
    job = from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "proc", "namespace": "default"},
            "spec": {
                "completions": 3,
                "parallelism": 2,
                "completionMode": "Indexed",
                "template": {"spec": {"restartPolicy": "Never", "containers": [container(script)]}},
            },
        },
        Job,
    )
    await cp.client.create(job)
    cron = from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "every-minute", "namespace": "default"},
            "spec": {
                "schedule": "* * * * *",
                "startingDeadlineSeconds": 30,
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "containers": [container("print('tick')")],
                            }
                        }
                    }
                },
            },
        },
        CronJob,
    )
    created = await cp.client.create(cron)

    async def job_done() -> bool:
        return complete(await cp.client.get(Job, "proc", namespace="default"))

    await cp.wait_for(job_done, timeout=60, what="the process Job to complete")
    done = await cp.client.get(Job, "proc", namespace="default")
    assert done.status is not None
    assert done.status.succeeded == 3 and done.status.completed_indexes == "0-2"
    assert (done.status.failed or 0) == 0

    async def cron_job_done() -> Job | None:
        jobs = await cp.client.list(Job, namespace="default")
        uid = created.metadata.uid  # type: ignore[union-attr]
        for j in jobs.items:
            refs = j.metadata.owner_references if j.metadata else None
            if any(r.uid == uid for r in refs or ()) and complete(j):
                return j
        return None

    ran = await cp.wait_for(cron_job_done, timeout=60, what="the CronJob's Job to complete")
    assert ran.status is not None and ran.status.succeeded == 1
    pods = await cp.client.list(Pod, namespace="default")
    phases = {p.status.phase for p in pods.items if p.status is not None}
    assert phases == {"Succeeded"}


@pytest.mark.parametrize("network", ["host", "auto"])
def test_job_and_cronjob_complete_with_the_process_runtime(network: str) -> None:
    if network == "auto" and (os.geteuid() != 0 or shutil.which("ip") is None):
        pytest.skip("pod network namespaces need root and iproute2")
    specs = dict(registered_controllers())
    specs[cronjob.NAME] = cronjob.spec(now=Shifted())

    async def main() -> None:
        async with control_plane(
            ["job-controller", "cronjob-controller"],
            nodes=1,
            scheduler=True,
            runtime="process",
            runtime_config={"network": network},
            specs=specs,
        ) as cp:
            await _body(cp)

    asyncio.run(main())
