"""The scheduler's metrics in the Prometheus text format, under upstream's names."""

from __future__ import annotations

from kframe.scheduler._metrics import ATTEMPT_BUCKETS, SchedulerMetrics


def test_attempts_and_their_latency_histogram() -> None:
    metrics = SchedulerMetrics(lambda: {"active": 2, "backoff": 0, "unschedulable": 1})
    metrics.attempt("scheduled", "default-scheduler", 0.0015)
    metrics.attempt("scheduled", "default-scheduler", 0.5)
    metrics.attempt("unschedulable", "default-scheduler", 0.0001)
    text = metrics.render()
    lines = text.splitlines()
    assert (
        'scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"} 2'
        in lines
    )
    key = 'profile="default-scheduler",result="scheduled"'
    assert f'scheduler_scheduling_attempt_duration_seconds_bucket{{{key},le="0.001"}} 0' in lines
    assert f'scheduler_scheduling_attempt_duration_seconds_bucket{{{key},le="0.002"}} 1' in lines
    assert f'scheduler_scheduling_attempt_duration_seconds_bucket{{{key},le="+Inf"}} 2' in lines
    assert f"scheduler_scheduling_attempt_duration_seconds_count{{{key}}} 2" in lines
    assert 'scheduler_pending_pods{queue="unschedulable"} 1' in lines
    assert "# TYPE scheduler_scheduling_attempt_duration_seconds histogram" in lines
    assert text.endswith("\n")


def test_buckets_are_upstreams() -> None:
    assert len(ATTEMPT_BUCKETS) == 15
    assert ATTEMPT_BUCKETS[0] == 0.001 and round(ATTEMPT_BUCKETS[-1], 6) == 16.384


def test_cumulative_buckets_never_decrease() -> None:
    metrics = SchedulerMetrics()
    for seconds in (0.0005, 0.003, 0.003, 20.0):
        metrics.attempt("error", "p", seconds)
    counts = [
        int(line.rsplit(" ", 1)[1])
        for line in metrics.render().splitlines()
        if line.startswith("scheduler_scheduling_attempt_duration_seconds_bucket")
    ]
    assert counts == sorted(counts) and counts[-1] == 4
