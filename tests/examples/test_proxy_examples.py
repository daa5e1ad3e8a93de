"""The proxy examples (``examples/proxy/``) run to completion and print what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "proxy"


def run(name: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_render_rules_prints_the_nat_table_and_follows_a_change() -> None:
    out = run("render_rules.py")
    assert "*nat" in out and "-j KUBE-SVC-" in out
    assert "--rcheck --seconds 600 --reap" in out
    after = out.split("# after", 1)[1]
    assert "10.244.1.1:8080" not in after and after.count("default/web:http ->") == 2


def test_log_backend_renders_ready_endpoints_only() -> None:
    out = run("log_backend.py")
    assert out.strip() == "default/db 10.96.0.5:5432/TCP -> 10.244.0.8:5432"
