"""``kframe bench density``: upstream's density test in one process, and a heartbeat mode.

The API server (memory store), the scheduler and ``--nodes`` fake-runtime kubelets (one
:class:`~kframe.kubelet.KubeletHost`, as ``kframe up --nodes N``) run in the benchmark's
process on the real clock. Once every node has registered, ``--nodes x --pods-per-node`` pods
are created through the API at ``--qps`` with at most ``--concurrency`` in flight (upstream's
density creates 30 pods per node at an assumed 20 pods/s), the scheduler binds them, the
kubelets run them, and a watch observes each one Running. Pod startup latency is upstream's
SLI: from creation to the watch observing Running (clusterloader2's PodStartupLatency, whose
SLO is a 5 s p99).

With ``--heartbeat-seconds``, a window follows in which the nodes only heartbeat: Lease
renewals are counted against the expected (each node every 10 s), the largest gap between two
renewals of a node is kept, and the process's CPU and memory are read. ``--pods-per-node 0``
makes it a registration and heartbeat benchmark alone (1,000 nodes in one process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections.abc import Awaitable
from typing import Any

import attrs

from kframe.api import from_dict
from kframe.api.models import Namespace, Node, ObjectMeta, Pod
from kframe.bench._density_watch import GcPauses, LeaseWatch, PodStartupWatch, rss_kib
from kframe.bench._stats import non_negative_int, non_negative_seconds, percentile, positive_int
from kframe.client import InProcessClient
from kframe.registry import Registry, build_registry
from kframe.store import open_store

__all__ = ["DensityBench"]

NAMESPACE = "density"
# The kubelet's renew interval (a quarter of the 40 s lease) and the lease duration.
RENEW_INTERVAL_S = 10.0
LEASE_DURATION_S = 40.0


@attrs.frozen(kw_only=True)
class _Params:
    nodes: int
    pods_per_node: int
    runtime: str
    qps: float
    concurrency: int
    start_delay: float
    sandbox_delay: float
    heartbeat_seconds: float
    timeout: float

    @property
    def pods(self) -> int:
        return self.nodes * self.pods_per_node


def _pod(i: int) -> Pod:
    return from_dict(
        {
            "metadata": {
                "name": f"density-{i:06}",
                "namespace": NAMESPACE,
                "labels": {"group": "density"},
            },
            "spec": {
                "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}],
                "terminationGracePeriodSeconds": 0,
            },
        },
        Pod,
    )


async def _create(client: InProcessClient, p: _Params, created: dict[str, float]) -> None:
    """Create the pods, paced at ``qps`` (open loop) with at most ``concurrency`` in flight."""
    indexes = iter(range(p.pods))
    start = time.perf_counter()

    async def worker() -> None:
        for i in indexes:
            if p.qps > 0:
                delay = start + i / p.qps - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            pod = _pod(i)
            assert pod.metadata is not None and pod.metadata.name is not None
            created[pod.metadata.name] = time.perf_counter()
            await client.create(pod)
            # An in-process create never suspends; over the network it is a round trip.
            await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(min(p.concurrency, p.pods))))


def _ms(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(samples, 50) * 1000, 1),
        "p90": round(percentile(samples, 90) * 1000, 1),
        "p99": round(percentile(samples, 99) * 1000, 1),
        "max": round(max(samples, default=0.0) * 1000, 1),
    }


def _startup(
    watch: PodStartupWatch, created: dict[str, float], start: float, end: float
) -> dict[str, Any]:
    names = [n for n in watch.running if n in created]
    e2e = _ms([watch.running[n] - created[n] for n in names])
    schedule = _ms([watch.bound[n] - created[n] for n in names])
    run = _ms([watch.running[n] - watch.bound[n] for n in names])
    sli = _ms([watch.seen_wall[n] - watch.created_wall[n] for n in watch.created_wall])
    elapsed = max(end - start, 1e-9)
    return {
        "running": len(watch.running),
        "p50_ms": e2e["p50"],
        "p90_ms": e2e["p90"],
        "p99_ms": e2e["p99"],
        "max_ms": e2e["max"],
        "pods_per_s": round(len(watch.running) / elapsed, 1),
        "elapsed_s": round(elapsed, 3),
        "create_to_bound_ms": schedule,
        "bound_to_running_ms": run,
        "sli_ms": sli,
    }


async def _until(what: Awaitable[Any], deadline: float) -> bool:
    try:
        await asyncio.wait_for(what, max(deadline - time.perf_counter(), 0.001))
    except TimeoutError:
        return False
    return True


async def _ready_nodes(client: InProcessClient) -> int:
    return sum(
        1
        for node in (await client.list(Node)).items
        if node.status
        and any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
    )


async def _heartbeat(client: InProcessClient, leases: LeaseWatch, p: _Params) -> dict[str, Any]:
    cpu = time.process_time()
    leases.open_window()
    await asyncio.sleep(p.heartbeat_seconds)
    # The kubelet renews every 10 s jittered by up to 4% (wait.JitterUntil's factor 0.04).
    leases.close_window(RENEW_INTERVAL_S * 1.04)
    cpu_pct = 100 * (time.process_time() - cpu) / p.heartbeat_seconds
    return {
        "heartbeat_s": p.heartbeat_seconds,
        "lease_renewals": leases.renewals,
        "lease_renewals_expected": leases.due,
        "lease_renewals_nominal": round(p.nodes * p.heartbeat_seconds / RENEW_INTERVAL_S, 1),
        "nodes_behind": leases.behind,
        "renew_max_gap_s": round(leases.max_gap, 3),
        "renew_max_lag_ms": round(max(leases.max_gap - RENEW_INTERVAL_S, 0.0) * 1000, 1),
        "heartbeat_cpu_pct": round(cpu_pct, 2),
    }


async def _bench(p: _Params, registry: Registry) -> dict[str, Any]:
    from kframe.apiserver import APIServer
    from kframe.kubelet import KubeletHost
    from kframe.scheduler import Scheduler, load_config, registry_factories

    began = time.perf_counter()
    deadline = began + p.timeout
    result: dict[str, Any] = {
        "nodes": p.nodes,
        "pods_per_node": p.pods_per_node,
        "pods": p.pods,
        "runtime": p.runtime,
        "qps": p.qps,
        "concurrency": p.concurrency,
        "start_delay_s": p.start_delay,
    }
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    runtime_config: dict[str, Any] = {}
    if p.runtime == "fake":
        runtime_config = {"start_delay": p.start_delay, "sandbox_delay": p.sandbox_delay}
    host = KubeletHost(
        client,
        nodes=p.nodes,
        runtime=p.runtime,
        runtime_config=runtime_config,
        serve=False,
        registry=registry,
    )
    scheduler = Scheduler(client, load_config(None), registry_factories(registry))
    await client.create(Namespace(metadata=ObjectMeta(name=NAMESPACE)))
    leases = LeaseWatch(client)
    startup = PodStartupWatch(client, NAMESPACE, p.pods)
    tasks = [asyncio.ensure_future(t.run()) for t in (leases, startup)]
    await leases.ready.wait()
    await startup.ready.wait()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        tasks.append(asyncio.ensure_future(host.run()))
        if not await _until(host.wait_registered(), deadline):
            result.update(timed_out=True, phase="register")
            return result
        result["register_s"] = round(time.perf_counter() - wall, 3)
        result["register_cpu_s"] = round(time.process_time() - cpu, 3)
        tasks.append(asyncio.ensure_future(scheduler.run()))

        if p.pods:
            created: dict[str, float] = {}
            cpu = time.process_time()
            start = time.perf_counter()
            creating = asyncio.ensure_future(_create(client, p, created))
            tasks.append(creating)
            finished = await _until(startup.done.wait(), deadline)
            end = max(startup.running.values(), default=start) if finished else time.perf_counter()
            result.update(_startup(startup, created, start, end))
            result["pods_cpu_s"] = round(time.process_time() - cpu, 3)
            if not finished:
                result.update(timed_out=True, phase="pods")
                return result
        if p.heartbeat_seconds:
            result.update(await _heartbeat(client, leases, p))
        result["ready_nodes"] = await _ready_nodes(client)
        result["fresh_leases"] = leases.fresh(LEASE_DURATION_S)
        result["timed_out"] = False
        return result
    finally:
        rss, peak = rss_kib()
        result.update(rss_mib=round(rss / 1024, 1), peak_rss_mib=round(peak / 1024, 1))
        result["total_s"] = round(time.perf_counter() - began, 3)
        result["cpus"] = os.cpu_count()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await client.close()
        await server.store.close()


class DensityBench:
    """The ``density`` target of ``kframe bench``."""

    help = "pod startup latency: API server, scheduler and N fake kubelets in one process"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--nodes", type=positive_int, default=100, help="kubelets (100)")
        parser.add_argument(
            "--pods-per-node",
            type=non_negative_int,
            default=30,
            help="pods created per node (30, as upstream's density; 0: heartbeat only)",
        )
        parser.add_argument("--runtime", default="fake", help="container runtime (fake)")
        parser.add_argument(
            "--qps",
            type=non_negative_seconds,
            default=20.0,
            help="pods created per second (20, upstream's DENSITY_TEST_THROUGHPUT; 0: as fast "
            "as --concurrency allows)",
        )
        parser.add_argument(
            "--concurrency", type=positive_int, default=30, help="creates in flight at most (30)"
        )
        parser.add_argument(
            "--start-delay",
            type=non_negative_seconds,
            default=0.0,
            metavar="SECONDS",
            help="fake runtime: how long StartContainer takes (0)",
        )
        parser.add_argument(
            "--sandbox-delay",
            type=non_negative_seconds,
            default=0.0,
            metavar="SECONDS",
            help="fake runtime: how long RunPodSandbox takes (0)",
        )
        parser.add_argument(
            "--heartbeat-seconds",
            type=non_negative_seconds,
            default=0.0,
            metavar="SECONDS",
            help="then watch the nodes only heartbeat for this long (0: not at all)",
        )
        parser.add_argument(
            "--timeout",
            type=non_negative_seconds,
            default=600.0,
            metavar="SECONDS",
            help="stop after this long and report what was measured (600)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from kframe.cli import CommandError  # kframe.cli imports this module

        registry = build_registry()
        runtimes = registry.names("runtime")
        if args.runtime not in runtimes:
            raise CommandError(
                f"--runtime {args.runtime!r}: no such container runtime "
                f"(installed: {', '.join(runtimes) or 'none'})"
            )
        params = _Params(
            nodes=args.nodes,
            pods_per_node=args.pods_per_node,
            runtime=args.runtime,
            qps=args.qps,
            concurrency=args.concurrency,
            start_delay=args.start_delay,
            sandbox_delay=args.sandbox_delay,
            heartbeat_seconds=args.heartbeat_seconds,
            timeout=args.timeout or 600.0,
        )
        with GcPauses() as pauses:
            result = asyncio.run(_bench(params, registry))
        result["gc"] = pauses.summary()
        print(json.dumps(result), flush=True)
        return 0
