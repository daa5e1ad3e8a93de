"""``kframe up`` serves the hosted scheduler's ``/metrics`` and ``/healthz`` on its own port,
as kube-scheduler does on 10259; ``--scheduler-port 0`` turns that off."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_up import kubectl, start, stop
from tests.scheduler.promtext import parse, value

pytestmark = pytest.mark.e2e

POD = """
apiVersion: v1
kind: Pod
metadata: {name: lonely, namespace: default}
spec: {containers: [{name: c, image: nginx}]}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def _metrics_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("scheduler metrics: "):
            return line.split(": ", 1)[1].strip()
        assert line or proc.poll() is None, "kframe up exited"
    raise AssertionError("kframe up did not say where the scheduler's metrics are")


def test_kframe_up_serves_the_schedulers_metrics(tmp_path: Path) -> None:
    port = _free_port()
    proc, kubeconfig = start(tmp_path, "--store", "memory://", "--scheduler-port", str(port))
    try:
        url = _metrics_url(proc)
        assert url == f"http://127.0.0.1:{port}/metrics"
        assert _get(f"http://127.0.0.1:{port}/healthz")[::2] == (200, "ok")
        kubectl(kubeconfig, "apply", "-f", "-", stdin=POD)
        name = "scheduler_schedule_attempts_total"
        deadline = time.monotonic() + 30
        while True:
            status, content_type, text = _get(url)
            assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
            _, samples = parse(text)
            # No nodes: every attempt is unschedulable ("no nodes available to schedule pods").
            if value(samples, name, profile="default-scheduler", result="unschedulable"):
                break
            assert time.monotonic() < deadline, "no unschedulable attempt counted"
            time.sleep(0.2)
        assert value(samples, "scheduler_pending_pods", queue="active") >= 0
    finally:
        stop(proc)


def test_scheduler_port_zero_serves_nothing(tmp_path: Path) -> None:
    proc, kubeconfig = start(tmp_path, "--store", "memory://", "--scheduler-port", "0")
    kubectl(kubeconfig, "get", "namespaces")  # up and serving
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "scheduler metrics" not in out + err
