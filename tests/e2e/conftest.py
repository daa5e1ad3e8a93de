"""A real ``kframe apiserver`` process and the real ``kubectl`` pointed at it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kframe.testing import require
from kframe.testing.cluster import running_apiserver

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


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with running_apiserver(tmp_path_factory.mktemp("kframe")) as kubeconfig:
        yield kubeconfig


@pytest.fixture(scope="module")
def kubectl(apiserver: Path) -> Kubectl:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    return Kubectl(apiserver)
