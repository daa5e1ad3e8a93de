"""The replicaset controller in a control plane with a scheduler and three fake kubelets:
scaling, replacing, adopting and releasing pods, leaving others' alone, status."""

from __future__ import annotations

from kframe.api.models import Pod
from kframe.controller import controller_ref, is_pod_active
from kframe.testing.controllers import control_plane
from tests.plugins.controllers.replicaset_objects import (
    active_pods,
    aio,
    bare_pod,
    events,
    owned_by,
    replica_set,
    scale,
    settled,
)


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


@aio
async def test_scaling_down_graceful_pods_deletes_each_once() -> None:
    """A pod being deleted is seen several times (marked, its status while it stops, removed):
    its deletion counts once, so no more pods are deleted than the scale-down asks."""
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        spec = {"terminationGracePeriodSeconds": 2}
        await cp.client.create(replica_set(replicas=6, pod_spec=spec))
        await settled(cp, replicas=6)
        await scale(cp, "web", 2)
        await settled(cp, replicas=2)

        async def all_gone() -> bool:
            pods = (await cp.client.list(Pod, namespace="default")).items
            return len(pods) == 2

        await cp.wait_for(all_gone, what="the deleted pods gone")
        await settled(cp, replicas=2)
        assert len(await events(cp, "SuccessfulDelete")) == 4
        assert len(await events(cp, "SuccessfulCreate")) == 6
