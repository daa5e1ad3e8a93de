"""kframe.controller's pod metrics: usage in milli-units, the Summary API parsed, FixedMetrics."""

from __future__ import annotations

import asyncio
import datetime as dt
import math

from hypothesis import given
from hypothesis import strategies as st

from kframe.api import Quantity, parse_label_selector
from kframe.controller import ContainerUsage, FixedMetrics, MetricsSource, PodUsage
from kframe.controller._metrics import KubeletSummaryMetrics, pod_usage_from_summary

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=2**40))
def test_milli_values_round_up_as_quantity_does(nano: int, memory: int) -> None:
    usage = ContainerUsage(cpu_nano_cores=nano, memory_bytes=memory)
    assert usage.milli("cpu") == math.ceil(nano / 1_000_000) == Quantity(f"{nano}n").milli_value()
    assert usage.milli("memory") == Quantity(str(memory)).milli_value()
    assert usage.milli("nvidia.com/gpu") is None


def test_a_pod_lacking_a_containers_resource_has_no_value() -> None:
    pod = PodUsage(
        containers={
            "a": ContainerUsage(cpu_nano_cores=1_500_000, memory_bytes=10),
            "b": ContainerUsage(cpu_nano_cores=2_000_000),
        },
        timestamp=NOW,
    )
    assert pod.milli("cpu") == 4
    assert pod.milli("memory") is None  # upstream's metrics client drops such a pod
    assert pod.milli("memory", "a") == 10_000
    assert pod.milli("cpu", "nope") is None


def test_summary_parsing() -> None:
    summary = {
        "node": {"nodeName": "n"},
        "pods": [
            {
                "podRef": {"name": "web", "namespace": "ns", "uid": "u"},
                "containers": [
                    {
                        "name": "c",
                        "cpu": {"time": "2026-01-01T00:00:05Z", "usageNanoCores": 250_000_000},
                        "memory": {"workingSetBytes": 1024},
                    },
                    {"name": "sidecar", "cpu": {"usageNanoCores": 1}},
                ],
            },
            {"podRef": {"name": "empty", "namespace": "ns"}, "containers": []},
        ],
    }
    got = pod_usage_from_summary(summary)
    assert set(got) == {("ns", "web")}
    usage = got[("ns", "web")]
    assert usage.timestamp == dt.datetime(2026, 1, 1, 0, 0, 5, tzinfo=dt.UTC)
    assert usage.containers["c"] == ContainerUsage(cpu_nano_cores=250_000_000, memory_bytes=1024)
    assert usage.containers["sidecar"].memory_bytes is None
    assert usage.milli("cpu") == 251


def test_fixed_metrics_select_by_namespace_and_labels() -> None:
    metrics = FixedMetrics()
    source: MetricsSource = metrics
    metrics.set("ns", "a", {"c": ContainerUsage(cpu_nano_cores=1)}, labels={"app": "web"})
    metrics.set("ns", "b", {"c": ContainerUsage(cpu_nano_cores=1)}, labels={"app": "db"})
    metrics.set("ns", "any", {"c": ContainerUsage(cpu_nano_cores=1)})
    metrics.set("other", "a", {"c": ContainerUsage(cpu_nano_cores=1)})
    got = asyncio.run(source.pod_metrics("ns", parse_label_selector("app=web")))
    assert set(got) == {"a", "any"}
    metrics.forget("ns", "any")
    assert set(asyncio.run(source.pod_metrics("ns", parse_label_selector("")))) == {"a", "b"}


def test_the_reference_source_is_a_metrics_source() -> None:
    assert isinstance(KubeletSummaryMetrics(object()), MetricsSource)  # type: ignore[arg-type]
