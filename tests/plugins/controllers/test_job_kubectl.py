"""``kframe up --runtime process`` driven by the real kubectl: a Job, a CronJob's Job made
with ``kubectl create job --from=cronjob/...``, ``kubectl wait`` for completion, logs, and
suspending a CronJob."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kframe.testing import require
from tests.e2e.test_up import kubectl, start, stop

pytestmark = pytest.mark.e2e


def test_jobs_with_kubectl(tmp_path: Path) -> None:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    proc, kubeconfig = start(tmp_path, "--nodes", "1", "--runtime", "process")
    try:
        k = lambda *args: kubectl(kubeconfig, *args)  # noqa: E731
        k("create", "job", "once", "--image=busybox", "--", "echo", "hi")
        k("wait", "--for=condition=complete", "job/once", "--timeout=60s")
        # job/NAME lists pods by the spec.selector the API server generated
        assert k("logs", "job/once").strip() == "hi"
        assert k("logs", "-l", "batch.kubernetes.io/job-name=once").strip() == "hi"
        job = json.loads(k("get", "job", "once", "-o", "json"))
        assert job["status"]["succeeded"] == 1
        types = {c["type"] for c in job["status"]["conditions"]}
        assert {"SuccessCriteriaMet", "Complete"} <= types

        k(
            "create",
            "cronjob",
            "tick",
            "--image=busybox",
            "--schedule=0 0 1 1 *",
            "--",
            "echo",
            "tick",
        )
        k("create", "job", "manual", "--from=cronjob/tick")
        k("wait", "--for=condition=complete", "job/manual", "--timeout=60s")
        assert k("logs", "job/manual").strip() == "tick"
        k("patch", "cronjob", "tick", "-p", '{"spec":{"suspend":true}}')
        assert "True" in k("get", "cronjob", "tick", "-o", "jsonpath={.spec.suspend}").title()
    finally:
        stop(proc)
