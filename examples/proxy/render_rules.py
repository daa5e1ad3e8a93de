"""A cluster's Services and endpoints as kube-proxy's iptables rules, without touching the host.

Run: ``python examples/proxy/render_rules.py``. An in-process API server holds two Services and
their EndpointSlices; a Proxy with the ``iptables`` backend in dry-run mode (opened by name from
the registry, as ``kframe proxy --mode iptables --dry-run`` does) syncs once, and the nat table
it would apply is printed. Then an endpoint becomes not ready, and the rules follow.
"""

from __future__ import annotations

import asyncio
import contextlib

import attrs

from kframe.api import from_dict
from kframe.api.models import EndpointSlice, Service
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.proxy import Proxy, ProxyOptions, open_backend
from kframe.store import open_store

SERVICES = [
    {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80}]},
    },
    {
        "metadata": {"name": "cache", "namespace": "default"},
        "spec": {
            "clusterIP": "10.96.0.20",
            "ports": [{"port": 6379}],
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
        },
    },
]


def endpoint_slice(service: str, port_name: str, port: int, ips: list[str]) -> EndpointSlice:
    return from_dict(
        {
            "metadata": {
                "name": f"{service}-1",
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": service},
            },
            "addressType": "IPv4",
            "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": [ip], "conditions": {"ready": True}, "nodeName": "node-a"}
                for ip in ips
            ],
        },
        EndpointSlice,
    )


def nat_rules(backend: object) -> str:
    rules = getattr(backend, "last_rules", None)
    return rules.table("nat") if rules is not None else ""


async def main() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    for body in SERVICES:
        await client.create(from_dict(body, Service))
    web = await client.create(
        endpoint_slice("web", "http", 8080, ["10.244.1.1", "10.244.1.2", "10.244.2.1"])
    )
    await client.create(endpoint_slice("cache", "", 6379, ["10.244.1.7", "10.244.2.7"]))

    backend = await open_backend(
        "iptables",
        ProxyOptions(node_name="node-a", dry_run=True, config={"clusterCIDR": "10.244.0.0/16"}),
    )
    proxy = Proxy(client, backend, node_name="node-a", min_sync_period=0.1)
    task = asyncio.ensure_future(proxy.run())
    try:
        await asyncio.wait_for(proxy.synced.wait(), 10)
        print("# the nat table, as `iptables-restore --noflush` would receive it")
        print(nat_rules(backend))

        # One web endpoint stops being ready: its KUBE-SEP chain goes, the others rebalance.
        first = web.endpoints[0]
        assert first.conditions is not None
        stopped = attrs.evolve(first, conditions=attrs.evolve(first.conditions, ready=False))
        await client.update(attrs.evolve(web, endpoints=(stopped, *web.endpoints[1:])))
        syncs = proxy.syncs
        while proxy.syncs == syncs:
            await asyncio.sleep(0.05)
        print("# after 10.244.1.1 became not ready, default/web:http balances over two:")
        for line in nat_rules(backend).splitlines():
            if "default/web:http ->" in line:
                print(line)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.store.close()


if __name__ == "__main__":
    asyncio.run(main())
