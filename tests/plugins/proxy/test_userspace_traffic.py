"""The userspace backend with real sockets on loopback: two asyncio echo servers play the pods
(endpoints 127.0.0.1:PORT), and clients connect through the proxy's listeners."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import pytest

from kframe.api.models import EndpointSlice, Service
from kframe.proxy import (
    EndpointInfo,
    ProxyError,
    ProxyOptions,
    ProxyState,
    ServicePortInfo,
    ServicePortName,
    open_backend,
)
from kframe.registry import build_registry
from kframe.testing import require
from kframe.testing.proxy import check_backend, endpoint_slice, proxy_state, service
from kframe_plugins.proxy import userspace
from kframe_plugins.proxy.userspace import (
    UserspaceBackend,
    UserspaceConfig,
    open_userspace_backend,
    plan,
)
from tests.controller.asyncrun import sync

WEB = ServicePortName("default", "web", "http", "TCP")
DNS = ServicePortName("default", "dns", "dns", "UDP")
LOOPBACK = "127.0.0.1"


# -- pods ---------------------------------------------------------------------------------------


class TcpPod:
    """Reads a request until the client half-closes, answers ``name:request``, closes."""

    def __init__(self, name: str, host: str = LOOPBACK) -> None:
        self.name = name
        self.host = host
        self.port = 0
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # until EOF: the proxy must pass the half-close on
        writer.write(self.name.encode() + b":" + data)
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> TcpPod:
        self.server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


class UdpPod(asyncio.DatagramProtocol):
    def __init__(self, name: str, host: str = LOOPBACK) -> None:
        self.name = name
        self.host = host
        self.port = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (3.11's selector transport does not subclass DatagramTransport)
        transport = cast(asyncio.DatagramTransport, transport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        assert self.transport is not None
        self.transport.sendto(self.name.encode() + b":" + data, addr)

    async def __aenter__(self) -> UdpPod:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(self.host, 0))
        self.port = transport.get_extra_info("sockname")[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.transport is not None
        self.transport.close()


@contextlib.asynccontextmanager
async def tcp_pods(*names: str) -> AsyncIterator[list[TcpPod]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(TcpPod(n)) for n in names]


def slices(name: str, port_name: str, ports: Sequence[int], protocol: str) -> list[EndpointSlice]:
    """One slice per pod (the pods listen on different ports of 127.0.0.1)."""
    return [
        endpoint_slice(
            name, [(LOOPBACK, True, "node-a")], [(port_name, p, protocol)], name=f"{name}-{i}"
        )
        for i, p in enumerate(ports)
    ]


def state_of(services: Sequence[Service], eps: Sequence[EndpointSlice]) -> ProxyState:
    return proxy_state(services, eps, node_name="node-a")


async def request(address: tuple[str, int], body: bytes = b"hello") -> bytes:
    """One TCP request: write, half-close, read the answer to its end."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(body)
        writer.write_eof()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def refused(address: tuple[str, int]) -> bool:
    """Whether a connection gets no answer: refused, reset, or closed without data."""
    try:
        return await request(address) == b""
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
        return True


def live(**config: Any) -> UserspaceBackend:
    return UserspaceBackend(UserspaceConfig(node_address=LOOPBACK, **config))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


# -- TCP ----------------------------------------------------------------------------------------


@sync
async def test_connections_alternate_between_the_ready_pods() -> None:
    async with tcp_pods("a", "b") as pods:
        backend = live()
        web = service("web", "10.96.0.10", [("http", 80)])
        await backend.sync(state_of([web], slices("web", "http", [p.port for p in pods], "TCP")))
        address = backend.address_of(WEB)
        assert address is not None and address[0] == LOOPBACK and address[1] > 0
        answers = [await request(address, b"x%d" % i) for i in range(4)]
        names = [a.split(b":")[0] for a in answers]
        assert sorted(names[:2]) == [b"a", b"b"] and names[2:] == names[:2]
        assert answers[0].endswith(b":x0")  # the request reached the pod whole, after EOF
        await backend.close()


