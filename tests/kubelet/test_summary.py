"""``GET /stats/summary``: the Summary API from the fake runtime's CRI stats, served by a
KubeletHost's server, read back by ``kframe.controller.KubeletSummaryMetrics``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from kframe.api import Selector, from_dict
from kframe.api.models import Pod
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.controller import KubeletSummaryMetrics
from kframe.controller._metrics import pod_usage_from_summary
from kframe.kubelet import KubeletHost
from kframe.store import open_store
from kframe.testing.controllers import wait_for


@contextlib.asynccontextmanager
async def cluster(nodes: int) -> AsyncIterator[tuple[InProcessClient, KubeletHost]]:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    host = KubeletHost(
        InProcessClient(server),
        nodes=nodes,
        runtime_config={"cpu_fraction": 0.5, "memory_fraction": 0.5},
    )
    task = asyncio.ensure_future(host.run())
    try:
        await asyncio.wait_for(host.wait_registered(), 30)
        yield client, host
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.store.close()


async def running(client: InProcessClient, name: str, node: str) -> None:
    pod = from_dict(
        {
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "nodeName": node,
                "containers": [
                    {
                        "name": "app",
                        "image": "nginx",
                        "resources": {
                            "requests": {"cpu": "200m"},
                            "limits": {"cpu": "400m", "memory": "64Mi"},
                        },
                    }
                ],
            },
        },
        Pod,
    )
    await client.create(pod)

    async def is_running() -> bool:
        got = await client.get(Pod, name, namespace="default")
        return got.status is not None and got.status.phase == "Running"

    await wait_for(is_running, what=f"{name} running")


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        body = await (response.json() if response.status == 200 else response.text())
        return response.status, body


def test_summary_reports_each_pods_containers() -> None:
    async def main() -> None:
        async with cluster(2) as (client, host):
            await running(client, "web-0", "node-0")
            await running(client, "web-1", "node-1")
            assert host.server is not None
            base = f"http://127.0.0.1:{host.server.port}/stats/summary"
            status, body = await get(f"{base}?node=node-0")
            assert status == 200
            assert body["node"]["nodeName"] == "node-0"
            (pod,) = body["pods"]
            assert pod["podRef"]["name"] == "web-0" and pod["podRef"]["namespace"] == "default"
            (container,) = pod["containers"]
            assert container["name"] == "app"
            # Half of the 400m limit; half of the 64Mi limit.
            assert container["cpu"]["usageNanoCores"] == 200_000_000
            assert container["memory"]["workingSetBytes"] == 32 * 1024 * 1024
            assert body["node"]["cpu"]["usageNanoCores"] == 200_000_000
            usage = pod_usage_from_summary(body)[("default", "web-0")]
            assert usage.milli("cpu") == 200
            # Two nodes share this server: which one must be said.
            status, text = await get(base)
            assert status == 400 and "name one with ?node=" in text
            status, text = await get(f"{base}?node=node-9")
            assert status == 404

            metrics = KubeletSummaryMetrics(client)
            got = await metrics.pod_metrics("default", Selector.everything())
            assert set(got) == {"web-0", "web-1"}
            assert got["web-1"].containers["app"].memory_bytes == 32 * 1024 * 1024

    asyncio.run(main())
