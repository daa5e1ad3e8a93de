"""The real kubectl through ``kframe up --runtime fake`` to the kubelet's server: ``kubectl
logs`` (with ``--tail``, ``--timestamps``, ``-f`` until the container exits), ``kubectl exec``
(output, stdin, exit codes), ``kubectl attach``, and probe events in ``kubectl get events``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kframe.testing import require
from tests.e2e.test_up import kubectl as _kubectl
from tests.e2e.test_up import start, stop

pytestmark = pytest.mark.e2e


def eventually(check: Callable[[], Any], timeout: float = 60) -> Any:
    """Poll until ``check`` is truthy: a deadline for a real cluster, not a speed assertion."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.2)


class Cluster:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def run(self, *args: str, stdin: str | None = None) -> str:
        return _kubectl(self.kubeconfig, *args, stdin=stdin)

    def call(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def apply(self, body: dict[str, Any]) -> None:
        self.run("apply", "-f", "-", stdin=json.dumps(body))

    def phase(self, name: str) -> str:
        return self.run("get", "pod", name, "-o", "jsonpath={.status.phase}")


def _pod(name: str, annotations: dict[str, str] | None = None, **container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"containers": [{"name": "app", "image": "nginx", **container}]},
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    data_dir = tmp_path_factory.mktemp("kframe-up-fake")
    proc, kubeconfig = start(data_dir, "--nodes", "1", "--runtime", "fake")
    try:
        c = Cluster(kubeconfig)
        eventually(lambda: " Ready " in c.run("get", "nodes"))
        c.apply(_pod("web"))
        eventually(lambda: c.phase("web") == "Running")
        yield c
    finally:
        stop(proc)


def test_kubectl_logs(cluster: Cluster) -> None:
    assert cluster.run("logs", "web") == "fake container app started\n"
    assert cluster.run("logs", "web", "--tail=1") == "fake container app started\n"
    stamped = cluster.run("logs", "web", "--timestamps")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z fake container app started\n", stamped
    )
    assert cluster.run("logs", "web", "--limit-bytes=4") == "fake"
    missing = cluster.call("logs", "web", "--previous")
    assert missing.returncode != 0
    assert 'previous terminated container "app" in pod "web" not found' in missing.stderr


def test_kubectl_exec(cluster: Cluster) -> None:
    assert cluster.run("exec", "web", "--", "echo", "hello", "world") == "hello world\n"
    assert cluster.run("exec", "-i", "web", "--", "cat", stdin="typed\nlines\n") == "typed\nlines\n"
    failed = cluster.call("exec", "web", "--", "false")
    assert failed.returncode == 1
    assert "command terminated with exit code 1" in failed.stderr


def test_kubectl_logs_follow_and_attach_end_with_the_container(cluster: Cluster) -> None:
    cluster.apply(_pod("short"))
    eventually(lambda: cluster.phase("short") == "Running")
    follow = cluster.popen("logs", "-f", "short")
    attach = cluster.popen("attach", "short")
    assert follow.stdout is not None
    assert follow.stdout.readline() == "fake container app started\n"
    time.sleep(1)  # let attach connect (it prints nothing to wait for)
    cluster.run("delete", "pod", "short", "--wait=false")
    out, _ = follow.communicate(timeout=60)
    assert follow.returncode == 0
    assert out == "fake container app exited with code 0\n"
    attach.communicate(timeout=60)
    assert attach.returncode == 0


def test_probe_events(cluster: Cluster) -> None:
    probe = {"exec": {"command": ["test", "-f", "/tmp/ok"]}, "periodSeconds": 1}
    annotations = {"fake.kframe.io/exec-exit-code": "1", "fake.kframe.io/exec-output": "no file"}
    cluster.apply(
        _pod(
            "sick",
            annotations,
            livenessProbe={**probe, "failureThreshold": 2},
            readinessProbe=probe,
        )
    )

    def messages() -> list[str]:
        body = json.loads(
            cluster.run(
                "get", "events", "--field-selector", "involvedObject.name=sick", "-o", "json"
            )
        )
        return [e.get("message", "") for e in body["items"]]

    seen = eventually(
        lambda: (
            (m := messages())
            and "Container app failed liveness probe, will be restarted" in m
            and m
        )
    )
    assert "Liveness probe failed: no file" in seen
    assert "Readiness probe failed: no file" in seen
    ready = cluster.run("get", "pod", "sick", "-o", "jsonpath={.status.containerStatuses[0].ready}")
    assert ready == "false"
