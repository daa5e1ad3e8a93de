"""The inventory provider passes kframe's cloud conformance suite and initialises nodes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from kframe_cloud_inventory import InventoryCloud, open_testbed

from kframe.api import from_dict
from kframe.api.models import Node
from kframe.cloud import TAINT_UNINITIALIZED, TestbedFactory, open_cloud_provider
from kframe.cloud.controllers import CLOUD_NODE, CLOUD_NODE_LIFECYCLE, cloud_controller_specs
from kframe.testing.cloud import CloudConformance
from kframe.testing.controllers import control_plane

ABSENT = {
    "test_load_balancer_lifecycle": "load_balancer",
    "test_load_balancers_are_per_service": "load_balancer",
    "test_route_lifecycle": "routes",
}


class TestInventoryConforms(CloudConformance):
    @pytest.fixture
    def cloud_testbed(self) -> TestbedFactory:
        return open_testbed

    @pytest.fixture(autouse=True)
    def _declares_what_it_lacks(self, request: pytest.FixtureRequest) -> Iterator[None]:
        yield
        recorded = [v for k, v in request.node.user_properties if k == "capability-absent"]
        expected = ABSENT.get(request.node.originalname)
        assert recorded == ([expected] if expected else [])


def test_registered_and_opened_by_name(tmp_path: Path) -> None:
    inventory = tmp_path / "machines.yaml"
    inventory.write_text("region: dc-1\nmachines: []\n")
    assert isinstance(open_cloud_provider("inventory", inventory), InventoryCloud)
    with pytest.raises(ValueError, match="needs --cloud-config"):
        open_cloud_provider("inventory", None)


def test_the_cloud_controllers_initialise_a_listed_machine(tmp_path: Path) -> None:
    inventory = tmp_path / "machines.yaml"
    inventory.write_text(
        "region: dc-1\nmachines:\n"
        "  - {name: m1, id: u01, zone: rack-1, type: metal.large, internalIP: 10.1.1.1}\n"
    )
    cloud = InventoryCloud(inventory)
    specs = cloud_controller_specs(cloud)
    assert set(specs) == {CLOUD_NODE, CLOUD_NODE_LIFECYCLE}

    async def body() -> None:
        async with control_plane(specs=specs) as cp:
            taint = {"key": TAINT_UNINITIALIZED, "value": "true", "effect": "NoSchedule"}
            await cp.client.create(
                from_dict(
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "metadata": {"name": "m1"},
                        "spec": {"taints": [taint]},
                    },
                    Node,
                )
            )

            async def initialised() -> Node | None:
                node = await cp.client.get(Node, "m1")
                return node if node.spec and node.spec.provider_id else None

            node = await cp.wait_for(initialised, timeout=10, what="m1 initialised")
            assert node.spec is not None and node.spec.provider_id == "inventory://rack-1/u01"
            assert not node.spec.taints
            assert node.metadata is not None and node.metadata.labels is not None
            assert node.metadata.labels["node.kubernetes.io/instance-type"] == "metal.large"

    asyncio.run(body())
