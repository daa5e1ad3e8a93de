"""``kframe bench scheduler``: kube-scheduler's scheduler_perf workloads, end to end.

As upstream measures through a real API server, this hosts the API server (memory store) in
the benchmark's process and runs :class:`kframe.scheduler.Scheduler` against it with the
in-process client: nodes are created, then the init pods, which the scheduler binds before
anything is measured; then the measured pods are created through the API with bounded
concurrency (upstream's createPods op uses 30 workers) while the scheduler runs. The clock runs
from the first measured creation to the binding of the last measured pod.

Each binding is observed where it happens: a PostBind plugin appended to every profile notes
when a pod's Bind succeeded, so nothing else watches pods. Upstream's throughput collector
(1 s samples of scheduled measured pods, the first skipped, empty intervals merged into the next)
is reproduced in ``throughput``; ``pods_per_s`` is measured pods over the elapsed time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from kframe.api import evolve, models
from kframe.apiserver import APIServer
from kframe.bench._scheduler_workloads import WORKLOADS, Workload, node, pod_template
from kframe.bench._stats import non_negative_int, percentile, positive_int, positive_seconds
from kframe.client import Client, InProcessClient
from kframe.registry import Registry, build_registry
from kframe.scheduler import (
    ConfigError,
    CycleState,
    KubeSchedulerConfiguration,
    PluginFactory,
    Scheduler,
    load_config,
    registry_factories,
)
from kframe.store import open_store

__all__ = ["SchedulerBench"]

# Upstream's throughputSampleInterval.
SAMPLE_INTERVAL_S = 1.0
# While measuring: second-generation collections before a full one (CPython's default is 10).
FULL_COLLECTION_THRESHOLD = 1000


class BenchError(Exception):
    """The workload cannot run as asked (one line for the user)."""


class _Observer:
    """A PostBind plugin: the moment each init and measured pod's binding succeeded."""

    name = "kframe-bench-observer"

    def __init__(self, init_namespace: str, init_pods: int, measure_namespace: str, pods: int):
        self._init_namespace = init_namespace
        self._init_target = init_pods
        self._measure_namespace = measure_namespace
        self._measure_target = pods
        self.init_bound = 0
        self.measured: dict[str, float] = {}
        self.last_bind = 0.0
        self.init_done = asyncio.Event()
        self.measure_done = asyncio.Event()
        if init_pods == 0:
            self.init_done.set()

    def post_bind(self, state: CycleState, pod: models.Pod, node_name: str) -> None:
        meta = pod.metadata
        if meta is None:
            return
        if meta.namespace == self._measure_namespace and meta.name:
            now = time.perf_counter()
            self.measured[meta.name] = now
            self.last_bind = now
            if len(self.measured) >= self._measure_target:
                self.measure_done.set()
        elif meta.namespace == self._init_namespace:
            self.init_bound += 1
            if self.init_bound >= self._init_target:
                self.init_done.set()


