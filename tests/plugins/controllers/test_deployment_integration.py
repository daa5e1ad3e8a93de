"""The deployment controller with the replicaset controller, the scheduler and fake-runtime
kubelets: a Deployment becomes available, rolls to a new template (RollingUpdate and Recreate),
rolls back as ``kubectl rollout undo`` does it, pauses and resumes, scales proportionally mid
rollout, cleans up its history and reports a rollout stuck past its progress deadline."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from kframe.api import from_dict, to_dict
from kframe.api.models import Deployment, Event, Pod, ReplicaSet
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers.deployment import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    POD_TEMPLATE_HASH_LABEL,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
)

CONTROLLERS = ["deployment", "replicaset"]
#: A readiness probe that never passes (the fake runtime's exec of ``false`` exits 1).
NEVER_READY = {"exec": {"command": ["false"]}, "periodSeconds": 1}


def aio(fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    @functools.wraps(fn)
    def run() -> None:
        asyncio.run(fn())

    return run


def manifest(
    name: str,
    *,
    replicas: int = 3,
    image: str = "nginx:1",
    strategy: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
    readiness: dict[str, Any] | None = None,
    **spec: Any,
) -> Deployment:
    container: dict[str, Any] = {"name": "c", "image": image}
    if readiness is not None:
        container["readinessProbe"] = readiness
    return from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [container], "terminationGracePeriodSeconds": 0},
                },
                **({"strategy": strategy} if strategy else {}),
                **spec,
            },
        },
        Deployment,
    )


async def get(cp: ControlPlane, name: str) -> Deployment:
    return await cp.client.get(Deployment, name, namespace="default")


async def edit(cp: ControlPlane, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Read, change the JSON, write (retrying on conflicts, as kubectl edit would)."""
    for _ in range(20):
        data = to_dict(await get(cp, name))
        change(data)
        try:
            await cp.client.update(from_dict(data, Deployment))
            return
        except Exception as exc:
            if getattr(exc, "code", None) != 409:
                raise
    raise AssertionError("could not update the deployment")


def set_image(
    image: str, readiness: dict[str, Any] | None = None
) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        container = data["spec"]["template"]["spec"]["containers"][0]
        container["image"] = image
        if readiness is not None:
            container["readinessProbe"] = readiness

    return change


async def sets(cp: ControlPlane, name: str) -> list[ReplicaSet]:
    items = (await cp.client.list(ReplicaSet, namespace="default")).items
    return [rs for rs in items if (rs.metadata.labels or {}).get("app") == name]  # type: ignore[union-attr]


async def pods(cp: ControlPlane, name: str) -> list[Pod]:
    items = (await cp.client.list(Pod, namespace="default")).items
    return [p for p in items if (p.metadata.labels or {}).get("app") == name]  # type: ignore[union-attr]


def image_of(obj: Any) -> str:
    """The image of a pod, or of a ReplicaSet's or Deployment's template."""
    spec = obj.spec if isinstance(obj, Pod) else obj.spec.template.spec
    return str(spec.containers[0].image)


def annotation(obj: Any, key: str) -> str | None:
    return (obj.metadata.annotations or {}).get(key)


def condition(d: Deployment, type_: str) -> Any:
    for cond in (d.status.conditions if d.status else None) or ():
        if cond.type == type_:
            return cond
    return None


async def rolled_out(cp: ControlPlane, name: str, image: str) -> bool:
    """What ``kubectl rollout status`` waits for, and every pod on ``image``."""
    d = await get(cp, name)
    s, replicas = d.status, d.spec.replicas  # type: ignore[union-attr]
    if s is None or (s.observed_generation or 0) < (d.metadata.generation or 0):  # type: ignore[union-attr]
        return False
    if (s.updated_replicas or 0) != replicas or (s.replicas or 0) != replicas:
        return False
    if (s.available_replicas or 0) != replicas:
        return False
    live = [p for p in await pods(cp, name) if p.metadata.deletion_timestamp is None]  # type: ignore[union-attr]
    return len(live) == replicas and all(image_of(p) == image for p in live)


