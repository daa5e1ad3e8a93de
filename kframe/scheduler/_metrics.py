"""The scheduler's Prometheus metrics, under upstream's names (pkg/scheduler/metrics).

The scheduler records into one :class:`SchedulerMetrics` (``Scheduler.metrics``); its
frameworks carry the same object as ``Framework.metrics``, so the cycle and preemption plugins
record where upstream does. :meth:`SchedulerMetrics.render` writes the Prometheus text format
(version 0.0.4) that ``kframe scheduler`` and ``kframe up`` serve at ``/metrics``:

- ``scheduler_schedule_attempts_total{profile, result}`` and
  ``scheduler_scheduling_attempt_duration_seconds{profile, result}``: cycles by outcome
  (``scheduled`` once bound, ``unschedulable``, ``error``), the latency including binding;
- ``scheduler_scheduling_algorithm_duration_seconds``: the algorithm alone;
- ``scheduler_pod_scheduling_sli_duration_seconds{attempts}``: from the pod's first attempt to
  its binding, and ``scheduler_pod_scheduling_attempts``: attempts a bound pod took;
- ``scheduler_framework_extension_point_duration_seconds{extension_point, profile, status}``:
  every extension point the cycle runs, once per cycle (Filter over all nodes at once);
- ``scheduler_pending_pods{queue}``: ``active``, ``backoff``, ``unschedulable``, ``gated``;
- ``scheduler_unschedulable_pods{plugin, profile}``: waiting pods by the plugins that rejected
  them, and ``scheduler_scheduler_cache_size{type}``: ``nodes``, ``pods``, ``assumed_pods``
  (both read when rendering);
- ``scheduler_queue_incoming_pods_total{event, queue}``: pods entering each queue, by event;
- ``scheduler_preemption_attempts_total`` and ``scheduler_preemption_victims``.

Recording costs a dictionary look-up and a bisect: cheap enough for every cycle, which is why
nothing here is sampled (upstream samples only the per-plugin durations, not kept here).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["SchedulerMetrics", "exponential_buckets", "metrics_of"]

Labels = tuple[tuple[str, str], ...]


def exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    """Upstream's metrics.ExponentialBuckets (each bound the previous one times ``factor``)."""
    out = []
    for _ in range(count):
        out.append(start)
        start *= factor
    return tuple(out)


ATTEMPT_BUCKETS = exponential_buckets(0.001, 2, 15)
# 10 ms doubling: the last bucket is [~88 min, +Inf).
SLI_BUCKETS = exponential_buckets(0.01, 2, 20)
ATTEMPTS_BUCKETS = exponential_buckets(1, 2, 5)
# 0.1 ms doubling: the last bucket is [~200 ms, +Inf).
EXTENSION_POINT_BUCKETS = exponential_buckets(0.0001, 2, 12)
# More than 64 victims is rare enough to share one bucket.
VICTIM_BUCKETS = exponential_buckets(1, 2, 7)