class _Sampler:
    """Upstream's throughputCollector over the observer's count of bound measured pods."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count
        self.samples: list[float] = []

    async def run(self) -> None:
        last_count = 0
        last_time = time.perf_counter()
        started = False
        skipped = 0
        while True:
            await asyncio.sleep(SAMPLE_INTERVAL_S)
            now = time.perf_counter()
            scheduled = self._count()
            if scheduled == 0:
                continue
            if not started:  # the first sample is an outlier: creation and sampling race
                started, last_count, last_time = True, scheduled, now
                continue
            new = scheduled - last_count
            if new == 0:
                skipped += 1
                continue
            self.samples.extend([new / (now - last_time)] * (skipped + 1))
            last_count, last_time, skipped = scheduled, now, 0

    def summary(self) -> dict[str, float]:
        if not self.samples:
            return {"samples": 0}
        ordered = sorted(self.samples)
        n = len(ordered)

        def perc(p: int) -> float:
            return round(ordered[math.ceil(n * p / 100) - 1], 1)

        return {
            "samples": n,
            "average": round(sum(ordered) / n, 1),
            "p50": perc(50),
            "p90": perc(90),
            "p99": perc(99),
        }


async def _concurrently(n: int, concurrency: int, op: Callable[[int], Awaitable[Any]]) -> float:
    """Run ``op(0..n-1)`` on at most ``concurrency`` workers; the elapsed seconds.

    Each worker yields to the event loop after each call: with the memory store an in-process
    create completes without ever suspending, so one worker would otherwise create every pod
    before the scheduler (or anything else) runs, where over the network each create is a
    round trip the scheduler works during.
    """
    indexes = iter(range(n))

    async def worker() -> None:
        for i in indexes:
            await op(i)
            await asyncio.sleep(0)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    return time.perf_counter() - start


async def _wait(
    what: Awaitable[Any], deadline: float, watched: Iterable[asyncio.Future[Any]] = ()
) -> bool:
    """Await ``what`` until ``deadline``: False on timeout. A watched task that fails raises."""
    target = asyncio.ensure_future(what)
    pending: set[asyncio.Future[Any]] = {target, *watched}
    try:
        while not target.done():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            done, pending = await asyncio.wait(
                pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task is not target and not task.cancelled():
                    exc = task.exception()
                    if exc is not None:
                        raise exc
        target.result()
        return True
    finally:
        if not target.done():
            target.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await target


async def _stop(tasks: Iterable[asyncio.Future[Any]]) -> None:
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@attrs.frozen(kw_only=True)
class _Params:
    workload: Workload
    nodes: int
    init_pods: int
    pods: int
    concurrency: int
    timeout: float
    seed: int
    config_label: str


def _pods(template: models.Pod, namespace: str, prefix: str) -> Callable[[int], models.Pod]:
    meta = template.metadata or models.ObjectMeta()

    def make(i: int) -> models.Pod:
        return evolve(template, metadata=evolve(meta, name=f"{prefix}-{i:06}", namespace=namespace))

    return make


async def _measure(
    client: Client,
    scheduler: Scheduler,
    observer: _Observer,
    p: _Params,
    result: dict[str, Any],
    deadline: float,
    scheduler_task: asyncio.Future[None],
) -> None:
    wl = p.workload
    scheduler_name = next(iter(scheduler.profiles))
    template = pod_template(wl.measure_template, scheduler_name)
    make = _pods(template, wl.measure_namespace, "pod")
    created: dict[str, float] = {}

    async def create(i: int) -> None:
        pod = make(i)
        assert pod.metadata is not None and pod.metadata.name is not None
        created[pod.metadata.name] = time.perf_counter()
        await client.create(pod)

    background_created = 0

    async def background() -> None:
        nonlocal background_created
        assert wl.background_template is not None
        bg = _pods(
            pod_template(wl.background_template, scheduler_name), wl.background_namespace, "bg"
        )
        start = time.perf_counter()
        i = 0
        while True:
            await client.create(bg(i))
            i += 1
            background_created = i
            await asyncio.sleep(
                max(0.0, start + i * wl.background_interval_s - time.perf_counter())
            )

    sampler = _Sampler(lambda: len(observer.measured))
    tasks: list[asyncio.Future[Any]] = []
    if wl.background_template is not None:
        tasks.append(asyncio.ensure_future(background()))
    cycles = scheduler.queue.scheduling_cycle
    cpu_start = time.process_time()
    start = time.perf_counter()
    creating = asyncio.ensure_future(_concurrently(p.pods, p.concurrency, create))
    tasks += [creating, asyncio.ensure_future(sampler.run())]
    try:
        finished = await _wait(observer.measure_done.wait(), deadline, [scheduler_task, *tasks])
    finally:
        create_s = None
        if creating.done() and not creating.cancelled() and creating.exception() is None:
            create_s = creating.result()
        await _stop(tasks)
    end = observer.last_bind if finished else time.perf_counter()
    cpu = time.process_time() - cpu_start
    elapsed = max(end - start, 1e-9)
    latencies = [(t - created[name]) * 1000 for name, t in observer.measured.items()]
    scheduled = len(observer.measured)
    pending = scheduler.queue.pending()  # pods whose last attempt failed wait in these two
    result.update(
        pods_per_s=round(scheduled / elapsed, 1),
        p50_ms=round(percentile(latencies, 50), 1),
        p99_ms=round(percentile(latencies, 99), 1),
        throughput=sampler.summary(),
        scheduled=scheduled,
        unschedulable=pending["unschedulable"] + pending["backoff"],
        not_scheduled=len(created) - scheduled,
        attempts=scheduler.queue.scheduling_cycle - cycles,
        elapsed_s=round(elapsed, 3),
        # The process's CPU time over the same span (to the end of the measuring, a little
        # past the last binding): on a shared machine, pods per CPU second vary less.
        cpu_s=round(cpu, 3),
        pods_per_cpu_s=round(scheduled / cpu, 1) if cpu > 0 else 0.0,
        create_s=round(create_s, 3) if create_s is not None else None,
    )
    if wl.background_template is not None:
        result["background_pods"] = background_created
    if not finished:
        result["timed_out"] = True
        result["phase"] = "measure"


async def _bench(
    p: _Params, config: KubeSchedulerConfiguration, factories: Callable[[str], PluginFactory]
) -> dict[str, Any]:
    wl = p.workload
    began = time.perf_counter()
    deadline = began + p.timeout
    result: dict[str, Any] = {
        "workload": wl.name,
        "nodes": p.nodes,
        "init_pods": p.init_pods,
        "pods": p.pods,
        "config": p.config_label,
    }
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    scheduler_task: asyncio.Future[None] | None = None
    try:
        try:
            scheduler = Scheduler(client, config, factories, seed=p.seed)
        except ConfigError as exc:
            raise BenchError(f"the scheduler profile cannot be built: {exc}") from None
        name, fwk = next(iter(scheduler.profiles.items()))
        result["profile"] = name
        result["plugins"] = list(fwk.plugins)
        if wl.needs_post_filter and not fwk.post_filter_plugins:
            raise BenchError(
                f"{wl.name} needs a PostFilter plugin (DefaultPreemption) and profile "
                f"{name!r} has none"
            )
        observer = _Observer(wl.init_namespace, p.init_pods, wl.measure_namespace, p.pods)
        for profile in scheduler.profiles.values():
            profile.post_bind_plugins.append(observer)
        for ns in wl.namespaces:
            await client.create(models.Namespace(metadata=models.ObjectMeta(name=ns)))

        def timed_out(phase: str) -> dict[str, Any]:
            result.update(timed_out=True, phase=phase, scheduled=0, pods_per_s=0.0)
            result.update(p50_ms=0.0, p99_ms=0.0, total_s=round(time.perf_counter() - began, 3))
            return result

        setup: dict[str, float] = {}
        start = time.perf_counter()

        async def create_node(i: int) -> None:
            want = node(i, wl.zones)
            got = await client.create(want)
            if got.status is None or not got.status.allocatable:
                # kframe's API server drops the status of a new node (upstream keeps it, as
                # the kubelet registers with it): write it through the status subresource.
                await client.update(attrs.evolve(got, status=want.status), subresource="status")

        nodes = _concurrently(p.nodes, p.concurrency, create_node)
        if not await _wait(nodes, deadline):
            return timed_out("nodes")
        setup["nodes"] = round(time.perf_counter() - start, 3)
        scheduler_task = asyncio.ensure_future(scheduler.run())

        start = time.perf_counter()
        make_init = _pods(pod_template(wl.init_template, name), wl.init_namespace, "init")
        creating = asyncio.ensure_future(
            _concurrently(p.init_pods, p.concurrency, lambda i: client.create(make_init(i)))
        )
        try:
            if not await _wait(observer.init_done.wait(), deadline, [scheduler_task, creating]):
                return timed_out("init")
        finally:
            await _stop([creating])
        setup["init_pods"] = round(time.perf_counter() - start, 3)
        result["setup_s"] = setup
        # What setup made lives to the end: out of the collector's way, as a long-running
        # scheduler's informer caches are after their first full collections.
        gc.collect()
        gc.freeze()
        # With everything frozen CPython counts no long-lived objects, so its rule for a full
        # collection (pending long-lived objects over a quarter of them) holds at every 10th
        # second-generation collection, and each walks every pod made since (5 full ones in a
        # 10,000-pod run). Young objects are still collected as usual; full collections wait.
        thresholds = gc.get_threshold()
        gc.set_threshold(thresholds[0], thresholds[1], FULL_COLLECTION_THRESHOLD)
        try:
            await _measure(client, scheduler, observer, p, result, deadline, scheduler_task)
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()
        result.setdefault("timed_out", False)
        result["total_s"] = round(time.perf_counter() - began, 3)
        return result
    finally:
        if scheduler_task is not None:
            await _stop([scheduler_task])
        await server.store.close()


class SchedulerBench:
    """The ``scheduler`` target of ``kframe bench``."""

    help = "kube-scheduler's scheduler_perf workloads through the in-process API server"

    def __init__(self, registry: Registry | None = None) -> None:
        # Tests and embedders pass a registry; the command discovers the installed plugins.
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        listing = "; ".join(f"{w.name}: {w.description}" for w in WORKLOADS.values())
        parser.add_argument(
            "--workload",
            choices=sorted(WORKLOADS),
            default="SchedulingBasic",
            metavar="NAME",
            help=f"the scheduler_perf workload (default SchedulingBasic). {listing}",
        )
        parser.add_argument(
            "--nodes", type=positive_int, help="nodes (default: the workload's 5000Nodes case)"
        )
        parser.add_argument(
            "--init-pods",
            type=non_negative_int,
            help="pods created and scheduled before measuring (default: the workload's)",
        )
        parser.add_argument(
            "--pods", type=positive_int, help="measured pods (default: the workload's)"
        )
        parser.add_argument(
            "--config",
            type=Path,
            metavar="PATH",
            help="a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1); default: "
            "kube-scheduler's default profile",
        )
        parser.add_argument(
            "--concurrency",
            type=positive_int,
            default=30,
            help="concurrent creates of nodes and pods (default 30, as upstream's createPods)",
        )
        parser.add_argument(
            "--timeout",
            type=positive_seconds,
            default=600.0,
            metavar="SECONDS",
            help="stop after this long and report what was measured, with timed_out: true "
            "(default 600)",
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="seed of the scheduler's tie-breaks (default 0)"
        )

    def run(self, args: argparse.Namespace) -> int:
        from kframe.cli import CommandError  # kframe.cli imports this module

        wl = WORKLOADS[args.workload]
        params = _Params(
            workload=wl,
            nodes=args.nodes if args.nodes is not None else wl.nodes,
            init_pods=args.init_pods if args.init_pods is not None else wl.init_pods,
            pods=args.pods if args.pods is not None else wl.pods,
            concurrency=args.concurrency,
            timeout=args.timeout,
            seed=args.seed,
            config_label=str(args.config) if args.config else "default",
        )
        try:
            config = load_config(args.config)
            registry = self._registry if self._registry is not None else build_registry()
            result = asyncio.run(_bench(params, config, registry_factories(registry)))
        except (BenchError, ConfigError) as exc:
            failed = {
                "workload": wl.name,
                "nodes": params.nodes,
                "init_pods": params.init_pods,
                "pods": params.pods,
                "config": params.config_label,
                "error": str(exc),
            }
            print(json.dumps(failed), flush=True)
            raise CommandError(str(exc)) from None
        result["cpus"] = os.cpu_count()
        print(json.dumps(result), flush=True)
        return 0
