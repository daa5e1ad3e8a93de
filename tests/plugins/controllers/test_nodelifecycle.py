"""The node lifecycle controller in a control plane, with nodes, leases and pods written by
the test: a silent node becomes Unknown and tainted, pods are marked not ready and evicted as
their tolerations say, a recovered node loses its taints."""

from __future__ import annotations

import datetime as _dt
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api.models import Node, Pod, Taint, Toleration
from kframe.controller import ControllerContext
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import nodelifecycle
from kframe_plugins.controllers.nodelifecycle import (
    NOT_READY,
    UNREACHABLE,
    min_toleration_seconds,
    parse_go_duration,
)
from kframe_plugins.controllers.nodelifecycle._options import Options, options_from
from tests.controller.asyncrun import sync
from tests.plugins.controllers.nodelifecycle_objects import (
    make_node,
    post_status,
    renew_lease,
    running_pod,
)

FAST = {
    "node-monitor-period": "50ms",
    "node-monitor-grace-period": "1s",
    "node-startup-grace-period": "1s",
}


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _taints(node: Node) -> set[tuple[str, str]]:
    return {(t.key or "", t.effect or "") for t in (node.spec.taints if node.spec else ())}


def _cond(node: Node, kind: str) -> Any:
    return next(c for c in (node.status.conditions if node.status else ()) if c.type == kind)


async def _pod(cp: ControlPlane, name: str) -> Pod | None:
    try:
        return await cp.client.get(Pod, name, namespace="default")
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise


async def _gone_or_deleting(cp: ControlPlane, name: str) -> bool:
    pod = await _pod(cp, name)
    return pod is None or (pod.metadata is not None and pod.metadata.deletion_timestamp is not None)


def test_registered_under_upstream_names() -> None:
    spec = nodelifecycle.kframe_controllers()["node-lifecycle-controller"]
    assert spec.aliases == ("nodelifecycle",)


def test_the_grace_period_default_is_upstreams_1_33() -> None:
    assert nodelifecycle.NODE_MONITOR_GRACE_PERIOD == 50.0
    assert nodelifecycle.NODE_MONITOR_PERIOD == 5.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("40s", 40.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0), ("2.5s", 2.5), ("7", 7.0)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "40", "s", "4x", "1m30"])
def test_bad_durations_are_errors(text: str) -> None:
    if text == "40":
        assert parse_go_duration(text) == 40.0
        return
    with pytest.raises(ValueError, match="duration"):
        parse_go_duration(text)


@given(st.integers(0, 10_000), st.integers(0, 59), st.integers(0, 999))
def test_go_duration_parts_add_up(minutes: int, seconds: int, millis: int) -> None:
    text = f"{minutes}m{seconds}s{millis}ms"
    assert parse_go_duration(text) == pytest.approx(minutes * 60 + seconds + millis / 1000)


@pytest.mark.parametrize("value", ["soon", "0s", "-5s"])
def test_a_bad_option_is_a_named_error(value: str) -> None:
    ctx = ControllerContext(
        "node-lifecycle-controller",
        cast(Any, None),
        cast(Any, None),
        options={"node-monitor-grace-period": value},
    )
    with pytest.raises(ValueError, match=f"node-monitor-grace-period={value}"):
        options_from(ctx)


def test_options_take_go_durations() -> None:
    ctx = ControllerContext(
        "node-lifecycle-controller",
        cast(Any, None),
        cast(Any, None),
        options={"node-monitor-grace-period": "40s", "node-monitor-period": "1s"},
    )
    assert options_from(ctx) == Options(
        monitor_period=1.0, monitor_grace_period=40.0, startup_grace_period=60.0
    )


_TAINT = Taint(key=UNREACHABLE, effect="NoExecute")
_OTHER = Taint(key="example.com/x", effect="NoExecute")


def test_toleration_seconds_rules() -> None:
    forever = Toleration(key=UNREACHABLE, operator="Exists", effect="NoExecute")
    brief = Toleration(
        key=UNREACHABLE, operator="Exists", effect="NoExecute", toleration_seconds=30
    )
    negative = Toleration(operator="Exists", toleration_seconds=-5)
    assert min_toleration_seconds((_TAINT,), ()) == 0.0  # untolerated: now
    assert min_toleration_seconds((_TAINT,), (forever,)) is None  # tolerated forever
    assert min_toleration_seconds((_TAINT,), (brief,)) == 30.0
    assert min_toleration_seconds((_TAINT, _OTHER), (brief,)) == 0.0
    assert min_toleration_seconds((_TAINT,), (negative,)) == 0.0


@given(st.lists(st.one_of(st.none(), st.integers(-10, 1000)), min_size=1, max_size=5))
def test_the_least_toleration_used_wins(seconds: list[int | None]) -> None:
    taints = tuple(Taint(key=f"k{i}", effect="NoExecute") for i in range(len(seconds)))
    tolerations = tuple(
        Toleration(key=f"k{i}", operator="Exists", toleration_seconds=s)
        for i, s in enumerate(seconds)
    )
    finite = [max(0, s) for s in seconds if s is not None]
    assert min_toleration_seconds(taints, tolerations) == (min(finite) if finite else None)


