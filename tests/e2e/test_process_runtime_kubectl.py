"""``kframe up --nodes 1 --runtime process`` with the real kubectl: pods really run.

The issue's acceptance, end to end: a ``python3 -m http.server`` pod becomes Running and Ready
through its readinessProbe and answers on its pod IP from the host; ``kubectl logs`` shows its
requests and ``kubectl exec`` runs commands in it; a crashing container's restartCount grows
with back-off and its last exit code is reported; a ``restartPolicy: Never`` pod ends Succeeded
or Failed; deleting a pod stops its processes within the grace period.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
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

    def apply(self, body: dict[str, Any]) -> None:
        self.run("apply", "-f", "-", stdin=json.dumps(body))

    def pod(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.run("get", "pod", name, "-o", "json"))
        return result

    def container_status(self, name: str) -> dict[str, Any]:
        statuses = self.pod(name).get("status", {}).get("containerStatuses") or [{}]
        result: dict[str, Any] = statuses[0]
        return result


def _pod(name: str, container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "python:3", **container}], **spec},
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    require(os.geteuid() == 0, "the process runtime's pod network needs root")
    require(shutil.which("ip") is not None, "iproute2 (ip) not found")
    data_dir = tmp_path_factory.mktemp("kframe-up-process")
    proc, kubeconfig = start(data_dir, "--nodes", "1", "--runtime", "process")
    try:
        c = Cluster(kubeconfig)
        eventually(lambda: "Ready" in c.run("get", "nodes"))
        yield c
    finally:
        stop(proc)


def _ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_http_server_pod_is_ready_answers_on_its_ip_and_logs_and_execs(cluster: Cluster) -> None:
    cluster.apply(
        _pod(
            "web",
            {
                "command": ["python3", "-u", "-m", "http.server", "8000"],
                "ports": [{"containerPort": 8000}],
                "readinessProbe": {
                    "httpGet": {"path": "/", "port": 8000},
                    "periodSeconds": 1,
                },
            },
        )
    )
    pod = eventually(lambda: (p := cluster.pod("web")) and _ready(p) and p)
    assert pod["status"]["phase"] == "Running"
    ip = pod["status"]["podIP"]
    assert ip and ip != pod["status"]["hostIP"]  # a pod IP of its own, from the node's CIDR
    connection = http.client.HTTPConnection(ip, 8000, timeout=10)
    connection.request("GET", "/hello-from-host")
    assert connection.getresponse().status == 404  # http.server answered, from the pod's IP
    connection.close()
    assert eventually(lambda: "hello-from-host" in cluster.run("logs", "web"))
    out = cluster.run("exec", "web", "--", "sh", "-c", "echo exec-ok; echo $HOSTNAME")
    assert out.split() == ["exec-ok", "web"]


def test_a_crashing_container_backs_off_and_reports_its_exit_code(cluster: Cluster) -> None:
    cluster.apply(_pod("crash", {"command": ["sh", "-c", "echo dying; exit 3"]}))

    def restarted_twice() -> dict[str, Any] | None:
        status = cluster.container_status("crash")
        return status if status.get("restartCount", 0) >= 2 else None

    # The second restart waits out the 10 s back-off, so give it room.
    status = eventually(restarted_twice, timeout=90)
    last = status["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (3, "Error")
    waiting = eventually(lambda: cluster.container_status("crash").get("state", {}).get("waiting"))
    assert waiting["reason"] == "CrashLoopBackOff"
    assert "back-off" in waiting["message"]
    assert "dying" in cluster.run("logs", "crash", "--previous")


@pytest.mark.parametrize(("name", "code", "phase"), [("ok", 0, "Succeeded"), ("bad", 1, "Failed")])
def test_a_never_restarting_pod_ends(cluster: Cluster, name: str, code: int, phase: str) -> None:
    cluster.apply(_pod(name, {"command": ["sh", "-c", f"exit {code}"]}, restartPolicy="Never"))
    assert eventually(lambda: cluster.pod(name)["status"].get("phase") == phase)
    terminated = cluster.container_status(name)["state"]["terminated"]
    assert terminated["exitCode"] == code


def test_deleting_a_pod_stops_its_processes_within_the_grace_period(cluster: Cluster) -> None:
    marker = f"kframe-e2e-{os.getpid()}"
    # One container leaves on SIGTERM, the other ignores it and must be killed at the deadline.
    polite = {"command": ["python3", "-c", f"import time  # {marker}-polite\ntime.sleep(3600)"]}
    stubborn = {"command": ["sh", "-c", f"trap '' TERM; sleep 3600; : {marker}-stubborn"]}
    pod = _pod("sleeper", polite, terminationGracePeriodSeconds=3)
    pod["spec"]["containers"].append({"name": "stubborn", "image": "busybox", **stubborn})
    cluster.apply(pod)
    eventually(lambda: cluster.pod("sleeper")["status"].get("phase") == "Running")
    assert _processes_with(f"{marker}-polite") and _processes_with(f"{marker}-stubborn")
    cluster.run("delete", "pod", "sleeper", "--wait=true", "--timeout=30s")
    assert not _processes_with(f"{marker}-polite")
    assert not _processes_with(f"{marker}-stubborn")


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found
