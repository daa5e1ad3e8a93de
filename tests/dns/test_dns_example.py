"""examples/dns/cluster_dns.py runs and prints the answers the DNS specification asks for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "dns" / "cluster_dns.py"


def test_cluster_dns_example() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "tcp web.default.svc.cluster.local A: 10.96.0.20" in lines
    assert "udp db.default.svc.cluster.local A: 10.244.0.5" in lines
    assert "udp 20.0.96.10.in-addr.arpa PTR: web.default.svc.cluster.local." in lines
    assert "udp nope.default.svc.cluster.local A: NXDOMAIN" in lines
