"""examples/cloud: the walkthrough runs to its end, and the manifest and config are valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kframe.api import load_yaml
from kframe.api.models import Service
from kframe_plugins.cloud.simulated import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cloud"


def test_the_walkthrough_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "walkthrough.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Node node-0 deleted" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_manifest_and_config_load() -> None:
    [svc] = load_yaml((EXAMPLE / "web-lb.yaml").read_text(), strict=True)
    assert isinstance(svc, Service)
    assert svc.spec is not None and svc.spec.type == "LoadBalancer"
    config = load_config(EXAMPLE / "cloud.conf")
    assert config.load_balancer_cidr == "127.0.100.0/24"
