"""``kframe bench kubelet`` prints one JSON object with its documented fields."""

from __future__ import annotations

import json

from tests.cli.test_cli import kframe


def test_kubelet_bench_runs_small() -> None:
    result = kframe("bench", "kubelet", "--nodes", "5", "--pods", "10", "--idle-seconds", "1")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    doc = json.loads(line)
    assert doc["nodes"] == 5 and doc["ready_nodes"] == 5 and doc["leases"] == 5
    assert doc["pods"] == 10
    for key in (
        "register_s",
        "idle_cpu_pct",
        "pods_running_s",
        "pods_per_s",
        "busy_cpu_pct",
        "delete_s",
        "lease_renewals_idle",
    ):
        assert key in doc


def test_kubelet_bench_refuses_a_bad_count() -> None:
    result = kframe("bench", "kubelet", "--nodes", "0")
    assert result.returncode == 2
    assert "must be at least 1" in result.stderr
