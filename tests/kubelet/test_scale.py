"""Many fake-runtime kubelets in one process: all register, heartbeat and run their pods.

The default tier hosts 100 nodes; the slow tier (``-m slow``) a thousand, as ``kframe up
--nodes 1000`` does. Real time, no timing assertions (speed lives in the report / bench).
"""

from __future__ import annotations

import asyncio

import pytest

from kframe.api import from_dict
from kframe.api.models import Lease, Node, Pod
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.kubelet import KubeletHost
from kframe.store import open_store


async def _scenario(nodes: int, pods: int) -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    host = KubeletHost(client, nodes=nodes, runtime="fake", serve=False)
    task = asyncio.ensure_future(host.run())
    try:
        await asyncio.wait_for(host.wait_registered(), 300)
        items = (await client.list(Node)).items
        assert len(items) == nodes
        assert len({n.spec.pod_cidr for n in items if n.spec}) == nodes
        leases = (await client.list(Lease, namespace="kube-node-lease")).items
        assert {lease.metadata.name for lease in leases if lease.metadata} == {
            f"node-{i}" for i in range(nodes)
        }
        for i in range(pods):
            body = {
                "metadata": {"name": f"p{i}", "namespace": "default"},
                "spec": {
                    "nodeName": f"node-{i % nodes}",
                    "containers": [{"name": "c", "image": "nginx:1.27"}],
                },
            }
            await client.create(from_dict(body, Pod))
        for _ in range(3000):
            listed = (await client.list(Pod, namespace="default")).items
            if sum(1 for p in listed if p.status and p.status.phase == "Running") == pods:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("not every pod reached Running")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await client.close()
        await server.store.close()


def test_a_hundred_nodes_register_and_run_pods() -> None:
    asyncio.run(_scenario(100, 200))


@pytest.mark.slow
def test_a_thousand_nodes_register_and_run_pods() -> None:
    asyncio.run(_scenario(1000, 3000))
