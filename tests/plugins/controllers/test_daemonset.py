"""The daemonset controller in a control plane with a scheduler and three fake kubelets: one
pod per eligible node, pinned there by node affinity, rolling updates, OnDelete, status."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from kframe.api import from_dict
from kframe.api.models import ControllerRevision, DaemonSet, Node, Pod
from kframe.testing.controllers import ControlPlane, control_plane


def daemon_set(
    name: str = "d", *, spec: Mapping[str, Any] | None = None, **extra: Any
) -> DaemonSet:
    pod_spec = {
        "terminationGracePeriodSeconds": 0,
        "containers": [{"name": "c", "image": "busybox"}],
        **(spec or {}),
    }
    body = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
            **extra,
        },
    }
    return from_dict(body, DaemonSet)


async def pods_of(cp: ControlPlane, name: str = "d") -> list[Pod]:
    items = (await cp.client.list(Pod, namespace="default", label_selector=f"app={name}")).items
    return [p for p in items if p.metadata is not None and p.metadata.deletion_timestamp is None]


async def settled(
    cp: ControlPlane, name: str, nodes: Sequence[str], generation: int = 1
) -> DaemonSet:
    """The DaemonSet once it has ready, updated pods on exactly ``nodes``."""

    async def check() -> DaemonSet | None:
        ds = await cp.client.get(DaemonSet, name, namespace="default")
        st = ds.status
        if st is None or st.observed_generation != generation:
            return None
        if (
            not (
                st.desired_number_scheduled
                == st.current_number_scheduled
                == st.number_ready
                == st.updated_number_scheduled
                == st.number_available
                == len(nodes)
            )
            or st.number_misscheduled
            or st.number_unavailable
        ):
            return None
        pods = await pods_of(cp, name)
        if sorted(p.spec.node_name or "" for p in pods if p.spec) != sorted(nodes):
            return None
        return ds

    return await cp.wait_for(check, what=f"daemon set {name} on {list(nodes)}")  # type: ignore[no-any-return]


async def taint(cp: ControlPlane, node: str, *taints: Mapping[str, str]) -> None:
    await cp.client.patch(Node, node, {"spec": {"taints": list(taints)}}, patch_type="merge")


async def label(cp: ControlPlane, node: str, labels: Mapping[str, str | None]) -> None:
    await cp.client.patch(Node, node, {"metadata": {"labels": dict(labels)}}, patch_type="merge")


def test_one_pod_per_node_pinned_by_affinity_with_default_tolerations() -> None:
    async def main() -> None:
        async with control_plane(["daemonset"], nodes=3, scheduler=True) as cp:
            await cp.client.create(daemon_set(spec={"hostNetwork": True}))
            ds = await settled(cp, "d", ["node-0", "node-1", "node-2"])
            revisions = (await cp.client.list(ControllerRevision, namespace="default")).items
            assert len(revisions) == 1 and revisions[0].revision == 1
            hash_ = revisions[0].metadata.labels["controller-revision-hash"]  # type: ignore[union-attr]
            assert revisions[0].metadata.name == f"d-{hash_}"  # type: ignore[union-attr]
            for pod in await pods_of(cp):
                assert pod.metadata is not None and pod.spec is not None
                assert pod.metadata.labels["controller-revision-hash"] == hash_
                assert pod.metadata.labels["pod-template-generation"] == "1"
                assert pod.metadata.generate_name == "d-"
                ref = pod.metadata.owner_references[0]
                assert (ref.kind, ref.uid, ref.controller) == ("DaemonSet", ds.metadata.uid, True)  # type: ignore[union-attr]
                affinity = pod.spec.affinity.node_affinity  # type: ignore[union-attr]
                required = affinity.required_during_scheduling_ignored_during_execution  # type: ignore[union-attr]
                (term,) = required.node_selector_terms  # type: ignore[union-attr]
                (field,) = term.match_fields
                assert (field.key, field.operator, field.values) == (
                    "metadata.name",
                    "In",
                    (pod.spec.node_name,),
                )
                keys = {(t.key, t.effect) for t in pod.spec.tolerations}
                assert keys == {
                    ("node.kubernetes.io/not-ready", "NoExecute"),
                    ("node.kubernetes.io/unreachable", "NoExecute"),
                    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
                    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                    ("node.kubernetes.io/unschedulable", "NoSchedule"),
                    ("node.kubernetes.io/network-unavailable", "NoSchedule"),
                }

    asyncio.run(main())


def test_node_selector_taints_and_tolerations() -> None:
    async def main() -> None:
        async with control_plane(["daemonset"], nodes=3, scheduler=True) as cp:
            await label(cp, "node-0", {"disk": "ssd"})
            await label(cp, "node-1", {"disk": "ssd"})
            await taint(cp, "node-1", {"key": "dedicated", "value": "db", "effect": "NoSchedule"})
            await cp.client.create(daemon_set(spec={"nodeSelector": {"disk": "ssd"}}))
            await settled(cp, "d", ["node-0"])
            # A tolerating DaemonSet also lands on the tainted node.
            tolerating = daemon_set(
                "t",
                spec={"tolerations": [{"key": "dedicated", "operator": "Exists"}]},
            )
            await cp.client.create(tolerating)
            await settled(cp, "t", ["node-0", "node-1", "node-2"])
            # A node that loses the label loses its pod; an untolerated NoExecute taint evicts.
            await label(cp, "node-0", {"disk": None})
            await label(cp, "node-2", {"disk": "ssd"})
            await settled(cp, "d", ["node-2"])
            await taint(cp, "node-2", {"key": "gone", "effect": "NoExecute"})
            await settled(cp, "t", ["node-0", "node-1"])
            # A NoSchedule taint keeps new pods off but lets a running one stay.
            await taint(cp, "node-0", {"key": "soft", "effect": "NoSchedule"})

            async def misscheduled() -> bool:
                # nodeShouldRunDaemonPod: node-0 no longer should run it, but may keep it.
                st = (await cp.client.get(DaemonSet, "t", namespace="default")).status
                return st is not None and (st.desired_number_scheduled, st.number_misscheduled) == (
                    1,
                    1,
                )

            await cp.wait_for(misscheduled, what="node-0's pod counted as misscheduled")
            assert sorted(p.spec.node_name for p in await pods_of(cp, "t")) == ["node-0", "node-1"]  # type: ignore[union-attr,type-var]

    asyncio.run(main())


async def watch_two_per_node(cp: ControlPlane, name: str, seen: list[str]) -> None:
    """Record any moment with two live (non-terminal) pods of ``name`` on one node."""
    live: dict[str, Pod] = {}
    async for event in cp.client.watch(Pod, namespace="default", label_selector=f"app={name}"):
        pod = event.object
        if pod is None or pod.metadata is None:
            continue
        key = pod.metadata.name or ""
        phase = pod.status.phase if pod.status else None
        if event.type == "DELETED" or phase in ("Succeeded", "Failed"):
            live.pop(key, None)
        else:
            live[key] = pod
        nodes = [_target(p) for p in live.values()]
        dupes = {n for n in nodes if nodes.count(n) > 1}
        if dupes:
            seen.append(f"{sorted(dupes)} at {event.resource_version}")


def _target(pod: Pod) -> str:
    spec = pod.spec
    assert spec is not None
    if spec.node_name:
        return str(spec.node_name)
    affinity = spec.affinity.node_affinity  # type: ignore[union-attr]
    term = affinity.required_during_scheduling_ignored_during_execution.node_selector_terms[0]  # type: ignore[union-attr]
    return str(term.match_fields[0].values[0])


def test_rolling_update_replaces_every_pod_never_two_on_a_node() -> None:
    async def main() -> None:
        async with control_plane(["daemonset"], nodes=3, scheduler=True) as cp:
            seen: list[str] = []
            watcher = asyncio.ensure_future(watch_two_per_node(cp, "d", seen))
            await cp.client.create(daemon_set())
            await settled(cp, "d", ["node-0", "node-1", "node-2"])
            for generation, image in ((2, "busybox:2"), (3, "busybox:3")):
                patch = {
                    "spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}
                }
                await cp.client.patch(
                    DaemonSet, "d", patch, namespace="default", patch_type="merge"
                )
                await settled(cp, "d", ["node-0", "node-1", "node-2"], generation)
                images = {p.spec.containers[0].image for p in await pods_of(cp)}  # type: ignore[union-attr]
                assert images == {image}
            revisions = (await cp.client.list(ControllerRevision, namespace="default")).items
            assert sorted(r.revision for r in revisions) == [1, 2, 3]  # type: ignore[type-var]
            generations = {p.metadata.labels["pod-template-generation"] for p in await pods_of(cp)}  # type: ignore[union-attr]
            assert generations == {"3"}
            watcher.cancel()
            assert seen == []

    asyncio.run(main())


def test_max_surge_updates_with_a_new_pod_beside_the_old() -> None:
    async def main() -> None:
        async with control_plane(["daemonset"], nodes=3, scheduler=True) as cp:
            ds = daemon_set(
                updateStrategy={
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
                }
            )
            await cp.client.create(ds)
            await settled(cp, "d", ["node-0", "node-1", "node-2"])
            patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "v2"}]}}}}
            await cp.client.patch(DaemonSet, "d", patch, namespace="default", patch_type="merge")
            await settled(cp, "d", ["node-0", "node-1", "node-2"], 2)

    asyncio.run(main())


def test_on_delete_replaces_only_deleted_pods() -> None:
    async def main() -> None:
        async with control_plane(["daemonset"], nodes=3, scheduler=True) as cp:
            await cp.client.create(daemon_set(updateStrategy={"type": "OnDelete"}))
            await settled(cp, "d", ["node-0", "node-1", "node-2"])
            patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "v2"}]}}}}
            await cp.client.patch(DaemonSet, "d", patch, namespace="default", patch_type="merge")

            async def observed() -> bool:
                ds = await cp.client.get(DaemonSet, "d", namespace="default")
                return (
                    ds.status is not None
                    and ds.status.observed_generation == 2
                    and ds.status.updated_number_scheduled == 0
                )

            await cp.wait_for(observed)
            victim = next(p for p in await pods_of(cp) if p.spec and p.spec.node_name == "node-1")
            await cp.client.delete(Pod, victim.metadata.name, namespace="default")  # type: ignore[union-attr,arg-type]

            async def replaced() -> bool:
                images = {
                    p.spec.node_name: p.spec.containers[0].image
                    for p in await pods_of(cp)
                    if p.spec
                }
                return images == {"node-0": "busybox", "node-1": "v2", "node-2": "busybox"}

            await cp.wait_for(replaced)

    asyncio.run(main())


def test_failed_daemon_pod_is_replaced() -> None:
    async def main() -> None:
        async with control_plane(["daemonset"], nodes=1, scheduler=True) as cp:
            await cp.client.create(daemon_set())
            await settled(cp, "d", ["node-0"])
            (pod,) = await pods_of(cp)
            assert pod.metadata is not None
            failed = {"status": {"phase": "Failed"}}
            name, uid = pod.metadata.name or "", pod.metadata.uid
            await cp.client.patch(
                Pod, name, failed, namespace="default", patch_type="merge", subresource="status"
            )

            async def replaced() -> bool:
                pods = await pods_of(cp)
                if len(pods) != 1 or pods[0].metadata is None or pods[0].status is None:
                    return False
                return pods[0].metadata.uid != uid and pods[0].status.phase == "Running"

            await cp.wait_for(replaced)

    asyncio.run(main())


def test_new_node_gets_a_pod_and_history_is_trimmed() -> None:
    async def main() -> None:
        async with control_plane(["daemonset"], nodes=2, scheduler=True) as cp:
            await cp.client.create(daemon_set(revisionHistoryLimit=1))
            await settled(cp, "d", ["node-0", "node-1"])
            for generation in (2, 3, 4):
                patch = {
                    "spec": {"template": {"metadata": {"annotations": {"g": str(generation)}}}}
                }
                await cp.client.patch(
                    DaemonSet, "d", patch, namespace="default", patch_type="merge"
                )
                await settled(cp, "d", ["node-0", "node-1"], generation)

            async def trimmed() -> bool:
                revisions = (await cp.client.list(ControllerRevision, namespace="default")).items
                return sorted(r.revision for r in revisions) == [3, 4]  # type: ignore[type-var]

            await cp.wait_for(trimmed)

    asyncio.run(main())
