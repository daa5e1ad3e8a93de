"""The pod garbage collector: the deletion order and threshold (with a Hypothesis property),
the orphan quarantine and its live GET on a fake clock, and in a control plane: terminated
pods beyond the threshold, an orphaned pod replaced by its ReplicaSet on another node,
unscheduled terminating pods and terminating pods on out-of-service nodes."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Node, Pod, ReplicaSet
from kframe.apiserver import APIServer
from kframe.client import FakeClock, InProcessClient
from kframe.controller import ControllerContext, SharedInformers
from kframe.store import open_store
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import podgc
from kframe_plugins.controllers.podgc import (
    DELETION_BY_POD_GC,
    PodGCController,
    deletion_order,
    is_terminated,
    options_from,
    terminated_to_delete,
)
from tests.controller.asyncrun import sync
from tests.plugins.controllers.replicaset_objects import replica_set

#: A pass every 50 ms and a short quarantine, so that the control-plane tests are quick.
FAST = {"pod-gc-check-period": "50ms", "pod-gc-quarantine-time": "200ms"}


def _pod(
    name: str,
    *,
    node: str = "",
    phase: str = "",
    reason: str = "",
    created: _dt.datetime | None = None,
    finalizers: tuple[str, ...] = (),
) -> Pod:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if created is not None:
        meta["creationTimestamp"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    if finalizers:
        meta["finalizers"] = list(finalizers)
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    body: dict[str, Any] = {"metadata": meta, "spec": spec}
    if phase:
        body["status"] = {"phase": phase, **({"reason": reason} if reason else {})}
    return from_dict(body, Pod)


def _node(name: str, *, ready: str = "True", taints: tuple[str, ...] = ()) -> Node:
    body = {
        "metadata": {"name": name},
        "spec": {"taints": [{"key": key, "effect": "NoExecute"} for key in taints]},
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }
    return from_dict(body, Node)


async def _get(cp: ControlPlane | InProcessClient, name: str) -> Pod | None:
    client = cp.client if isinstance(cp, ControlPlane) else cp
    try:
        return await client.get(Pod, name, namespace="default")
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise


async def _set_phase(client: Any, name: str, phase: str, reason: str = "") -> None:
    status = {"phase": phase, **({"reason": reason} if reason else {})}
    await client.patch(
        Pod,
        name,
        {"status": status},
        namespace="default",
        patch_type="merge",
        subresource="status",
    )


# -- registration and options ---------------------------------------------------------------


def test_registered_under_upstream_names() -> None:
    spec = podgc.kframe_controllers()["pod-garbage-collector-controller"]
    assert spec.aliases == ("podgc",)
    assert spec.enabled_by_default


def _ctx(options: dict[str, str]) -> ControllerContext:
    return ControllerContext("podgc", None, None, options=options)  # type: ignore[arg-type]


def test_options_defaults_and_values() -> None:
    defaults = options_from(_ctx({}))
    assert (defaults.terminated_pod_gc_threshold, defaults.check_period) == (12500, 20.0)
    assert defaults.quarantine_time == 40.0
    given_ = options_from(
        _ctx(
            {
                "terminated-pod-gc-threshold": "3",
                "pod-gc-check-period": "1m30s",
                "pod-gc-quarantine-time": "500ms",
            }
        )
    )
    assert (given_.terminated_pod_gc_threshold, given_.check_period) == (3, 90.0)
    assert given_.quarantine_time == 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("terminated-pod-gc-threshold", "many"),
        ("pod-gc-check-period", "0"),
        ("pod-gc-check-period", "soon"),
        ("pod-gc-quarantine-time", "-1"),
    ],
)
def test_bad_options_name_the_option(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"--option {name}="):
        options_from(_ctx({name: value}))


# -- which terminated pods go ---------------------------------------------------------------

T0 = _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC)


def test_evicted_first_then_oldest_then_by_name() -> None:
    pods = [
        _pod("new", phase="Succeeded", created=T0 + _dt.timedelta(seconds=9)),
        _pod("old-b", phase="Failed", created=T0),
        _pod("old-a", phase="Succeeded", created=T0),
        _pod("evicted", phase="Failed", reason="Evicted", created=T0 + _dt.timedelta(hours=1)),
        _pod("running", phase="Running", created=T0 - _dt.timedelta(hours=1)),
    ]
    names = [p.metadata.name for p in terminated_to_delete(pods, 1) if p.metadata]
    assert names == ["evicted", "old-a", "old-b"]
    assert terminated_to_delete(pods, 4) == []
    assert terminated_to_delete(pods, 0) == []  # 0: collection off
    assert not is_terminated(pods[-1])
    assert is_terminated(_pod("no-phase"))  # upstream: anything but Pending/Running/Unknown


PHASES = ("Pending", "Running", "Unknown", "Succeeded", "Failed")


@st.composite
def _pod_sets(draw: st.DrawFn) -> list[Pod]:
    count = draw(st.integers(0, 12))
    pods = []
    for i in range(count):
        phase = draw(st.sampled_from(PHASES))
        reason = "Evicted" if phase == "Failed" and draw(st.booleans()) else ""
        created = T0 + _dt.timedelta(seconds=draw(st.integers(0, 5)))
        pods.append(
            _pod(
                f"p{draw(st.integers(0, 99)):02d}-{i}", phase=phase, reason=reason, created=created
            )
        )
    return pods


@given(pods=_pod_sets(), threshold=st.integers(-2, 14))
def test_threshold_property(pods: list[Pod], threshold: int) -> None:
    """Exactly the excess over the threshold goes, only terminated pods, and no pod kept is
    ahead of a deleted one in the deletion order (so evicted pods always go first)."""
    doomed = terminated_to_delete(pods, threshold)
    terminated = [p for p in pods if is_terminated(p)]
    expected = max(0, len(terminated) - threshold) if threshold > 0 else 0
    assert len(doomed) == expected
    assert all(is_terminated(p) for p in doomed)
    kept = [p for p in terminated if all(p is not d for d in doomed)]
    if doomed and kept:
        assert max(deletion_order(p) for p in doomed) <= min(deletion_order(p) for p in kept)
        if any(not deletion_order(p)[0] for p in kept):  # an evicted pod kept: all deleted are
            assert all(not deletion_order(p)[0] for p in doomed)


# -- the orphan quarantine on a fake clock ----------------------------------------------------


@sync
async def test_orphans_wait_out_the_quarantine_and_a_live_get_must_miss_the_node() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    clock = FakeClock()
    try:
        # "late" exists in the API but not (yet) in the informer: the GET keeps its pod.
        await client.create(_node("late"))
        ghost = await client.create(_pod("on-ghost", node="ghost", finalizers=("example.com/x",)))
        late = await client.create(_pod("on-late", node="late"))
        ctx = ControllerContext("podgc", client, SharedInformers(client), clock=clock)
        gc = PodGCController(ctx)
        for pod in (ghost, late):
            gc.pods.store.put(pod)

        await gc.gc()
        assert set(gc.quarantine) == {"ghost", "late"}
        clock.advance(39.0)
        await gc.gc()  # a second sighting keeps the first deadline
        assert await _get(client, "on-ghost") == ghost
        clock.advance(1.0)
        await gc.gc()

        marked = await _get(client, "on-ghost")  # held by its finalizer, so it can be read
        assert marked is not None and marked.metadata and marked.status
        assert marked.metadata.deletion_timestamp is not None
        assert marked.status.phase == "Failed"
        target = [c for c in marked.status.conditions if c.type == "DisruptionTarget"]
        assert [(c.status, c.reason) for c in target] == [("True", DELETION_BY_POD_GC)]
        assert target[0].message == "PodGC: node no longer exists"
        kept = await _get(client, "on-late")
        assert kept is not None and kept.status and kept.status.phase == "Pending"
        assert kept.metadata and kept.metadata.deletion_timestamp is None
        assert gc.quarantine == {}
    finally:
        await client.close()
        await server.store.close()


# -- in a control plane ----------------------------------------------------------------------


@sync
async def test_terminated_pods_beyond_the_threshold_go_evicted_and_oldest_first() -> None:
    async with control_plane(["podgc"], options={**FAST, "terminated-pod-gc-threshold": "2"}) as cp:
        for name in ("a", "b", "c", "z-evicted", "pending"):
            await cp.client.create(_pod(name, finalizers=()))
        for name in ("a", "b", "c"):
            await _set_phase(cp.client, name, "Succeeded")
        await _set_phase(cp.client, "z-evicted", "Failed", "Evicted")

        async def left() -> set[str] | None:
            items = (await cp.client.list(Pod, namespace="default")).items
            names = {p.metadata.name for p in items if p.metadata and p.metadata.name}
            return names if len(names) == 3 else None

        assert await cp.wait_for(left, what="two terminated pods deleted") == {
            "b",
            "c",
            "pending",
        }


@sync
async def test_an_orphaned_pod_is_replaced_by_its_replica_set_on_another_node() -> None:
    async with control_plane(["podgc", "replicaset"], nodes=2, scheduler=True, options=FAST) as cp:
        await cp.client.create(replica_set("web", 1))

        async def running() -> Pod | None:
            items = (await cp.client.list(Pod, namespace="default")).items
            for pod in items:
                if pod.status and pod.status.phase == "Running" and pod.spec:
                    return pod
            return None

        first = await cp.wait_for(running, what="the replica running")
        assert first.spec and first.spec.node_name and first.metadata
        doomed = first.spec.node_name
        await cp.client.delete(Node, doomed)

        async def replaced() -> Pod | None:
            if await _get(cp, first.metadata.name or "") is not None:
                return None
            pod = await running()
            return pod if pod and pod.spec and pod.spec.node_name != doomed else None

        again = await cp.wait_for(replaced, what="a replacement on the other node")
        assert again.spec and again.spec.node_name != doomed
        rs = await cp.client.get(ReplicaSet, "web", namespace="default")
        assert rs.spec and rs.spec.replicas == 1


@sync
async def test_unscheduled_terminating_pods_are_marked_failed_and_deleted() -> None:
    async with control_plane(["podgc"], options=FAST) as cp:
        await cp.client.create(_pod("held", finalizers=("example.com/hold",)))
        await cp.client.delete(Pod, "held", namespace="default")  # marked, held by finalizer

        async def failed() -> Pod | None:
            pod = await _get(cp, "held")
            return pod if pod and pod.status and pod.status.phase == "Failed" else None

        pod = await cp.wait_for(failed, what="the unscheduled pod marked Failed")
        assert pod.metadata and pod.metadata.deletion_timestamp is not None
        await cp.client.patch(
            Pod,
            "held",
            {"metadata": {"finalizers": None}},
            namespace="default",
            patch_type="merge",
        )
        assert await _get(cp, "held") is None


@sync
async def test_terminating_pods_on_out_of_service_nodes_are_force_deleted() -> None:
    async with control_plane(["podgc"], options=FAST) as cp:
        for node in (
            _node("fenced", ready="False", taints=(podgc.OUT_OF_SERVICE_TAINT,)),
            _node("down", ready="False"),  # not ready, but not declared out of service
            _node("fine", ready="True", taints=(podgc.OUT_OF_SERVICE_TAINT,)),
        ):
            await cp.client.create(node)  # a Node's create keeps its status
        for node_name in ("fenced", "down", "fine"):
            await cp.client.create(_pod(f"on-{node_name}", node=node_name))
            await _set_phase(cp.client, f"on-{node_name}", "Running")
            # On a node, a delete only marks the pod: its kubelet would finish it.
            await cp.client.delete(Pod, f"on-{node_name}", namespace="default")

        await cp.wait_for(
            lambda: _gone(cp, "on-fenced"), what="the pod on the out-of-service node deleted"
        )
        gc = cp.manager.controllers[podgc.NAME]
        assert isinstance(gc, PodGCController)

        def seen_terminating() -> bool:
            pods = [gc.pods.store.get(f"default/{name}") for name in ("on-down", "on-fine")]
            return all(p and p.metadata and p.metadata.deletion_timestamp for p in pods)

        await cp.wait_for(seen_terminating, what="the informer seeing both pods terminating")
        await gc.gc()
        for name in ("on-down", "on-fine"):
            pod = await _get(cp, name)
            assert pod is not None and pod.metadata and pod.metadata.deletion_timestamp
            assert pod.status and pod.status.phase == "Running"


async def _gone(cp: ControlPlane, name: str) -> bool:
    return await _get(cp, name) is None
