"""The garbage collector in a control plane: background, foreground and orphan propagation,
dangling references, cross-kind chains (owners and dependents made directly)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import shutil
import tempfile
from pathlib import Path

import pytest

from kframe.api.models import ConfigMap, Deployment, Pod, ReplicaSet
from kframe.cluster import write_kubeconfig
from kframe.controller import ControllerManager, registered_controllers
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import garbagecollector
from tests.controller.asyncrun import sync
from tests.plugins.controllers.gc_objects import (
    config_map,
    deployment,
    lookup,
    pod,
    ref,
    replica_set,
)

GC = ["garbagecollector"]


async def _gone(cp: ControlPlane, cls: type, name: str) -> bool:
    return await lookup(cp.client, cls, name) is None


async def _synced(cp: ControlPlane) -> None:
    collector = cp.manager.controllers["garbage-collector-controller"]
    assert isinstance(collector, garbagecollector.GarbageCollector)
    await asyncio.wait_for(collector.synced.wait(), 30)


def test_registered_under_upstream_names() -> None:
    spec = garbagecollector.kframe_controllers()["garbage-collector-controller"]
    assert spec.aliases == ("garbagecollector",) and spec.workers == 20


@sync
async def test_background_deletion_collects_dependents() -> None:
    async with control_plane(GC) as cp:
        await _synced(cp)
        rs = await cp.client.create(replica_set("web"))
        for i in range(3):
            await cp.client.create(pod(f"web-{i}", owners=(ref(rs),)))
        await cp.client.delete(ReplicaSet, "web", namespace="default")
        for i in range(3):
            await cp.wait_for(lambda i=i: _gone(cp, Pod, f"web-{i}"), what=f"web-{i} collected")


@sync
async def test_foreground_owner_waits_for_blocking_dependents() -> None:
    async with control_plane(GC) as cp:
        await _synced(cp)
        rs = await cp.client.create(replica_set("web"))
        # A dependent held by a finalizer: the owner must wait for it.
        await cp.client.create(pod("held", owners=(ref(rs),), finalizers=["example.com/hold"]))
        await cp.client.create(pod("free", owners=(ref(rs),)))
        await cp.client.create(pod("loose", owners=(ref(rs, block=False),)))
        await cp.client.delete(
            ReplicaSet, "web", namespace="default", propagation_policy="Foreground"
        )
        await cp.wait_for(lambda: _gone(cp, Pod, "free"), what="free collected")
        await cp.wait_for(lambda: _gone(cp, Pod, "loose"), what="loose collected")

        async def held_marked() -> bool:
            held = await lookup(cp.client, Pod, "held")
            return held is not None and held.metadata.deletion_timestamp is not None

        await cp.wait_for(held_marked, what="held marked for deletion")
        owner = await lookup(cp.client, ReplicaSet, "web")
        assert owner is not None and owner.metadata.deletion_timestamp is not None
        assert "foregroundDeletion" in owner.metadata.finalizers
        await cp.client.patch(
            Pod,
            "held",
            {"metadata": {"finalizers": None}},
            namespace="default",
            patch_type="merge",
        )
        await cp.wait_for(lambda: _gone(cp, Pod, "held"), what="held gone")
        await cp.wait_for(lambda: _gone(cp, ReplicaSet, "web"), what="owner gone last")


@sync
async def test_orphan_deletion_keeps_dependents_without_the_reference() -> None:
    async with control_plane(GC) as cp:
        await _synced(cp)
        rs = await cp.client.create(replica_set("web"))
        other = await cp.client.create(config_map("other"))
        await cp.client.create(pod("a", owners=(ref(rs),)))
        await cp.client.create(pod("b", owners=(ref(rs), ref(other, controller=False))))
        await cp.client.delete(ReplicaSet, "web", namespace="default", propagation_policy="Orphan")
        await cp.wait_for(lambda: _gone(cp, ReplicaSet, "web"), what="owner gone")
        a = await lookup(cp.client, Pod, "a")
        b = await lookup(cp.client, Pod, "b")
        assert a is not None and not a.metadata.owner_references
        assert b is not None and [r.uid for r in b.metadata.owner_references] == [
            other.metadata.uid
        ]


@sync
async def test_dangling_references_count_as_absent() -> None:
    async with control_plane(GC) as cp:
        await _synced(cp)
        rs = await cp.client.create(replica_set("web"))
        real = ref(rs)
        missing = type(real)(
            api_version="apps/v1", kind="ReplicaSet", name="ghost", uid="no-such-uid"
        )
        # The right name, another uid: upstream's live lookup sees it is not the owner.
        impostor = type(real)(api_version="apps/v1", kind="ReplicaSet", name="web", uid="stale-uid")
        await cp.client.create(pod("to-missing", owners=(missing,)))
        await cp.client.create(pod("to-impostor", owners=(impostor,)))
        await cp.client.create(pod("mixed", owners=(real, missing)))
        await cp.wait_for(lambda: _gone(cp, Pod, "to-missing"), what="to-missing collected")
        await cp.wait_for(lambda: _gone(cp, Pod, "to-impostor"), what="to-impostor collected")

        async def mixed_cleaned() -> bool:
            mixed = await lookup(cp.client, Pod, "mixed")
            assert mixed is not None  # a solid owner keeps it
            return [r.uid for r in mixed.metadata.owner_references] == [rs.metadata.uid]

        await cp.wait_for(mixed_cleaned, what="dangling reference removed from mixed")


@sync
async def test_cross_kind_chains_background_and_foreground() -> None:
    async with control_plane(GC) as cp:
        await _synced(cp)
        for policy in ("Background", "Foreground"):
            name = policy.lower()
            dep = await cp.client.create(deployment(name))
            rs = await cp.client.create(replica_set(f"{name}-rs", owners=(ref(dep),)))
            await cp.client.create(pod(f"{name}-pod", owners=(ref(rs),)))
            cm = await cp.client.create(config_map(f"{name}-cm", owners=(ref(rs),)))
            await cp.client.create(config_map(f"{name}-leaf", owners=(ref(cm),)))
            await cp.client.delete(Deployment, name, namespace="default", propagation_policy=policy)
            for cls, what in (
                (Pod, f"{name}-pod"),
                (ConfigMap, f"{name}-leaf"),
                (ConfigMap, f"{name}-cm"),
                (ReplicaSet, f"{name}-rs"),
                (Deployment, name),
            ):
                await cp.wait_for(functools.partial(_gone, cp, cls, what), what=f"{what} gone")


@sync
async def test_owners_deleted_while_no_collector_ran_are_found_on_start() -> None:
    async with control_plane([]) as cp:
        rs = await cp.client.create(replica_set("web"))
        await cp.client.create(pod("left", owners=(ref(rs),)))
        await cp.client.delete(ReplicaSet, "web", namespace="default")
        manager = ControllerManager(cp.client, registered_controllers(), controllers=GC)
        task = asyncio.ensure_future(manager.run())
        try:
            await cp.wait_for(lambda: _gone(cp, Pod, "left"), what="left collected")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@sync
async def test_kubectl_delete_deployment_collects_replica_sets_and_pods() -> None:
    async with control_plane(GC) as cp:
        await cp.server.start("127.0.0.1", 0)
        try:
            await _synced(cp)
            dep = await cp.client.create(deployment("shop"))
            rs = await cp.client.create(replica_set("shop-1", owners=(ref(dep),)))
            await cp.client.create(pod("shop-1-a", owners=(ref(rs),)))
            with tempfile.TemporaryDirectory() as tmp:
                config = Path(tmp) / "kubeconfig"
                write_kubeconfig(config, cp.server.url)
                proc = await asyncio.create_subprocess_exec(
                    *("kubectl", "--kubeconfig", str(config), "delete", "deployment", "shop"),
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await asyncio.wait_for(proc.communicate(), 90)
            assert proc.returncode == 0, err.decode()
            assert out.decode().strip() == 'deployment.apps "shop" deleted'
            await cp.wait_for(lambda: _gone(cp, ReplicaSet, "shop-1"), what="rs collected")
            await cp.wait_for(lambda: _gone(cp, Pod, "shop-1-a"), what="pod collected")
        finally:
            await cp.server.stop()


@sync
async def test_over_http_background_foreground_and_orphan() -> None:
    from kframe.client import HttpClient

    async with control_plane([]) as cp:
        await cp.server.start("127.0.0.1", 0)
        http = HttpClient(cp.server.url)
        manager = ControllerManager(http, registered_controllers(), controllers=GC)
        task = asyncio.ensure_future(manager.run())
        try:
            collector = await cp.wait_for(
                lambda: manager.controllers.get("garbage-collector-controller")
            )
            await asyncio.wait_for(collector.synced.wait(), 30)
            for policy in ("Background", "Foreground", "Orphan"):
                name = policy.lower()
                rs = await cp.client.create(replica_set(name))
                await cp.client.create(pod(f"{name}-pod", owners=(ref(rs),)))
                await cp.client.delete(
                    ReplicaSet, name, namespace="default", propagation_policy=policy
                )
                await cp.wait_for(functools.partial(_gone, cp, ReplicaSet, name), what=name)
                if policy == "Orphan":
                    left = await lookup(cp.client, Pod, f"{name}-pod")
                    assert left is not None and not left.metadata.owner_references
                else:
                    await cp.wait_for(functools.partial(_gone, cp, Pod, f"{name}-pod"))
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await http.close()
            await cp.server.stop()


@sync
async def test_cluster_scoped_owners_and_invalid_namespaced_owners() -> None:
    from kframe.api import from_dict
    from kframe.api.models import ClusterRole, Event

    async with control_plane(GC) as cp:
        await _synced(cp)
        role = await cp.client.create(from_dict({"metadata": {"name": "owner-role"}}, ClusterRole))
        # A namespaced dependent of a cluster-scoped owner: collected with it.
        await cp.client.create(config_map("of-role", owners=(ref(role),)))
        await cp.client.delete(ClusterRole, "owner-role")
        await cp.wait_for(lambda: _gone(cp, ConfigMap, "of-role"), what="of-role collected")
        # A cluster-scoped dependent cannot have a namespaced owner: the reference is absent.
        cm = await cp.client.create(config_map("ns-owner"))
        bad = from_dict(
            {
                "metadata": {
                    "name": "bad-role",
                    "ownerReferences": [
                        {
                            "apiVersion": "v1",
                            "kind": "ConfigMap",
                            "name": "ns-owner",
                            "uid": cm.metadata.uid,
                        }
                    ],
                }
            },
            ClusterRole,
        )
        await cp.client.create(bad)

        async def bad_gone() -> bool:
            return await lookup(cp.client, ClusterRole, "bad-role", namespace="") is None

        await cp.wait_for(bad_gone, what="bad-role collected")
        assert await lookup(cp.client, ConfigMap, "ns-owner") is not None

        async def warned() -> bool:
            events = (await cp.client.list(Event, namespace="default")).items
            return any(e.reason == "OwnerRefInvalidNamespace" for e in events)

        await cp.wait_for(warned, what="OwnerRefInvalidNamespace event")


@pytest.mark.slow
@sync
async def test_scale_a_thousand_dependents_per_policy() -> None:
    async with control_plane(GC) as cp:
        await _synced(cp)
        for policy in ("Background", "Foreground", "Orphan"):
            rs = await cp.client.create(replica_set(policy.lower()))
            names = [f"{policy.lower()}-{i}" for i in range(1000)]
            for name in names:
                await cp.client.create(pod(name, owners=(ref(rs),)))
            await cp.client.delete(
                ReplicaSet, policy.lower(), namespace="default", propagation_policy=policy
            )

            async def settled(policy: str = policy) -> bool:
                pods = (await cp.client.list(Pod, namespace="default")).items
                if policy != "Orphan":
                    return not pods
                return len(pods) == 1000 and all(not p.metadata.owner_references for p in pods)

            await cp.wait_for(settled, timeout=120, what=f"{policy} settled")
            await cp.wait_for(functools.partial(_gone, cp, ReplicaSet, policy.lower()))
            for name in names if policy == "Orphan" else ():
                await cp.client.delete(Pod, name, namespace="default")