async def events(cp: ControlPlane, name: str) -> list[str]:
    items = (await cp.client.list(Event, namespace="default")).items
    mine = [
        e
        for e in items
        if e.involved_object is not None
        and e.involved_object.kind == "Deployment"
        and e.involved_object.name == name
    ]
    mine.sort(key=lambda e: int(e.metadata.resource_version or 0))  # type: ignore[union-attr]
    return [f"{e.reason}: {e.message}" for e in mine]


@aio
async def test_create_roll_and_undo() -> None:
    async with control_plane(CONTROLLERS, nodes=2, scheduler=True) as cp:
        await cp.client.create(
            manifest("web", replicas=4, annotations={"kubernetes.io/change-cause": "v1"})
        )
        await cp.wait_for(lambda: rolled_out(cp, "web", "nginx:1"), what="web available")
        d = await get(cp, "web")
        assert annotation(d, REVISION_ANNOTATION) == "1"
        assert d.metadata.generation == 1  # type: ignore[union-attr]  # metadata writes keep it
        available, progressing = condition(d, "Available"), condition(d, "Progressing")
        assert (available.status, available.reason) == ("True", "MinimumReplicasAvailable")
        assert progressing.reason == "NewReplicaSetAvailable"
        [first] = await sets(cp, "web")
        hash_ = first.metadata.labels[POD_TEMPLATE_HASH_LABEL]  # type: ignore[index,union-attr]
        assert first.metadata.name == f"web-{hash_}"  # type: ignore[union-attr]
        assert first.spec.selector.match_labels[POD_TEMPLATE_HASH_LABEL] == hash_  # type: ignore[union-attr]
        assert first.metadata.owner_references[0].name == "web"  # type: ignore[union-attr]
        assert annotation(first, "kubernetes.io/change-cause") == "v1"
        assert annotation(first, DESIRED_REPLICAS_ANNOTATION) == "4"
        assert annotation(first, MAX_REPLICAS_ANNOTATION) == "5"  # 4 + 25% rounded up
        assert progressing.message == f'ReplicaSet "web-{hash_}" has successfully progressed.'
        assert all(
            (p.metadata.labels or {}).get(POD_TEMPLATE_HASH_LABEL) == hash_
            for p in await pods(cp, "web")
        )  # type: ignore[union-attr]

        def v2(data: dict[str, Any]) -> None:
            set_image("nginx:2")(data)
            data["metadata"]["annotations"]["kubernetes.io/change-cause"] = "v2"

        await edit(cp, "web", v2)
        await cp.wait_for(lambda: rolled_out(cp, "web", "nginx:2"), what="rolled to nginx:2")
        by_image = {image_of(rs): rs for rs in await sets(cp, "web")}
        assert by_image["nginx:1"].spec.replicas == 0  # type: ignore[union-attr]
        assert by_image["nginx:2"].spec.replicas == 4  # type: ignore[union-attr]
        assert annotation(by_image["nginx:2"], REVISION_ANNOTATION) == "2"
        assert annotation(by_image["nginx:2"], "kubernetes.io/change-cause") == "v2"
        assert annotation(await get(cp, "web"), REVISION_ANNOTATION) == "2"
        said = await events(cp, "web")
        assert f"ScalingReplicaSet: Scaled up replica set web-{hash_} from 0 to 4" in said
        assert any(
            m.startswith(f"ScalingReplicaSet: Scaled down replica set web-{hash_} from 4 to ")
            for m in said
        )

        # kubectl rollout undo: the Deployment's template back from revision 1's ReplicaSet.
        old_template = to_dict(by_image["nginx:1"].spec.template)  # type: ignore[union-attr]
        old_template["metadata"]["labels"].pop(POD_TEMPLATE_HASH_LABEL)

        def undo(data: dict[str, Any]) -> None:
            data["spec"]["template"] = old_template

        await edit(cp, "web", undo)
        await cp.wait_for(lambda: rolled_out(cp, "web", "nginx:1"), what="rolled back to nginx:1")
        by_image = {image_of(rs): rs for rs in await sets(cp, "web")}
        assert len(by_image) == 2  # the old ReplicaSet is new again, none is made
        back = by_image["nginx:1"]
        assert back.metadata.name == f"web-{hash_}"  # type: ignore[union-attr]
        assert annotation(back, REVISION_ANNOTATION) == "3"
        assert annotation(back, REVISION_HISTORY_ANNOTATION) == "1"
        assert annotation(await get(cp, "web"), REVISION_ANNOTATION) == "3"