@sync
async def test_client_ip_affinity_keeps_a_client_on_one_pod() -> None:
    async with tcp_pods("a", "b") as pods:
        backend = live()
        web = service("web", "10.96.0.10", [("http", 80)], session_affinity="ClientIP")
        await backend.sync(state_of([web], slices("web", "http", [p.port for p in pods], "TCP")))
        address = backend.address_of(WEB)
        assert address is not None
        names = {(await request(address)).split(b":")[0] for _ in range(5)}
        assert len(names) == 1
        await backend.close()


@sync
async def test_scaling_to_zero_refuses_and_scaling_back_resumes() -> None:
    async with tcp_pods("a", "b") as pods:
        backend = live()
        web = service("web", "10.96.0.10", [("http", 80)])
        ports = [p.port for p in pods]
        await backend.sync(state_of([web], slices("web", "http", ports, "TCP")))
        address = backend.address_of(WEB)
        assert address is not None
        assert (await request(address)).startswith((b"a:", b"b:"))

        await backend.sync(state_of([web], []))
        assert backend.address_of(WEB) == address  # the listener (and its port) stays
        assert await refused(address)
        not_ready = [endpoint_slice("web", [(LOOPBACK, False)], [("http", ports[0])])]
        await backend.sync(state_of([web], not_ready))
        assert await refused(address)

        await backend.sync(state_of([web], slices("web", "http", ports[1:], "TCP")))
        assert backend.address_of(WEB) == address
        assert await request(address) == b"b:hello"
        assert await request(address) == b"b:hello"
        await backend.close()


@sync
async def test_new_endpoints_serve_new_connections_and_open_ones_go_on() -> None:
    async with tcp_pods("a", "b") as (a, b):
        backend = live()
        web = service("web", "10.96.0.10", [("http", 80)])
        await backend.sync(state_of([web], slices("web", "http", [a.port], "TCP")))
        address = backend.address_of(WEB)
        assert address is not None
        reader, writer = await asyncio.open_connection(*address)  # to a, still open
        writer.write(b"early")
        await backend.sync(state_of([web], slices("web", "http", [b.port], "TCP")))
        assert await request(address) == b"b:hello"
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 10) == b"a:early"
        writer.close()
        await backend.close()


@sync
async def test_a_removed_service_port_closes_its_listener() -> None:
    async with tcp_pods("a") as (a,):
        backend = live()
        web = service("web", "10.96.0.10", [("http", 80), ("metrics", 9090)])
        eps = [endpoint_slice("web", [(LOOPBACK, True)], [("http", a.port), ("metrics", a.port)])]
        await backend.sync(state_of([web], eps))
        metrics = ServicePortName("default", "web", "metrics", "TCP")
        http_address, metrics_address = backend.address_of(WEB), backend.address_of(metrics)
        assert http_address is not None and metrics_address is not None
        assert await request(metrics_address) == b"a:hello"

        web = service("web", "10.96.0.10", [("http", 80)])
        await backend.sync(state_of([web], eps))
        assert backend.address_of(metrics) is None
        with pytest.raises(ConnectionRefusedError):
            await request(metrics_address)
        assert backend.address_of(WEB) == http_address
        assert await request(http_address) == b"a:hello"

        await backend.sync(state_of([], []))
        assert not backend.listeners
        with pytest.raises(ConnectionRefusedError):
            await request(http_address)
        await backend.close()


@sync
async def test_a_node_port_is_listened_on_at_the_node_address() -> None:
    async with tcp_pods("a") as (a,):
        backend = live()
        node_port = free_port()
        web = service("web", "10.96.0.10", [("http", 80, "TCP", node_port)], type="NodePort")
        await backend.sync(state_of([web], slices("web", "http", [a.port], "TCP")))
        assert backend.address_of(WEB, "node") == (LOOPBACK, node_port)
        assert await request((LOOPBACK, node_port)) == b"a:hello"
        assert "node" in backend.table() and f"127.0.0.1:{node_port}" in backend.table()
        await backend.close()
        with pytest.raises(ConnectionRefusedError):
            await request((LOOPBACK, node_port))


