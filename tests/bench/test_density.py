"""``kframe bench density`` prints one JSON object with its documented fields."""

from __future__ import annotations

import json

from tests.cli.test_cli import kframe


def test_density_bench_runs_small() -> None:
    result = kframe(
        "bench", "density", "--nodes", "3", "--pods-per-node", "2", "--qps", "0",
        "--heartbeat-seconds", "0.5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    doc = json.loads(line)
    assert doc["nodes"] == 3 and doc["pods"] == 6 and doc["runtime"] == "fake"
    assert doc["running"] == 6 and doc["ready_nodes"] == 3 and doc["timed_out"] is False
    for key in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "pods_per_s", "register_s", "rss_mib"):
        assert isinstance(doc[key], int | float)
    for key in ("create_to_bound_ms", "bound_to_running_ms", "sli_ms"):
        assert set(doc[key]) == {"p50", "p90", "p99", "max"}
    for key in ("lease_renewals", "lease_renewals_expected", "renew_max_lag_ms", "nodes_behind"):
        assert key in doc
    assert set(doc["gc"]) == {"collections", "full", "total_ms", "max_ms"}


def test_density_bench_nodes_only() -> None:
    result = kframe("bench", "density", "--nodes", "2", "--pods-per-node", "0")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["pods"] == 0 and doc["ready_nodes"] == 2 and "register_s" in doc


def test_density_bench_refuses_bad_input() -> None:
    result = kframe("bench", "density", "--nodes", "0")
    assert result.returncode == 2
    assert "must be at least 1" in result.stderr
    result = kframe("bench", "density", "--nodes", "1", "--runtime", "nope")
    assert result.returncode != 0
    assert "no such container runtime" in result.stderr
    assert "Traceback" not in result.stderr
