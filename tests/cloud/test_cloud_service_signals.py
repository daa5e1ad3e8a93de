"""The service controller's provider signals (RetryError, ImplementedElsewhere), a Service
that stops being a LoadBalancer, and the cloud controller manager's own Lease."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Lease, LoadBalancerStatus, Node, NodeAddress, Service
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.cloud import (
    LOAD_BALANCER_CLEANUP_FINALIZER,
    ImplementedElsewhere,
    RetryError,
)
from kframe.cloud.controllers import (
    CLOUD_NODE,
    CLOUD_NODE_LIFECYCLE,
    LEASE_NAME,
    NODE_ROUTE,
    SERVICE_LB,
    CloudControllerManager,
    cloud_controller_specs,
    node_addresses,
)
from kframe.controller import LeaderElection
from kframe.store import open_store
from kframe.testing.controllers import control_plane
from kframe_plugins.cloud.simulated import SimulatedCloud, SimulatedConfig


class _Flaky(SimulatedCloud):
    """Says "retry" twice before it ensures; counts calls."""

    def __init__(self, config: SimulatedConfig) -> None:
        super().__init__(config)
        self.calls = 0

    async def ensure_load_balancer(
        self, cluster_name: str, service: Service, nodes: Sequence[Node]
    ) -> LoadBalancerStatus:
        self.calls += 1
        if self.calls <= 2:
            raise RetryError("still provisioning", 0.05)
        return await super().ensure_load_balancer(cluster_name, service, nodes)


class _Elsewhere(SimulatedCloud):
    async def ensure_load_balancer(
        self, cluster_name: str, service: Service, nodes: Sequence[Node]
    ) -> LoadBalancerStatus:
        raise ImplementedElsewhere()


def _config(tmp: Path, cidr: str) -> SimulatedConfig:
    return SimulatedConfig(db=tmp / "cloud.db", load_balancer_cidr=cidr)


def _service(name: str, type_: str = "LoadBalancer") -> Service:
    return from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "type": type_,
                "selector": {"app": name},
                "ports": [{"port": 24000 + len(name), "nodePort": 31000 + len(name)}],
            },
        },
        Service,
    )


async def _svc(client: InProcessClient | object, name: str) -> Service:
    return await client.get(Service, name, namespace="default")  # type: ignore[attr-defined,no-any-return]


def test_a_retry_error_requeues_without_a_warning(tmp_path: Path) -> None:
    async def body() -> None:
        cloud = _Flaky(_config(tmp_path, "127.90.0.0/29"))
        async with control_plane(specs=cloud_controller_specs(cloud)) as cp:
            await cp.client.create(_service("flaky"))

            async def ingress() -> bool:
                svc = await _svc(cp.client, "flaky")
                return bool(
                    svc.status and svc.status.load_balancer and svc.status.load_balancer.ingress
                )

            await cp.wait_for(ingress, timeout=10, what="ingress after retries")
            assert cloud.calls == 3
            from kframe.api.models import Event

            events = (await cp.client.list(Event, namespace="default")).items
            assert "SyncLoadBalancerFailed" not in {e.reason for e in events}
        await cloud.close()

    asyncio.run(body())


def test_implemented_elsewhere_leaves_the_status_alone(tmp_path: Path) -> None:
    async def body() -> None:
        cloud = _Elsewhere(_config(tmp_path, "127.91.0.0/29"))
        async with control_plane(specs=cloud_controller_specs(cloud)) as cp:
            await cp.client.create(_service("other"))

            async def finalized() -> bool:
                svc = await _svc(cp.client, "other")
                return LOAD_BALANCER_CLEANUP_FINALIZER in (
                    (svc.metadata and svc.metadata.finalizers) or ()
                )

            await cp.wait_for(finalized, timeout=10, what="finalizer added")
            await asyncio.sleep(0.1)
            svc = await _svc(cp.client, "other")
            assert not (
                svc.status and svc.status.load_balancer and svc.status.load_balancer.ingress
            )
        await cloud.close()

    asyncio.run(body())


def test_a_service_that_stops_being_a_load_balancer_is_cleaned_up(tmp_path: Path) -> None:
    async def body() -> None:
        cloud = SimulatedCloud(_config(tmp_path, "127.92.0.0/29"))
        async with control_plane(specs=cloud_controller_specs(cloud)) as cp:
            await cp.client.create(_service("flip"))
            await cp.wait_for(lambda: cloud.state.load_balancers(), timeout=10, what="lb")
            await cp.client.patch(
                Service,
                "flip",
                {"spec": {"type": "NodePort"}},
                namespace="default",
                patch_type="merge",
            )

            async def cleaned() -> bool:
                svc = await _svc(cp.client, "flip")
                finalizers = (svc.metadata.finalizers or ()) if svc.metadata else ()
                lb = svc.status.load_balancer if svc.status else None
                return (
                    LOAD_BALANCER_CLEANUP_FINALIZER not in finalizers
                    and not (lb and lb.ingress)
                    and not cloud.state.load_balancers()
                )

            await cp.wait_for(cleaned, timeout=10, what="load balancer removed, status cleared")
        await cloud.close()

    asyncio.run(body())


def test_controllers_follow_the_providers_capabilities(tmp_path: Path) -> None:
    full = SimulatedCloud(_config(tmp_path, "127.93.0.0/29"))
    assert set(cloud_controller_specs(full)) == {
        CLOUD_NODE,
        CLOUD_NODE_LIFECYCLE,
        SERVICE_LB,
        NODE_ROUTE,
    }

    class _NoRoutes(SimulatedCloud):
        def routes(self) -> None:  # type: ignore[override]
            return None

        def load_balancer(self) -> None:  # type: ignore[override]
            return None

    assert set(cloud_controller_specs(_NoRoutes(full.config))) == {CLOUD_NODE, CLOUD_NODE_LIFECYCLE}
    assert cloud_controller_specs(full)[SERVICE_LB].aliases == ("service",)


def test_the_manager_leads_on_its_own_lease_and_initialises_the_cloud(tmp_path: Path) -> None:
    async def body() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.bootstrap()
        client = InProcessClient(server)
        cloud = SimulatedCloud(_config(tmp_path, "127.94.0.0/29"))
        manager = CloudControllerManager(
            client,
            cloud,
            controllers=["*", "-route"],
            leader_election=LeaderElection(name=LEASE_NAME, identity="ccm-1"),
        )
        assert NODE_ROUTE not in manager.names
        task = asyncio.ensure_future(manager.run())
        try:
            await asyncio.wait_for(manager.synced.wait(), 10)
            lease = await client.get(Lease, "cloud-controller-manager", namespace="kube-system")
            assert lease.spec is not None and lease.spec.holder_identity == "ccm-1"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await client.close()
            await server.store.close()

    asyncio.run(body())
    assert LEASE_NAME == "cloud-controller-manager"


_ips = st.ip_addresses(v=4).map(str)


@given(st.lists(_ips, min_size=1, max_size=4, unique=True), st.data())
def test_the_provided_node_ip_picks_its_addresses_and_hostnames(
    ips: list[str], data: st.DataObject
) -> None:
    cloud = (
        *(NodeAddress(type="InternalIP", address=ip) for ip in ips),
        NodeAddress(type="Hostname", address="host"),
    )
    wanted = data.draw(st.sampled_from(ips))
    node = from_dict(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "n",
                "annotations": {"alpha.kubernetes.io/provided-node-ip": wanted},
            },
        },
        Node,
    )
    kept = node_addresses(node, cloud)
    assert [a.address for a in kept] == [wanted, "host"]
    plain = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}, Node)
    assert node_addresses(plain, cloud) == cloud