@aio
async def test_recreate_stops_old_pods_before_starting_new_ones() -> None:
    async with control_plane(CONTROLLERS, nodes=2, scheduler=True) as cp:
        await cp.client.create(manifest("re", replicas=3, strategy={"type": "Recreate"}))
        await cp.wait_for(lambda: rolled_out(cp, "re", "nginx:1"), what="re available")
        overlap: list[tuple[str, ...]] = []
        stop = asyncio.Event()

        async def watch_overlap() -> None:
            while not stop.is_set():
                images = {image_of(p) for p in await pods(cp, "re")}
                if len(images) > 1:
                    overlap.append(tuple(sorted(images)))
                await asyncio.sleep(0.005)

        watcher = asyncio.ensure_future(watch_overlap())
        await edit(cp, "re", set_image("nginx:2"))
        await cp.wait_for(lambda: rolled_out(cp, "re", "nginx:2"), what="recreated on nginx:2")
        stop.set()
        await watcher
        assert overlap == []
        said = [m for m in await events(cp, "re") if m.startswith("ScalingReplicaSet")]
        down = next(i for i, m in enumerate(said) if "Scaled down" in m and "from 3 to 0" in m)
        up = next(i for i, m in enumerate(said) if m.endswith("from 0 to 3") and i > 0)
        assert down < up


@aio
async def test_pause_scale_and_resume() -> None:
    async with control_plane(CONTROLLERS, nodes=2, scheduler=True) as cp:
        await cp.client.create(manifest("pz", replicas=2))
        await cp.wait_for(lambda: rolled_out(cp, "pz", "nginx:1"), what="pz available")

        def pause(data: dict[str, Any]) -> None:
            data["spec"]["paused"] = True
            set_image("nginx:2")(data)

        await edit(cp, "pz", pause)

        async def paused() -> bool:
            d = await get(cp, "pz")
            cond = condition(d, "Progressing")
            return cond is not None and cond.reason == "DeploymentPaused"

        await cp.wait_for(paused, what="Progressing DeploymentPaused")
        cond = condition(await get(cp, "pz"), "Progressing")
        assert (cond.status, cond.message) == ("Unknown", "Deployment is paused")

        # Scaling works while paused; the template does not roll.
        def scale(data: dict[str, Any]) -> None:
            data["spec"]["replicas"] = 4

        await edit(cp, "pz", scale)

        async def scaled() -> bool:
            d = await get(cp, "pz")
            return (d.status.available_replicas or 0) == 4 and (
                d.status.observed_generation or 0
            ) == d.metadata.generation  # type: ignore[union-attr]

        await cp.wait_for(scaled, what="4 available while paused")
        [only] = await sets(cp, "pz")
        assert image_of(only) == "nginx:1" and only.spec.replicas == 4  # type: ignore[union-attr]

        def resume(data: dict[str, Any]) -> None:
            data["spec"]["paused"] = False

        await edit(cp, "pz", resume)
        await cp.wait_for(lambda: rolled_out(cp, "pz", "nginx:2"), what="rolled after resume")
        assert len(await sets(cp, "pz")) == 2
        said = await events(cp, "pz")
        assert any("Scaled up replica set" in m and "from 2 to 4" in m for m in said)


