"""The DNS server end to end: an in-process API server, ClusterDNS on an ephemeral port, and
dnspython's resolver asking over UDP and TCP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import dns.asyncquery
import dns.asyncresolver
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.resolver
import pytest

from kframe.api import models
from kframe.apiserver import APIServer
from kframe.client import Client, HttpClient, InProcessClient
from kframe.dns import ClusterDNS, DNSServer, Forwarder, RecordTable, Upstream
from kframe.store import open_store
from tests.dns.dns_objects import endpoint, endpoint_slice, service


def run(body: Callable[[Client], Awaitable[None]], kind: str = "inprocess") -> None:
    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.start("127.0.0.1", 0)
        client: Client = InProcessClient(server) if kind == "inprocess" else HttpClient(server.url)
        try:
            await asyncio.wait_for(body(client), 30)
        finally:
            await client.close()
            await server.stop()
            await server.store.close()

    asyncio.run(main())


def resolver(port: int) -> dns.asyncresolver.Resolver:
    r = dns.asyncresolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = port
    r.lifetime = 5
    r.cache = None
    return r


async def addresses(r: dns.asyncresolver.Resolver, name: str, *, tcp: bool = False) -> list[str]:
    answer = await r.resolve(name, "A", tcp=tcp)
    return sorted(rdata.to_text() for rdata in answer)


async def until(predicate: Callable[[], Awaitable[bool]]) -> None:
    while not await predicate():
        await asyncio.sleep(0.01)


async def query(
    port: int, name: str, rdtype: str = "A", *, tcp: bool = False
) -> dns.message.Message:
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return await dns.asyncquery.tcp(q, "127.0.0.1", timeout=5, port=port)
    return await dns.asyncquery.udp(q, "127.0.0.1", timeout=5, port=port)


@pytest.mark.parametrize("kind", ["inprocess", "http"])
def test_services_resolve_over_udp_and_tcp(kind: str) -> None:
    async def body(client: Client) -> None:
        await client.create(service("web", cluster_ip="10.96.0.20", ports=(("http", 80, "TCP"),)))
        async with ClusterDNS(client, port=0).running() as cdns:
            r = resolver(cdns.port)
            # Existed before the server started: answered from the first request on.
            assert await addresses(r, "web.default.svc.cluster.local") == ["10.96.0.20"]
            assert await addresses(r, "web.default.svc.cluster.local", tcp=True) == ["10.96.0.20"]
            srv = await r.resolve("_http._tcp.web.default.svc.cluster.local", "SRV")
            assert [x.to_text() for x in srv] == ["0 100 80 web.default.svc.cluster.local."]
            ptr = await r.resolve_address("10.96.0.20")
            assert [x.to_text() for x in ptr] == ["web.default.svc.cluster.local."]
            response = await query(cdns.port, "web.default.svc.cluster.local")
            assert response.flags & dns.flags.AA
            assert response.answer[0].ttl == 30

            with pytest.raises(dns.resolver.NXDOMAIN):
                await r.resolve("nope.default.svc.cluster.local", "A")
            # Created, updated and deleted while serving.
            await client.create(models.Namespace(metadata=models.ObjectMeta(name="prod")))
            await client.create(service("api", "prod", cluster_ip="10.96.0.30"))

            async def api_resolves() -> bool:
                try:
                    return await addresses(r, "api.prod.svc.cluster.local") == ["10.96.0.30"]
                except dns.resolver.NXDOMAIN:
                    return False

            await until(api_resolves)
            await client.delete(models.Service, "api", namespace="prod")

            async def api_gone() -> bool:
                response = await query(cdns.port, "api.prod.svc.cluster.local", tcp=True)
                return response.rcode() == dns.rcode.NXDOMAIN

            await until(api_gone)

    run(body, kind)


def test_the_kubernetes_service_resolves_to_the_first_service_ip() -> None:
    """The API server's own ``kubernetes`` Service (docs/services.md) is in DNS like any."""

    async def body(client: Client) -> None:
        async with ClusterDNS(client, port=0).running() as cdns:
            r = resolver(cdns.port)
            assert await addresses(r, "kubernetes.default.svc.cluster.local") == ["10.96.0.1"]
            srv = await r.resolve("_https._tcp.kubernetes.default.svc.cluster.local", "SRV")
            assert [x.to_text() for x in srv] == ["0 100 443 kubernetes.default.svc.cluster.local."]

    run(body)


@pytest.mark.parametrize("kind", ["inprocess", "http"])
def test_headless_service_follows_its_endpoint_slices(kind: str) -> None:
    async def body(client: Client) -> None:
        await client.create(service("db", cluster_ip="None", ports=(("pg", 5432, "TCP"),)))
        async with ClusterDNS(client, port=0).running() as cdns:
            r = resolver(cdns.port)
            with pytest.raises(dns.resolver.NXDOMAIN):
                await r.resolve("db.default.svc.cluster.local", "A")
            await client.create(
                endpoint_slice(
                    "db-1",
                    "db",
                    endpoint("10.244.0.5", hostname="db-0"),
                    endpoint("10.244.0.6", ready=False, hostname="db-1"),
                    ports=(("pg", 5432, "TCP"),),
                )
            )

            async def ready_only() -> bool:
                try:
                    return await addresses(r, "db.default.svc.cluster.local") == ["10.244.0.5"]
                except dns.resolver.NXDOMAIN:
                    return False

            await until(ready_only)
            assert await addresses(r, "db-0.db.default.svc.cluster.local", tcp=True) == [
                "10.244.0.5"
            ]
            srv = await r.resolve("_pg._tcp.db.default.svc.cluster.local", "SRV")
            assert [x.to_text() for x in srv] == ["0 100 5432 db-0.db.default.svc.cluster.local."]
            await client.delete(models.EndpointSlice, "db-1", namespace="default")

            async def gone() -> bool:
                response = await query(cdns.port, "db.default.svc.cluster.local")
                return response.rcode() == dns.rcode.NXDOMAIN

            await until(gone)

    run(body, kind)


