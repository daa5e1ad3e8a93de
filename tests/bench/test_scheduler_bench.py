"""``kframe bench scheduler`` runs scheduler_perf workloads end to end, tiny, and prints the
documented JSON fields (speed is measured by the benchmark, never asserted here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kframe.cli import main

FIELDS = {"workload", "nodes", "init_pods", "pods", "pods_per_s", "p50_ms", "p99_ms"}
FIELDS |= {"scheduled", "unschedulable", "elapsed_s", "attempts", "timed_out", "profile"}
FIELDS |= {"cpu_s", "pods_per_cpu_s"}


def _bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["bench", "scheduler", *args])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1, out
    return code, json.loads(lines[0]), err


@pytest.mark.parametrize(
    ("workload", "sizes"),
    [
        ("SchedulingBasic", ("5", "5", "10")),
        ("SchedulingNodeAffinity", ("5", "5", "10")),
        ("SchedulingPodAffinity", ("5", "5", "10")),
        ("SchedulingPodAntiAffinity", ("5", "1", "4")),
        ("TopologySpreading", ("5", "10", "10")),
        ("Unschedulable", ("5", "1", "10")),
    ],
)
def test_workload_schedules_every_measured_pod(
    capsys: pytest.CaptureFixture[str], workload: str, sizes: tuple[str, str, str]
) -> None:
    nodes, init, pods = sizes
    code, row, err = _bench(
        capsys,
        *("--workload", workload, "--nodes", nodes, "--init-pods", init, "--pods", pods),
        *("--timeout", "60"),
    )
    assert code == 0, err
    assert set(row) >= FIELDS
    assert (row["workload"], row["nodes"], row["init_pods"], row["pods"]) == (
        workload,
        int(nodes),
        int(init),
        int(pods),
    )
    assert row["scheduled"] == int(pods) and row["timed_out"] is False
    assert row["pods_per_s"] > 0 and row["elapsed_s"] > 0
    assert row["cpu_s"] >= 0 and row["pods_per_cpu_s"] >= 0
    assert row["p99_ms"] >= row["p50_ms"] > 0
    assert row["attempts"] >= int(pods)
    assert row["profile"] == "default-scheduler" and "DefaultBinder" in row["plugins"]
    if workload == "Unschedulable":
        assert row["background_pods"] >= 1


def test_config_selects_the_profile_and_its_plugins(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "scheduler.yaml"
    config.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\n"
        "kind: KubeSchedulerConfiguration\n"
        "profiles:\n"
        "- schedulerName: bench-scheduler\n"
        "  plugins:\n"
        "    multiPoint:\n"
        "      disabled: [{name: '*'}]\n"
        "      enabled:\n"
        "      - {name: PrioritySort}\n"
        "      - {name: NodeResourcesFit, weight: 1}\n"
        "      - {name: NodeAffinity, weight: 2}\n"
        "      - {name: DefaultBinder}\n"
    )
    code, row, err = _bench(
        capsys,
        *("--workload", "SchedulingNodeAffinity", "--nodes", "5", "--init-pods", "5"),
        *("--pods", "10", "--config", str(config), "--timeout", "60"),
    )
    assert code == 0, err
    assert row["profile"] == "bench-scheduler"  # the pods name the profile's scheduler
    assert row["plugins"] == ["PrioritySort", "NodeResourcesFit", "NodeAffinity", "DefaultBinder"]
    assert row["scheduled"] == 10 and row["config"] == str(config)


def test_preemption_without_a_post_filter_plugin_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "no-preemption.yaml"
    config.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\n"
        "kind: KubeSchedulerConfiguration\n"
        "profiles:\n"
        "- plugins:\n"
        "    multiPoint:\n"
        "      disabled: [{name: DefaultPreemption}]\n"
    )
    code, row, err = _bench(
        capsys,
        *("--workload", "PreemptionBasic", "--nodes", "5", "--init-pods", "20", "--pods", "5"),
        *("--config", str(config)),
    )
    assert code == 1
    assert row["workload"] == "PreemptionBasic" and "PostFilter" in row["error"]
    assert err.startswith("kframe: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_a_stuck_workload_reports_what_it_measured_at_the_timeout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Required anti-affinity on the hostname: two nodes hold two of the four measured pods.
    code, row, err = _bench(
        capsys,
        *("--workload", "SchedulingPodAntiAffinity", "--nodes", "2", "--init-pods", "0"),
        *("--pods", "4", "--timeout", "1.5"),
    )
    assert code == 0, err
    assert row["timed_out"] is True and row["phase"] == "measure"
    assert row["scheduled"] == 2 and row["not_scheduled"] == 2
    assert 1 <= row["unschedulable"] <= 2  # (one may be in its cycle at that moment)