@aio
async def test_scaling_mid_rollout_is_proportional() -> None:
    async with control_plane(CONTROLLERS, nodes=3, scheduler=True) as cp:
        rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
        await cp.client.create(manifest("pr", replicas=10, strategy=rolling))
        await cp.wait_for(lambda: rolled_out(cp, "pr", "nginx:1"), what="pr available", timeout=60)
        # The new template never becomes ready: the rollout stops at old 8, new 5
        # (13 pods, 8 available, the 5 new ones unavailable).
        await edit(cp, "pr", set_image("nginx:2", readiness=NEVER_READY))

        async def sizes() -> dict[str, int]:
            return {image_of(rs): rs.spec.replicas or 0 for rs in await sets(cp, "pr")}  # type: ignore[union-attr]

        async def stalled() -> bool:
            return await sizes() == {"nginx:1": 8, "nginx:2": 5}

        await cp.wait_for(stalled, what="the rollout stalled at 8 + 5", timeout=60)

        def scale(data: dict[str, Any]) -> None:
            data["spec"]["replicas"] = 20

        await edit(cp, "pr", scale)

        # 10 more (20 + 3 - 13) spread by size (GetProportion): old 8 * 23/13 = 14.2 -> 14,
        # new 5 * 23/13 = 8.8 -> 9, nothing left over.
        async def spread() -> dict[str, int] | None:
            now = await sizes()
            return now if sum(now.values()) == 23 else None

        final = await cp.wait_for(spread, what="23 pods in all", timeout=60)
        assert final == {"nginx:1": 14, "nginx:2": 9}
        for rs in await sets(cp, "pr"):
            assert annotation(rs, DESIRED_REPLICAS_ANNOTATION) == "20"
            assert annotation(rs, MAX_REPLICAS_ANNOTATION) == "23"


@aio
async def test_revision_history_limit_cleans_up_old_replica_sets() -> None:
    async with control_plane(CONTROLLERS, nodes=2, scheduler=True) as cp:
        await cp.client.create(manifest("hist", replicas=1, revisionHistoryLimit=1))
        await cp.wait_for(lambda: rolled_out(cp, "hist", "nginx:1"), what="hist available")
        for image in ("nginx:2", "nginx:3", "nginx:4"):
            await edit(cp, "hist", set_image(image))
            await cp.wait_for(lambda image=image: rolled_out(cp, "hist", image), what=image)  # type: ignore[misc]

        async def cleaned() -> list[str] | None:
            images = sorted(image_of(rs) for rs in await sets(cp, "hist"))
            return images if len(images) == 2 else None

        assert await cp.wait_for(cleaned, what="two ReplicaSets left") == ["nginx:3", "nginx:4"]
        revisions = sorted(
            annotation(rs, REVISION_ANNOTATION) or "" for rs in await sets(cp, "hist")
        )
        assert revisions == ["3", "4"]


@aio
async def test_progress_deadline_exceeded() -> None:
    async with control_plane(CONTROLLERS, nodes=1, scheduler=True) as cp:
        await cp.client.create(
            manifest("stuck", replicas=1, readiness=NEVER_READY, progressDeadlineSeconds=1)
        )

        async def timed_out() -> Any:
            cond = condition(await get(cp, "stuck"), "Progressing")
            return cond if cond is not None and cond.reason == "ProgressDeadlineExceeded" else None

        cond = await cp.wait_for(timed_out, what="ProgressDeadlineExceeded", timeout=30)
        [rs] = await sets(cp, "stuck")
        assert cond.status == "False"
        assert cond.message == f'ReplicaSet "{rs.metadata.name}" has timed out progressing.'  # type: ignore[union-attr]
        available = condition(await get(cp, "stuck"), "Available")
        assert (available.status, available.reason) == ("False", "MinimumReplicasUnavailable")


