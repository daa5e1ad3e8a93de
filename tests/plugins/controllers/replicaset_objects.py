"""Objects and waits for the replicaset controller's tests."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from kframe.api import from_dict
from kframe.api.models import Event, Pod, ReplicaSet
from kframe.controller import controller_ref, is_pod_active
from kframe.testing.controllers import ControlPlane


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
