"""A real ``kframe apiserver`` process and the real ``kubectl`` pointed at it."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kframe.testing import require

KFRAME = str(Path(sys.executable).with_name("kframe"))


class Kubectl:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


@contextlib.contextmanager
def running_apiserver(data: Path, *flags: str) -> Iterator[Path]:
    """``kframe apiserver`` on a free port over a memory store; yields its kubeconfig."""
    proc = subprocess.Popen(
        [
            KFRAME,
            "apiserver",
            "--store",
            "memory://",
            "--port",
            "0",
            "--data-dir",
            str(data),
            *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline and "listening on" not in line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"kframe apiserver exited: {err}")
    try:
        yield data / "kubeconfig"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)  # also closes the pipes
    assert proc.returncode == 0, f"kframe apiserver did not shut down cleanly: {err}"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with running_apiserver(tmp_path_factory.mktemp("kframe")) as kubeconfig:
        yield kubeconfig


@pytest.fixture(scope="module")
def kubectl(apiserver: Path) -> Kubectl:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    return Kubectl(apiserver)