@aio
async def test_orphan_replica_set_is_adopted_and_released() -> None:
    async with control_plane(["deployment"]) as cp:
        d = manifest("adopt", replicas=0)
        # A ReplicaSet with the Deployment's template, made before it: it becomes the new one.
        orphan = from_dict(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": "adopt-manual",
                    "namespace": "default",
                    "labels": {"app": "adopt"},
                },
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": "adopt"}},
                    "template": to_dict(d.spec.template),  # type: ignore[union-attr]
                },
            },
            ReplicaSet,
        )
        await cp.client.create(orphan)
        created = await cp.client.create(d)

        async def adopted() -> ReplicaSet | None:
            rs = await cp.client.get(ReplicaSet, "adopt-manual", namespace="default")
            refs = rs.metadata.owner_references or ()  # type: ignore[union-attr]
            return rs if any(r.uid == created.metadata.uid for r in refs) else None  # type: ignore[union-attr]

        rs = await cp.wait_for(adopted, what="the orphan adopted")
        assert annotation(rs, REVISION_ANNOTATION) == "1"
        assert len(await sets(cp, "adopt")) == 1  # no second ReplicaSet for the same template
        # Labels that stop matching: released.
        data = to_dict(rs)
        data["metadata"]["labels"] = {"app": "other"}
        await cp.client.update(from_dict(data, ReplicaSet))

        async def released() -> bool:
            rs = await cp.client.get(ReplicaSet, "adopt-manual", namespace="default")
            return not any(
                r.uid == created.metadata.uid for r in rs.metadata.owner_references or ()
            )  # type: ignore[union-attr]

        await cp.wait_for(released, what="the ReplicaSet released")
        # An orphan that appears later (another template) is adopted as an old ReplicaSet.
        late = to_dict(orphan)
        late["metadata"]["name"] = "adopt-late"
        late["spec"]["template"]["spec"]["containers"][0]["image"] = "other"
        await cp.client.create(from_dict(late, ReplicaSet))

        async def adopted_late() -> bool:
            rs = await cp.client.get(ReplicaSet, "adopt-late", namespace="default")
            return any(r.uid == created.metadata.uid for r in rs.metadata.owner_references or ())  # type: ignore[union-attr]

        await cp.wait_for(adopted_late, what="the late orphan adopted")
        late_rs = await cp.client.get(ReplicaSet, "adopt-late", namespace="default")
        assert annotation(late_rs, REVISION_ANNOTATION) is None  # old ones keep theirs


@aio
async def test_zero_replicas_is_complete_and_available() -> None:
    async with control_plane(CONTROLLERS) as cp:
        await cp.client.create(manifest("zero", replicas=0))

        async def ok() -> bool:
            cond = condition(await get(cp, "zero"), "Progressing")
            return cond is not None and cond.reason == "NewReplicaSetAvailable"

        await cp.wait_for(ok, what="an empty Deployment is complete")
        assert condition(await get(cp, "zero"), "Available").status == "True"


@aio
async def test_hash_collision_bumps_collision_count() -> None:
    from kframe_plugins.controllers.deployment import compute_hash

    async with control_plane(["deployment"]) as cp:
        # Paused, nothing is made: read the template as stored (defaulted) to hash it.
        await cp.client.create(manifest("col", replicas=1, paused=True))
        stored = await get(cp, "col")
        taken = f"col-{compute_hash(stored.spec.template, None)}"  # type: ignore[union-attr]
        squatter = from_dict(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {"name": taken, "namespace": "default", "labels": {"app": "else"}},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": "else"}},
                    "template": {
                        "metadata": {"labels": {"app": "else"}},
                        "spec": {"containers": [{"name": "c", "image": "other"}]},
                    },
                },
            },
            ReplicaSet,
        )
        await cp.client.create(squatter)

        def resume(data: dict[str, Any]) -> None:
            data["spec"]["paused"] = False

        await edit(cp, "col", resume)

        async def made() -> list[ReplicaSet]:
            return [rs for rs in await sets(cp, "col") if rs.metadata.name != taken]  # type: ignore[union-attr]

        [rs] = await cp.wait_for(made, what="a ReplicaSet under another name")
        assert (await get(cp, "col")).status.collision_count == 1  # type: ignore[union-attr]
        assert rs.metadata.name == f"col-{compute_hash(stored.spec.template, 1)}"  # type: ignore[union-attr]


