"""The cloud-provider conformance suite: run it against any provider that offers a testbed.

Subclass :class:`CloudConformance` and give it a ``cloud_testbed`` fixture returning a
:data:`~kframe.cloud.TestbedFactory` (it opens the provider on fresh state in a directory and
can add, stop, start and delete instances)::

    import pytest
    from kframe.testing.cloud import CloudConformance
    from my_cloud import open_testbed

    class TestMyCloud(CloudConformance):
        @pytest.fixture
        def cloud_testbed(self):
            return open_testbed

Or run it over every installed provider that registers a testbed
(``CloudProviderSpec(build, testbed=...)``), as kframe's own suite does::

    INSTALLED = installed_cloud_providers()

    class TestInstalled(CloudConformance):
        @pytest.fixture(params=[t for _, t in INSTALLED], ids=[n for n, _ in INSTALLED])
        def cloud_testbed(self, request):
            return request.param

Capabilities: a provider whose ``load_balancer()``, ``routes()``, ``zones()`` or
``instances_v2()`` returns None passes the cases of that capability, and the test records
``("capability-absent", name)`` in its ``user_properties``. Nothing in the suite skips.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import uuid
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kframe.api import from_dict
from kframe.api.models import LoadBalancerStatus, Node, Service
from kframe.cloud import (
    CloudProvider,
    CloudTestbed,
    InstanceMetadata,
    InstanceNotFound,
    InstancesV2,
    LoadBalancer,
    Route,
    Routes,
    TestbedFactory,
    Zone,
    Zones,
    registered_cloud_providers,
)
from kframe.registry import Registry

__all__ = [
    "CLUSTER_NAME",
    "CloudConformance",
    "installed_cloud_providers",
    "make_node",
    "make_service",
    "run_with_testbed",
]

T = TypeVar("T")

#: The ``--cluster-name`` the suite passes to load balancer and route calls.
CLUSTER_NAME = "conformance"


def installed_cloud_providers(registry: Registry | None = None) -> list[tuple[str, TestbedFactory]]:
    """``(name, testbed factory)`` of every installed provider that registers a testbed."""
    specs = registered_cloud_providers(registry)
    return [(name, spec.testbed) for name, spec in specs.items() if spec.testbed is not None]


def run_with_testbed(
    factory: TestbedFactory,
    body: Callable[[CloudTestbed], Coroutine[Any, Any, T]],
    timeout: float = 60,
) -> T:
    """Open a testbed in a fresh directory, run ``body`` in a fresh event loop, close it."""

    async def main() -> T:
        with tempfile.TemporaryDirectory(prefix="kframe-cloud-") as tmp:
            testbed = await factory(Path(tmp))
            try:
                return await asyncio.wait_for(body(testbed), timeout)
            finally:
                await testbed.close()

    return asyncio.run(main())


def make_node(
    name: str, *, provider_id: str = "", address: str = "127.0.0.1", ready: bool = True
) -> Node:
    """A Node as a kubelet registers it (no cloud metadata yet)."""
    return from_dict(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "uid": str(uuid.uuid4())},
            "spec": {"providerID": provider_id} if provider_id else {},
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": address},
                    {"type": "Hostname", "address": name},
                ],
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        },
        Node,
    )


def make_service(name: str, *, port: int, node_port: int, namespace: str = "default") -> Service:
    """A Service of type LoadBalancer with one TCP port and its nodePort set."""
    return from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4())},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app": name},
                "ports": [{"name": "web", "protocol": "TCP", "port": port, "nodePort": node_port}],
            },
        },
        Service,
    )


def _ingress(status: LoadBalancerStatus | None) -> list[tuple[str, str]]:
    assert status is not None
    return sorted((i.ip or "", i.hostname or "") for i in status.ingress or ())


def _absent(request: pytest.FixtureRequest, capability: str) -> None:
    request.node.user_properties.append(("capability-absent", capability))


def _free_port() -> int:
    # A high port that is unlikely to be taken; providers bind it on their own addresses.
    return random.randint(20000, 29999)


def _pairs(routes: Sequence[Route]) -> set[tuple[str, str]]:
    return {(r.target_node, r.destination_cidr) for r in routes}


class CloudConformance:
    """The cases every cloud provider passes; subclass it with a ``cloud_testbed`` fixture."""

    def _run(
        self, factory: TestbedFactory, body: Callable[[CloudTestbed], Coroutine[Any, Any, None]]
    ) -> None:
        run_with_testbed(factory, body)

    def _run_on(
        self,
        factory: TestbedFactory,
        request: pytest.FixtureRequest,
        capability: str,
        body: Callable[[CloudTestbed, Any], Coroutine[Any, Any, None]],
    ) -> None:
        """Run ``body(bed, impl)`` with the provider's ``capability()``; when that is None the
        case passes and records the capability as absent."""

        async def main(bed: CloudTestbed) -> None:
            impl = getattr(bed.provider, capability)()
            if impl is None:
                _absent(request, capability)
            else:
                await body(bed, impl)

        run_with_testbed(factory, main)

    # -- the provider ---------------------------------------------------------------------------

    def test_is_a_cloud_provider(self, cloud_testbed: TestbedFactory) -> None:
        async def body(bed: CloudTestbed) -> None:
            cloud = bed.provider
            assert isinstance(cloud, CloudProvider)
            name = cloud.provider_name()
            assert isinstance(name, str) and name
            assert isinstance(cloud.has_cluster_id(), bool)
            for accessor, proto in (
                (cloud.instances_v2, InstancesV2),
                (cloud.load_balancer, LoadBalancer),
                (cloud.routes, Routes),
                (cloud.zones, Zones),
            ):
                impl = accessor()
                assert impl is None or isinstance(impl, proto), f"{accessor.__name__}: {impl!r}"

        self._run(cloud_testbed, body)

    # -- instances ------------------------------------------------------------------------------

    def test_instance_metadata_and_existence(
        self, cloud_testbed: TestbedFactory, request: pytest.FixtureRequest
    ) -> None:
        async def body(bed: CloudTestbed, instances: InstancesV2) -> None:
            await bed.add_instance("node-a")
            node = make_node("node-a")
            assert await instances.instance_exists(node) is True
            assert await instances.instance_shutdown(node) is False
            meta = await instances.instance_metadata(node)
            assert isinstance(meta, InstanceMetadata)
            prefix = f"{bed.provider.provider_name()}://"
            assert meta.provider_id.startswith(prefix), meta.provider_id
            # Found again by its provider ID, as an initialised node is.
            by_id = make_node("node-a", provider_id=meta.provider_id)
            assert await instances.instance_exists(by_id) is True
            assert (await instances.instance_metadata(by_id)).provider_id == meta.provider_id
            assert all(a.type and a.address for a in meta.node_addresses)

        self._run_on(cloud_testbed, request, "instances_v2", body)

    def test_unknown_instances_do_not_exist(
        self, cloud_testbed: TestbedFactory, request: pytest.FixtureRequest
    ) -> None:
        async def body(bed: CloudTestbed, instances: InstancesV2) -> None:
            ghost = make_node("never-created")
            assert await instances.instance_exists(ghost) is False
            with pytest.raises(InstanceNotFound):
                await instances.instance_metadata(ghost)

        self._run_on(cloud_testbed, request, "instances_v2", body)

    def test_shutdown_and_deletion(
        self, cloud_testbed: TestbedFactory, request: pytest.FixtureRequest
    ) -> None:
        async def body(bed: CloudTestbed, instances: InstancesV2) -> None:
            await bed.add_instance("node-b")
            node = make_node("node-b")
            meta = await instances.instance_metadata(node)
            by_id = make_node("node-b", provider_id=meta.provider_id)
            await bed.stop_instance("node-b")
            assert await instances.instance_shutdown(by_id) is True
            assert await instances.instance_exists(by_id) is True  # stopped is not gone
            await bed.start_instance("node-b")
            assert await instances.instance_shutdown(by_id) is False
            await bed.delete_instance("node-b")
            assert await instances.instance_exists(by_id) is False
            assert await instances.instance_exists(node) is False
            with pytest.raises(InstanceNotFound):
                await instances.instance_metadata(by_id)

        self._run_on(cloud_testbed, request, "instances_v2", body)

    # -- zones ----------------------------------------------------------------------------------

    def test_zones_agree_with_instance_metadata(
        self, cloud_testbed: TestbedFactory, request: pytest.FixtureRequest
    ) -> None:
        async def body(bed: CloudTestbed, zones: Zones) -> None:
            assert isinstance(await zones.get_zone(), Zone)
            instances = bed.provider.instances_v2()
            if instances is None:
                return
            await bed.add_instance("node-z")
            meta = await instances.instance_metadata(make_node("node-z"))
            by_name = await zones.get_zone_by_node_name("node-z")
            by_id = await zones.get_zone_by_provider_id(meta.provider_id)
            assert by_name == by_id
            if meta.zone:
                assert (by_name.failure_domain, by_name.region) == (meta.zone, meta.region)

        self._run_on(cloud_testbed, request, "zones", body)

    # -- load balancers -------------------------------------------------------------------------

    def test_load_balancer_lifecycle(
        self, cloud_testbed: TestbedFactory, request: pytest.FixtureRequest
    ) -> None:
        async def body(bed: CloudTestbed, lb: LoadBalancer) -> None:
            nodes = [make_node("node-a", address="127.0.0.1"), make_node("node-b")]
            svc = make_service("web", port=_free_port(), node_port=30080)
            name = lb.get_load_balancer_name(CLUSTER_NAME, svc)
            assert name and name == lb.get_load_balancer_name(CLUSTER_NAME, svc)
            assert await lb.get_load_balancer(CLUSTER_NAME, svc) is None
            status = await lb.ensure_load_balancer(CLUSTER_NAME, svc, nodes)
            first = _ingress(status)
            assert first, "an ensured load balancer has an ingress address"
            assert _ingress(await lb.get_load_balancer(CLUSTER_NAME, svc)) == first
            # Ensure is idempotent: the same address again.
            assert _ingress(await lb.ensure_load_balancer(CLUSTER_NAME, svc, nodes)) == first
            await lb.update_load_balancer(CLUSTER_NAME, svc, nodes[:1])
            assert _ingress(await lb.get_load_balancer(CLUSTER_NAME, svc)) == first
            await lb.ensure_load_balancer_deleted(CLUSTER_NAME, svc)
            assert await lb.get_load_balancer(CLUSTER_NAME, svc) is None
            await lb.ensure_load_balancer_deleted(CLUSTER_NAME, svc)  # gone is fine

        self._run_on(cloud_testbed, request, "load_balancer", body)

    def test_load_balancers_are_per_service(
        self, cloud_testbed: TestbedFactory, request: pytest.FixtureRequest
    ) -> None:
        async def body(bed: CloudTestbed, lb: LoadBalancer) -> None:
            nodes = [make_node("node-a")]
            one = make_service("one", port=_free_port(), node_port=30081)
            two = make_service("two", port=_free_port(), node_port=30082)
            assert lb.get_load_balancer_name(CLUSTER_NAME, one) != lb.get_load_balancer_name(
                CLUSTER_NAME, two
            )
            await lb.ensure_load_balancer(CLUSTER_NAME, one, nodes)
            await lb.ensure_load_balancer(CLUSTER_NAME, two, nodes)
            await lb.ensure_load_balancer_deleted(CLUSTER_NAME, one)
            assert await lb.get_load_balancer(CLUSTER_NAME, one) is None
            assert await lb.get_load_balancer(CLUSTER_NAME, two) is not None
            await lb.ensure_load_balancer_deleted(CLUSTER_NAME, two)

        self._run_on(cloud_testbed, request, "load_balancer", body)

    # -- routes ---------------------------------------------------------------------------------

    def test_route_lifecycle(
        self, cloud_testbed: TestbedFactory, request: pytest.FixtureRequest
    ) -> None:
        async def body(bed: CloudTestbed, routes: Routes) -> None:
            assert _pairs(await routes.list_routes(CLUSTER_NAME)) == set()
            a = make_node("node-a")
            b = make_node("node-b")
            for node, cidr in ((a, "10.244.0.0/24"), (b, "10.244.1.0/24")):
                assert node.metadata is not None and node.status is not None
                await routes.create_route(
                    CLUSTER_NAME,
                    node.metadata.uid or "",
                    Route(
                        target_node=node.metadata.name or "",
                        destination_cidr=cidr,
                        target_node_addresses=node.status.addresses,
                    ),
                )
            listed = await routes.list_routes(CLUSTER_NAME)
            assert _pairs(listed) == {("node-a", "10.244.0.0/24"), ("node-b", "10.244.1.0/24")}
            assert all(r.name for r in listed), "listed routes carry the provider's names"
            assert _pairs(await routes.list_routes("another-cluster")) == set()
            first = next(r for r in listed if r.target_node == "node-a")
            await routes.delete_route(CLUSTER_NAME, first)
            assert _pairs(await routes.list_routes(CLUSTER_NAME)) == {("node-b", "10.244.1.0/24")}
            await routes.delete_route(CLUSTER_NAME, first)  # gone is fine

        self._run_on(cloud_testbed, request, "routes", body)
