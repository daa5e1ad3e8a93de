"""The cloud controller manager end to end, in one process, on the simulated cloud.

A node registers with the ``node.cloudprovider.kubernetes.io/uninitialized`` taint and is
initialised from its instance; a LoadBalancer Service gets an ingress address that carries
traffic to the node port; deleting the Service deletes the load balancer; deleting the
instance deletes the Node. Run it: ``python examples/cloud/walkthrough.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kframe.api import format_time, from_dict, time_now
from kframe.api.models import Node, Service
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.cloud import TAINT_UNINITIALIZED, open_cloud_provider
from kframe.cloud.controllers import CloudControllerManager
from kframe.store import open_store


async def until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    for _ in range(500):
        if result := await check():
            return result
        await asyncio.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


async def node_port_stand_in() -> tuple[asyncio.Server, int]:
    """What kube-proxy would serve on the node's nodePort: here, a greeting."""

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello from the pods behind web\n")
        await writer.drain()
        writer.close()

    for port in range(30080, 30180):
        with contextlib.suppress(OSError):
            return await asyncio.start_server(greet, "127.0.0.1", port), port
    raise SystemExit("no free port for the node port stand-in")


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kframe-cloud-example-"))
    config = tmp / "cloud.yaml"
    config.write_text(
        "db: cloud.db\nzone: zone-a\nregion: region-1\nloadBalancerCIDR: 127.0.101.0/24\n"
    )
    cloud = open_cloud_provider("simulated", config)  # as --cloud-provider/--cloud-config do

    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    # Fast timings for the example (upstream: 5s monitor period).
    manager = CloudControllerManager(client, cloud, options={"node-monitor-period": "0.1"})
    running = asyncio.ensure_future(manager.run())
    await manager.synced.wait()
    print("cloud controllers:", ", ".join(manager.names))

    # 1. An instance boots, and its kubelet registers the Node with the uninitialized taint.
    state = cloud.state  # type: ignore[attr-defined]  # the simulated cloud's console
    state.add_instance(
        "node-0", type="sim.large", zone="zone-a", region="region-1", internal_ip="127.0.0.1"
    )
    taint = {"key": TAINT_UNINITIALIZED, "value": "true", "effect": "NoSchedule"}
    await client.create(
        from_dict(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "node-0"},
                "spec": {"taints": [taint]},
            },
            Node,
        )
    )

    async def initialised() -> Node | None:
        node = await client.get(Node, "node-0")
        return node if node.spec and node.spec.provider_id and not node.spec.taints else None

    node = await until(initialised, "node-0 to be initialised")
    assert node.metadata is not None and node.spec is not None
    labels = node.metadata.labels or {}
    print(
        f"node-0 initialised: providerID {node.spec.provider_id}, "
        f"type {labels['node.kubernetes.io/instance-type']}, "
        f"zone {labels['topology.kubernetes.io/zone']}"
    )

    # 2. A LoadBalancer Service gets an ingress address that carries traffic.
    stand_in, node_port = await node_port_stand_in()
    service = from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app": "web"},
                "ports": [{"port": 8080, "nodePort": node_port}],
            },
        },
        Service,
    )
    await client.create(service)

    async def ingress() -> str:
        svc = await client.get(Service, "web", namespace="default")
        lb = svc.status.load_balancer if svc.status else None
        return (lb.ingress[0].ip or "") if lb and lb.ingress else ""

    address = await until(ingress, "an ingress address")
    reader, writer = await asyncio.open_connection(address, 8080)
    answer = (await reader.readline()).decode().strip()
    writer.close()
    await writer.wait_closed()
    print(f"service web: ingress {address}:8080 answers {answer!r}")

    # 3. Deleting the Service deletes the load balancer first (the finalizer waits for it).
    await client.delete(Service, "web", namespace="default")

    async def lb_gone() -> bool:
        return not state.load_balancers()

    await until(lb_gone, "the load balancer to be deleted")
    print("service web deleted: load balancer removed")

    # 4. The instance is deleted in the cloud; once the Node is not Ready, it is deleted too.
    state.delete_instance("node-0")
    now = format_time(time_now())
    await client.patch(
        Node,
        "node-0",
        {
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "Unknown",
                        "reason": "NodeStatusUnknown",
                        "lastHeartbeatTime": now,
                        "lastTransitionTime": now,
                    }
                ]
            }
        },
        patch_type="merge",
        subresource="status",
    )

    async def node_gone() -> bool:
        return not (await client.list(Node)).items

    await until(node_gone, "node-0 to be deleted")
    print("instance node-0 deleted in the cloud: Node node-0 deleted")

    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    stand_in.close()
    await client.close()
    await server.store.close()


if __name__ == "__main__":
    asyncio.run(main())
