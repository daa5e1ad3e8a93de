"""The scheduler's metrics in the Prometheus text format, under upstream's names: the
exposition parses, and a scheduler's counters move as it schedules pods."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from hypothesis import given
from hypothesis import strategies as st

from kframe.api.models import Node, Pod
from kframe.client import FakeClock
from kframe.scheduler import (
    ActionType,
    ClusterEvent,
    MetricsServer,
    SchedulerMetrics,
    SchedulingQueue,
    metrics_of,
)
from kframe.scheduler._metrics import (
    ATTEMPT_BUCKETS,
    EXTENSION_POINT_BUCKETS,
    SLI_BUCKETS,
    VICTIM_BUCKETS,
)
from kframe.testing.scheduler import make_node, make_pod
from tests.scheduler.promtext import parse, value
from tests.scheduler.test_scheduler import _plain, cluster, eventually, node_of


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
    parse(text)


def test_buckets_are_upstreams() -> None:
    assert len(ATTEMPT_BUCKETS) == 15
    assert ATTEMPT_BUCKETS[0] == 0.001 and round(ATTEMPT_BUCKETS[-1], 6) == 16.384
    assert len(EXTENSION_POINT_BUCKETS) == 12 and EXTENSION_POINT_BUCKETS[0] == 0.0001
    assert len(SLI_BUCKETS) == 20 and SLI_BUCKETS[0] == 0.01
    assert VICTIM_BUCKETS == (1, 2, 4, 8, 16, 32, 64)


def test_every_family_renders_and_parses_with_upstreams_labels() -> None:
    metrics = SchedulerMetrics(
        lambda: {"active": 0, "backoff": 1, "unschedulable": 0, "gated": 2},
        unschedulable=lambda: {("NodeResourcesFit", "default-scheduler"): 1},
        cache_size=lambda: {"nodes": 3, "pods": 2, "assumed_pods": 1},
    )
    metrics.extension_point("Filter", "Success", "default-scheduler", 0.0003)
    metrics.extension_point("PreFilter", "UnschedulableAndUnresolvable", "p", 0.00001)
    metrics.pod_scheduled("default-scheduler", 0.01, 1, 0.02)
    metrics.pod_scheduled("default-scheduler", 0.01, 17, 30.0)
    metrics.incoming("active", "UnschedulablePodAdd")
    metrics.incoming("backoff", "ScheduleAttemptFailure")
    metrics.preemption_attempt()
    metrics.preemption_victims(3)
    metrics.algorithm_duration(0.004)
    types, samples = parse(metrics.render())
    assert types == {
        "scheduler_framework_extension_point_duration_seconds": "histogram",
        "scheduler_scheduler_cache_size": "gauge",
        "scheduler_unschedulable_pods": "gauge",
        "scheduler_pod_scheduling_attempts": "histogram",
        "scheduler_pod_scheduling_sli_duration_seconds": "histogram",
        "scheduler_pending_pods": "gauge",
        "scheduler_preemption_attempts_total": "counter",
        "scheduler_preemption_victims": "histogram",
        "scheduler_queue_incoming_pods_total": "counter",
        "scheduler_schedule_attempts_total": "counter",
        "scheduler_scheduling_algorithm_duration_seconds": "histogram",
        "scheduler_scheduling_attempt_duration_seconds": "histogram",
    }
    name = "scheduler_framework_extension_point_duration_seconds_count"
    assert value(samples, name, extension_point="Filter", profile="default-scheduler",
                 status="Success") == 1  # fmt: skip
    assert value(samples, "scheduler_pending_pods", queue="gated") == 2
    # Attempts past 14 share one label, as upstream caps it.
    sli = "scheduler_pod_scheduling_sli_duration_seconds_count"
    assert value(samples, sli, attempts="1") == value(samples, sli, attempts="15+") == 1
    assert value(samples, "scheduler_pod_scheduling_attempts_count") == 2
    assert value(samples, "scheduler_preemption_victims_bucket", le="2") == 0
    assert value(samples, "scheduler_preemption_victims_bucket", le="4") == 1
    incoming = "scheduler_queue_incoming_pods_total"
    assert value(samples, incoming, event="UnschedulablePodAdd", queue="active") == 1
    assert value(samples, "scheduler_preemption_attempts_total") == 1


def test_an_idle_scheduler_exposes_only_the_families_with_samples() -> None:
    types, samples = parse(SchedulerMetrics().render())
    assert "scheduler_schedule_attempts_total" not in types  # a vector with no children
    assert value(samples, "scheduler_preemption_attempts_total") == 0


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), max_size=30))
def test_histograms_stay_cumulative_whatever_is_observed(seconds: list[float]) -> None:
    metrics = SchedulerMetrics()
    for s in seconds:
        metrics.attempt("error", "p", s)
        metrics.extension_point("Score", "Success", "p", s)
    _, samples = parse(metrics.render())  # parse checks every histogram's invariants
    count = "scheduler_scheduling_attempt_duration_seconds_count"
    assert value(samples, count, profile="p", result="error") == len(seconds)


def test_label_values_are_escaped() -> None:
    metrics = SchedulerMetrics()
    metrics.attempt("error", 'we"ird\\pro\nfile', 0.1)
    _, samples = parse(metrics.render())
    name = "scheduler_schedule_attempts_total"
    assert value(samples, name, profile='we"ird\\pro\nfile', result="error") == 1


def test_metrics_of_a_handle() -> None:
    class Offline:
        pass

    class WithMetrics:
        metrics = SchedulerMetrics()

    assert metrics_of(Offline()) is None
    assert metrics_of(WithMetrics()) is WithMetrics.metrics


def test_a_scheduler_counts_what_it_schedules_and_serves_it() -> None:
    async def main() -> None:
        async with cluster() as (client, scheduler):
            before = parse(scheduler.metrics.render())[1]
            assert value(before, "scheduler_pending_pods", queue="active") == 0
            # Only bad nodes: the pod is unschedulable until a good node comes.
            await client.create(_plain(make_node("bad1")))
            await client.create(_plain(make_pod("web")))
            name = "scheduler_schedule_attempts_total"

            async def counted(result: str) -> float:
                samples = parse(scheduler.metrics.render())[1]
                return value(samples, name, profile="default-scheduler", result=result)

            await eventually(lambda: counted("unschedulable"))
            waiting = parse(scheduler.metrics.render())[1]
            rejected = "scheduler_unschedulable_pods"
            assert value(waiting, rejected, plugin="RejectNode", profile="default-scheduler") == 1
            await client.create(_plain(make_node("n7")))
            await client.create(_plain(make_pod("api")))
            assert await eventually(lambda: node_of(client, "web")) == "n7"
            assert await eventually(lambda: node_of(client, "api")) == "n7"

            async def both_scheduled() -> bool:
                return await counted("scheduled") >= 2

            await eventually(both_scheduled)

            endpoint = MetricsServer(scheduler.metrics, lambda: scheduler.synced)
            await endpoint.start("127.0.0.1", 0)
            try:
                async with aiohttp.ClientSession() as http:
                    async with http.get(f"{endpoint.url}/metrics") as response:
                        assert response.status == 200
                        assert response.headers["Content-Type"].startswith(
                            "text/plain; version=0.0.4"
                        )
                        _, samples = parse(await response.text())
                    for path in ("/healthz", "/livez", "/readyz"):
                        async with http.get(f"{endpoint.url}{path}") as response:
                            assert (response.status, await response.text()) == (200, "ok")
            finally:
                await endpoint.stop()
            assert value(samples, name, profile="default-scheduler", result="unschedulable") >= 1
            assert value(samples, name, profile="default-scheduler", result="scheduled") == 2
            points = "scheduler_framework_extension_point_duration_seconds_count"
            # One node fits, so nothing is scored (upstream does not score one node either).
            for point in ("PreFilter", "Filter", "Reserve", "Permit", "PreBind", "Bind"):
                labels = {"extension_point": point, "profile": "default-scheduler"}
                assert value(samples, points, **labels, status="Success") >= 1, point
            incoming = "scheduler_queue_incoming_pods_total"
            assert value(samples, incoming, event="UnschedulablePodAdd", queue="active") == 2
            assert value(samples, incoming, event="ScheduleAttemptFailure", queue="unschedulable")
            assert value(samples, "scheduler_pod_scheduling_attempts_count") == 2
            cache = "scheduler_scheduler_cache_size"
            assert value(samples, cache, type="nodes") == 2
            assert value(samples, cache, type="pods") == 2
            assert value(
                samples, "scheduler_pod_scheduling_sli_duration_seconds_count", attempts="1"
            )
            pod = await client.get(Pod, "web", namespace="default")
            assert pod.spec is not None and pod.spec.node_name == "n7"

    asyncio.run(main())


def test_readyz_fails_until_the_informers_synced() -> None:
    async def main() -> None:
        endpoint = MetricsServer(SchedulerMetrics(), lambda: False)
        await endpoint.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{endpoint.url}/readyz") as response:
                    assert response.status == 500
                async with http.get(f"{endpoint.url}/healthz") as response:
                    assert response.status == 200
        finally:
            await endpoint.stop()

    asyncio.run(main())


def test_the_queue_counts_pods_entering_each_queue_by_upstreams_event_labels() -> None:
    async def main() -> None:
        clock = FakeClock()
        metrics = SchedulerMetrics()
        queue = SchedulingQueue(
            lambda a, b: a.timestamp < b.timestamp, clock=clock, incoming=metrics.incoming
        )
        queue.add(make_pod("a"))
        queue.add(make_pod("b"))
        for _ in range(2):
            qpi = await queue.pop()
            qpi.unschedulable_plugins = {"NodeResourcesFit"}
            queue.add_unschedulable(qpi, queue.scheduling_cycle - 1)
        clock.advance(20)  # past the backoff: an event sends them straight to active
        queue.move_on_event(ClusterEvent("Node", ActionType.UPDATE_NODE_LABEL))
        qpi = await queue.pop()
        qpi.unschedulable_plugins = set()  # an error, no plugin named: backoff
        queue.add_unschedulable(qpi, queue.scheduling_cycle)
        clock.advance(20)
        queue.flush_backoff_completed()
        assert metrics.incoming_pods == {
            (("event", "UnschedulablePodAdd"), ("queue", "active")): 2,
            (("event", "ScheduleAttemptFailure"), ("queue", "unschedulable")): 2,
            (("event", "NodeUpdateNodeLabel"), ("queue", "active")): 2,
            (("event", "ScheduleAttemptFailure"), ("queue", "backoff")): 1,
            (("event", "BackoffComplete"), ("queue", "active")): 1,
        }

    asyncio.run(main())


def test_a_preemption_counts_an_attempt_and_its_victims() -> None:
    from kframe.api import to_dict
    from kframe.apiserver import APIServer
    from kframe.client import InProcessClient
    from kframe.scheduler import Scheduler, parse_config
    from kframe.store import open_store
    from tests.plugins.scheduler.test_defaultpreemption import BASE_FACTORIES, E2E_CONFIG

    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.bootstrap()
        client = InProcessClient(server)
        scheduler = Scheduler(client, parse_config(E2E_CONFIG), BASE_FACTORIES.__getitem__)
        task = asyncio.ensure_future(scheduler.run())
        try:
            n1 = make_node("n1", cpu="1", memory="1Gi", pods="10")
            await client.create(_plain(n1))
            status = to_dict(n1)["status"]
            await client.patch(Node, "n1", {"status": status}, subresource="status")
            low = make_pod(
                "low", cpu="800m", node="n1", priority=0, spec={"terminationGracePeriodSeconds": 0}
            )
            await client.create(_plain(low))
            await client.create(_plain(make_pod("high", cpu="500m", priority=1000)))
            assert await eventually(lambda: node_of(client, "high")) == "n1"
            _, samples = parse(scheduler.metrics.render())
            assert value(samples, "scheduler_preemption_attempts_total") >= 1
            assert value(samples, "scheduler_preemption_victims_count") == 1
            assert value(samples, "scheduler_preemption_victims_bucket", le="1") == 1
            points = "scheduler_framework_extension_point_duration_seconds_count"
            labels = {"extension_point": "PostFilter", "profile": "default-scheduler"}
            assert value(samples, points, **labels, status="Success") == 1
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await client.close()
            await server.store.close()

    asyncio.run(main())
