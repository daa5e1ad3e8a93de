"""``kframe bench dns``: loading the cluster DNS table, and answering queries over UDP.

``--services`` ClusterIP Services (one named TCP port each) and ``--headless`` headless ones
with ``--endpoints`` ready endpoints each (one EndpointSlice per Service) are fed to a
:class:`~kframe.dns.RecordTable` as informer events would be (no API server). Then a
:class:`~kframe.dns.DNSServer` on a loopback port is asked ``--queries`` A questions for random
Service names over UDP, ``--concurrency`` outstanding at a time, by a client on the same event
loop. Reported: the load time, the table's lookup time (first and repeated, per question), and
the UDP queries per second with latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any

import dns.message
import dns.name
import dns.rdatatype

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
from kframe.bench._stats import non_negative_int, percentile, positive_int, rate
from kframe.dns import SERVICE_NAME_LABEL, DNSServer, RecordTable

__all__ = ["DnsBench", "dns_bench_objects"]


def _ip(base: int, n: int) -> str:
    return f"10.{base + n // 65536 % 32}.{n // 256 % 256}.{n % 256}"


def dns_bench_objects(
    services: int, headless: int, endpoints: int
) -> tuple[list[Service], list[EndpointSlice]]:
    """``services`` ClusterIP Services and ``headless`` headless ones with ``endpoints`` ready
    endpoints each, spread over 20 namespaces."""
    svcs: list[Service] = []
    slices: list[EndpointSlice] = []
    port = (ServicePort(name="http", port=80, protocol="TCP"),)
    for i in range(services):
        ip = _ip(96, i)
        svcs.append(
            Service(
                metadata=ObjectMeta(name=f"svc-{i}", namespace=f"ns-{i % 20}"),
                spec=ServiceSpec(cluster_ip=ip, cluster_ips=(ip,), ports=port),
            )
        )
    for i in range(headless):
        name, namespace = f"headless-{i}", f"ns-{i % 20}"
        svcs.append(
            Service(
                metadata=ObjectMeta(name=name, namespace=namespace),
                spec=ServiceSpec(cluster_ip="None", cluster_ips=("None",), ports=port),
            )
        )
        slices.append(
            EndpointSlice(
                metadata=ObjectMeta(
                    name=f"{name}-abcde", namespace=namespace, labels={SERVICE_NAME_LABEL: name}
                ),
                address_type="IPv4",
                endpoints=tuple(
                    Endpoint(
                        addresses=(_ip(128, i * endpoints + j),),
                        conditions=EndpointConditions(ready=True),
                        hostname=f"{name}-{j}",
                    )
                    for j in range(endpoints)
                ),
                ports=(EndpointPort(name="http", port=8080, protocol="TCP"),),
            )
        )
    return svcs, slices


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[bytes]] = {}

    def datagram_received(self, data: bytes, addr: Any) -> None:
        future = self.waiting.pop(int.from_bytes(data[:2], "big"), None)
        if future is not None and not future.done():
            future.set_result(data)


async def _udp_load(
    port: int, questions: list[bytes], concurrency: int
) -> tuple[float, list[float], int]:
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        _Client, remote_addr=("127.0.0.1", port)
    )
    latencies: list[float] = []
    lost = 0
    next_index = 0

    async def worker() -> None:
        nonlocal next_index, lost
        while next_index < len(questions):
            index = next_index
            next_index += 1
            ident = index % 65536
            wire = ident.to_bytes(2, "big") + questions[index][2:]
            future: asyncio.Future[bytes] = loop.create_future()
            client.waiting[ident] = future
            started = time.perf_counter()
            transport.sendto(wire)
            try:
                await asyncio.wait_for(future, 5)
            except TimeoutError:
                client.waiting.pop(ident, None)
                lost += 1
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    transport.close()
    return elapsed, latencies, lost


async def _bench(
    services: int, headless: int, endpoints: int, queries: int, concurrency: int
) -> dict[str, Any]:
    svcs, slices = dns_bench_objects(services, headless, endpoints)
    table = RecordTable()
    started = time.perf_counter()
    for svc in svcs:
        table.set_service(svc)
    for endpoint_slice in slices:
        table.set_endpoint_slice(endpoint_slice)
    load_s = time.perf_counter() - started

    names = [
        dns.name.from_text(f"{s.metadata.name}.{s.metadata.namespace}.svc.cluster.local")
        for s in svcs
        if s.metadata is not None
    ]
    timings = []
    for _ in range(2):  # the first pass builds each rrset, the second finds it built
        started = time.perf_counter()
        for name in names:
            table.lookup(name, dns.rdatatype.A)
        timings.append((time.perf_counter() - started) / max(1, len(names)))

    rng = random.Random(1)
    wires = [
        dns.message.make_query(rng.choice(names), dns.rdatatype.A).to_wire() for _ in range(queries)
    ]
    server = DNSServer(table, port=0)
    await server.start()
    try:
        elapsed, latencies, lost = await _udp_load(server.port, wires, concurrency)
    finally:
        await server.stop()
    return {
        "services": services,
        "headless": headless,
        "endpoints_per_headless": endpoints,
        "records": len(table.names()),
        "load_s": round(load_s, 4),
        "lookup_first_us": round(timings[0] * 1e6, 1),
        "lookup_us": round(timings[1] * 1e6, 1),
        "queries": queries,
        "concurrency": concurrency,
        "udp_qps": rate(len(latencies), elapsed),
        "udp_p50_ms": round(percentile(latencies, 50) * 1e3, 3),
        "udp_p99_ms": round(percentile(latencies, 99) * 1e3, 3),
        "lost": lost,
    }


class DnsBench:
    """The ``dns`` target of ``kframe bench``."""

    help = "cluster DNS: table load for many services, UDP queries per second (default 10,000)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--services", type=positive_int, default=10000, help="ClusterIP Services (10000)"
        )
        parser.add_argument(
            "--headless", type=non_negative_int, default=100, help="headless Services (100)"
        )
        parser.add_argument(
            "--endpoints",
            type=positive_int,
            default=10,
            help="ready endpoints per headless Service (10)",
        )
        parser.add_argument(
            "--queries", type=positive_int, default=20000, help="UDP questions asked (20000)"
        )
        parser.add_argument(
            "--concurrency", type=positive_int, default=32, help="questions in flight (32)"
        )

    def run(self, args: argparse.Namespace) -> int:
        result = asyncio.run(
            _bench(args.services, args.headless, args.endpoints, args.queries, args.concurrency)
        )
        print(json.dumps(result), flush=True)
        return 0
