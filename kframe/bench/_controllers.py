"""``kframe bench controllers``: a Deployment brought up and rolled, end to end, in one process.

The API server (memory store), the scheduler, the controller manager (every installed
controller, or ``--controllers``) and ``--nodes`` fake-runtime kubelets (one
:class:`~kframe.kubelet.KubeletHost`, as ``kframe up --nodes N``) run on one event loop. Once
every node has registered, a Deployment of ``--replicas`` is created and timed until its
status reports every replica available (``available``); then its image is changed and timed
until the rollout is complete (``rollout``: updated == available == replicas at the new
generation, and every older ReplicaSet scaled to 0), as ``kubectl rollout status`` decides.

The controllers come through the registry (``kframe_controllers`` hook), so the figures are
those of whichever deployment and replicaset controllers are installed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections.abc import Mapping
from typing import Any

import attrs

from kframe.api import from_dict, to_dict
from kframe.api.models import Deployment, Namespace, ObjectMeta, ReplicaSet
from kframe.bench._density_watch import GcPauses, rss_kib
from kframe.bench._stats import non_negative_seconds, positive_int
from kframe.client import Client, InProcessClient
from kframe.registry import Registry, build_registry
from kframe.store import open_store

__all__ = ["ControllersBench", "Params", "run_bench"]

NAMESPACE = "bench"
NAME = "web"
IMAGES = ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.9")
#: How often the Deployment's status is read while waiting (one in-memory get).
POLL_S = 0.01


@attrs.frozen(kw_only=True)
class Params:
    nodes: int = 100
    replicas: int = 1000
    controllers: tuple[str, ...] = ("*",)
    timeout: float = 600.0
    rollout: bool = True


def _deployment(replicas: int) -> Deployment:
    labels = {"app": NAME}
    return from_dict(
        {
            "metadata": {"name": NAME, "namespace": NAMESPACE},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [{"name": "pause", "image": IMAGES[0]}],
                        "terminationGracePeriodSeconds": 0,
                    },
                },
            },
        },
        Deployment,
    )


def _available(d: Deployment, replicas: int) -> bool:
    return d.status is not None and (d.status.available_replicas or 0) >= replicas


async def _old_replica_sets_at_zero(client: Client, d: Deployment) -> bool:
    """Every ReplicaSet the Deployment owns, but the one of its current template, is at 0."""
    assert d.metadata is not None
    uid = d.metadata.uid
    owned = [
        rs
        for rs in (await client.list(ReplicaSet, namespace=NAMESPACE)).items
        if rs.metadata is not None
        and any(ref.uid == uid for ref in rs.metadata.owner_references or [])
    ]
    image = IMAGES[1]
    for rs in owned:
        assert rs.spec is not None and rs.spec.template is not None
        pod_spec = rs.spec.template.spec
        current = pod_spec is not None and pod_spec.containers[0].image == image
        if not current and ((rs.spec.replicas or 0) or (rs.status and rs.status.replicas)):
            return False
    return True


async def _rolled_out(client: Client, replicas: int) -> bool:
    """kubectl rollout status's test, with the older ReplicaSets emptied."""
    d = await client.get(Deployment, NAME, namespace=NAMESPACE)
    assert d.metadata is not None
    s = d.status
    if s is None or (s.observed_generation or 0) < (d.metadata.generation or 0):
        return False
    if (s.updated_replicas or 0) < replicas or (s.available_replicas or 0) < replicas:
        return False
    if (s.replicas or 0) > (s.updated_replicas or 0):  # old replicas still counted
        return False
    return await _old_replica_sets_at_zero(client, d)


async def _wait(client: Client, p: Params, deadline: float, rollout: bool) -> bool:
    while time.perf_counter() < deadline:
        if rollout:
            if await _rolled_out(client, p.replicas):
                return True
        else:
            d = await client.get(Deployment, NAME, namespace=NAMESPACE)
            if _available(d, p.replicas):
                return True
        await asyncio.sleep(POLL_S)
    return False


