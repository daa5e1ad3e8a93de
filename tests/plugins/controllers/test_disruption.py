"""PodDisruptionBudget status: the arithmetic as pure functions (with Hypothesis properties) and
the disruption controller in a control plane, agreeing with the API server's ``pods/eviction``
(cases after upstream's disruption_test.go, names cited)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Deployment, Event, Pod, PodDisruptionBudget, PodStatus, ReplicaSet
from kframe.apiserver import APIError
from kframe.apiserver._subresources import evict
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import disruption
from kframe_plugins.controllers.disruption._budget import (
    DELETION_TIMEOUT,
    BudgetError,
    count_healthy,
    desired_healthy,
    disrupted_pod_map,
    disruptions_allowed,
    scaled_value,
)

NS = "default"
LABELS = {"app": "db"}
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def pod_model(name: str, *, ready: bool = True, deleting: bool = False) -> Pod:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "labels": LABELS}
    if deleting:
        meta["deletionTimestamp"] = NOW.isoformat()
    return from_dict(
        {
            "metadata": meta,
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        },
        Pod,
    )


# -- pure ----------------------------------------------------------------------------------------


def test_scaled_values_round_up() -> None:
    assert scaled_value(3, 10, round_up=True) == 3
    assert scaled_value("25%", 10, round_up=True) == 3
    assert scaled_value("25%", 10, round_up=False) == 2
    with pytest.raises(BudgetError, match="not a percentage"):
        scaled_value("3", 10, round_up=True)
    with pytest.raises(BudgetError, match='invalid value "x%"'):
        scaled_value("x%", 10, round_up=True)


def test_desired_healthy() -> None:
    assert desired_healthy(2, None, 5) == 2
    assert desired_healthy("50%", None, 5) == 3  # TestMinAvailable... percentages round up
    assert desired_healthy(None, 1, 5) == 4
    assert desired_healthy(None, "30%", 5) == 3  # 5 - ceil(1.5)
    assert desired_healthy(None, 7, 5) == 0
    assert desired_healthy(None, None, 5) == 0


def test_disrupted_pods_expire_or_go_with_their_pod() -> None:
    pods = [pod_model("a"), pod_model("b"), pod_model("c", deleting=True)]
    recent = NOW - dt.timedelta(seconds=30)
    old = NOW - dt.timedelta(seconds=DELETION_TIMEOUT + 1)
    disrupted = {"a": recent, "b": old, "c": recent, "gone": recent}
    kept, recheck, expired = disrupted_pod_map(pods, disrupted, NOW)
    assert kept == {"a": recent}
    assert recheck == recent + dt.timedelta(seconds=DELETION_TIMEOUT)
    assert [p.metadata.name for p in expired if p.metadata] == ["b"]
    # a is evicted (not counted), b's eviction expired (counted), c is being deleted.
    assert count_healthy(pods, kept, NOW) == 1


int_or_percent = st.one_of(
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=0, max_value=100).map(lambda p: f"{p}%"),
)


@given(
    st.one_of(st.none(), int_or_percent), st.one_of(st.none(), int_or_percent), st.integers(0, 30)
)
def test_desired_healthy_bounds(min_available: Any, max_unavailable: Any, expected: int) -> None:
    desired = desired_healthy(min_available, max_unavailable, expected)
    assert desired >= 0
    if max_unavailable is not None:
        assert desired <= expected
    elif isinstance(min_available, str):
        assert desired <= expected  # a percentage of what is expected


@given(st.integers(0, 40), st.integers(0, 40), st.integers(-2, 40))
def test_disruptions_allowed(current: int, desired: int, expected: int) -> None:
    allowed = disruptions_allowed(current, desired, expected)
    assert allowed >= 0
    if expected <= 0:
        assert allowed == 0
    if allowed > 0:
        assert current - allowed == desired  # evicting them all leaves exactly the desired


@given(
    st.lists(st.tuples(st.booleans(), st.booleans()), max_size=8),
    st.dictionaries(
        st.sampled_from([f"p{i}" for i in range(10)]), st.integers(0, 2 * int(DELETION_TIMEOUT))
    ),
)
def test_healthy_never_counts_evicted_or_deleting_pods(
    flags: list[tuple[bool, bool]], ages: dict[str, int]
) -> None:
    pods = [pod_model(f"p{i}", ready=r, deleting=d) for i, (r, d) in enumerate(flags)]
    disrupted = {n: NOW - dt.timedelta(seconds=a) for n, a in ages.items()}
    kept, recheck, _ = disrupted_pod_map(pods, disrupted, NOW)
    live = {p.metadata.name for p in pods if p.metadata and not p.metadata.deletion_timestamp}
    assert set(kept) <= live
    assert all(when + dt.timedelta(seconds=DELETION_TIMEOUT) >= NOW for when in kept.values())
    if kept:
        assert recheck == min(kept.values()) + dt.timedelta(seconds=DELETION_TIMEOUT)
    healthy = count_healthy(pods, kept, NOW)
    # Upstream's two checks differ at exactly the timeout: buildDisruptedPodMap keeps an entry
    # until its expected deletion is Before now, countHealthyPods skips one only while it is
    # After now. So a pod evicted exactly DELETION_TIMEOUT ago is kept and counted healthy.
    timeout = dt.timedelta(seconds=DELETION_TIMEOUT)
    ready_live = [
        p
        for (r, d), p in zip(flags, pods, strict=True)
        if r
        and not d
        and p.metadata
        and (p.metadata.name not in kept or kept[p.metadata.name] + timeout == NOW)
    ]
    assert healthy == len(ready_live)


# -- the controller ------------------------------------------------------------------------------


def run(body: Callable[[ControlPlane], Awaitable[None]]) -> None:
    async def main() -> None:
        async with control_plane([disruption.NAME]) as cp:
            await body(cp)

    asyncio.run(main())


async def make_pod(cp: ControlPlane, name: str, *, ready: bool = True, owner: Any = None) -> Pod:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "labels": LABELS}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": owner.API_VERSION,
                "kind": owner.KIND,
                "name": owner.metadata.name,
                "uid": owner.metadata.uid,
                "controller": True,
            }
        ]
    created = await cp.client.create(
        from_dict({"metadata": meta, "spec": {"containers": [{"name": "c", "image": "i"}]}}, Pod)
    )
    status = from_dict(
        {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
        PodStatus,
    )
    return await cp.client.update(attrs.evolve(created, status=status), subresource="status")


def budget(**spec: Any) -> PodDisruptionBudget:
    return from_dict(
        {
            "metadata": {"name": "db", "namespace": NS},
            "spec": {"selector": {"matchLabels": LABELS}, **spec},
        },
        PodDisruptionBudget,
    )


async def status_where(cp: ControlPlane, check: Callable[[Any], bool]) -> Any:
    async def probe() -> Any:
        got = await cp.client.get(PodDisruptionBudget, "db", namespace=NS)
        return got.status if got.status is not None and check(got.status) else None

    return await cp.wait_for(probe, what="the budget's status")


def allowed_condition(status: Any) -> tuple[str, str]:
    (cond,) = [c for c in status.conditions if c.type == "DisruptionAllowed"]
    return cond.status, cond.reason


async def evict_pod(cp: ControlPlane, name: str) -> None:
    server = cp.server
    await evict(
        server.storage("", "v1", "pods"),
        server.storage("policy", "v1", "poddisruptionbudgets"),
        NS,
        name,
        {},
    )


def test_min_available_and_eviction_agree() -> None:
    # TestMinAvailable / TestBasicFinderFunctions-like: 3 ready pods, minAvailable 2.
    async def body(cp: ControlPlane) -> None:
        for i in range(3):
            await make_pod(cp, f"db-{i}")
        await cp.client.create(budget(minAvailable=2))
        status = await status_where(cp, lambda s: s.disruptions_allowed == 1)
        assert (status.expected_pods, status.current_healthy, status.desired_healthy) == (3, 3, 2)
        assert status.observed_generation == 1
        assert allowed_condition(status) == ("True", "SufficientPods")
        # The eviction consumes the one disruption and records the pod...
        await evict_pod(cp, "db-0")
        with pytest.raises(APIError) as refused:
            await evict_pod(cp, "db-1")
        assert refused.value.code == 429
        # ... and once the pod is gone, the controller drops it from disruptedPods.
        status = await status_where(cp, lambda s: not s.disrupted_pods and s.expected_pods == 2)
        assert (status.current_healthy, status.disruptions_allowed) == (2, 0)
        assert allowed_condition(status) == ("False", "InsufficientPods")
        await make_pod(cp, "db-3")
        status = await status_where(cp, lambda s: s.disruptions_allowed == 1)
        await evict_pod(cp, "db-1")

    run(body)


def test_unready_pods_are_not_healthy() -> None:
    async def body(cp: ControlPlane) -> None:
        await make_pod(cp, "db-0")
        await make_pod(cp, "db-1", ready=False)
        await cp.client.create(budget(maxUnavailable=1))
        # maxUnavailable needs the controllers' scale: these pods have none (unmanaged, 0).
        status = await status_where(cp, lambda s: s.current_healthy == 1)
        assert (status.expected_pods, status.desired_healthy, status.disruptions_allowed) == (
            0,
            0,
            0,
        )
        events = await cp.wait_for(lambda: _events(cp, "UnmanagedPods"))
        assert events[0].message == (
            "Pods selected by this PodDisruptionBudget (selector: &LabelSelector{MatchLabels:"
            "map[string]string{app: db,},MatchExpressions:[]LabelSelectorRequirement{},}) were "
            "found to be unmanaged. As a result, the status of the PDB cannot be calculated "
            "correctly, which may result in undefined behavior. To account for these pods please "
            'set ".spec.minAvailable" field of the PDB to an integer value.'
        )

    run(body)


def test_percentages_use_the_controllers_scale() -> None:
    # TestReplicaSet-like: maxUnavailable 25% of a ReplicaSet of 4 with 3 pods so far.
    async def body(cp: ControlPlane) -> None:
        rs = await cp.client.create(
            from_dict(
                {
                    "metadata": {"name": "db", "namespace": NS},
                    "spec": {
                        "replicas": 4,
                        "selector": {"matchLabels": LABELS},
                        "template": {
                            "metadata": {"labels": LABELS},
                            "spec": {"containers": [{"name": "c", "image": "i"}]},
                        },
                    },
                },
                ReplicaSet,
            )
        )
        for i in range(3):
            await make_pod(cp, f"db-{i}", owner=rs)
        await cp.client.create(budget(maxUnavailable="25%"))
        status = await status_where(cp, lambda s: s.expected_pods == 4)
        assert (status.current_healthy, status.desired_healthy, status.disruptions_allowed) == (
            3,
            3,
            0,
        )
        await make_pod(cp, "db-3", owner=rs)
        await status_where(cp, lambda s: s.disruptions_allowed == 1)

    run(body)


def test_a_pod_whose_controller_has_no_scale_fails_safe() -> None:
    async def body(cp: ControlPlane) -> None:
        from kframe.api.models import ConfigMap

        owner = await cp.client.create(
            from_dict({"metadata": {"name": "owner", "namespace": NS}}, ConfigMap)
        )
        await make_pod(cp, "db-0", owner=owner)
        await cp.client.create(budget(minAvailable="50%"))
        status = await status_where(
            cp, lambda s: any(c.reason == "SyncFailed" for c in s.conditions)
        )
        assert status.disruptions_allowed == 0
        (cond,) = [c for c in status.conditions if c.type == "DisruptionAllowed"]
        assert cond.status == "False"
        assert "does not implement the scale subresource" in (cond.message or "")

    run(body)


def test_stale_disruption_target_condition_is_reset() -> None:
    async def body(cp: ControlPlane) -> None:
        created = await make_pod(cp, "db-0")
        stale = (NOW - dt.timedelta(days=1)).isoformat()
        assert created.status is not None
        status = from_dict(
            {
                "phase": "Running",
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {
                        "type": "DisruptionTarget",
                        "status": "True",
                        "reason": "EvictionByEvictionAPI",
                        "lastTransitionTime": stale,
                    },
                ],
            },
            PodStatus,
        )
        await cp.client.update(attrs.evolve(created, status=status), subresource="status")

        async def reset() -> bool:
            got = await cp.client.get(Pod, "db-0", namespace=NS)
            conds = got.status.conditions if got.status else ()
            return any(c.type == "DisruptionTarget" and c.status == "False" for c in conds)

        await cp.wait_for(reset, what="DisruptionTarget reset to False")

    run(body)


async def _events(cp: ControlPlane, reason: str) -> list[Event]:
    listed = await cp.client.list(Event, namespace=NS)
    return [e for e in listed.items if e.reason == reason]


def test_a_deployments_replica_set_counts_the_deployments_scale() -> None:
    # TestReplicationControllerFinder / getPodDeployment: pod -> ReplicaSet -> Deployment.
    async def body(cp: ControlPlane) -> None:
        template = {
            "metadata": {"labels": LABELS},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        }
        spec = {"selector": {"matchLabels": LABELS}, "template": template}
        deployment = await cp.client.create(
            from_dict(
                {"metadata": {"name": "db", "namespace": NS}, "spec": {**spec, "replicas": 5}},
                Deployment,
            )
        )
        assert deployment.metadata is not None
        owner = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "db",
            "uid": deployment.metadata.uid,
            "controller": True,
        }
        rs = await cp.client.create(
            from_dict(
                {
                    "metadata": {"name": "db-1", "namespace": NS, "ownerReferences": [owner]},
                    "spec": {**spec, "replicas": 3},
                },
                ReplicaSet,
            )
        )
        for i in range(3):
            await make_pod(cp, f"db-{i}", owner=rs)
        await cp.client.create(budget(minAvailable="60%"))
        status = await status_where(cp, lambda s: s.expected_pods == 5)
        assert (status.desired_healthy, status.current_healthy, status.disruptions_allowed) == (
            3,
            3,
            0,
        )

    run(body)