# Upstream's help strings, with component-base's stability prefix.
_HELP = {
    "scheduler_schedule_attempts_total": "[STABLE] Number of attempts to schedule pods, by the "
    "result. 'unschedulable' means a pod could not be scheduled, while 'error' means an "
    "internal scheduler problem.",
    "scheduler_scheduling_attempt_duration_seconds": "[STABLE] Scheduling attempt latency in "
    "seconds (scheduling algorithm + binding)",
    "scheduler_scheduling_algorithm_duration_seconds": "[ALPHA] Scheduling algorithm latency "
    "in seconds",
    "scheduler_pod_scheduling_sli_duration_seconds": "[BETA] E2e latency for a pod being "
    "scheduled, from the time the pod enters the scheduling queue and might involve multiple "
    "scheduling attempts.",
    "scheduler_pod_scheduling_attempts": "[STABLE] Number of attempts to successfully schedule "
    "a pod.",
    "scheduler_framework_extension_point_duration_seconds": "[STABLE] Latency for running all "
    "plugins of a specific extension point.",
    "scheduler_pending_pods": "[STABLE] Number of pending pods, by the queue type. 'active' "
    "means number of pods in activeQ; 'backoff' means number of pods in backoffQ; "
    "'unschedulable' means number of pods in unschedulablePods that the scheduler attempted "
    "to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler "
    "never attempted to schedule because they are gated.",
    "scheduler_queue_incoming_pods_total": "[STABLE] Number of pods added to scheduling queues "
    "by event and queue type.",
    "scheduler_preemption_attempts_total": "[STABLE] Total preemption attempts in the cluster "
    "till now",
    "scheduler_preemption_victims": "[STABLE] Number of selected preemption victims",
    "scheduler_unschedulable_pods": "[ALPHA] The number of unschedulable pods broken down by "
    "plugin name. A pod will increment the gauge for all plugins that caused it to not schedule "
    "and so this metric have meaning only when broken down by plugin.",
    "scheduler_scheduler_cache_size": "[ALPHA] Number of nodes, pods, and assumed (bound) pods "
    "in the scheduler cache.",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


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
        # A bucket counts the values <= its bound ("le").
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


def _attempts_label(attempts: int) -> str:
    # Capped, as upstream's getAttemptsLabel, to keep the label's cardinality low.
    return "15+" if attempts >= 15 else str(attempts)


class SchedulerMetrics:
    """The scheduler's counters and histograms. The gauges are read when rendering: ``pending``
    (queue -> pods), ``unschedulable`` ((plugin, profile) -> pods), ``cache_size`` (type ->
    count)."""

    def __init__(
        self,
        pending: Callable[[], Mapping[str, int]] = dict,
        *,
        unschedulable: Callable[[], Mapping[tuple[str, str], int]] = dict,
        cache_size: Callable[[], Mapping[str, int]] = dict,
    ) -> None:
        self.pending = pending
        self.unschedulable = unschedulable
        self.cache_size = cache_size
        # Label tuples are in label-name order, as the Go client writes them.
        self.attempts: dict[Labels, int] = {}
        self.durations: dict[Labels, _Histogram] = {}
        self.algorithm = _Histogram(ATTEMPT_BUCKETS)
        self.sli: dict[Labels, _Histogram] = {}
        self.pod_attempts = _Histogram(ATTEMPTS_BUCKETS)
        self.extension_points: dict[tuple[str, str, str], _Histogram] = {}
        self.incoming_pods: dict[Labels, int] = {}
        self.preemption_attempts = 0
        self.victims = _Histogram(VICTIM_BUCKETS)

    # -- recording ----------------------------------------------------------------------------

    def attempt(self, result: str, profile: str, seconds: float) -> None:
        """One scheduling attempt ended with ``result`` after ``seconds`` (binding included)."""
        key = (("profile", profile), ("result", result))
        self.attempts[key] = self.attempts.get(key, 0) + 1
        histogram = self.durations.get(key)
        if histogram is None:
            histogram = self.durations[key] = _Histogram(ATTEMPT_BUCKETS)
        histogram.observe(seconds)

    def algorithm_duration(self, seconds: float) -> None:
        self.algorithm.observe(seconds)

    def pod_scheduled(
        self, profile: str, seconds: float, attempts: int, since_first_attempt: float | None
    ) -> None:
        """A pod was bound: the attempt, the attempts it took, and its SLI latency."""
        self.attempt("scheduled", profile, seconds)
        self.pod_attempts.observe(attempts)
        if since_first_attempt is not None:
            key = (("attempts", _attempts_label(attempts)),)
            histogram = self.sli.get(key)
            if histogram is None:
                histogram = self.sli[key] = _Histogram(SLI_BUCKETS)
            histogram.observe(since_first_attempt)

    def extension_point(self, point: str, status: str, profile: str, seconds: float) -> None:
        """All plugins of ``point`` (``PreFilter``, ``Filter``, ...) ran, ending in ``status``
        (upstream's code name: ``Success``, ``Unschedulable``, ``Error``, ...)."""
        key = (point, status, profile)
        histogram = self.extension_points.get(key)
        if histogram is None:
            histogram = self.extension_points[key] = _Histogram(EXTENSION_POINT_BUCKETS)
        histogram.observe(seconds)

    def incoming(self, queue: str, event: str) -> None:
        """A pod entered ``queue`` (``active``, ``backoff``, ``unschedulable``) on ``event``."""
        key = (("event", event), ("queue", queue))
        self.incoming_pods[key] = self.incoming_pods.get(key, 0) + 1

    def preemption_attempt(self) -> None:
        self.preemption_attempts += 1

    def preemption_victims(self, count: int) -> None:
        self.victims.observe(count)

    # -- exposition ---------------------------------------------------------------------------

    def render(self) -> str:
        """Every metric in the Prometheus text format; label sets without samples are left
        out, as the Go client leaves out vectors with no children."""
        out: list[str] = []

        def family(name: str, kind: str) -> None:
            out.append(f"# HELP {name} {_HELP[name]}")
            out.append(f"# TYPE {name} {kind}")

        def counters(name: str, values: Mapping[Labels, int]) -> None:
            if values:
                family(name, "counter")
                out.extend(f"{name}{_labels(k)} {v}" for k, v in sorted(values.items()))

        def gauges(name: str, values: Mapping[Labels, int]) -> None:
            if values:
                family(name, "gauge")
                out.extend(f"{name}{_labels(k)} {v}" for k, v in sorted(values.items()))

        def histograms(name: str, values: Mapping[Labels, _Histogram]) -> None:
            if values:
                family(name, "histogram")
                for key, histogram in sorted(values.items(), key=lambda kv: kv[0]):
                    out.extend(histogram.lines(name, key))

        name = "scheduler_framework_extension_point_duration_seconds"
        histograms(
            name,
            {
                (("extension_point", p), ("profile", prof), ("status", s)): h
                for (p, s, prof), h in self.extension_points.items()
            },
        )
        histograms("scheduler_pod_scheduling_attempts", {(): self.pod_attempts})
        histograms("scheduler_pod_scheduling_sli_duration_seconds", self.sli)
        family("scheduler_pending_pods", "gauge")
        out.extend(
            f"scheduler_pending_pods{_labels((('queue', q),))} {n}"
            for q, n in self.pending().items()
        )
        family("scheduler_preemption_attempts_total", "counter")
        out.append(f"scheduler_preemption_attempts_total {self.preemption_attempts}")
        histograms("scheduler_preemption_victims", {(): self.victims})
        counters("scheduler_queue_incoming_pods_total", self.incoming_pods)
        counters("scheduler_schedule_attempts_total", self.attempts)
        gauges(
            "scheduler_scheduler_cache_size",
            {(("type", t),): n for t, n in self.cache_size().items()},
        )
        histograms("scheduler_scheduling_algorithm_duration_seconds", {(): self.algorithm})
        histograms("scheduler_scheduling_attempt_duration_seconds", self.durations)
        gauges(
            "scheduler_unschedulable_pods",
            {
                (("plugin", p), ("profile", prof)): n
                for (p, prof), n in self.unschedulable().items()
            },
        )
        return "\n".join(out) + "\n"


def metrics_of(handle: Any) -> SchedulerMetrics | None:
    """The metrics a plugin's handle records into (the scheduler framework's), or None (an
    offline handle, a test's): how plugins record upstream's plugin-side metrics, such as the
    preemption ones."""
    metrics = getattr(handle, "metrics", None)
    return metrics if isinstance(metrics, SchedulerMetrics) else None
