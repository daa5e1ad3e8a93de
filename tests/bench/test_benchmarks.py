"""``kframe bench store`` runs end to end and prints the documented JSON fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KFRAME = str(Path(sys.executable).with_name("kframe"))
FIELDS = {"store", "create_per_s", "update_per_s", "get_per_s", "list_1k_ms", "watch_p99_ms"}


def test_bench_store_prints_one_json_object_per_store() -> None:
    result = subprocess.run(
        [
            KFRAME,
            "bench",
            "store",
            "--store",
            "memory://",
            "--store",
            "memory://",
            "--keys",
            "1000",
            "--gets",
            "1000",
            "--watchers",
            "5",
            "--writes",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert set(row) >= FIELDS
        assert row["create_per_s"] > 0 and row["watch_p99_ms"] >= row["watch_p50_ms"] >= 0
    assert "create/s" in result.stderr  # the side-by-side table


def test_bench_store_bad_url_is_one_line() -> None:
    result = subprocess.run(
        [KFRAME, "bench", "store", "--store", "nope://"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("kframe: error: unknown store scheme 'nope'")
    assert result.stderr.count("\n") == 1


def test_bench_apiserver_smoke() -> None:
    result = subprocess.run(
        [
            KFRAME,
            "bench",
            "apiserver",
            "--pods",
            "50",
            "--list-pods",
            "100",
            "--rate",
            "20",
            "--seconds",
            "1",
            "--concurrency",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["mode"] for r in rows] == ["in-process", "http"]
    for row in rows:
        assert {
            "creates_per_s",
            "gets_per_s",
            "list_pods_ms",
            "mutating_p99_ms",
            "watch_p99_ms",
        } <= set(row)