@sync
async def test_a_local_cluster_ip_is_listened_on_itself() -> None:
    # All of 127.0.0.0/8 is local on Linux: a cluster IP there is bound on its own port.
    async with tcp_pods("a") as (a,):
        backend = live()
        port = free_port()
        web = service("web", "127.77.0.10", [("http", port)])
        other = service("other", "10.96.0.99", [("http", port)])  # not local: proxy port only
        eps = slices("web", "http", [a.port], "TCP")
        await backend.sync(state_of([web, other], eps))
        assert backend.address_of(WEB, "cluster") == ("127.77.0.10", port)
        assert await request(("127.77.0.10", port)) == b"a:hello"
        other_name = ServicePortName("default", "other", "http", "TCP")
        assert backend.address_of(other_name, "cluster") is None
        assert backend.address_of(other_name) is not None and not backend.warnings
        await backend.close()


@sync
async def test_an_ipv6_service_listens_on_the_ipv6_loopback() -> None:
    require(socket.has_ipv6 and _can_bind("::1"), "needs IPv6 on the loopback")
    server = await asyncio.start_server(lambda r, w: TcpPod("v6")._serve(r, w), "::1", 0)
    pod_port = server.sockets[0].getsockname()[1]
    name = ServicePortName("default", "web6", "", "TCP")
    svc = ServicePortInfo(name=name, cluster_ip="fd00::10", port=80)
    state = ProxyState(
        services={name: svc},
        endpoints={name: (EndpointInfo(ip="::1", port=pod_port),)},
        ip_family="IPv6",
    )
    backend = UserspaceBackend(ip_family="IPv6")
    await backend.sync(state)
    address = backend.address_of(name)
    assert address is not None and address[0] == "::1"
    assert await request(address) == b"v6:hello"
    assert "[::1]:" in backend.table()
    await backend.close()
    server.close()


def _can_bind(ip: str) -> bool:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family) as s:
        try:
            s.bind((ip, 0))
        except OSError:
            return False
    return True


@sync
async def test_a_cluster_ip_added_to_lo_is_listened_on_at_the_service_port() -> None:
    # As root: a real cluster IP (outside 127/8) made local, then the service's own port 80.
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    require(root and shutil.which("ip") is not None, "needs root and iproute2's ip")
    ip = "10.96.251.17"
    if _can_bind(ip):
        pytest.skip(f"{ip} is already local")
    subprocess.run(["ip", "addr", "add", f"{ip}/32", "dev", "lo"], check=True)
    try:
        async with tcp_pods("a") as (a,):
            backend = live()
            web = service("web", ip, [("http", 80)])
            await backend.sync(state_of([web], slices("web", "http", [a.port], "TCP")))
            assert backend.address_of(WEB, "cluster") == (ip, 80)
            assert await request((ip, 80)) == b"a:hello"
            await backend.close()
    finally:
        subprocess.run(["ip", "addr", "del", f"{ip}/32", "dev", "lo"], check=False)


@sync
async def test_an_unreachable_endpoint_is_skipped_for_the_next_one() -> None:
    async with tcp_pods("a") as (a,):
        backend = live()
        dead = free_port()  # nothing listens there: connection refused at once
        web = service("web", "10.96.0.10", [("http", 80)], session_affinity="ClientIP")
        await backend.sync(state_of([web], slices("web", "http", [dead, a.port], "TCP")))
        address = backend.address_of(WEB)
        assert address is not None
        assert [await request(address) for _ in range(3)] == [b"a:hello"] * 3
        await backend.close()


