"""The Endpoints controller: subsets (pure) and the controller in a control plane."""

from __future__ import annotations

from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Endpoints, Service
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import endpoints
from kframe_plugins.controllers.endpoints import service_subsets
from tests.controller.asyncrun import sync
from tests.plugins.controllers.endpoints_objects import (
    create_node,
    create_pod,
    pod,
    service,
    service_body,
    set_pod_status,
)


def test_registered_under_upstream_names() -> None:
    spec = endpoints.kframe_controllers()["endpoints-controller"]
    assert spec.aliases == ("endpoint",)
    assert spec.workers == 5


def test_ready_and_not_ready_addresses_per_port_set() -> None:
    svc = service(selector={"app": "web"})
    pods = [
        pod("b", "10.0.0.2"),
        pod("a", "10.0.0.1", hostname="h", subdomain="web"),
        pod("u", "10.0.0.3", False),
        pod("other-port", "10.0.0.4", port=9090),
        pod("leaving", "10.0.0.5", terminating=True),
        pod("no-ip", None),
    ]
    subsets = service_subsets(svc, pods)
    got = [
        (
            [a.ip for a in s.addresses],
            [a.ip for a in s.not_ready_addresses],
            [(p.name, p.port, p.protocol) for p in s.ports],
        )
        for s in subsets
    ]
    assert got == [
        (["10.0.0.1", "10.0.0.2"], ["10.0.0.3"], [("http", 8080, "TCP")]),
        (["10.0.0.4"], [], [("http", 9090, "TCP")]),
    ]
    first = subsets[0].addresses[0]
    assert (first.hostname, first.node_name) == ("h", "n1")
    assert first.target_ref is not None and first.target_ref.name == "a"


def test_publish_not_ready_addresses_lists_every_pod_as_ready() -> None:
    svc = service(selector={"app": "web"}, publish_not_ready=True)
    pods = [pod("u", "10.0.0.3", False), pod("leaving", "10.0.0.5", terminating=True)]
    (subset,) = service_subsets(svc, pods)
    assert [a.ip for a in subset.addresses] == ["10.0.0.3", "10.0.0.5"]
    assert not subset.not_ready_addresses


def test_a_headless_service_without_ports_lists_addresses() -> None:
    svc = service(selector={"app": "web"}, cluster_ip="None", ports=[])
    (subset,) = service_subsets(svc, [pod("a", "10.0.0.1")])
    assert [a.ip for a in subset.addresses] == ["10.0.0.1"] and not subset.ports
    assert service_subsets(service(selector={"app": "web"}, ports=[]), [pod("a", "10.0.0.1")]) == ()


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.booleans(), st.sampled_from([8080, 9090])), max_size=25
    )
)
def test_every_address_once_per_port_and_sorted(specs: list[tuple[int, bool, int]]) -> None:
    pods = [
        pod(f"p{i}", f"10.0.0.{ip}", ready, port=port) for i, (ip, ready, port) in enumerate(specs)
    ]
    subsets = service_subsets(service(selector={"app": "web"}), pods)
    seen = []
    for s in subsets:
        for a in (*s.addresses, *s.not_ready_addresses):
            assert a.target_ref is not None
            seen.append((a.target_ref.name, s.ports[0].port))
        keys = [(a.ip, a.target_ref.uid if a.target_ref else "") for a in s.addresses]
        assert keys == sorted(keys)
    assert sorted(seen) == sorted((f"p{i}", port) for i, (_, _, port) in enumerate(specs))


async def _endpoints(cp: ControlPlane, name: str = "web") -> Endpoints | None:
    try:
        return await cp.client.get(Endpoints, name, namespace="default")
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise


@sync
async def test_endpoints_follow_pods_and_the_service() -> None:
    async with control_plane(["endpoint"]) as cp:
        await create_node(cp.client, "n1")
        await create_pod(cp.client, "a", "10.1.0.1")
        await create_pod(cp.client, "b", "10.1.0.2", ready=False)
        body = service_body(selector={"app": "web"}, labels={"team": "x"})
        await cp.client.create(from_dict(body, Service))

        async def addresses() -> tuple[list[str], list[str]] | None:
            ep = await _endpoints(cp)
            if ep is None or not ep.subsets:
                return None
            s = ep.subsets[0]
            return [a.ip or "" for a in s.addresses], [a.ip or "" for a in s.not_ready_addresses]

        async def state_is(want: tuple[list[str], list[str]]) -> bool:
            return await addresses() == want

        await cp.wait_for(lambda: state_is((["10.1.0.1"], ["10.1.0.2"])), what="a ready, b not")
        ep = await _endpoints(cp)
        assert ep is not None and ep.metadata is not None
        assert ep.metadata.labels == {
            "team": "x",
            "endpoints.kubernetes.io/managed-by": "endpoint-controller",
        }
        assert "endpoints.kubernetes.io/last-change-trigger-time" in ep.metadata.annotations
        await set_pod_status(cp.client, "b", "10.1.0.2", True)
        await cp.wait_for(lambda: state_is((["10.1.0.1", "10.1.0.2"], [])), what="both ready")
        # Deleted Endpoints are made again; a deleted service takes its Endpoints along.
        await cp.client.delete(Endpoints, "web", namespace="default")
        await cp.wait_for(lambda: state_is((["10.1.0.1", "10.1.0.2"], [])), what="made again")
        await cp.client.delete(Service, "web", namespace="default")

        async def gone() -> bool:
            return await _endpoints(cp) is None

        await cp.wait_for(gone, what="endpoints deleted with the service")


@sync
async def test_endpoints_of_a_service_without_selector_are_left_alone() -> None:
    async with control_plane(["endpoint"]) as cp:
        manual = from_dict(
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "manual", "namespace": "default"},
                "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}],
            },
            Endpoints,
        )
        await cp.client.create(from_dict(service_body("manual"), Service))
        before = await cp.client.create(manual)
        controller = cast(Any, cp.manager.controllers["endpoints-controller"])
        await cp.wait_for(
            lambda: controller.services.store.get("default/manual"), what="service cached"
        )
        await controller.reconcile("default/manual")
        after = await _endpoints(cp, "manual")
        assert after == before
