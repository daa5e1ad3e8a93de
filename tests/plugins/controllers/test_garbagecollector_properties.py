"""Properties of the garbage collector over random owner forests and propagation policies.

Objects are made first (each may name earlier ones, or a uid that never existed, as owners),
then some are deleted with random policies. After the collector converges:

- no object names an owner that does not exist (references to missing owners are dropped
  only by orphaning, or with their object when no owner holds it);
- what was deleted is gone, and what no deletion can reach is not;
- an object that outlived all its owners had one deleted with ``Orphan``;
- a foreground owner went only once nothing held a blocking reference to it (checked on every
  store event, in revision order).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kframe.api.models import ConfigMap, OwnerReference, Pod, ReplicaSet, Secret
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import garbagecollector
from tests.plugins.controllers.gc_objects import config_map, pod, ref, replica_set

KINDS: dict[str, Any] = {
    "cm": (ConfigMap, config_map),
    "pod": (Pod, pod),
    "rs": (ReplicaSet, replica_set),
    "secret": (Secret, None),
}
POLICIES = (None, "Background", "Foreground", "Orphan")


@st.composite
def forests(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 7))
    objects = []
    for i in range(count):
        owners = draw(
            st.lists(st.integers(0, i - 1), max_size=min(i, 2), unique=True) if i else st.just([])
        )
        objects.append(
            {
                "kind": draw(st.sampled_from(sorted(KINDS))),
                "owners": [(j, draw(st.booleans())) for j in owners],  # (owner, blocks)
                "dangling": draw(st.booleans()) if draw(st.integers(0, 4)) == 0 else False,
                "finalizer": False,
            }
        )
    deletions = draw(
        st.lists(
            st.tuples(st.integers(0, count - 1), st.sampled_from(POLICIES)),
            max_size=3,
            unique_by=lambda d: d[0],
        )
    )
    return {"objects": objects, "deletions": deletions}


def _make(kind: str, name: str, owners: tuple[OwnerReference, ...]) -> Any:
    cls, factory = KINDS[kind]
    if factory is None:
        from kframe.api import from_dict, to_dict

        meta: dict[str, Any] = {"name": name, "namespace": "default"}
        if owners:
            meta["ownerReferences"] = [to_dict(o) for o in owners]
        return from_dict({"metadata": meta}, cls)
    return factory(name, owners=owners)


class _Recorder:
    """Replays every store event in revision order: the live objects by uid, and a list of
    violations of "a foreground owner goes only once no blocking reference names it"."""

    def __init__(self) -> None:
        self.live: dict[str, dict[str, Any]] = {}
        self.violations: list[str] = []

    def apply(self, event: Any) -> None:
        if event.type == "PUT":
            obj = json.loads(event.kv.value)
            self.live[obj["metadata"]["uid"]] = obj
            return
        gone_kv = event.prev_kv or event.kv
        obj = json.loads(gone_kv.value)
        uid = obj["metadata"]["uid"]
        self.live.pop(uid, None)
        if "foregroundDeletion" in (obj["metadata"].get("finalizers") or ()):
            for other in self.live.values():
                for r in other["metadata"].get("ownerReferences") or ():
                    if r.get("uid") == uid and r.get("blockOwnerDeletion"):
                        self.violations.append(
                            f"{obj['metadata']['name']} went before {other['metadata']['name']}"
                        )


async def _record(cp: ControlPlane, recorder: _Recorder, start: int) -> None:
    watch = cp.server.store.watch("/registry/", start_revision=start)
    try:
        async for event in watch:
            recorder.apply(event)
    finally:
        await watch.close()


async def _live(cp: ControlPlane) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for cls, _ in KINDS.values():
        for obj in (await cp.client.list(cls, namespace="default")).items:
            found[obj.metadata.uid] = obj
    return found


async def _scenario(forest: dict[str, Any]) -> None:
    async with control_plane(["garbagecollector"]) as cp:
        collector = cp.manager.controllers["garbage-collector-controller"]
        assert isinstance(collector, garbagecollector.GarbageCollector)
        await asyncio.wait_for(collector.synced.wait(), 30)
        recorder = _Recorder()
        start = await cp.server.store.revision() + 1
        task = asyncio.ensure_future(_record(cp, recorder, start))
        made: list[Any] = []
        for i, spec in enumerate(forest["objects"]):
            owners = [ref(made[j], block=blocks) for j, blocks in spec["owners"]]
            if spec["dangling"]:
                owners.append(
                    OwnerReference(
                        api_version="v1", kind="ConfigMap", name=f"gone-{i}", uid=f"x{i}"
                    )
                )
            made.append(await cp.client.create(_make(spec["kind"], f"o{i}", tuple(owners))))
        uids = [m.metadata.uid for m in made]

        # The graph must know the objects before deletions start: a foreground owner whose
        # dependents the graph has not seen yet would not wait for them (upstream too).
        def observed() -> bool:
            # Seen by the graph, or collected already (a dangling-only object may go first).
            return all(
                u not in recorder.live or ((n := collector.graph.get(u)) and not n.virtual)
                for u in uids
            )

        await cp.wait_for(observed, timeout=10, what="graph observed the objects")
        for index, policy in forest["deletions"]:
            cls = KINDS[forest["objects"][index]["kind"]][0]
            with contextlib.suppress(Exception):
                await cp.client.delete(
                    cls, f"o{index}", namespace="default", propagation_policy=policy
                )
        deleted = {i for i, _ in forest["deletions"]}

        async def converged() -> tuple[dict[str, Any]] | None:
            live = await _live(cp)
            if any(uids[i] in live for i in deleted):
                return None
            for obj in live.values():
                if obj.metadata.deletion_timestamp is not None:
                    return None
                if any(r.uid not in live for r in obj.metadata.owner_references):
                    return None
            return (live,)  # truthy even when nothing is left

        (live,) = await cp.wait_for(converged, timeout=15, what="convergence")
        await asyncio.sleep(0.05)  # the recorder sees the last events
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert not recorder.violations, recorder.violations

        # At risk: deleted, or (transitively) owned by something at risk, or dangling.
        at_risk: set[int] = set()
        for i, spec in enumerate(forest["objects"]):
            if i in deleted or spec["dangling"] or any(j in at_risk for j, _ in spec["owners"]):
                at_risk.add(i)
        for i in range(len(made)):
            if i not in at_risk:
                assert uids[i] in live, f"o{i} was collected though nothing could reach it"
        orphaned = {i for i, policy in forest["deletions"] if policy == "Orphan"}
        for i, spec in enumerate(forest["objects"]):
            owners = [j for j, _ in spec["owners"]]
            if uids[i] in live and owners and all(uids[j] not in live for j in owners):
                assert any(j in orphaned for j in owners), f"o{i} outlived its owners"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(forests())
def test_collection_converges_to_a_consistent_forest(forest: dict[str, Any]) -> None:
    asyncio.run(_scenario(forest))