def _figure(name: str, p: Params, elapsed: float, cpu: float, ok: bool) -> dict[str, Any]:
    return {
        "name": name,
        "nodes": p.nodes,
        "replicas": p.replicas,
        "elapsed_s": round(elapsed, 3),
        "cpu_s": round(cpu, 3),
        "pods_per_s": round(p.replicas / max(elapsed, 1e-9), 1),
        "timed_out": not ok,
    }


async def run_bench(
    p: Params, *, registry: Registry | None = None, specs: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run the benchmark; one result per phase (``available``, then ``rollout``). ``specs``
    replaces the installed controllers (tests)."""
    from kframe.apiserver import APIServer
    from kframe.controller import ControllerManager, registered_controllers
    from kframe.kubelet import KubeletHost
    from kframe.scheduler import Scheduler, load_config, registry_factories

    registry = registry or build_registry()
    began = time.perf_counter()
    deadline = began + p.timeout
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    host = KubeletHost(client, nodes=p.nodes, runtime="fake", serve=False, registry=registry)
    scheduler = Scheduler(client, load_config(None), registry_factories(registry))
    manager = ControllerManager(
        client,
        registered_controllers(registry) if specs is None else specs,
        controllers=p.controllers,
    )
    await client.create(Namespace(metadata=ObjectMeta(name=NAMESPACE)))
    tasks = [asyncio.ensure_future(host.run())]
    results: list[dict[str, Any]] = []
    try:
        await asyncio.wait_for(host.wait_registered(), max(deadline - time.perf_counter(), 1))
        tasks.append(asyncio.ensure_future(scheduler.run()))
        tasks.append(asyncio.ensure_future(manager.run()))
        await asyncio.wait_for(manager.synced.wait(), max(deadline - time.perf_counter(), 1))

        wall, cpu = time.perf_counter(), time.process_time()
        await client.create(_deployment(p.replicas))
        ok = await _wait(client, p, deadline, rollout=False)
        results.append(
            _figure("available", p, time.perf_counter() - wall, time.process_time() - cpu, ok)
        )
        if ok and p.rollout:
            d = await client.get(Deployment, NAME, namespace=NAMESPACE)
            body = to_dict(d)
            body["spec"]["template"]["spec"]["containers"][0]["image"] = IMAGES[1]
            wall, cpu = time.perf_counter(), time.process_time()
            await client.update(from_dict(body, Deployment))
            ok = await _wait(client, p, deadline, rollout=True)
            results.append(
                _figure("rollout", p, time.perf_counter() - wall, time.process_time() - cpu, ok)
            )
        return results
    finally:
        rss, peak = rss_kib()
        for r in results:
            r.update(
                controllers=manager.names,
                rss_mib=round(rss / 1024, 1),
                peak_rss_mib=round(peak / 1024, 1),
                total_s=round(time.perf_counter() - began, 3),
                cpus=os.cpu_count(),
            )
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await client.close()
        await server.store.close()


class ControllersBench:
    """The ``controllers`` target of ``kframe bench``."""

    help = "a Deployment created and rolled: API server, scheduler, controllers, N fake kubelets"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--nodes", type=positive_int, default=100, help="kubelets (100)")
        parser.add_argument(
            "--replicas", type=positive_int, default=1000, help="Deployment replicas (1000)"
        )
        parser.add_argument(
            "--controllers",
            default="*",
            help="controllers to run, as kube-controller-manager's --controllers (*)",
        )
        parser.add_argument(
            "--no-rollout", action="store_true", help="stop once the replicas are available"
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
        from kframe.controller import enabled_controllers, registered_controllers

        registry = build_registry()
        selection = tuple(c.strip() for c in args.controllers.split(",") if c.strip())
        try:
            names = enabled_controllers(selection, registered_controllers(registry))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not names:
            raise CommandError("--controllers: no controller selected")
        params = Params(
            nodes=args.nodes,
            replicas=args.replicas,
            controllers=selection,
            timeout=args.timeout or 600.0,
            rollout=not args.no_rollout,
        )
        with GcPauses() as pauses:
            results = asyncio.run(run_bench(params, registry=registry))
        for result in results:
            result["gc"] = pauses.summary()
            print(json.dumps(result), flush=True)
        return 0 if results and not any(r["timed_out"] for r in results) else 1