def test_big_answers_are_truncated_over_udp_and_whole_over_tcp() -> None:
    async def body(client: Client) -> None:
        await client.create(service("big", cluster_ip="None"))
        ips = [f"10.244.{i // 250}.{i % 250 + 1}" for i in range(200)]
        await client.create(endpoint_slice("big-1", "big", *(endpoint(ip) for ip in ips)))
        async with ClusterDNS(client, port=0).running() as cdns:
            udp = await query(cdns.port, "big.default.svc.cluster.local")
            assert udp.flags & dns.flags.TC and not udp.answer
            tcp = await query(cdns.port, "big.default.svc.cluster.local", tcp=True)
            assert sorted(r.to_text() for r in tcp.answer[0]) == sorted(ips)
            # The resolver retries a truncated answer over TCP by itself.
            assert await addresses(resolver(cdns.port), "big.default.svc.cluster.local") == sorted(
                ips
            )

    run(body)


def test_outside_names_are_refused_forwarded_or_servfail() -> None:
    async def body(client: Client) -> None:
        # A stand-in upstream: another server, authoritative for example.test.
        upstream_table = RecordTable("example.test")
        upstream_table.set_service(service("www", cluster_ip="192.0.2.53"))
        upstream = DNSServer(upstream_table, port=0)
        await upstream.start()
        await client.create(service("ext", external_name="www.default.svc.example.test"))
        try:
            async with ClusterDNS(client, port=0).running() as alone:
                response = await query(alone.port, "www.default.svc.example.test")
                assert response.rcode() == dns.rcode.REFUSED
                # Unknown reverse names are answered (NXDOMAIN) without an upstream.
                response = await query(alone.port, "9.9.9.10.in-addr.arpa", "PTR")
                assert response.rcode() == dns.rcode.NXDOMAIN
                # An ExternalName to an outside name is only the CNAME.
                response = await query(alone.port, "ext.default.svc.cluster.local")
                assert [r.to_text() for r in response.answer] == [
                    "ext.default.svc.cluster.local. 30 IN CNAME www.default.svc.example.test."
                ]
            forwarder = Forwarder([Upstream("127.0.0.1", upstream.port)])
            async with ClusterDNS(client, port=0, forwarder=forwarder).running() as cdns:
                r = resolver(cdns.port)
                assert await addresses(r, "www.default.svc.example.test") == ["192.0.2.53"]
                assert await addresses(r, "www.default.svc.example.test", tcp=True) == [
                    "192.0.2.53"
                ]
                # The ExternalName's target is chased upstream.
                assert await addresses(r, "ext.default.svc.cluster.local") == ["192.0.2.53"]
                response = await query(cdns.port, "www.default.svc.example.test")
                assert response.flags & dns.flags.RA
            dead = Forwarder([Upstream("127.0.0.1", _free_udp_port())], timeout=0.2)
            async with ClusterDNS(client, port=0, forwarder=dead).running() as broken:
                response = await query(broken.port, "www.default.svc.example.test")
                assert response.rcode() == dns.rcode.SERVFAIL
        finally:
            await upstream.stop()

    run(body)


def test_malformed_and_unsupported_messages() -> None:
    async def body() -> None:
        server = DNSServer(RecordTable(), port=0)
        await server.start()
        try:
            loop = asyncio.get_running_loop()
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", server.port))
            # A header and garbage: FORMERR with the query's id.
            await loop.sock_sendall(sock, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff")
            reply = dns.message.from_wire(await asyncio.wait_for(loop.sock_recv(sock, 512), 5))
            assert reply.id == 0x1234 and reply.rcode() == dns.rcode.FORMERR
            sock.close()
            notify = dns.message.make_query("cluster.local", "SOA")
            notify.set_opcode(dns.opcode.NOTIFY)
            response = await dns.asyncquery.udp(notify, "127.0.0.1", timeout=5, port=server.port)
            assert response.rcode() == dns.rcode.NOTIMP
            xfr = await query(server.port, "cluster.local", "AXFR", tcp=True)
            assert xfr.rcode() == dns.rcode.REFUSED
            future = dns.message.make_query("cluster.local", "SOA", use_edns=1)
            response = await dns.asyncquery.udp(future, "127.0.0.1", timeout=5, port=server.port)
            assert response.rcode() == dns.rcode.BADVERS
            # Several queries down one TCP connection.
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            for name in ("dns-version.cluster.local", "x.cluster.local"):
                wire = dns.message.make_query(name, "TXT").to_wire()
                writer.write(len(wire).to_bytes(2, "big") + wire)
                size = int.from_bytes(await reader.readexactly(2), "big")
                reply = dns.message.from_wire(await reader.readexactly(size))
                assert reply.question[0].name.to_text() == f"{name}."
            writer.close()
            await writer.wait_closed()
        finally:
            await server.stop()

    asyncio.run(asyncio.wait_for(body(), 30))


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
