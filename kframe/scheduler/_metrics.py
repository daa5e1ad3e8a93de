"""The scheduler's Prometheus metrics, under upstream's names (pkg/scheduler/metrics).

- ``scheduler_schedule_attempts_total{result, profile}``: cycles by outcome (``scheduled``,
  ``unschedulable``, ``error``);
- ``scheduler_scheduling_attempt_duration_seconds{result, profile}``: a histogram of cycle
  latency, upstream's buckets (1 ms doubling, 15 buckets);
- ``scheduler_pending_pods{queue}``: ``active``, ``backoff``, ``unschedulable``, ``gated``;
- ``scheduler_preemption_attempts_total``.

Rendered in the Prometheus text format by :meth:`SchedulerMetrics.render`; ``kframe scheduler``
serves it at ``/metrics``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping

__all__ = ["SchedulerMetrics"]

# Upstream: metrics.ExponentialBuckets(0.001, 2, 15).
ATTEMPT_BUCKETS = tuple(0.001 * 2**i for i in range(15))

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels
    )
    return "{" + inner + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Histogram:
    __slots__ = ("buckets", "count", "counts", "sum")

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        i = bisect.bisect_left(self.buckets, value)
        if i < len(self.counts):
            self.counts[i] += 1
        self.count += 1
        self.sum += value

    def lines(self, name: str, labels: Labels) -> Iterable[str]:
        running = 0
        for bound, n in zip(self.buckets, self.counts, strict=True):
            running += n
            yield f"{name}_bucket{_labels((*labels, ('le', _number(bound))))} {running}"
        yield f"{name}_bucket{_labels((*labels, ('le', '+Inf')))} {self.count}"
        yield f"{name}_sum{_labels(labels)} {_number(self.sum)}"
        yield f"{name}_count{_labels(labels)} {self.count}"


class SchedulerMetrics:
    """The scheduler's counters and histograms; ``pending`` reads the queue when rendering."""

    def __init__(self, pending: Callable[[], Mapping[str, int]] = dict) -> None:
        self._pending = pending
        self.attempts: dict[Labels, int] = {}
        self.durations: dict[Labels, _Histogram] = {}
        self.preemption_attempts = 0

    def attempt(self, result: str, profile: str, seconds: float) -> None:
        """One scheduling cycle ended with ``result`` after ``seconds``."""
        key = (("profile", profile), ("result", result))
        self.attempts[key] = self.attempts.get(key, 0) + 1
        histogram = self.durations.get(key)
        if histogram is None:
            histogram = self.durations[key] = _Histogram(ATTEMPT_BUCKETS)
        histogram.observe(seconds)

    def render(self) -> str:
        out = [
            "# HELP scheduler_schedule_attempts_total Number of attempts to schedule pods, by "
            "the result.",
            "# TYPE scheduler_schedule_attempts_total counter",
        ]
        out += [
            f"scheduler_schedule_attempts_total{_labels(k)} {v}" for k, v in self.attempts.items()
        ]
        out += [
            "# HELP scheduler_scheduling_attempt_duration_seconds Scheduling attempt latency in "
            "seconds (scheduling algorithm + binding)",
            "# TYPE scheduler_scheduling_attempt_duration_seconds histogram",
        ]
        for key, histogram in self.durations.items():
            out += histogram.lines("scheduler_scheduling_attempt_duration_seconds", key)
        out += [
            "# HELP scheduler_pending_pods Number of pending pods, by the queue type.",
            "# TYPE scheduler_pending_pods gauge",
        ]
        out += [
            f"scheduler_pending_pods{_labels((('queue', q),))} {n}"
            for q, n in self._pending().items()
        ]
        out += [
            "# HELP scheduler_preemption_attempts_total Total preemption attempts in the "
            "cluster till now",
            "# TYPE scheduler_preemption_attempts_total counter",
            f"scheduler_preemption_attempts_total {self.preemption_attempts}",
        ]
        return "\n".join(out) + "\n"
