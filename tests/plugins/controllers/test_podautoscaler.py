"""The HPA's replica calculation and normalization as pure functions: cases from upstream's
replica_calculator_test.go and horizontal_test.go (test names cited), and Hypothesis
properties (within tolerance nothing changes; missing data never reverses a change; the result
stays within [min, max]; a scale-down is stabilized to the highest recommendation of its
window)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import HorizontalPodAutoscalerBehavior, Pod
from kframe.controller import ContainerUsage, PodUsage
from kframe_plugins.controllers.podautoscaler import parse_duration
from kframe_plugins.controllers.podautoscaler._behavior import (
    Policy,
    Rules,
    ScaleEvent,
    convert_with_behavior,
    convert_with_rules,
    rules_from,
    scale_down_limit,
    scale_up_limit,
    stabilize,
    stabilize_legacy,
)
from kframe_plugins.controllers.podautoscaler._replicas import (
    MetricsError,
    Tolerances,
    group_pods,
    pod_requests,
    raw_resource_replicas,
    resource_replicas,
)

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
LONG_AGO = NOW - dt.timedelta(hours=1)


def pod(
    name: str,
    *,
    ready: bool = True,
    phase: str = "Running",
    request: str | None = "1",
    start: dt.datetime | None = LONG_AGO,
    transition: dt.datetime | None = LONG_AGO,
    deleting: bool = False,
) -> Pod:
    resources: dict[str, Any] = {"requests": {"cpu": request}} if request is not None else {}
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                **({"lastTransitionTime": transition.isoformat()} if transition else {}),
            }
        ],
    }
    if start is not None:
        status["startTime"] = start.isoformat()
    meta: dict[str, Any] = {"name": name, "namespace": "ns"}
    if deleting:
        meta["deletionTimestamp"] = NOW.isoformat()
    return from_dict(
        {
            "metadata": meta,
            "spec": {"containers": [{"name": "c", "image": "i", "resources": resources}]},
            "status": status,
        },
        Pod,
    )


def usage(milli: int, stamp: dt.datetime = NOW) -> PodUsage:
    return PodUsage(
        containers={"c": ContainerUsage(cpu_nano_cores=milli * 1_000_000)}, timestamp=stamp
    )


def calc(
    current: int, pods: list[Pod], levels: dict[str, int], target: int, **kw: Any
) -> tuple[int, int, int]:
    metrics = {n: usage(v) for n, v in levels.items()}
    got: tuple[int, int, int] = resource_replicas(current, target, "cpu", pods, metrics, NOW, **kw)
    return got


# -- upstream cases ------------------------------------------------------------------------------


def test_scale_up() -> None:
    # TestReplicaCalcScaleUp: 300m, 500m, 700m of 1 cpu each against 30%.
    pods = [pod(f"p{i}") for i in range(3)]
    assert calc(3, pods, {"p0": 300, "p1": 500, "p2": 700}, 30) == (5, 50, 500)


def test_scale_up_with_an_unready_pod_counts_it_as_idle() -> None:
    # TestReplicaCalcScaleUpUnreadyLessScale: the unready pod is assumed to use nothing.
    pods = [pod("p0", ready=False), pod("p1"), pod("p2")]
    assert calc(3, pods, {"p0": 300, "p1": 500, "p2": 700}, 30) == (4, 60, 600)


def test_scale_down() -> None:
    # TestReplicaCalcScaleDown
    pods = [pod(f"p{i}") for i in range(5)]
    levels = {"p0": 100, "p1": 300, "p2": 500, "p3": 250, "p4": 250}
    assert calc(5, pods, levels, 50) == (3, 28, 280)


def test_within_tolerance_nothing_changes() -> None:
    # TestReplicaCalcTolerance: 1.08 of the target.
    pods = [pod(f"p{i}") for i in range(3)]
    assert calc(3, pods, {"p0": 1010, "p1": 1090, "p2": 1140}, 100)[0] == 3


def test_missing_metrics_on_scale_down_count_as_full_request() -> None:
    # Two of four pods report 10%; the two missing are assumed at 100%: 55% against 50% is
    # within tolerance, so no scale-down (TestReplicaCalcMissingMetricsNoChangeLt-like).
    pods = [pod(f"p{i}") for i in range(4)]
    assert calc(4, pods, {"p0": 100, "p1": 100}, 50)[0] == 4


def test_missing_metrics_on_scale_up_count_as_zero() -> None:
    # TestReplicaCalcMissingMetricsScaleUp-like: 2 of 4 report 150% against 50%; with the
    # missing at 0 the ratio is 1.5, so ceil(1.5 * 4) = 6.
    pods = [pod(f"p{i}") for i in range(4)]
    assert calc(4, pods, {"p0": 1500, "p1": 1500}, 50)[0] == 6


def test_pending_failed_and_deleted_pods() -> None:
    pods = [
        pod("pending", phase="Pending"),
        pod("failed", phase="Failed"),
        pod("gone", deleting=True),
        pod("ok"),
    ]
    metrics = {n: usage(500) for n in ("pending", "failed", "gone", "ok")}
    groups = group_pods(pods, metrics, "cpu", NOW)
    assert groups.ready == 1
    assert groups.unready == {"pending"}
    assert groups.ignored == {"failed", "gone"}


def test_cpu_initialization_period() -> None:
    recent = NOW - dt.timedelta(seconds=60)
    # Started a minute ago, ready 5 s before the sample: within the metric window, unready.
    young = pod("young", start=recent, transition=NOW - dt.timedelta(seconds=5))
    # Started a minute ago, ready long before the sample: counts.
    settled = pod("settled", start=recent, transition=recent)
    # Started long ago, unready since just after its start (never ready): unready.
    never = pod("never", ready=False, transition=LONG_AGO + dt.timedelta(seconds=10))
    # Started long ago, unready since much later (it was ready once): counts for cpu.
    was = pod("was", ready=False, transition=NOW - dt.timedelta(minutes=10))
    metrics = {n: usage(100) for n in ("young", "settled", "never", "was")}
    groups = group_pods([young, settled, never, was], metrics, "cpu", NOW)
    assert groups.unready == {"young", "never"}
    assert groups.ready == 2
    # Memory ignores readiness.
    assert group_pods([young, settled, never, was], metrics, "memory", NOW).ready == 4


def test_missing_request_is_an_error() -> None:
    with pytest.raises(MetricsError, match="missing request for cpu in container c of Pod p0"):
        pod_requests([pod("p0", request=None)], "cpu")


def test_no_pods_and_no_metrics_are_errors() -> None:
    with pytest.raises(MetricsError, match="no pods returned by selector"):
        calc(1, [], {}, 50)
    with pytest.raises(MetricsError, match="did not receive metrics"):
        calc(1, [pod("p0", phase="Pending")], {"p0": 100}, 50)


def test_raw_average_value() -> None:
    pods = [pod(f"p{i}") for i in range(3)]
    metrics = {"p0": usage(300), "p1": usage(500), "p2": usage(700)}
    assert raw_resource_replicas(3, 400, "cpu", pods, metrics, NOW) == (4, 500)
    assert raw_resource_replicas(3, 480, "cpu", pods, metrics, NOW) == (3, 500)


def test_legacy_rules() -> None:
    # No behavior: a scale-up is capped at max(2 * current, 4).
    assert convert_with_rules(1, 10, 1, 10)[:2] == (4, "ScaleUpLimit")
    assert convert_with_rules(3, 10, 1, 10)[:2] == (6, "ScaleUpLimit")
    assert convert_with_rules(3, 10, 1, 5)[:2] == (5, "TooManyReplicas")
    assert convert_with_rules(3, 0, 2, 5)[:2] == (2, "TooFewReplicas")
    assert convert_with_rules(3, 4, 1, 5)[:2] == (4, "DesiredWithinRange")


def test_default_behavior_rates() -> None:
    up, down = rules_from(HorizontalPodAutoscalerBehavior(), downscale_stabilization=300)
    assert up.stabilization_window == 0 and down.stabilization_window == 300
    # Scale up: max(+4 pods, +100%) per 15 s.
    assert scale_up_limit(2, [], [], up, 100) == 6
    assert scale_up_limit(10, [], [], up, 100) == 20
    # After adding 4 within the period, the period started at 6 replicas.
    assert scale_up_limit(10, [ScaleEvent(4, 95)], [], up, 100) == 12
    assert scale_up_limit(10, [ScaleEvent(4, 80)], [], up, 100) == 20
    # A scale-down within the period counts too: it started at 12.
    assert scale_up_limit(10, [], [ScaleEvent(2, 95)], up, 100) == 24
    # Scale down: 100% per 15 s.
    assert scale_down_limit(10, [], [], down, 100) == 0


def test_select_policy() -> None:
    policies = (Policy("Pods", 1, 60), Policy("Percent", 50, 60))
    assert scale_up_limit(10, [], [], Rules(0, "Min", policies), 0) == 11
    assert scale_up_limit(10, [], [], Rules(0, "Max", policies), 0) == 15
    assert scale_up_limit(10, [], [], Rules(0, "Disabled", policies), 0) == 10
    assert scale_down_limit(10, [], [], Rules(0, "Min", policies), 0) == 9
    assert scale_down_limit(10, [], [], Rules(0, "Max", policies), 0) == 5
    assert scale_down_limit(10, [], [], Rules(0, "Disabled", policies), 0) == 10


def test_stabilization_reasons() -> None:
    up = Rules(0, "Max", ())
    down = Rules(300, "Max", ())
    recs = [(8, 10.0), (5, 200.0)]
    assert stabilize(recs, 3, 6, up, down, 250.0) == (
        6,
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent "
        "recommendation",
    )
    assert stabilize(recs, 9, 6, up, down, 250.0)[:2] == (9, "ScaleUpStabilized")


def test_parse_duration() -> None:
    assert parse_duration("15s") == 15
    assert parse_duration("5m0s") == 300
    assert parse_duration("1m30s") == 90
    assert parse_duration("250ms") == 0.25
    assert parse_duration("0.5") == 0.5
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration("5 minutes")


# -- properties --------------------------------------------------------------------------------

levels = st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=12)


@given(levels, st.integers(min_value=1, max_value=200), st.integers(min_value=1, max_value=20))
def test_within_tolerance_no_change(values: list[int], target: int, current: int) -> None:
    pods = [pod(f"p{i}") for i in range(len(values))]
    metrics = {f"p{i}": usage(v) for i, v in enumerate(values)}
    replicas, utilization, _ = resource_replicas(current, target, "cpu", pods, metrics, NOW)
    if Tolerances().within(utilization / target):
        assert replicas == current
    else:
        assert replicas == math.ceil(utilization / target * len(values))


@given(
    levels,
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=1, max_value=200),
)
def test_missing_metrics_never_reverse_the_direction(
    values: list[int], missing: int, target: int
) -> None:
    pods = [pod(f"p{i}") for i in range(len(values) + missing)]
    current = len(pods)
    metrics = {f"p{i}": usage(v) for i, v in enumerate(values)}
    replicas, utilization, _ = resource_replicas(current, target, "cpu", pods, metrics, NOW)
    ratio = utilization / target
    if ratio > 1:
        assert replicas >= current
    elif ratio < 1:
        assert replicas <= current
    else:
        assert replicas == current
    if not missing and Tolerances().within(ratio):
        assert replicas == current


@st.composite
def bounds(draw: st.DrawFn) -> tuple[int, int, int]:
    low = draw(st.integers(min_value=0, max_value=20))
    high = draw(st.integers(min_value=max(low, 1), max_value=40))
    current = draw(st.integers(min_value=low, max_value=high))
    return low, high, current


policies = st.lists(
    st.builds(
        Policy,
        st.sampled_from(["Pods", "Percent"]),
        st.integers(min_value=1, max_value=200),
        st.integers(min_value=1, max_value=120).map(float),
    ),
    min_size=1,
    max_size=3,
)
rules = st.builds(Rules, st.just(0.0), st.sampled_from(["Max", "Min", "Disabled"]), policies)
events = st.lists(
    st.builds(
        ScaleEvent, st.integers(min_value=0, max_value=10), st.floats(min_value=0, max_value=200)
    ),
    max_size=5,
)


@given(bounds(), st.integers(min_value=0, max_value=100), rules, rules, events, events)
def test_result_within_min_and_max(
    limits: tuple[int, int, int],
    desired: int,
    up: Rules,
    down: Rules,
    ups: list[ScaleEvent],
    downs: list[ScaleEvent],
) -> None:
    low, high, current = limits
    now = 200.0
    replicas, _, _ = convert_with_behavior(
        current,
        desired,
        low,
        high,
        scale_up_limit(current, ups, downs, up, now),
        scale_down_limit(current, ups, downs, down, now),
    )
    assert low <= replicas <= high
    # The rate limits never turn a scale-up into a scale-down, or the reverse.
    if desired >= current:
        assert current <= replicas <= desired or replicas == high
    else:
        assert desired <= replicas <= current or replicas == low
    legacy, _, _ = convert_with_rules(current, desired, low, high)
    assert low <= legacy <= high


recommendations = st.lists(
    st.tuples(st.integers(min_value=0, max_value=50), st.floats(min_value=0, max_value=1000)),
    max_size=10,
)


@given(
    recommendations,
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=1, max_value=50),
    st.floats(min_value=0, max_value=600),
)
def test_scale_down_stabilization_picks_the_highest_recommendation_in_the_window(
    recs: list[tuple[int, float]], desired: int, current: int, window: float
) -> None:
    now = 1000.0
    in_window = [r for r, at in recs if at > now - window]
    got, _, _ = stabilize(
        recs, desired, current, Rules(0, "Max", ()), Rules(window, "Max", ()), now
    )
    if desired < current:
        assert got == min(current, max([desired, *in_window]))
    legacy = stabilize_legacy(recs, desired, window, now)
    assert legacy == max([desired, *(r for r, at in recs if at >= now - window)])


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("horizontal-pod-autoscaler-sync-period", "0s", "must be positive"),
        ("horizontal-pod-autoscaler-sync-period", "soon", "invalid duration"),
        ("horizontal-pod-autoscaler-tolerance", "-0.1", "must be zero or more"),
        ("horizontal-pod-autoscaler-downscale-stabilization", "-300", "must be zero or more"),
    ],
)
def test_bad_options_are_named(name: str, value: str, words: str) -> None:
    from kframe.controller import ControllerContext, FixedMetrics, SharedInformers
    from kframe_plugins.controllers.podautoscaler import HorizontalController

    client: Any = object()
    ctx = ControllerContext("hpa", client, SharedInformers(client), options={name: value})
    with pytest.raises(ValueError, match=f"--option {name}={value}: .*{words}"):
        HorizontalController(ctx, FixedMetrics())