@aio
async def test_min_ready_seconds_follows_the_deployment_and_scales_to_zero_and_back() -> None:
    async with control_plane(CONTROLLERS, nodes=1, scheduler=True) as cp:
        await cp.client.create(manifest("mr", replicas=2, minReadySeconds=1))
        await cp.wait_for(lambda: rolled_out(cp, "mr", "nginx:1"), what="mr available")
        [rs] = await sets(cp, "mr")
        assert rs.spec.min_ready_seconds == 1  # type: ignore[union-attr]

        def change(data: dict[str, Any]) -> None:
            data["spec"]["minReadySeconds"] = 0
            data["spec"]["replicas"] = 0

        await edit(cp, "mr", change)

        async def emptied() -> bool:
            [rs] = await sets(cp, "mr")
            d = await get(cp, "mr")
            return (
                not rs.spec.min_ready_seconds  # type: ignore[union-attr]
                and rs.spec.replicas == 0  # type: ignore[union-attr]
                and not await pods(cp, "mr")
                and (d.status.observed_generation or 0) == d.metadata.generation  # type: ignore[union-attr]
                and not d.status.replicas  # type: ignore[union-attr]
            )

        await cp.wait_for(emptied, what="scaled to 0, minReadySeconds 0 on the same ReplicaSet")

        def back(data: dict[str, Any]) -> None:
            data["spec"]["replicas"] = 3

        await edit(cp, "mr", back)
        await cp.wait_for(lambda: rolled_out(cp, "mr", "nginx:1"), what="back to 3")
        assert len(await sets(cp, "mr")) == 1


@aio
async def test_replica_failure_is_copied_from_the_replica_set() -> None:
    from kframe.api.models import LimitRange

    async with control_plane(CONTROLLERS) as cp:
        # LimitRanger refuses every pod of this template: the ReplicaSet reports FailedCreate.
        limits = from_dict(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": {"name": "small", "namespace": "default"},
                "spec": {"limits": [{"type": "Container", "max": {"cpu": "100m"}}]},
            },
            LimitRange,
        )
        await cp.client.create(limits)
        data = to_dict(manifest("big", replicas=2))
        data["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1"}}
        await cp.client.create(from_dict(data, Deployment))

        async def failing() -> Any:
            return condition(await get(cp, "big"), "ReplicaFailure")

        cond = await cp.wait_for(failing, what="ReplicaFailure on the Deployment", timeout=30)
        [rs] = await sets(cp, "big")
        [rs_cond] = [c for c in rs.status.conditions if c.type == "ReplicaFailure"]  # type: ignore[union-attr]
        assert (cond.status, cond.reason) == ("True", rs_cond.reason) == ("True", "FailedCreate")
        # (the message names the pod that failed last, so it may have moved on since)
        assert "maximum cpu usage per Container is 100m" in cond.message


@aio
async def test_a_rolling_update_keeps_the_minimum_available() -> None:
    """maxSurge 0, maxUnavailable 1: while 10 pods roll, at most one is missing and none is
    added past 10 (counted on the pods themselves, Ready and not terminating)."""
    async with control_plane(CONTROLLERS, nodes=3, scheduler=True) as cp:
        rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
        await cp.client.create(manifest("min", replicas=10, strategy=rolling))
        await cp.wait_for(
            lambda: rolled_out(cp, "min", "nginx:1"), what="min available", timeout=60
        )
        seen: list[tuple[int, int]] = []
        stop = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                live = [p for p in await pods(cp, "min") if p.metadata.deletion_timestamp is None]  # type: ignore[union-attr]
                ready = [
                    p
                    for p in live
                    if any(
                        c.type == "Ready" and c.status == "True" for c in p.status.conditions or ()
                    )  # type: ignore[union-attr]
                ]
                seen.append((len(live), len(ready)))
                await asyncio.sleep(0.002)

        watcher = asyncio.ensure_future(watch())
        await edit(cp, "min", set_image("nginx:2"))
        await cp.wait_for(lambda: rolled_out(cp, "min", "nginx:2"), what="rolled", timeout=60)
        stop.set()
        await watcher
        assert len(seen) > 5
        assert min(ready for _, ready in seen) >= 9
        assert max(live for live, _ in seen) <= 10
