"""The kubelet under ``--cloud-provider external``: the Node registers with the cloud's
uninitialized taint and its first addresses, later status posts leave the addresses to the
cloud, a restart does not taint an initialised Node again; with the cloud node controller and
the simulated cloud, a hosted node ends up initialised and untainted."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from kframe.api.models import Node
from kframe.cli._command import CommandError
from kframe.cli._kubelet import KubeletCommand
from kframe.client import InProcessClient
from kframe.cloud.controllers import cloud_controller_specs
from kframe.kubelet import Kubelet, KubeletConfig, KubeletHost
from kframe.registry import build_registry
from kframe.testing.controllers import control_plane
from kframe_plugins.cloud.simulated import SimulatedCloud, SimulatedConfig
from tests.kubelet.harness import cluster

TAINT = "node.cloudprovider.kubernetes.io/uninitialized"


def _taints(node: Node) -> list[tuple[str | None, str | None, str | None]]:
    return [(t.key, t.value, t.effect) for t in (node.spec.taints if node.spec else ())]


def _addresses(node: Node) -> list[tuple[str | None, str | None]]:
    return [(a.type, a.address) for a in (node.status.addresses if node.status else ())]


async def _initialise(client: InProcessClient, name: str) -> None:
    """What the cloud node controller writes: the cloud's addresses, then no taint."""
    await client.patch(
        Node,
        name,
        {
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": "10.1.2.3"},
                    {"type": "ExternalIP", "address": "203.0.113.7"},
                    {"type": "Hostname", "address": "vm-7"},
                ]
            }
        },
        patch_type="merge",
        subresource="status",
    )
    await client.patch(Node, name, {"spec": {"taints": None}}, patch_type="merge")


CLOUD = [("InternalIP", "10.1.2.3"), ("ExternalIP", "203.0.113.7"), ("Hostname", "vm-7")]


def test_an_external_cloud_node_registers_tainted_and_keeps_the_clouds_addresses() -> None:
    async def main() -> None:
        async with cluster(cloud_provider="external") as c:
            node = await c.client.get(Node, "node-0")
            assert _taints(node) == [(TAINT, "true", "NoSchedule")]
            assert _addresses(node) == [("InternalIP", "127.0.0.1"), ("Hostname", "node-0")]
            await _initialise(c.client, "node-0")
            # Past nodeStatusReportFrequency (5 min) the kubelet posts its status again.
            posted = c.kubelets[0].node_status._last_report
            await c.advance(310, step=10)
            assert c.kubelets[0].node_status._last_report > posted
            node = await c.client.get(Node, "node-0")
            assert _addresses(node) == CLOUD
            assert _taints(node) == []

            # A restarted kubelet takes the Node over: no taint again, the addresses stay.
            again = Kubelet(c.client, c.runtimes[0], c.kubelets[0].config, clock=c.clock)  # type: ignore[arg-type]
            node = await again.node_status.register()
            assert _taints(node) == [] and _addresses(node) == CLOUD

    asyncio.run(main())


def test_without_a_cloud_the_node_is_untainted_and_the_kubelet_owns_its_addresses() -> None:
    async def main() -> None:
        async with cluster() as c:
            node = await c.client.get(Node, "node-0")
            assert _taints(node) == []
            await _initialise(c.client, "node-0")
            await c.advance(310, step=10)
            node = await c.client.get(Node, "node-0")
            assert ("InternalIP", "127.0.0.1") in _addresses(node)

    asyncio.run(main())


def test_only_external_is_a_cloud_provider() -> None:
    assert KubeletConfig(node_name="n", cloud_provider="external").external_cloud_provider
    assert not KubeletConfig(node_name="n").external_cloud_provider
    message = 'cloud provider "aws" was specified, but built-in cloud providers are disabled'
    with pytest.raises(ValueError, match=message):
        KubeletConfig(node_name="n", cloud_provider="aws")
    command = KubeletCommand(build_registry())
    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["--server", "http://127.0.0.1:1", "--cloud-provider", "aws"])
    with pytest.raises(CommandError, match="--cloud-provider: " + message):
        command.run(args)


def test_kubelet_host_passes_the_cloud_provider_to_every_node() -> None:
    host = KubeletHost(None, nodes=2, cloud_provider="external")  # type: ignore[arg-type]
    assert all(host.node_config(i, 10250).external_cloud_provider for i in range(2))
    assert not KubeletHost(None, nodes=1).node_config(0, 10250).external_cloud_provider  # type: ignore[arg-type]


def test_the_cloud_node_controller_initialises_a_hosted_node(tmp_path: Path) -> None:
    async def main() -> None:
        cloud = SimulatedCloud(SimulatedConfig(db=tmp_path / "cloud.db", zone="z1", region="r1"))
        instance = cloud.state.add_instance(
            "node-0", type="sim.small", zone="z1", region="r1", internal_ip="127.0.0.1"
        )
        try:
            async with control_plane(specs=cloud_controller_specs(cloud)) as cp:
                host = KubeletHost(
                    InProcessClient(cp.server), nodes=1, cloud_provider="external", serve=False
                )
                task = asyncio.ensure_future(host.run())
                try:
                    await asyncio.wait_for(host.wait_registered(), 30)

                    async def initialised() -> Node | None:
                        node = await cp.client.get(Node, "node-0")
                        return None if _taints(node) else node

                    node = await cp.wait_for(initialised, timeout=20, what="node-0 initialised")
                    assert node.spec and node.spec.provider_id == f"simulated://z1/{instance.id}"
                    labels = (node.metadata.labels if node.metadata else None) or {}
                    assert labels["node.kubernetes.io/instance-type"] == "sim.small"
                    assert labels["topology.kubernetes.io/zone"] == "z1"
                    assert labels["cloud.kframe.dev/instance-id"] == instance.id
                    assert _addresses(node) == [
                        ("InternalIP", "127.0.0.1"),
                        ("Hostname", "node-0"),
                    ]
                finally:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
        finally:
            await cloud.close()

    asyncio.run(main())