@sync
async def test_a_silent_node_becomes_unknown_tainted_and_its_pods_are_evicted() -> None:
    async with control_plane(["nodelifecycle"], options=FAST) as cp:
        await make_node(cp.client, "n1")
        await renew_lease(cp.client, "n1")
        tolerate_forever = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]
        tolerate_briefly = [
            {
                "key": UNREACHABLE,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 1,
            }
        ]
        await running_pod(cp.client, "stays", "n1", tolerations=tolerate_forever)
        await running_pod(cp.client, "brief", "n1", tolerations=tolerate_briefly)

        # No more heartbeats or renewals: after the grace period, Unknown and tainted.
        async def unknown() -> Node | None:
            node = await cp.client.get(Node, "n1")
            return node if _cond(node, "Ready").status == "Unknown" else None

        node = await cp.wait_for(unknown, what="Ready Unknown")
        ready = _cond(node, "Ready")
        assert ready.reason == "NodeStatusUnknown"
        assert ready.message == "Kubelet stopped posting node status."
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            assert _cond(node, kind).status == "Unknown"

        async def tainted() -> bool:
            taints = _taints(await cp.client.get(Node, "n1"))
            return {(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")} <= taints

        await cp.wait_for(tainted, what="unreachable taints")
        node = await cp.client.get(Node, "n1")
        assert node.spec is not None
        assert all(t.time_added is not None for t in node.spec.taints)

        async def not_ready() -> bool:
            pod = await _pod(cp, "stays")
            return pod is not None and any(
                c.type == "Ready" and c.status == "False"
                for c in pod.status.conditions  # type: ignore[union-attr]
            )

        await cp.wait_for(not_ready, what="pod marked not ready")
        await cp.wait_for(lambda: _gone_or_deleting(cp, "brief"), what="brief evicted")
        brief = await _pod(cp, "brief")
        if brief is not None:
            assert any(
                c.type == "DisruptionTarget" and c.reason == "DeletionByTaintManager"
                for c in brief.status.conditions  # type: ignore[union-attr]
            )
        assert not await _gone_or_deleting(cp, "stays")


@sync
async def test_an_untolerated_no_execute_taint_evicts_at_once() -> None:
    async with control_plane(["nodelifecycle"], options={"node-monitor-period": "50ms"}) as cp:
        await make_node(cp.client, "n1")
        await renew_lease(cp.client, "n1")
        await running_pod(cp.client, "p", "n1")
        taint = {"key": "example.com/x", "effect": "NoExecute"}
        await cp.client.patch(Node, "n1", {"spec": {"taints": [taint]}}, patch_type="merge")
        await cp.wait_for(lambda: _gone_or_deleting(cp, "p"), what="pod evicted")


@sync
async def test_a_renewed_lease_keeps_a_node_ready() -> None:
    async with control_plane(["nodelifecycle"], options=FAST) as cp:
        await make_node(cp.client, "n1")
        controller = cast(Any, cp.manager.controllers["node-lifecycle-controller"])
        start = _now()
        # Renew until the controller has seen renewals spanning twice the grace period.
        while True:
            lease = await renew_lease(cp.client, "n1")
            assert lease.spec is not None and lease.spec.renew_time is not None
            renew: _dt.datetime = lease.spec.renew_time

            def seen(renew: Any = renew) -> bool:
                health = controller.health.get("n1")
                return health is not None and health.lease_renew == renew

            await cp.wait_for(seen, what="renewal observed")
            if (renew - start).total_seconds() > 2.0:
                break
        node = await cp.client.get(Node, "n1")
        assert _cond(node, "Ready").status == "True"
        assert not _taints(node)


@sync
async def test_a_recovered_node_loses_its_taints() -> None:
    async with control_plane(["nodelifecycle"], options=FAST) as cp:
        await make_node(cp.client, "n1")

        async def has(taints: set[tuple[str, str]]) -> bool:
            return _taints(await cp.client.get(Node, "n1")) == taints

        unreachable = {(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")}
        await cp.wait_for(lambda: has(unreachable), what="unreachable taints")
        # The kubelet says NotReady: not-ready taints replace the unreachable ones.
        await post_status(cp.client, "n1", "False", _now())
        not_ready = {(NOT_READY, "NoExecute"), (NOT_READY, "NoSchedule")}
        await cp.wait_for(lambda: has(not_ready), what="not-ready taints")
        # Ready again, and heartbeating: no taints left.
        await post_status(cp.client, "n1", "True", _now())
        await renew_lease(cp.client, "n1")
        await cp.wait_for(lambda: has(set()), what="taints removed")


@sync
async def test_a_node_that_never_posted_status_is_unknown_after_the_startup_grace() -> None:
    from kframe.api import from_dict

    async with control_plane(["nodelifecycle"], options=FAST) as cp:
        await cp.client.create(
            from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n0"}}, Node)
        )

        async def never() -> Node | None:
            node = await cp.client.get(Node, "n0")
            conds = node.status.conditions if node.status else ()
            return node if any(c.type == "Ready" for c in conds) else None

        node = await cp.wait_for(never, what="Ready added")
        ready = _cond(node, "Ready")
        assert (ready.status, ready.reason) == ("Unknown", "NodeStatusNeverUpdated")
        assert ready.message == "Kubelet never posted node status."


@sync
async def test_a_kubelet_node_stays_ready_with_the_default_grace() -> None:
    async with control_plane(
        ["nodelifecycle"], nodes=1, options={"node-monitor-period": "50ms"}
    ) as cp:
        controller = cast(Any, cp.manager.controllers["node-lifecycle-controller"])
        await cp.wait_for(lambda: "node-0" in controller.health, what="node seen")
        node = await cp.client.get(Node, "node-0")
        assert _cond(node, "Ready").status == "True"
        assert not _taints(node)
