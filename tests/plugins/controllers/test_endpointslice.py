"""The EndpointSlice controller in a control plane: slices follow pods made ready by fake
kubelets, and pods, nodes and services written by the test."""

from __future__ import annotations

from typing import Any, cast

import pytest

from kframe.api import from_dict
from kframe.api.models import EndpointSlice, Pod, Service
from kframe.controller import ControllerContext
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import endpointslice
from tests.controller.asyncrun import sync
from tests.plugins.controllers.endpoints_objects import (
    create_node,
    create_pod,
    pod_body,
    service_body,
    set_pod_status,
)


async def _slices(cp: ControlPlane, service: str = "web") -> list[EndpointSlice]:
    listed = await cp.client.list(
        EndpointSlice, namespace="default", label_selector=f"kubernetes.io/service-name={service}"
    )
    return list(listed.items)


def _ready(slices: list[EndpointSlice]) -> set[str]:
    return {
        a
        for s in slices
        for e in s.endpoints
        if e.conditions is not None and e.conditions.ready
        for a in e.addresses
    }


def test_registered_under_upstream_names() -> None:
    spec = endpointslice.kframe_controllers()["endpointslice-controller"]
    assert spec.aliases == ("endpointslice",)
    assert spec.workers == 5


@sync
async def test_pods_on_fake_kubelets_fill_a_slice() -> None:
    async with control_plane(["endpointslice"], nodes=2, scheduler=True) as cp:
        await cp.client.create(from_dict(service_body(selector={"app": "web"}), Service))
        for i in range(3):
            body = pod_body(f"web-{i}")
            del body["spec"]["nodeName"]
            await cp.client.create(from_dict(body, Pod))

        async def three_ready() -> list[EndpointSlice] | None:
            slices = await _slices(cp)
            return slices if len(_ready(slices)) == 3 else None

        (slice_,) = await cp.wait_for(three_ready, what="three ready endpoints")
        listed = (await cp.client.list(Pod, namespace="default")).items
        pods = {p.metadata.name: p for p in listed if p.metadata is not None}
        for e in slice_.endpoints:
            assert e.target_ref is not None and e.target_ref.kind == "Pod"
            p = pods[e.target_ref.name]
            assert p.status is not None and p.spec is not None
            assert e.addresses == (p.status.pod_ip,)
            assert e.node_name == p.spec.node_name
        assert [(p.name, p.port) for p in slice_.ports] == [("http", 8080)]
        meta = slice_.metadata
        assert meta is not None
        assert meta.labels["endpointslice.kubernetes.io/managed-by"] == (
            "endpointslice-controller.k8s.io"
        )
        assert meta.name is not None and meta.name.startswith("web-")
        assert "endpoints.kubernetes.io/last-change-trigger-time" in meta.annotations


@sync
async def test_slices_follow_readiness_deletion_and_zones() -> None:
    async with control_plane(["endpointslice"]) as cp:
        await create_node(cp.client, "n1", zone="zone-a")
        await cp.client.create(from_dict(service_body(selector={"app": "web"}), Service))
        # A placeholder first: no pods yet.
        await cp.wait_for(lambda: _slices(cp), what="placeholder slice")
        await create_pod(cp.client, "a", "10.1.0.1")
        await create_pod(cp.client, "b", "10.1.0.2", ready=False)
        await create_pod(cp.client, "c", None)  # no IP yet: left out

        async def state() -> dict[str, tuple[bool | None, str | None]]:
            return {
                e.addresses[0]: (e.conditions.ready if e.conditions else None, e.zone)
                for s in await _slices(cp)
                for e in s.endpoints
            }

        want = {"10.1.0.1": (True, "zone-a"), "10.1.0.2": (False, "zone-a")}
        await cp.wait_for(lambda: _eq(state(), want), what="a ready, b not")
        await set_pod_status(cp.client, "b", "10.1.0.2", True)
        await set_pod_status(cp.client, "c", "10.1.0.3", True)
        want = {ip: (True, "zone-a") for ip in ("10.1.0.1", "10.1.0.2", "10.1.0.3")}
        await cp.wait_for(lambda: _eq(state(), want), what="all ready")
        # No kubelet confirms the deletion: the pod stays, terminating and not ready.
        await cp.client.delete(Pod, "a", namespace="default")
        want["10.1.0.1"] = (False, "zone-a")
        await cp.wait_for(lambda: _eq(state(), want), what="a terminating")
        (slice_,) = await _slices(cp)  # the placeholder became the slice
        leaving = next(e for e in slice_.endpoints if e.addresses == ("10.1.0.1",))
        assert leaving.conditions is not None and leaving.conditions.terminating is True


async def _eq(got: object, want: object) -> bool:
    return await got == want  # type: ignore[misc, no-any-return]


@sync
async def test_a_service_without_selector_gets_no_slices() -> None:
    async with control_plane(["endpointslice"]) as cp:
        await create_node(cp.client, "n1")
        await create_pod(cp.client, "a", "10.1.0.1")
        await cp.client.create(from_dict(service_body("manual"), Service))
        await cp.client.create(from_dict(service_body(selector={"app": "web"}), Service))
        await cp.wait_for(lambda: _slices(cp), what="the other service's slice")
        controller = cast(Any, cp.manager.controllers["endpointslice-controller"])
        await cp.wait_for(
            lambda: controller.services.store.get("default/manual"), what="service cached"
        )
        await controller.reconcile("default/manual")
        assert await _slices(cp, "manual") == []


@pytest.mark.parametrize("value", ["0", "1001", "many"])
def test_max_endpoints_per_slice_is_checked(value: str) -> None:
    ctx = ControllerContext(
        "endpointslice-controller",
        cast(Any, None),
        cast(Any, None),
        options={"max-endpoints-per-slice": value},
    )
    with pytest.raises(ValueError, match="max-endpoints-per-slice"):
        endpointslice.build(ctx)
