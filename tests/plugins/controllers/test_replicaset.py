"""The replicaset controller in a control plane with a scheduler and three fake kubelets:
scaling, replacing, adopting and releasing pods, leaving others' alone, status."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from kframe.api import from_dict
from kframe.api.models import Event, Pod, ReplicaSet
from kframe.controller import controller_ref, is_pod_active
from kframe.testing.controllers import ControlPlane, control_plane


def aio(fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """A test body run on a fresh event loop."""

    @functools.wraps(fn)
    def run() -> None:
        asyncio.run(fn())

    return run


def replica_set(
    name: str = "web",
    replicas: int = 3,
    *,
    labels: Mapping[str, str] | None = None,
    pod_spec: Mapping[str, Any] | None = None,
    **spec: Any,
) -> ReplicaSet:
    labels = dict(labels or {"app": name})
    body = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "c", "image": "busybox"}],
                    **(pod_spec or {}),
                },
            },
            **spec,
        },
    }
    return from_dict(body, ReplicaSet)


def bare_pod(name: str, labels: Mapping[str, str], **meta: Any) -> Pod:
    body = {
        "metadata": {"name": name, "namespace": "default", "labels": dict(labels), **meta},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": "busybox"}],
        },
    }
    return from_dict(body, Pod)


async def active_pods(cp: ControlPlane, selector: str = "app=web") -> list[Pod]:
    items = (await cp.client.list(Pod, namespace="default", label_selector=selector)).items
    return [p for p in items if is_pod_active(p)]


def owned_by(pod: Pod, rs: ReplicaSet) -> bool:
    ref = controller_ref(pod)
    assert rs.metadata is not None
    return ref is not None and ref.uid == rs.metadata.uid


async def settled(cp: ControlPlane, name: str = "web", replicas: int = 3) -> ReplicaSet:
    """The ReplicaSet once its status reports ``replicas`` ready and available pods at its
    generation, and exactly that many active pods exist."""

    async def check() -> ReplicaSet | None:
        rs = await cp.client.get(ReplicaSet, name, namespace="default")
        st, meta = rs.status, rs.metadata
        if st is None or meta is None or st.observed_generation != meta.generation:
            return None
        counts = (st.replicas, st.ready_replicas, st.available_replicas)
        if counts != (replicas, replicas, replicas) and not (
            replicas == 0 and all(c in (None, 0) for c in counts)
        ):
            return None
        pods = [p for p in await active_pods(cp, f"app={name}") if owned_by(p, rs)]
        return rs if len(pods) == replicas else None

    return await cp.wait_for(check, what=f"replica set {name} at {replicas}")  # type: ignore[no-any-return]


async def scale(cp: ControlPlane, name: str, replicas: int) -> None:
    await cp.client.patch(
        ReplicaSet, name, {"spec": {"replicas": replicas}}, namespace="default", patch_type="merge"
    )


async def events(cp: ControlPlane, reason: str) -> list[Event]:
    items = (await cp.client.list(Event, namespace="default")).items
    return [e for e in items if e.reason == reason]


@aio
async def test_scales_up_down_and_to_zero() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        await cp.client.create(replica_set(replicas=3))
        rs = await settled(cp, replicas=3)
        assert rs.status is not None and rs.status.fully_labeled_replicas == 3
        pods = await active_pods(cp)
        assert all(p.metadata.name.startswith("web-") for p in pods)  # type: ignore[union-attr]
        assert all(p.spec is not None and p.spec.node_name for p in pods)
        created = await events(cp, "SuccessfulCreate")
        assert sorted(e.message or "" for e in created) == sorted(
            f"Created pod: {p.metadata.name}"  # type: ignore[union-attr]
            for p in pods
        )
        assert {e.source.component for e in created if e.source} == {"replicaset-controller"}

        await scale(cp, "web", 6)
        await settled(cp, replicas=6)
        await scale(cp, "web", 2)
        await settled(cp, replicas=2)
        deleted = await events(cp, "SuccessfulDelete")
        assert len(deleted) == 4 and all(
            (e.message or "").startswith("Deleted pod: web-") for e in deleted
        )
        await scale(cp, "web", 0)
        rs = await settled(cp, replicas=0)
        assert rs.status is not None and rs.status.observed_generation == 4


@aio
async def test_a_deleted_pod_is_replaced() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        await cp.client.create(replica_set(replicas=2))
        await settled(cp, replicas=2)
        victim = (await active_pods(cp))[0]
        assert victim.metadata is not None and victim.metadata.name is not None
        await cp.client.delete(Pod, victim.metadata.name, namespace="default")

        async def replaced() -> bool:
            names = {p.metadata.name for p in await active_pods(cp)}  # type: ignore[union-attr]
            return len(names) == 2 and victim.metadata.name not in names  # type: ignore[union-attr]

        await cp.wait_for(replaced, what="a replacement pod")
        await settled(cp, replicas=2)


@aio
async def test_an_orphan_is_adopted_and_a_relabelled_pod_released_and_replaced() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        await cp.client.create(bare_pod("orphan", {"app": "web"}))
        await cp.client.create(replica_set(replicas=2))
        rs = await settled(cp, replicas=2)
        orphan = await cp.client.get(Pod, "orphan", namespace="default")
        assert owned_by(orphan, rs)
        ref = controller_ref(orphan)
        assert ref is not None and ref.kind == "ReplicaSet" and ref.block_owner_deletion

        await cp.client.patch(
            Pod,
            "orphan",
            {"metadata": {"labels": {"app": "other"}}},
            namespace="default",
            patch_type="merge",
        )

        async def released() -> bool:
            pod = await cp.client.get(Pod, "orphan", namespace="default")
            return controller_ref(pod) is None

        await cp.wait_for(released, what="the relabelled pod released")
        await settled(cp, replicas=2)
        names = {p.metadata.name for p in await active_pods(cp)}  # type: ignore[union-attr]
        assert "orphan" not in names and len(names) == 2
        # The released pod stays (it is nobody's to delete).
        assert is_pod_active(await cp.client.get(Pod, "orphan", namespace="default"))


@aio
async def test_another_controllers_pod_is_left_alone() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        foreign = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "someone-else",
            "uid": "0000-foreign",
            "controller": True,
        }
        await cp.client.create(bare_pod("theirs", {"app": "web"}, ownerReferences=[foreign]))
        await cp.client.create(replica_set(replicas=2))
        rs = await settled(cp, replicas=2)
        theirs = await cp.client.get(Pod, "theirs", namespace="default")
        assert not owned_by(theirs, rs) and is_pod_active(theirs)
        assert len(await active_pods(cp)) == 3