@sync
async def test_a_busy_node_port_fails_the_sync_after_programming_the_rest() -> None:
    async with tcp_pods("a") as (a,):
        with socket.socket() as busy:
            busy.bind((LOOPBACK, 0))
            busy.listen()
            taken = busy.getsockname()[1]
            backend = live()
            web = service("web", "10.96.0.10", [("http", 80, "TCP", taken)], type="NodePort")
            with pytest.raises(ProxyError, match=f"127.0.0.1:{taken}/TCP"):
                await backend.sync(state_of([web], slices("web", "http", [a.port], "TCP")))
            address = backend.address_of(WEB)
            assert address is not None and await request(address) == b"a:hello"
            await backend.close()


# -- UDP ----------------------------------------------------------------------------------------


class UdpClient(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (3.11's selector transport does not subclass DatagramTransport)
        transport = cast(asyncio.DatagramTransport, transport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.replies.put_nowait(data)

    async def ask(self, data: bytes) -> bytes:
        assert self.transport is not None
        self.transport.sendto(data)
        return await asyncio.wait_for(self.replies.get(), 10)


async def udp_client(address: tuple[str, int]) -> UdpClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_datagram_endpoint(UdpClient, remote_addr=address)
    return client


@sync
async def test_udp_round_trips_with_one_association_per_client() -> None:
    async with UdpPod("a") as a, UdpPod("b") as b:
        backend = live(udp_idle_timeout=30.0)
        dns = service("dns", "10.96.0.53", [("dns", 53, "UDP")])
        await backend.sync(state_of([dns], slices("dns", "dns", [a.port, b.port], "UDP")))
        address = backend.address_of(DNS)
        assert address is not None
        first, second = await udp_client(address), await udp_client(address)
        one = await first.ask(b"q1")
        two = await second.ask(b"q2")
        assert {one[:2], two[:2]} == {b"a:", b"b:"} and one.endswith(b":q1")
        assert (await first.ask(b"q3"))[:2] == one[:2]  # the same association, the same pod
        (listener,) = [v for k, v in backend.listeners.items() if k.name == DNS]
        assert listener.accepted == 2

        await backend.sync(state_of([dns], slices("dns", "dns", [b.port], "UDP")))
        # an association to a pod that left is dropped: the client's next datagram moves
        assert await first.ask(b"q4") == b"b:q4"
        for client in (first, second):
            assert client.transport is not None
            client.transport.close()
        await backend.close()


@sync
async def test_udp_associations_expire_when_idle_and_no_endpoints_drop() -> None:
    async with UdpPod("a") as a:
        backend = live(udp_idle_timeout=0.05)
        dns = service("dns", "10.96.0.53", [("dns", 53, "UDP")])
        await backend.sync(state_of([dns], slices("dns", "dns", [a.port], "UDP")))
        address = backend.address_of(DNS)
        assert address is not None
        client = await udp_client(address)
        assert await client.ask(b"q") == b"a:q"
        (listener,) = backend.listeners.values()
        assert isinstance(listener.associations, int)
        for _ in range(200):
            if not listener.associations:
                break
            await asyncio.sleep(0.01)
        assert listener.associations == 0

        await backend.sync(state_of([dns], []))
        assert client.transport is not None
        client.transport.sendto(b"lost")
        for _ in range(200):
            if listener.refused:
                break
            await asyncio.sleep(0.01)
        assert listener.refused == 1 and client.replies.empty()
        client.transport.close()
        await backend.close()


# -- the backend contract, registration, dry run ------------------------------------------------


@sync
async def test_the_backend_passes_the_backend_check_live_and_in_dry_run() -> None:
    # Live: real listeners (node port 30080 on a loopback address of its own, to stay clear of
    # anything else on 127.0.0.1); the cluster IPs 10.96.0.x are not local, so proxy ports only.
    backend = UserspaceBackend(UserspaceConfig(node_address="127.88.0.1"))
    await check_backend(backend)
    assert backend.syncs == 4 and not backend.listeners
    dry = UserspaceBackend(dry_run=True)
    await check_backend(dry)
    assert dry.syncs == 4


@sync
async def test_check_backend_state_plans_each_kind_of_listener() -> None:
    web = service("web", "10.96.0.10", [("http", 80)])
    local = service(
        "local", "10.96.0.11", [("", 80, "TCP", 30080)], type="NodePort",
        external_traffic_policy="Local", external_ips=["192.0.2.7"],
    )  # fmt: skip
    sctp = service("sctp", "10.96.0.12", [("", 9, "SCTP")])
    eps = [
        endpoint_slice("web", [("10.244.1.1", True, "node-a")], [("http", 8080)]),
        endpoint_slice("local", [("10.244.2.1", True, "node-b")], [("", 8080)]),
    ]
    state = state_of([web, local, sctp], eps)
    planned = plan(state, UserspaceConfig())
    kinds = sorted((str(s.name), s.kind, str(s)) for s in planned.listeners)
    assert kinds == [
        ("default/local", "cluster", "10.96.0.11:80/TCP"),
        ("default/local", "external", "192.0.2.7:80/TCP"),
        ("default/local", "node", "0.0.0.0:30080/TCP"),
        ("default/local", "proxy", "127.0.0.1:0/TCP"),
        ("default/web:http", "cluster", "10.96.0.10:80/TCP"),
        ("default/web:http", "proxy", "127.0.0.1:0/TCP"),
    ]
    assert [str(n) for n in planned.skipped] == ["default/sctp"]
    local_name = ServicePortName("default", "local", "", "TCP")
    # internal traffic uses every ready endpoint, external (Local policy) only node-a's: none
    assert planned.pools[(local_name, "internal")].endpoints == ("10.244.2.1:8080",)
    assert planned.pools[(local_name, "external")].endpoints == ()
    # a proxy serving several nodes of one host counts their endpoints as local
    shared = plan(state, UserspaceConfig(local_nodes=("node-a", "node-b")))
    assert shared.pools[(local_name, "external")].endpoints == ("10.244.2.1:8080",)

    dry = UserspaceBackend(UserspaceConfig(), dry_run=True)
    await dry.sync(state)
    assert "default/web:http\t10.96.0.10:80/TCP\tproxy\t127.0.0.1:(any)\t1 endpoints" in (
        dry.table()
    )
    assert not dry.listeners


@sync
async def test_the_backend_is_registered_and_checks_its_settings() -> None:
    # The hook (the entry point proxy-userspace names this module; a stale kframe.egg-info in
    # the checkout can hide entry points from `python -m pytest`, so the hook is registered here).
    registry = build_registry(entry_points=False, plugins=[("proxy-userspace", userspace)])
    backend = await open_backend("userspace", ProxyOptions(dry_run=True), registry=registry)
    assert isinstance(backend, UserspaceBackend) and backend.dry_run
    config = {"bindAddress": "127.0.0.2", "localNodes": ["n1"], "udpIdleTimeout": 1}
    assert UserspaceConfig.from_mapping({"bind_address": "::1"}).bind_address == "::1"
    opened = await open_userspace_backend(ProxyOptions(config=config))
    assert isinstance(opened, UserspaceBackend)
    assert opened.config == UserspaceConfig(
        bind_address="127.0.0.2", local_nodes=("n1",), udp_idle_timeout=1.0
    )
    for bad, word in [
        ({"nope": 1}, "unknown setting 'nope'"),
        ({"bindAddress": "localhost"}, "bindAddress must be an IP address"),
        ({"udpIdleTimeout": 0}, "positive number"),
        ({"localNodes": "n1"}, "list of node names"),
        ({"output": 3}, "must be a string"),
    ]:
        with pytest.raises(ProxyError, match=word):
            await open_userspace_backend(ProxyOptions(config=bad))
