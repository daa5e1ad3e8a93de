"""Cluster DNS in one script: an in-process API server, a few Services, and the answers.

Creates a ClusterIP Service, a headless one with an EndpointSlice (one ready endpoint with a
hostname, one not ready), and an ExternalName; serves cluster DNS on a free port; then asks
it over UDP and TCP with dnspython's resolver, as a pod's resolver would.

    python examples/dns/cluster_dns.py

Against a running cluster the same answers come from ``kframe up`` (cluster DNS on port 1053)
and ``dig -p 1053 @127.0.0.1 web.default.svc.cluster.local``.
"""

from __future__ import annotations

import asyncio

import dns.asyncresolver
import dns.resolver

from kframe.api import models
from kframe.api.models import discovery_v1
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.dns import SERVICE_NAME_LABEL, ClusterDNS
from kframe.store import open_store


def objects() -> list[object]:
    meta = models.ObjectMeta
    return [
        models.Service(
            metadata=meta(name="web", namespace="default"),
            spec=models.ServiceSpec(
                cluster_ip="10.96.0.20", ports=(models.ServicePort(name="http", port=80),)
            ),
        ),
        models.Service(
            metadata=meta(name="db", namespace="default"),
            spec=models.ServiceSpec(
                cluster_ip="None", ports=(models.ServicePort(name="pg", port=5432),)
            ),
        ),
        discovery_v1.EndpointSlice(
            metadata=meta(name="db-1", namespace="default", labels={SERVICE_NAME_LABEL: "db"}),
            address_type="IPv4",
            endpoints=(
                models.Endpoint(
                    addresses=("10.244.0.5",),
                    hostname="db-0",
                    conditions=models.EndpointConditions(ready=True),
                ),
                models.Endpoint(
                    addresses=("10.244.0.6",),
                    hostname="db-1",
                    conditions=models.EndpointConditions(ready=False),
                ),
            ),
            ports=(discovery_v1.EndpointPort(name="pg", port=5432, protocol="TCP"),),
        ),
        models.Service(
            metadata=meta(name="docs", namespace="default"),
            spec=models.ServiceSpec(type="ExternalName", external_name="docs.example.com"),
        ),
    ]


async def main() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.start("127.0.0.1", 0)
    client = InProcessClient(server)
    for obj in objects():
        await client.create(obj)
    # forwarder=None: names outside cluster.local are refused rather than sent upstream.
    async with ClusterDNS(client, port=0).running() as cluster_dns:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = cluster_dns.port
        print(f"cluster DNS on 127.0.0.1:{cluster_dns.port}")
        questions = [
            ("web.default.svc.cluster.local", "A", False),
            ("web.default.svc.cluster.local", "A", True),  # over TCP
            ("_http._tcp.web.default.svc.cluster.local", "SRV", False),
            ("db.default.svc.cluster.local", "A", False),  # the ready endpoint only
            ("db-0.db.default.svc.cluster.local", "A", False),
            ("_pg._tcp.db.default.svc.cluster.local", "SRV", False),
            ("20.0.96.10.in-addr.arpa", "PTR", False),
            ("docs.default.svc.cluster.local", "CNAME", False),
            ("dns-version.cluster.local", "TXT", False),
        ]
        for name, rdtype, tcp in questions:
            answer = await resolver.resolve(name, rdtype, tcp=tcp)
            via = "tcp" if tcp else "udp"
            print(f"{via} {name} {rdtype}: {', '.join(r.to_text() for r in answer)}")
        try:
            await resolver.resolve("nope.default.svc.cluster.local", "A")
        except dns.resolver.NXDOMAIN:
            print("udp nope.default.svc.cluster.local A: NXDOMAIN")
    await client.close()
    await server.stop()
    await server.store.close()


if __name__ == "__main__":
    asyncio.run(main())
