"""``kframe bench apiserver``: API server throughput and latency, in-process and over HTTP.

In-process, the benchmark hosts the API server and drives it with the in-process client. Over
HTTP, the server runs in its own process (one event loop, so one core) and this process drives
it with concurrent HTTP clients, as other components and kubectl would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kframe.api import models
from kframe.apiserver import APIServer
from kframe.bench._stats import percentile, positive_int, rate
from kframe.client import Client, HttpClient, InProcessClient
from kframe.store import open_store

__all__ = ["ApiserverBench"]


def _pod(i: int) -> models.Pod:
    return models.Pod(
        metadata=models.ObjectMeta(
            name=f"bench-{i:06}", namespace="default", labels={"app": "bench", "shard": str(i % 10)}
        ),
        spec=models.PodSpec(
            containers=(
                models.Container(
                    name="app",
                    image="registry.k8s.io/pause:3.9",
                    resources=models.ResourceRequirements(requests={}),
                ),
            )
        ),
    )


async def _concurrently(n: int, concurrency: int, op: Callable[[int], Awaitable[Any]]) -> float:
    """Run ``op(0..n-1)`` with ``concurrency`` workers; the elapsed seconds."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def _workload(
    client: Client, pods: int, concurrency: int, list_pods: int, rate_per_s: float, seconds: float
) -> dict[str, Any]:
    created = await _concurrently(pods, concurrency, lambda i: client.create(_pod(i)))
    got = await _concurrently(
        pods, concurrency, lambda i: client.get(models.Pod, f"bench-{i:06}", namespace="default")
    )
    if list_pods > pods:
        await _concurrently(list_pods - pods, concurrency, lambda i: client.create(_pod(pods + i)))
    start = time.perf_counter()
    listed = await client.list(models.Pod, namespace="default")
    list_ms = (time.perf_counter() - start) * 1000
    if len(listed.items) < list_pods:
        raise RuntimeError(f"listed {len(listed.items)} pods, expected {list_pods}")
    latencies, watch_ms = await _paced_writes(client, rate_per_s, seconds, listed.resource_version)
    return {
        "pods": pods,
        "concurrency": concurrency,
        "creates_per_s": rate(pods, created),
        "gets_per_s": rate(pods, got),
        "list_pods": list_pods,
        "list_pods_ms": round(list_ms, 1),
        "writes_per_s": rate_per_s,
        "mutating_p50_ms": round(percentile(latencies, 50), 2),
        "mutating_p99_ms": round(percentile(latencies, 99), 2),
        "watch_p50_ms": round(percentile(watch_ms, 50), 2),
        "watch_p99_ms": round(percentile(watch_ms, 99), 2),
    }


async def _paced_writes(
    client: Client, per_s: float, seconds: float, since: str
) -> tuple[list[float], list[float]]:
    """Label updates at a steady rate: each write's latency, and its delivery to a watcher."""
    sent: dict[str, float] = {}
    delivered: list[float] = []
    count = max(1, int(per_s * seconds))

    async def watch() -> None:
        async for event in client.watch(
            models.Pod, namespace="default", resource_version=since, label_selector="bench=paced"
        ):
            name = event.object.metadata.name if event.object and event.object.metadata else None
            if name in sent:
                delivered.append((time.perf_counter() - sent.pop(name)) * 1000)
            if len(delivered) == count:
                return

    watcher = asyncio.ensure_future(watch())
    await asyncio.sleep(0.2)
    latencies = []
    start = time.perf_counter()
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / per_s - time.perf_counter()))
        name = f"bench-{i:06}"
        began = sent[name] = time.perf_counter()
        await client.patch(
            models.Pod,
            name,
            {"metadata": {"labels": {"bench": "paced"}}},
            namespace="default",
            patch_type="merge",
        )
        latencies.append((time.perf_counter() - began) * 1000)
    try:
        await asyncio.wait_for(watcher, 30)
    except TimeoutError:
        watcher.cancel()
    return latencies, delivered


async def _in_process(store_url: str, **kw: Any) -> dict[str, Any]:
    server = APIServer(await open_store(store_url), compaction_interval=0)
    await server.bootstrap()
    try:
        return {
            "mode": "in-process",
            "store": store_url,
            **await _workload(InProcessClient(server), **kw),
        }
    finally:
        await server.store.close()


def _start_server(store_url: str, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    kframe = str(Path(sys.executable).with_name("kframe"))
    proc = subprocess.Popen(
        [
            kframe,
            "apiserver",
            "--store",
            store_url,
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--etcd-compaction-interval",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(200):
        line = proc.stdout.readline()
        if "listening on" in line:
            return proc, line.rsplit(" ", 1)[1].strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"the API server did not start: {proc.stderr.read() if proc.stderr else ''}")


async def _over_http(store_url: str, **kw: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kframe-bench-") as tmp:
        proc, url = _start_server(store_url, Path(tmp))
        client = HttpClient(url)
        try:
            return {"mode": "http", "store": store_url, **await _workload(client, **kw)}
        finally:
            await client.close()
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)


class ApiserverBench:
    """The ``apiserver`` target of ``kframe bench``."""

    help = "API server creates/gets/list/latency, in-process and over HTTP"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--store",
            default="memory://",
            metavar="URL",
            help="store URL (default memory://; use sqlite:///... for the durable default)",
        )
        parser.add_argument("--pods", type=positive_int, default=5000, help="pods created and read")
        parser.add_argument(
            "--list-pods", type=positive_int, default=10_000, help="pods in the list that is timed"
        )
        parser.add_argument(
            "--concurrency",
            type=positive_int,
            default=16,
            help="concurrent requests for creates and gets",
        )
        parser.add_argument(
            "--rate",
            type=positive_int,
            default=20,
            help="writes per second for the latency measurement",
        )
        parser.add_argument(
            "--seconds", type=positive_int, default=10, help="how long the paced writes run"
        )
        parser.add_argument("--mode", choices=("both", "in-process", "http"), default="both")

    def run(self, args: argparse.Namespace) -> int:
        kw = {
            "pods": args.pods,
            "concurrency": args.concurrency,
            "list_pods": args.list_pods,
            "rate_per_s": args.rate,
            "seconds": args.seconds,
        }
        modes = ["in-process", "http"] if args.mode == "both" else [args.mode]
        for mode in modes:
            runner = _in_process if mode == "in-process" else _over_http
            url = args.store
            if url.startswith("sqlite://") and mode == "http":
                url = url + ".http"  # a separate file: one writer process per SQLite file
            result = asyncio.run(runner(url, **kw))
            result["cpus"] = os.cpu_count()
            print(json.dumps(result), flush=True)
        return 0
