"""The cloud-provider conformance suite over every installed provider, and on providers built
to fail it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kframe.api.models import Node
from kframe.cloud import CloudTestbed, TestbedFactory
from kframe.testing.cloud import CloudConformance, installed_cloud_providers
from kframe_plugins.cloud.simulated import SimulatedCloud, open_testbed

INSTALLED = installed_cloud_providers()


def test_the_simulated_cloud_is_installed() -> None:
    assert "simulated" in [name for name, _ in INSTALLED]


class TestInstalledProviders(CloudConformance):
    @pytest.fixture(params=[t for _, t in INSTALLED], ids=[n for n, _ in INSTALLED])
    def cloud_testbed(self, request: pytest.FixtureRequest) -> TestbedFactory:
        factory: TestbedFactory = request.param
        return factory


# -- a provider that declares what it lacks -----------------------------------------------------


class _InstancesOnly(SimulatedCloud):
    def load_balancer(self) -> None:  # type: ignore[override]
        return None

    def routes(self) -> None:  # type: ignore[override]
        return None

    def zones(self) -> None:  # type: ignore[override]
        return None


def _wrapping(cls: type[SimulatedCloud]) -> TestbedFactory:
    async def factory(directory: Path) -> CloudTestbed:
        bed = await open_testbed(directory)
        cloud = bed.provider
        assert isinstance(cloud, SimulatedCloud)
        new = cls(cloud.config)
        bed.provider = new
        bed.cloud = new  # type: ignore[attr-defined]
        return bed

    return factory


ABSENT = {
    "test_load_balancer_lifecycle": "load_balancer",
    "test_load_balancers_are_per_service": "load_balancer",
    "test_route_lifecycle": "routes",
    "test_zones_agree_with_instance_metadata": "zones",
}


class TestAProviderWithoutOptionalCapabilitiesPasses(CloudConformance):
    @pytest.fixture
    def cloud_testbed(self) -> TestbedFactory:
        return _wrapping(_InstancesOnly)

    @pytest.fixture(autouse=True)
    def _absence_is_recorded(self, request: pytest.FixtureRequest) -> Iterator[None]:
        yield
        capability = ABSENT.get(request.node.originalname)
        recorded = [v for k, v in request.node.user_properties if k == "capability-absent"]
        assert recorded == ([capability] if capability else [])


# -- providers that break one rule each ---------------------------------------------------------


class _StoppedIsGone(SimulatedCloud):
    async def instance_exists(self, node: Node) -> bool:
        return await super().instance_exists(node) and not await self.instance_shutdown(node)


class _RoutesLeak(SimulatedCloud):
    async def delete_route(self, cluster_name: str, route: object) -> None:  # type: ignore[override]
        return None


class _AllClustersRoutes(SimulatedCloud):
    async def list_routes(self, cluster_name: str) -> list:  # type: ignore[override,type-arg]
        out: list = []  # type: ignore[type-arg]
        for cluster in ("conformance", "another-cluster"):
            out.extend(await super().list_routes(cluster))
        return out


@pytest.mark.parametrize(
    ("cls", "case"),
    [
        (_StoppedIsGone, "test_shutdown_and_deletion"),
        (_RoutesLeak, "test_route_lifecycle"),
        (_AllClustersRoutes, "test_route_lifecycle"),
    ],
)
def test_the_suite_catches_a_broken_provider(
    cls: type[SimulatedCloud], case: str, request: pytest.FixtureRequest
) -> None:
    suite = CloudConformance()
    with pytest.raises(AssertionError):
        getattr(suite, case)(_wrapping(cls), request)
