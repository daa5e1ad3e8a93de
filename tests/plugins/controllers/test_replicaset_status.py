"""The replicaset controller's status: ready and available with minReadySeconds, fully labeled
replicas, observedGeneration, the ReplicaFailure condition and its recovery; a ReplicaSet
being deleted neither replaces nor adopts pods."""

from __future__ import annotations

from typing import Any

import attrs

from kframe.api import from_dict
from kframe.api.models import Pod, ReplicaSet, ResourceQuota, ResourceQuotaStatus
from kframe.controller import controller_ref
from kframe.testing.controllers import control_plane
from tests.plugins.controllers.replicaset_objects import (
    active_pods,
    aio,
    bare_pod,
    events,
    replica_set,
    scale,
    settled,
)


async def get(cp: object, name: str = "web") -> ReplicaSet:
    return await cp.client.get(ReplicaSet, name, namespace="default")  # type: ignore[attr-defined, no-any-return]


async def set_quota(cp: Any, quota: ResourceQuota, pods: int) -> None:
    """The hard limit as the quota controller (not running here) would publish it."""
    used = (quota.status.used if quota.status is not None else None) or {"pods": "0"}
    status = ResourceQuotaStatus(hard={"pods": str(pods)}, used=dict(used))
    await cp.client.update(attrs.evolve(quota, status=status), subresource="status")


@aio
async def test_available_only_after_min_ready_seconds() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        await cp.client.create(replica_set(replicas=2, minReadySeconds=1))

        async def ready_not_available() -> ReplicaSet | None:
            rs = await get(cp)
            st = rs.status
            ok = st is not None and st.ready_replicas == 2 and st.available_replicas == 0
            return rs if ok else None

        rs = await cp.wait_for(ready_not_available, what="2 ready, none available yet")
        assert rs.status is not None and rs.status.observed_generation == 1
        # No pod changes after this: the controller's own requeue makes them available.
        rs = await settled(cp, replicas=2)
        assert rs.status is not None and rs.status.conditions == ()


@aio
async def test_fully_labeled_replicas_counts_pods_with_every_template_label() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        await cp.client.create(bare_pod("orphan", {"app": "web"}))
        rs = replica_set(replicas=3)
        assert rs.spec is not None and rs.spec.template is not None
        body = {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web", "tier": "front"}},
                    "spec": {
                        "terminationGracePeriodSeconds": 0,
                        "containers": [{"name": "c", "image": "busybox"}],
                    },
                },
            },
        }
        await cp.client.create(from_dict(body, ReplicaSet))
        rs = await settled(cp, replicas=3)
        assert rs.status is not None
        assert rs.status.replicas == 3 and rs.status.fully_labeled_replicas == 2


@aio
async def test_observed_generation_follows_spec_changes() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        await cp.client.create(replica_set(replicas=1))
        await settled(cp, replicas=1)
        await scale(cp, "web", 2)
        rs = await settled(cp, replicas=2)
        assert rs.metadata is not None and rs.metadata.generation == 2
        assert rs.status is not None and rs.status.observed_generation == 2


@aio
async def test_failed_create_sets_replica_failure_until_creation_succeeds() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        quota = {
            "metadata": {"name": "two-pods", "namespace": "default"},
            "spec": {"hard": {"pods": "2"}},
        }
        made = await cp.client.create(from_dict(quota, ResourceQuota))
        await set_quota(cp, made, 2)
        await cp.client.create(replica_set(replicas=3))

        async def failing() -> ReplicaSet | None:
            rs = await get(cp)
            conds = [c for c in (rs.status.conditions if rs.status else ()) if c.type]
            return rs if any(c.type == "ReplicaFailure" for c in conds) else None

        rs = await cp.wait_for(failing, what="the ReplicaFailure condition")
        assert rs.status is not None
        (cond,) = rs.status.conditions
        assert (cond.status, cond.reason) == ("True", "FailedCreate")
        assert "exceeded quota: two-pods" in (cond.message or "")
        assert cond.last_transition_time is not None
        assert len(await active_pods(cp)) == 2
        failed = await events(cp, "FailedCreate")
        assert failed and all((e.message or "").startswith("Error creating: ") for e in failed)
        assert all(e.type == "Warning" for e in failed)

        await set_quota(cp, await cp.client.get(ResourceQuota, "two-pods", namespace="default"), 10)
        rs = await settled(cp, replicas=3)

        async def cleared() -> bool:
            status = (await get(cp)).status
            return status is not None and status.conditions == ()

        await cp.wait_for(cleared, what="the condition removed")


@aio
async def test_a_replica_set_being_deleted_neither_replaces_nor_adopts() -> None:
    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        rs = replica_set(replicas=2)
        assert rs.metadata is not None
        held = from_dict(
            {
                "metadata": {"name": "web", "namespace": "default", "finalizers": ["x.io/hold"]},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {
                            "terminationGracePeriodSeconds": 0,
                            "containers": [{"name": "c", "image": "busybox"}],
                        },
                    },
                },
            },
            ReplicaSet,
        )
        await cp.client.create(held)
        await settled(cp, replicas=2)
        await cp.client.delete(ReplicaSet, "web", namespace="default")

        async def marked() -> bool:
            meta = (await get(cp)).metadata
            return meta is not None and meta.deletion_timestamp is not None

        await cp.wait_for(marked, what="the deletion timestamp")
        victim = (await active_pods(cp))[0]
        assert victim.metadata is not None and victim.metadata.name is not None
        await cp.client.delete(Pod, victim.metadata.name, namespace="default")
        await cp.client.create(bare_pod("orphan", {"app": "web"}))

        async def status_caught_up() -> bool:
            st = (await get(cp)).status
            return st is not None and st.replicas == 1

        # The status still follows the pods (one left); nothing is created or adopted.
        await cp.wait_for(status_caught_up, what="the status at one replica")
        assert len([p for p in await active_pods(cp) if controller_ref(p) is not None]) == 1
        orphan = await cp.client.get(Pod, "orphan", namespace="default")
        assert controller_ref(orphan) is None
        # Nor is a pod that stops matching released (ClaimObject, while being deleted).
        (ours,) = [p for p in await active_pods(cp) if controller_ref(p) is not None]
        assert ours.metadata is not None and ours.metadata.name is not None
        await cp.client.patch(
            Pod,
            ours.metadata.name,
            {"metadata": {"labels": {"app": "moved"}}},
            namespace="default",
            patch_type="merge",
        )

        async def not_counted() -> bool:
            st = (await get(cp)).status
            return st is not None and not st.replicas

        await cp.wait_for(not_counted, what="the status at zero replicas")
        moved = await cp.client.get(Pod, ours.metadata.name, namespace="default")
        assert controller_ref(moved) is not None
        # Our pods are the garbage collector's to delete (not running here), not ours.
        assert (await get(cp)).metadata is not None
