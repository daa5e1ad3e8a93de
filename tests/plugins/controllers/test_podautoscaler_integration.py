"""The HPA controller in a control plane: a fixed metrics source, a ReplicaSet with hand-made
pods (no ReplicaSet controller runs), and the ReplicaSet's ``spec.replicas`` written through
its scale subresource."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest

from kframe.api import from_dict, to_dict
from kframe.api.models import (
    Deployment,
    Event,
    HorizontalPodAutoscaler,
    Pod,
    PodStatus,
    ReplicaSet,
    StatefulSet,
)
from kframe.client import InProcessClient
from kframe.controller import ContainerUsage, FixedMetrics
from kframe.kubelet import KubeletHost
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import podautoscaler

NS = "default"
LABELS = {"app": "web"}


def replica_set(replicas: int) -> ReplicaSet:
    return from_dict(
        {
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": LABELS},
                "template": {
                    "metadata": {"labels": LABELS},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
        ReplicaSet,
    )


def hpa(behavior: dict[str, Any] | None = None, **target: Any) -> HorizontalPodAutoscaler:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": target or {"type": "Utilization", "averageUtilization": 50},
                },
            }
        ],
    }
    if behavior is not None:
        spec["behavior"] = behavior
    return from_dict(
        {"metadata": {"name": "web", "namespace": NS}, "spec": spec}, HorizontalPodAutoscaler
    )


async def running_pod(cp: ControlPlane, name: str) -> None:
    """A Running, Ready pod started long ago (past the cpu initialization period)."""
    pod = from_dict(
        {
            "metadata": {"name": name, "namespace": NS, "labels": LABELS},
            "spec": {
                "containers": [
                    {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100m"}}}
                ]
            },
        },
        Pod,
    )
    created = await cp.client.create(pod)
    long_ago = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    status = from_dict(
        {
            "phase": "Running",
            "startTime": long_ago.isoformat(),
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": long_ago.isoformat()}
            ],
        },
        PodStatus,
    )
    await cp.client.update(attrs.evolve(created, status=status), subresource="status")


def run(metrics: FixedMetrics, body: Callable[[ControlPlane], Awaitable[None]]) -> None:
    async def main() -> None:
        async with control_plane(
            [podautoscaler.NAME],
            specs={podautoscaler.NAME: podautoscaler.spec(metrics)},
            options={"horizontal-pod-autoscaler-sync-period": "0.05"},
        ) as cp:
            await body(cp)

    asyncio.run(main())


async def replicas(cp: ControlPlane) -> int:
    rs = await cp.client.get(ReplicaSet, "web", namespace=NS)
    assert rs.spec is not None
    return rs.spec.replicas or 0


def cpu(milli: int) -> dict[str, ContainerUsage]:
    return {"c": ContainerUsage(cpu_nano_cores=milli * 1_000_000, memory_bytes=1 << 20)}


def test_scales_a_replica_set_up_through_its_scale_subresource() -> None:
    metrics = FixedMetrics()

    async def body(cp: ControlPlane) -> None:
        await cp.client.create(replica_set(2))
        for i in range(2):
            await running_pod(cp, f"web-{i}")
            metrics.set(NS, f"web-{i}", cpu(150), labels=LABELS)  # 150% of the request
        await cp.client.create(hpa())
        # 150% against a 50% target: 3x the 2 ready pods, within max(2*2, 4) = 4 (no behavior).
        await cp.wait_for(lambda: _eq(replicas(cp), 4), what="scale to 4")
        got = await cp.wait_for(lambda: _status(cp, lambda s: s.desired_replicas == 4))
        assert got.current_replicas == 2 and got.last_scale_time is not None
        (metric,) = got.current_metrics
        assert metric.resource.current.average_utilization == 150
        assert str(metric.resource.current.average_value) == "150m"
        conditions = {c.type: (c.status, c.reason) for c in got.conditions}
        assert conditions["AbleToScale"] == ("True", "SucceededRescale")
        assert conditions["ScalingActive"] == ("True", "ValidMetricFound")
        assert conditions["ScalingLimited"] == ("True", "ScaleUpLimit")
        events = await cp.wait_for(lambda: _events(cp, "SuccessfulRescale"))
        assert (
            events[0].message
            == "New size: 4; reason: cpu resource utilization (percentage of request) above target"
        )

    run(metrics, body)


def test_scales_down_at_once_with_no_stabilization_window() -> None:
    metrics = FixedMetrics()
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 0}}

    async def body(cp: ControlPlane) -> None:
        await cp.client.create(replica_set(4))
        for i in range(4):
            await running_pod(cp, f"web-{i}")
            metrics.set(NS, f"web-{i}", cpu(10), labels=LABELS)  # 10% against 50%
        await cp.client.create(hpa(behavior))
        # ceil(0.2 * 4) = 1, and the default scale-down policy allows 100% per 15 s.
        await cp.wait_for(lambda: _eq(replicas(cp), 1), what="scale to 1")
        events = await cp.wait_for(lambda: _events(cp, "SuccessfulRescale"))
        assert events[0].message == "New size: 1; reason: All metrics below target"

    run(metrics, body)


def test_without_metrics_scaling_is_inactive_and_nothing_changes() -> None:
    metrics = FixedMetrics()

    async def body(cp: ControlPlane) -> None:
        await cp.client.create(replica_set(2))
        for i in range(2):
            await running_pod(cp, f"web-{i}")
        await cp.client.create(hpa())
        got = await cp.wait_for(
            lambda: _status(
                cp,
                lambda s: any(
                    c.type == "ScalingActive" and c.reason == "FailedGetResourceMetric"
                    for c in s.conditions
                ),
            )
        )
        assert got.current_replicas == 2
        assert await replicas(cp) == 2
        failed = await cp.wait_for(lambda: _events(cp, "FailedGetResourceMetric"))
        assert failed[0].message == (
            "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics "
            "returned from resource metrics API"
        )
        computed = await cp.wait_for(lambda: _events(cp, "FailedComputeMetricsReplicas"))
        assert computed[0].message == (
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource "
            "metric value: failed to get cpu utilization: unable to get metrics for resource "
            "cpu: no metrics returned from resource metrics API"
        )
        (cond,) = [c for c in got.conditions if c.type == "ScalingActive"]
        assert cond.message == (
            "the HPA was unable to compute the replica count: failed to get cpu utilization: "
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        )

    run(metrics, body)


def test_a_failed_metric_leaves_an_empty_status_and_the_others_scale() -> None:
    metrics = FixedMetrics()

    async def body(cp: ControlPlane) -> None:
        await cp.client.create(replica_set(2))
        for i in range(2):
            await running_pod(cp, f"web-{i}")
            metrics.set(NS, f"web-{i}", cpu(150), labels=LABELS)
        base = hpa()
        assert base.spec is not None
        pods_metric = from_dict(
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": "qps"},
                    "target": {"type": "AverageValue", "averageValue": "10"},
                },
            },
            type(base.spec.metrics[0]),
        )
        spec = attrs.evolve(base.spec, metrics=(pods_metric, *base.spec.metrics))
        await cp.client.create(attrs.evolve(base, spec=spec))
        # One metric failed, the other scales up: that goes ahead.
        await cp.wait_for(lambda: _eq(replicas(cp), 4), what="scale to 4")
        got = await cp.wait_for(lambda: _status(cp, lambda s: len(s.current_metrics) == 2))
        empty, resource = got.current_metrics
        assert empty.type is None and empty.pods is None
        assert resource.resource.current.average_utilization == 150
        failed = await cp.wait_for(lambda: _events(cp, "FailedGetPodsMetric"))
        assert "no custom or external metrics API" in (failed[0].message or "")

    run(metrics, body)


def test_two_hpas_over_the_same_pods_are_ambiguous() -> None:
    metrics = FixedMetrics()

    async def body(cp: ControlPlane) -> None:
        await cp.client.create(replica_set(2))
        for i in range(2):
            await running_pod(cp, f"web-{i}")
            metrics.set(NS, f"web-{i}", cpu(150), labels=LABELS)
        await cp.client.create(hpa())
        await cp.wait_for(lambda: _eq(replicas(cp), 4), what="scale to 4")
        first = hpa()
        assert first.metadata is not None
        second = attrs.evolve(first, metadata=attrs.evolve(first.metadata, name="web2"))
        await cp.client.create(second)

        async def ambiguous() -> Any:
            got = await cp.client.get(HorizontalPodAutoscaler, "web2", namespace=NS)
            conds = got.status.conditions if got.status else ()
            return [c for c in conds if c.reason == "AmbiguousSelector"]

        (cond,) = await cp.wait_for(ambiguous, what="AmbiguousSelector")
        assert cond.type == "ScalingActive" and cond.status == "False"
        assert cond.message == (
            "pods by selector app=web are controlled by multiple HPAs: "
            "[{web default} {web2 default}]"
        )

    run(metrics, body)


def test_a_missing_target_is_reported_on_able_to_scale() -> None:
    async def body(cp: ControlPlane) -> None:
        await cp.client.create(hpa())
        got = await cp.wait_for(
            lambda: _status(cp, lambda s: any(c.reason == "FailedGetScale" for c in s.conditions))
        )
        (cond,) = [c for c in got.conditions if c.type == "AbleToScale"]
        assert cond.status == "False"
        assert "not found" in (cond.message or "")

    run(FixedMetrics(), body)


async def _eq(value: Awaitable[int], wanted: int) -> bool:
    return await value == wanted


async def _status(cp: ControlPlane, check: Callable[[Any], bool]) -> Any:
    got = await cp.client.get(HorizontalPodAutoscaler, "web", namespace=NS)
    return got.status if got.status is not None and check(got.status) else None


async def _events(cp: ControlPlane, reason: str) -> list[Event]:
    listed = await cp.client.list(Event, namespace=NS)
    return [e for e in listed.items if e.reason == reason]


def test_scales_on_what_the_kubelets_report() -> None:
    """End to end: fake-runtime kubelets serve /stats/summary, the registered controller reads
    it through KubeletSummaryMetrics. The fake runtime's containers use their whole cpu request
    (cpu_fraction 1.0): 100% against a 50% target doubles the ReplicaSet."""

    async def main() -> None:
        async with control_plane(
            [podautoscaler.NAME],
            specs={podautoscaler.NAME: podautoscaler.spec()},
            options={
                "horizontal-pod-autoscaler-sync-period": "50ms",
                # Just-started pods would otherwise be skipped for one metric window.
                "horizontal-pod-autoscaler-cpu-initialization-period": "0s",
            },
        ) as cp:
            host = KubeletHost(
                InProcessClient(cp.server), nodes=1, runtime_config={"cpu_fraction": 1.0}
            )
            task = asyncio.ensure_future(host.run())
            try:
                await asyncio.wait_for(host.wait_registered(), 30)
                await cp.client.create(replica_set(2))
                for i in range(2):
                    pod = from_dict(
                        {
                            "metadata": {"name": f"web-{i}", "namespace": NS, "labels": LABELS},
                            "spec": {
                                "nodeName": "node-0",
                                "containers": [
                                    {
                                        "name": "c",
                                        "image": "nginx",
                                        "resources": {"requests": {"cpu": "100m"}},
                                    }
                                ],
                            },
                        },
                        Pod,
                    )
                    await cp.client.create(pod)
                await cp.client.create(hpa())
                await cp.wait_for(lambda: _eq(replicas(cp), 4), what="scale to 4")
                got = await cp.wait_for(lambda: _status(cp, lambda s: s.desired_replicas == 4))
                (metric,) = got.current_metrics
                assert metric.resource.current.average_utilization == 100
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet"])
def test_scales_other_workloads_and_average_values(kind: str) -> None:
    """The scale subresource of a Deployment or StatefulSet, with an averageValue target and a
    behavior whose scale-up policy allows one pod per minute."""
    metrics = FixedMetrics()
    cls = {"Deployment": Deployment, "StatefulSet": StatefulSet}[kind]
    behavior = {"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}

    async def body(cp: ControlPlane) -> None:
        workload: Any = from_dict({**to_dict(replica_set(2)), "kind": kind}, cls)
        await cp.client.create(workload)
        for i in range(2):
            await running_pod(cp, f"web-{i}")
            metrics.set(NS, f"web-{i}", cpu(300), labels=LABELS)
        target = hpa(behavior, type="AverageValue", averageValue="100m")
        assert target.spec is not None and target.spec.scale_target_ref is not None
        ref = attrs.evolve(target.spec.scale_target_ref, kind=kind)
        await cp.client.create(
            attrs.evolve(target, spec=attrs.evolve(target.spec, scale_target_ref=ref))
        )

        async def scaled() -> Any:
            got: Any = await cp.client.get(cls, "web", namespace=NS)
            return got.spec.replicas == 3

        # 3x the target wants 6; the policy allows 2 + 1.
        await cp.wait_for(scaled, what=f"{kind} scaled to 3")
        got = await cp.wait_for(lambda: _status(cp, lambda s: s.desired_replicas == 3))
        (metric,) = got.current_metrics
        assert str(metric.resource.current.average_value) == "300m"
        assert metric.resource.current.average_utilization is None
        limited = {c.type: (c.status, c.reason) for c in got.conditions}["ScalingLimited"]
        assert limited == ("True", "ScaleUpLimit")

    run(metrics, body)
