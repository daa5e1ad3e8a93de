"""Running a real ``kframe apiserver`` process for end-to-end tests (kubectl, client libraries)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["running_apiserver"]


@contextlib.contextmanager
def running_apiserver(data_dir: Path, *flags: str, store: str = "memory://") -> Iterator[Path]:
    """``kframe apiserver`` on a free loopback port; yields the kubeconfig it wrote.

    On exit the server gets SIGTERM and must shut down cleanly (exit code 0).
    """
    kframe = str(Path(sys.executable).with_name("kframe"))
    proc = subprocess.Popen(
        [kframe, "apiserver", "--store", store, "--port", "0", "--data-dir", str(data_dir), *flags],
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
            raise RuntimeError(f"kframe apiserver exited: {err}")
    try:
        yield data_dir / "kubeconfig"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)  # also closes the pipes
    if proc.returncode != 0:
        raise RuntimeError(f"kframe apiserver did not shut down cleanly: {err}")
