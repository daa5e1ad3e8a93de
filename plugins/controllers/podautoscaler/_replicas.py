"""The replica calculation for Resource metrics, as pure functions (upstream
pkg/controller/podautoscaler/replica_calculator.go).

Usage and requests are milli-units (``Quantity.MilliValue``), as upstream computes. A pod is
*ready* (its sample counts), *unready* (pending, or, for cpu, not ready yet or sampled before it
was), *missing* (no sample) or *ignored* (being deleted, failed). The first estimate uses the
ready pods only; when pods are unready or missing, the estimate is redone assuming the missing
ones use 100% of their request (of the target, for a value) on a scale-down and nothing on a
scale-up, and the unready ones nothing on a scale-up: so missing data only ever damps a change,
and a change that the assumption would reverse is dropped.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence

import attrs

from kframe.api import Quantity
from kframe.api.models import Pod
from kframe.controller import PodUsage

__all__ = [
    "CPU_INITIALIZATION_PERIOD",
    "INITIAL_READINESS_DELAY",
    "TOLERANCE",
    "MetricsError",
    "PodGroups",
    "Tolerances",
    "group_pods",
    "pod_requests",
    "raw_resource_replicas",
    "resource_replicas",
]

#: ``--horizontal-pod-autoscaler-tolerance``.
TOLERANCE = 0.1
#: ``--horizontal-pod-autoscaler-cpu-initialization-period``: 5 minutes.
CPU_INITIALIZATION_PERIOD = 300.0
#: ``--horizontal-pod-autoscaler-initial-readiness-delay``: 30 seconds.
INITIAL_READINESS_DELAY = 30.0


class MetricsError(Exception):
    """The metric cannot give a replica count (no pods, no samples, a missing request)."""


@attrs.frozen
class Tolerances:
    """How far the usage ratio may drift below and above 1.0 before the HPA acts."""

    scale_down: float = TOLERANCE
    scale_up: float = TOLERANCE

    def within(self, ratio: float) -> bool:
        return (1.0 - self.scale_down) <= ratio <= (1.0 + self.scale_up)


@attrs.frozen
class PodGroups:
    ready: int
    unready: frozenset[str]
    missing: frozenset[str]
    ignored: frozenset[str]


def _ready_condition(pod: Pod) -> tuple[str | None, _dt.datetime | None]:
    for cond in (pod.status.conditions if pod.status is not None else ()) or ():
        if cond.type == "Ready":
            return cond.status, cond.last_transition_time
    return None, None


def group_pods(
    pods: Sequence[Pod],
    metrics: Mapping[str, PodUsage],
    resource: str,
    now: _dt.datetime,
    *,
    cpu_initialization_period: float = CPU_INITIALIZATION_PERIOD,
    initial_readiness_delay: float = INITIAL_READINESS_DELAY,
) -> PodGroups:
    """upstream groupPods."""
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        assert pod.metadata is not None
        name = pod.metadata.name or ""
        phase = pod.status.phase if pod.status is not None else None
        if pod.metadata.deletion_timestamp is not None or phase == "Failed":
            ignored.add(name)
            continue
        if phase == "Pending":
            unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            missing.add(name)
            continue
        if resource == "cpu":
            status, since = _ready_condition(pod)
            start = pod.status.start_time if pod.status is not None else None
            if status is None or start is None:
                not_ready = True
            elif start + _dt.timedelta(seconds=cpu_initialization_period) > now:
                # Still initialising: ignore the sample if the pod is unready, or if no full
                # metric window has passed since its readiness last changed.
                # (A condition without a transition time changed at Go's zero time.)
                not_ready = status == "False" or (
                    since is not None
                    and metric.timestamp < since + _dt.timedelta(seconds=metric.window)
                )
            else:
                # Past initialisation: ignore it only if it is unready and never was ready.
                not_ready = status == "False" and (
                    since is None or start + _dt.timedelta(seconds=initial_readiness_delay) > since
                )
            if not_ready:
                unready.add(name)
                continue
        ready += 1
    return PodGroups(ready, frozenset(unready), frozenset(missing), frozenset(ignored))


def pod_requests(pods: Sequence[Pod], resource: str, container: str = "") -> dict[str, int]:
    """Each pod's request of ``resource`` in milli-units, summed over its containers (only
    ``container``'s if named); a container without one is a MetricsError (upstream
    calculatePodRequests)."""
    out: dict[str, int] = {}
    for pod in pods:
        assert pod.metadata is not None
        name = pod.metadata.name or ""
        total = 0
        spec = pod.spec
        # Regular containers and restartable (sidecar) init containers.
        sidecars = [c for c in spec.init_containers if c.restart_policy == "Always"] if spec else []
        for c in [*(spec.containers if spec else ()), *sidecars]:
            if container and c.name != container:
                continue
            requests = (c.resources.requests if c.resources is not None else None) or {}
            value = requests.get(resource)
            if value is None:
                raise MetricsError(
                    f"missing request for {resource} in container {c.name} of Pod {name}"
                )
            total += Quantity(value).milli_value()
        out[name] = total
    return out


def _utilization(
    metrics: Mapping[str, int], requests: Mapping[str, int], target: int
) -> tuple[float, int, int]:
    """upstream GetResourceUtilizationRatio: (usage ratio, utilization %, average usage)."""
    used = requested = entities = 0
    for name, value in metrics.items():
        if name in requests:
            used += value
            requested += requests[name]
            entities += 1
    if entities == 0:
        raise MetricsError("no metrics returned matched known pods")
    if requested == 0:
        raise MetricsError("no pod requests the resource")  # would divide by zero upstream
    utilization = used * 100 // requested
    return utilization / target, utilization, used // entities


def _samples(
    pods: Sequence[Pod], metrics: Mapping[str, PodUsage], resource: str, container: str
) -> dict[str, int]:
    known = {p.metadata.name for p in pods if p.metadata is not None}
    out: dict[str, int] = {}
    for name, usage in metrics.items():
        value = usage.milli(resource, container)
        if value is not None and name in known:
            out[name] = value
    return out


def resource_replicas(
    current: int,
    target_utilization: int,
    resource: str,
    pods: Sequence[Pod],
    metrics: Mapping[str, PodUsage],
    now: _dt.datetime,
    *,
    container: str = "",
    tolerances: Tolerances = Tolerances(),
    cpu_initialization_period: float = CPU_INITIALIZATION_PERIOD,
    initial_readiness_delay: float = INITIAL_READINESS_DELAY,
) -> tuple[int, int, int]:
    """upstream GetResourceReplicas: (replicas, utilization %, average usage in milli-units)
    for an ``averageUtilization`` target. Raises MetricsError."""
    if not pods:
        raise MetricsError("no pods returned by selector while calculating replica count")
    samples = _samples(pods, metrics, resource, container)
    groups = group_pods(
        pods,
        {n: metrics[n] for n in samples},
        resource,
        now,
        cpu_initialization_period=cpu_initialization_period,
        initial_readiness_delay=initial_readiness_delay,
    )
    for name in groups.ignored | groups.unready:
        samples.pop(name, None)
    if not samples:
        raise MetricsError("did not receive metrics for targeted pods (pods might be unready)")
    requests = pod_requests(pods, resource, container)
    ratio, utilization, raw = _utilization(samples, requests, target_utilization)
    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if tolerances.within(ratio):
            return current, utilization, raw
        return math.ceil(ratio * groups.ready), utilization, raw
    if groups.missing:
        if ratio < 1.0:
            # On a scale-down a missing pod counts as using its request (or the target, if
            # that is higher), so that it can only damp the change.
            fallback = max(100, target_utilization)
            for name in groups.missing:
                samples[name] = requests.get(name, 0) * fallback // 100
        elif ratio > 1.0:
            # At exactly 1.0 the missing pods stay out of the count (upstream's else-if).
            for name in groups.missing:
                samples[name] = 0
    if scale_up_with_unready:
        for name in groups.unready:
            samples[name] = 0
    new_ratio, _, _ = _utilization(samples, requests, target_utilization)
    if (
        tolerances.within(new_ratio)
        or (ratio < 1.0 and new_ratio > 1.0)
        or (ratio > 1.0 and new_ratio < 1.0)
    ):
        return current, utilization, raw
    replicas = math.ceil(new_ratio * len(samples))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, utilization, raw
    return replicas, utilization, raw


def raw_resource_replicas(
    current: int,
    target_usage: int,
    resource: str,
    pods: Sequence[Pod],
    metrics: Mapping[str, PodUsage],
    now: _dt.datetime,
    *,
    container: str = "",
    tolerances: Tolerances = Tolerances(),
    cpu_initialization_period: float = CPU_INITIALIZATION_PERIOD,
    initial_readiness_delay: float = INITIAL_READINESS_DELAY,
) -> tuple[int, int]:
    """upstream GetRawResourceReplicas (calcPlainMetricReplicas): (replicas, average usage in
    milli-units) for an ``averageValue`` target in milli-units. Raises MetricsError."""
    if not pods:
        raise MetricsError("no pods returned by selector while calculating replica count")
    if target_usage <= 0:
        raise MetricsError("the target average value must be positive")
    samples = _samples(pods, metrics, resource, container)
    groups = group_pods(
        pods,
        {n: metrics[n] for n in samples},
        resource,
        now,
        cpu_initialization_period=cpu_initialization_period,
        initial_readiness_delay=initial_readiness_delay,
    )
    for name in groups.ignored | groups.unready:
        samples.pop(name, None)
    if not samples:
        raise MetricsError("did not receive metrics for targeted pods (pods might be unready)")

    def ratio_of(values: Mapping[str, int]) -> tuple[float, int]:
        usage = sum(values.values()) // len(values)  # GetMetricUsageRatio
        return usage / target_usage, usage

    ratio, usage = ratio_of(samples)
    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if tolerances.within(ratio):
            return current, usage
        return math.ceil(ratio * groups.ready), usage
    if groups.missing:
        for name in groups.missing:
            if ratio < 1.0:
                samples[name] = target_usage
            elif ratio > 1.0:
                samples[name] = 0
    if scale_up_with_unready:
        for name in groups.unready:
            samples[name] = 0
    new_ratio, _ = ratio_of(samples)
    if (
        tolerances.within(new_ratio)
        or (ratio < 1.0 and new_ratio > 1.0)
        or (ratio > 1.0 and new_ratio < 1.0)
    ):
        return current, usage
    replicas = math.ceil(new_ratio * len(samples))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, usage
    return replicas, usage
