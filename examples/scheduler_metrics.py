"""The scheduler's Prometheus metrics: three pods on two nodes, one that fits nowhere, and what
``/metrics`` says about them.

Run: ``python examples/scheduler_metrics.py``. Everything is in-process (API server, the
scheduler with its default plugins, its metrics endpoint on a free port); the pods are read back
over HTTP as Prometheus would scrape them.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from kframe.api import from_dict
from kframe.api.models import Node, Pod
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.registry import build_registry
from kframe.scheduler import MetricsServer, Scheduler, load_config, registry_factories
from kframe.store import open_store


def node(name: str) -> Node:
    return from_dict(
        {
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}},
        },
        Node,
    )


def pod(name: str, cpu: str) -> Pod:
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]
        },
    }
    return from_dict(body, Pod)


async def main() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    scheduler = Scheduler(client, load_config(None), registry_factories(build_registry()), seed=0)
    endpoint = MetricsServer(scheduler.metrics, lambda: scheduler.synced)
    await endpoint.start("127.0.0.1", 0)  # kframe scheduler serves on 10259
    task = asyncio.ensure_future(scheduler.run())
    try:
        for name in ("n1", "n2"):
            await client.create(node(name))
        for name, cpu in (("web", "1"), ("api", "1"), ("db", "1"), ("huge", "8")):
            await client.create(pod(name, cpu))
        while scheduler.scheduled < 3:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # the unschedulable attempt for "huge"
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{endpoint.url}/metrics") as response,
        ):
            text = await response.text()
        wanted = (
            "scheduler_schedule_attempts_total",
            "scheduler_pending_pods",
            "scheduler_unschedulable_pods",
            "scheduler_pod_scheduling_attempts_count",
            'scheduler_framework_extension_point_duration_seconds_count{extension_point="Filter"',
        )
        print(f"GET {endpoint.url}/metrics")
        for line in text.splitlines():
            if line.startswith(wanted):
                print(line)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await endpoint.stop()
        await client.close()
        await server.store.close()


if __name__ == "__main__":
    asyncio.run(main())
