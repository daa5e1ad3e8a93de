"""``kframe bench kubelet``: many fake-runtime kubelets in one process, as ``kframe up --nodes``.

The API server (memory store) and ``--nodes`` kubelets (one :class:`~kframe.kubelet.KubeletHost`
sharing one pod watch) run in the benchmark's process on the real clock. Measured: how long the
nodes take to register (Node, status, Lease), the CPU their heartbeats cost while idle, how fast
``--pods`` pods bound straight to the nodes (no scheduler) reach Running, the CPU of the busy
nodes, and how long deleting them all takes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from typing import Any

from kframe.api import from_dict
from kframe.api.models import Lease, Node, Pod
from kframe.bench._stats import positive_int
from kframe.client import InProcessClient
from kframe.store import open_store

__all__ = ["KubeletBench"]


async def _phase_count(client: InProcessClient, phase: str) -> int:
    items = (await client.list(Pod, namespace="default")).items
    return sum(1 for p in items if p.status is not None and p.status.phase == phase)


async def _bench(nodes: int, pods: int, idle: float, runtime: str) -> dict[str, Any]:
    from kframe.apiserver import APIServer
    from kframe.kubelet import KubeletHost

    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    host = KubeletHost(client, nodes=nodes, runtime=runtime, serve=False)
    wall, cpu = time.perf_counter(), time.process_time()
    task = asyncio.ensure_future(host.run())
    try:
        await host.wait_registered()
        register_s = time.perf_counter() - wall
        register_cpu = time.process_time() - cpu
        ready = sum(
            1
            for node in (await client.list(Node)).items
            if node.status
            and any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
        )
        leases = len((await client.list(Lease, namespace="kube-node-lease")).items)
        cpu = time.process_time()
        renewals = sum(k.lease.renewals for k in host.kubelets)
        await asyncio.sleep(idle)
        idle_pct = 100 * (time.process_time() - cpu) / idle
        renewals_idle = sum(k.lease.renewals for k in host.kubelets) - renewals

        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(pods):
            body = {
                "metadata": {"name": f"bench-{i}", "namespace": "default"},
                "spec": {
                    "nodeName": f"node-{i % nodes}",
                    "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}],
                },
            }
            await client.create(from_dict(body, Pod))
        while await _phase_count(client, "Running") < pods:
            await asyncio.sleep(0.1)
        running_s = time.perf_counter() - wall
        running_cpu = time.process_time() - cpu
        cpu = time.process_time()
        await asyncio.sleep(idle)
        busy_pct = 100 * (time.process_time() - cpu) / idle

        wall = time.perf_counter()
        for i in range(pods):
            await client.delete(Pod, f"bench-{i}", namespace="default")
        while (await client.list(Pod, namespace="default")).items:
            await asyncio.sleep(0.1)
        delete_s = time.perf_counter() - wall
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()
        await server.store.close()
    return {
        "nodes": nodes,
        "runtime": runtime,
        "register_s": round(register_s, 3),
        "register_cpu_s": round(register_cpu, 3),
        "ready_nodes": ready,
        "leases": leases,
        "idle_cpu_pct": round(idle_pct, 2),
        "lease_renewals_idle": renewals_idle,
        "pods": pods,
        "pods_running_s": round(running_s, 3),
        "pods_per_s": round(pods / running_s, 1) if running_s else None,
        "pods_cpu_s": round(running_cpu, 3),
        "busy_cpu_pct": round(busy_pct, 2),
        "delete_s": round(delete_s, 3),
    }


class KubeletBench:
    """The ``kubelet`` target of ``kframe bench``."""

    help = "N fake kubelets in one process: registration, idle heartbeat CPU, pods to Running"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--nodes", type=positive_int, default=1000, help="kubelets (1000)")
        parser.add_argument(
            "--pods", type=positive_int, default=3000, help="pods spread over them (3000)"
        )
        parser.add_argument(
            "--idle-seconds",
            type=positive_int,
            default=20,
            help="how long CPU is sampled while idle and while busy (20)",
        )
        parser.add_argument("--runtime", default="fake", help="container runtime (fake)")

    def run(self, args: argparse.Namespace) -> int:
        result = asyncio.run(_bench(args.nodes, args.pods, float(args.idle_seconds), args.runtime))
        print(json.dumps(result), flush=True)
        return 0
