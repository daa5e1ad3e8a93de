"""KubeletHost.stop_node: one node's kubelet stops as if its machine went away, the rest run."""

from __future__ import annotations

import asyncio

from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.kubelet import KubeletHost
from kframe.store import open_store


def test_a_stopped_node_stops_alone() -> None:
    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.bootstrap()
        client = InProcessClient(server)
        host = KubeletHost(client, nodes=2, runtime="fake", serve=False)
        task = asyncio.ensure_future(host.run())
        try:
            await asyncio.wait_for(host.wait_registered(), 60)
            assert sorted(host.running()) == ["node-0", "node-1"]
            assert await host.stop_node("node-1")
            assert host.running() == ["node-0"]
            assert not await host.stop_node("node-1")  # already stopped
            assert not await host.stop_node("node-9")  # not hosted here
            await asyncio.sleep(0.05)
            assert not task.done()  # the other kubelet and the host run on
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await client.close()
            await server.store.close()

    asyncio.run(main())
