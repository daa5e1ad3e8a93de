"""``kframe bench proxy``: how long one proxy sync takes for many services and endpoints.

``--services`` Services (ClusterIP, one TCP port each) with ``--endpoints`` ready endpoints
each, in one EndpointSlice per Service, are fed to a :class:`~kframe.proxy.Proxy`'s change
trackers as informer events would be (no API server: the sync is what is measured). Then the
backend of ``--mode`` is synced ``--repeat`` times from scratch (a full sync: the trackers'
state, the rendering, and, with ``--apply`` as root, ``iptables-restore`` into the host's tables
with the chains left unlinked), and once more after one EndpointSlice changed. Reported: the
median and worst full sync, the sync after one change, the tracker ingest time, and the size of
the iptables input. Upstream's goal is a sync under 1 s at this scale (issue #8: 1,000 x 10).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any, cast

from kframe.api.models import (
    Endpoint,
    EndpointConditions,
    EndpointSlice,
    ObjectMeta,
    Service,
    ServicePort,
    ServiceSpec,
)
from kframe.api.models.discovery_v1 import EndpointPort
from kframe.bench._stats import percentile, positive_int
from kframe.client import Client
from kframe.proxy import SERVICE_NAME_LABEL, Proxy, ProxyOptions, open_backend

__all__ = ["ProxyBench", "bench_objects"]

TARGET_S = 1.0


def _ip(base: int, n: int) -> str:
    return f"10.{base + n // 65536 % 32}.{n // 256 % 256}.{n % 256}"


def bench_objects(
    services: int, endpoints: int, *, version: int = 0
) -> tuple[list[Service], list[EndpointSlice]]:
    """``services`` Services with ``endpoints`` ready endpoints each (one slice per Service);
    ``version`` moves every endpoint's port, to make an update."""
    svcs: list[Service] = []
    slices: list[EndpointSlice] = []
    for i in range(services):
        name = f"svc-{i}"
        ip = _ip(96, i)
        svcs.append(
            Service(
                metadata=ObjectMeta(name=name, namespace="bench"),
                spec=ServiceSpec(
                    cluster_ip=ip,
                    cluster_ips=(ip,),
                    ports=(ServicePort(name="http", port=80, protocol="TCP"),),
                ),
            )
        )
        eps = tuple(
            Endpoint(
                addresses=(_ip(128, i * endpoints + j),),
                conditions=EndpointConditions(ready=True),
                node_name=f"node-{j % 10}",
            )
            for j in range(endpoints)
        )
        slices.append(
            EndpointSlice(
                metadata=ObjectMeta(
                    name=f"{name}-abcde",
                    namespace="bench",
                    labels={SERVICE_NAME_LABEL: name},
                ),
                address_type="IPv4",
                endpoints=eps,
                ports=(EndpointPort(name="http", port=8080 + version, protocol="TCP"),),
            )
        )
    return svcs, slices


async def _bench(
    services: int,
    endpoints: int,
    repeat: int,
    mode: str,
    apply: bool,
    backend_config: dict[str, Any],
) -> dict[str, Any]:
    svcs, slices = bench_objects(services, endpoints)
    config = dict(backend_config)
    if apply and mode == "iptables":
        config["installJumps"] = False
    options = ProxyOptions(node_name="node-0", dry_run=not apply, config=config)
    backend = await open_backend(mode, options)
    # The proxy never runs its informers here: its handlers are called directly.
    proxy = Proxy(cast(Client, None), backend, node_name="node-0")
    started = time.perf_counter()
    for svc in svcs:
        proxy.on_service_add(svc)
    for eps in slices:
        proxy.on_slice_add(eps)
    ingest_s = time.perf_counter() - started

    full: list[float] = []
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            await proxy.sync(full=True)  # every sync as the first one
            full.append(time.perf_counter() - started)
        if proxy.sync_errors:
            raise RuntimeError(f"{mode} sync failed; see the log")
        _, changed = bench_objects(1, endpoints, version=1)
        proxy.on_slice_update(slices[0], changed[0])
        started = time.perf_counter()
        await proxy.sync()
        one_change_s = time.perf_counter() - started
        rules = getattr(backend, "last_rules", None)
    finally:
        if apply:
            await backend.cleanup()
        await backend.close()
    result: dict[str, Any] = {
        "mode": mode,
        "applied": apply,
        "backend_config": backend_config,
        "services": services,
        "endpoints_per_service": endpoints,
        "endpoints": services * endpoints,
        "ingest_s": round(ingest_s, 4),
        "syncs": repeat,
        "full_sync_median_s": round(percentile(full, 50), 4),
        "full_sync_max_s": round(max(full), 4),
        "sync_after_one_change_s": round(one_change_s, 4),
        "target_s": TARGET_S,
        "meets_target": max(full) < TARGET_S,
    }
    if rules is not None and hasattr(rules, "text"):
        text = rules.text()
        result.update(
            nat_lines=len(rules.nat),
            filter_lines=len(rules.filter),
            restore_bytes=len(text.encode()),
            nat_chains=len(rules.active_nat_chains),
        )
    return result


class ProxyBench:
    """The ``proxy`` target of ``kframe bench``."""

    help = "proxy rule sync time for many services x endpoints (default 1000 x 10; goal < 1 s)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--services", type=positive_int, default=1000, help="Services (1000)")
        parser.add_argument(
            "--endpoints", type=positive_int, default=10, help="ready endpoints per Service (10)"
        )
        parser.add_argument(
            "--repeat", type=positive_int, default=5, help="full syncs measured (5)"
        )
        parser.add_argument("--mode", default="iptables", help="proxy backend (iptables)")
        parser.add_argument(
            "--apply",
            action="store_true",
            help="apply to the host's tables (root; chains left unlinked, removed afterwards) "
            "instead of a dry run",
        )
        parser.add_argument(
            "--backend-config",
            type=Path,
            metavar="FILE",
            help="the backend's settings, as kframe proxy --backend-config (for example "
            "iptablesRestore: iptables-legacy-restore)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from kframe.cli._files import load_settings

        config = load_settings("--backend-config", args.backend_config)
        result = asyncio.run(
            _bench(args.services, args.endpoints, args.repeat, args.mode, args.apply, config)
        )
        print(json.dumps(result), flush=True)
        return 0
