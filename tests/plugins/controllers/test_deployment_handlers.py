"""The deployment controller's event handlers (which Deployment a ReplicaSet or Pod change
enqueues) and the empty-selector path, on a controller whose informer caches the test fills."""

from __future__ import annotations

from typing import Any

import attrs

from kframe.api import from_dict
from kframe.api.models import Deployment, Event, OwnerReference, Pod, ReplicaSet
from kframe.controller import ControllerContext, SharedInformers
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers.deployment import DeploymentController
from tests.controller.asyncrun import sync
from tests.plugins.controllers.deployment_objects import deployment, replica_set


def _controller(cp: ControlPlane) -> DeploymentController:
    ctx = ControllerContext("deployment-controller", cp.client, SharedInformers(cp.client))
    return DeploymentController(ctx)


async def _queued(c: DeploymentController) -> set[str]:
    """The keys on the work queue, taken off it."""
    out = set()
    while c.ctx.queue.len():
        key = await c.ctx.queue.get()
        c.ctx.queue.done(key)
        out.add(key)
    return out


def _owned(rs: ReplicaSet, d: Deployment) -> ReplicaSet:
    ref = OwnerReference(
        api_version="apps/v1",
        kind="Deployment",
        name=d.metadata.name,  # type: ignore[union-attr]
        uid=d.metadata.uid,  # type: ignore[union-attr]
        controller=True,
    )
    return attrs.evolve(rs, metadata=attrs.evolve(rs.metadata, owner_references=(ref,)))  # type: ignore[arg-type]


def _pod(rs: ReplicaSet) -> Pod:
    return from_dict(
        {
            "metadata": {
                "name": "p",
                "namespace": "default",
                "uid": "uid-p",
                "labels": {"app": "web"},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": rs.metadata.name,  # type: ignore[union-attr]
                        "uid": rs.metadata.uid,  # type: ignore[union-attr]
                        "controller": True,
                    }
                ],
            }
        },
        Pod,
    )


@sync
async def test_replica_set_events_enqueue_the_owner_or_the_selecting_deployments() -> None:
    async with control_plane([]) as cp:
        c = _controller(cp)
        web, api = deployment("web"), deployment("api")
        c.deployments.store.put(web)
        c.deployments.store.put(api)
        owned = _owned(replica_set("web-1", replicas=1), web)
        c._rs_added(owned)
        assert await _queued(c) == {"default/web"}
        # An orphan: every Deployment whose selector matches it.
        c._rs_added(replica_set("stray", replicas=1, owner="api"))
        assert await _queued(c) == {"default/api"}
        # An orphan without labels, or owned by a Deployment that is gone: nothing.
        bare = replica_set("bare", replicas=1)
        c._rs_added(attrs.evolve(bare, metadata=attrs.evolve(bare.metadata, labels={})))  # type: ignore[arg-type]
        c._rs_added(_owned(replica_set("x", replicas=1), deployment("gone")))
        assert await _queued(c) == set()
        # A resync (same resourceVersion) is no change.
        rv = attrs.evolve(owned, metadata=attrs.evolve(owned.metadata, resource_version="7"))  # type: ignore[arg-type]
        c._rs_updated(rv, rv)
        assert await _queued(c) == set()
        # A new controller: the old owner and the new one.
        moved = _owned(
            attrs.evolve(rv, metadata=attrs.evolve(rv.metadata, resource_version="8")),  # type: ignore[arg-type]
            api,
        )
        c._rs_updated(rv, moved)
        assert await _queued(c) == {"default/web", "default/api"}
        c._rs_deleted(owned)
        assert await _queued(c) == {"default/web"}


@sync
async def test_a_deleted_pod_wakes_a_recreate_deployment_once_none_is_left() -> None:
    async with control_plane([]) as cp:
        c = _controller(cp)
        for strategy, expected in (("Recreate", {"default/web"}), ("RollingUpdate", set())):
            d = deployment("web", strategy=strategy)
            c.deployments.store.put(d)
            rs = _owned(replica_set("web-1", replicas=0), d)
            c.replica_sets.store.put(rs)
            pod = _pod(rs)
            c.pods.store.put(
                attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name="q", uid="uid-q"))
            )  # type: ignore[arg-type]
            c._pod_deleted(pod)
            assert await _queued(c) == set()  # another pod is still there
            c.pods.store.remove("default/q")
            c._pod_deleted(pod)
            assert await _queued(c) == expected


@sync
async def test_an_empty_selector_selects_nothing_and_warns() -> None:
    async with control_plane([]) as cp:
        created = await cp.client.create(
            from_dict(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "all", "namespace": "default"},
                    "spec": {
                        "selector": {"matchLabels": {"app": "all"}},
                        "template": {
                            "metadata": {"labels": {"app": "all"}},
                            "spec": {"containers": [{"name": "c", "image": "x"}]},
                        },
                    },
                },
                Deployment,
            )
        )
        c = _controller(cp)
        # The API server refuses an empty selector; one read from an older server might have it.
        empty: Any = attrs.evolve(created.spec.selector, match_labels={})  # type: ignore[union-attr]
        c.deployments.store.put(
            attrs.evolve(created, spec=attrs.evolve(created.spec, selector=empty))
        )  # type: ignore[arg-type]
        await c.reconcile("default/all")
        got = await cp.client.get(Deployment, "all", namespace="default")
        assert got.status is not None and got.status.observed_generation == 1
        assert (await cp.client.list(ReplicaSet, namespace="default")).items == ()

        async def warned() -> list[Event]:
            items = (await cp.client.list(Event, namespace="default")).items
            return [e for e in items if e.reason == "SelectingAll"]

        [event] = await cp.wait_for(warned, what="a SelectingAll event")
        assert event.type == "Warning"
        assert (
            event.message
            == "This deployment is selecting all pods. A non-empty selector is required."
        )
