"""``kframe up``: the main job. Restarting on the same data dir keeps everything."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

KFRAME = str(Path(sys.executable).with_name("kframe"))


def start(data_dir: Path, *flags: str) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [KFRAME, "up", "--data-dir", str(data_dir), "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line:
            return proc, data_dir / "kubeconfig"
        if not line and proc.poll() is not None:
            raise AssertionError(proc.communicate()[1])
    raise AssertionError("kframe up did not start")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_restart_on_the_same_data_dir_keeps_everything(tmp_path: Path) -> None:
    proc, kubeconfig = start(tmp_path)
    try:
        kubectl(
            kubeconfig,
            "apply",
            "-f",
            str(Path(__file__).parents[2] / "examples/demo/workload.yaml"),
        )
        before = json.loads(kubectl(kubeconfig, "get", "deploy", "web", "-n", "demo", "-o", "json"))
        config = json.loads(
            kubectl(kubeconfig, "get", "cm", "web-config", "-n", "demo", "-o", "json")
        )
    finally:
        stop(proc)
    assert (tmp_path / "state.db").exists()  # the embedded SQLite default
    proc, kubeconfig = start(tmp_path)
    try:
        after = json.loads(kubectl(kubeconfig, "get", "deploy", "web", "-n", "demo", "-o", "json"))
        # The controllers may have written the Deployment's status and revision meanwhile; what
        # the user wrote is kept exactly.
        assert after["spec"] == before["spec"]
        assert after["metadata"]["uid"] == before["metadata"]["uid"]
        assert after["metadata"]["generation"] == before["metadata"]["generation"]
        assert config == json.loads(
            kubectl(kubeconfig, "get", "cm", "web-config", "-n", "demo", "-o", "json")
        )
        kubectl(kubeconfig, "label", "deploy", "web", "-n", "demo", "restarted=yes")
        rv = json.loads(kubectl(kubeconfig, "get", "deploy", "web", "-n", "demo", "-o", "json"))[
            "metadata"
        ]["resourceVersion"]
        assert int(rv) > int(before["metadata"]["resourceVersion"])  # the revision continues
    finally:
        stop(proc)
