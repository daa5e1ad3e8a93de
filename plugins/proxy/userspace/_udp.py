"""A UDP listener of the userspace backend: one association per client address.

As upstream's userspace ``udpProxySocket``: the first datagram from a client address picks an
endpoint (affinity applies) and opens a socket connected to it; later datagrams of that client
go the same way, replies come back from the listener's address. An association idle for
``udpIdleTimeout`` in both directions (250 ms, kube-proxy's ``--udp-timeout``) is dropped, and
so is one whose endpoint left the pool (kframe's; upstream waited for the timeout). Datagrams
for a service port without endpoints are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Set
from typing import Any, cast

from ._balancer import RoundRobin
from ._plan import ListenerSpec
from ._tcp import split_host_port

__all__ = ["UdpListener"]

log = logging.getLogger("kframe.proxy.userspace")

Address = tuple[Any, ...]


class _Association(asyncio.DatagramProtocol):
    """One client's traffic to one endpoint."""

    def __init__(self, listener: UdpListener, client: Address, endpoint: str) -> None:
        self.listener = listener
        self.client = client
        self.endpoint = endpoint
        self.transport: asyncio.DatagramTransport | None = None
        self.closed = False
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._timer = self._loop.call_later(listener.idle_timeout, self._check_idle)
        self._connect = asyncio.ensure_future(self._open())

    async def _open(self) -> None:
        try:
            await self._loop.create_datagram_endpoint(
                lambda: self, remote_addr=split_host_port(self.endpoint)
            )
        except OSError as exc:
            log.debug("%s: UDP to %s failed: %s", self.listener.spec.name, self.endpoint, exc)
            self.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (3.11's selector transport does not subclass DatagramTransport)
        transport = cast(asyncio.DatagramTransport, transport)
        if self.closed:
            transport.close()
            return
        self.transport = transport
        for data in self._pending:
            transport.sendto(data)
        self._pending.clear()

    def send(self, data: bytes) -> None:
        self._last = self._loop.time()
        if self.transport is not None:
            self.transport.sendto(data)
        else:
            self._pending.append(data)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._last = self._loop.time()
        self.listener.reply(data, self.client)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable on the connected socket: the endpoint is gone; the client's
        # next datagram picks another.
        self.close()

    def _check_idle(self) -> None:
        idle = self._loop.time() - self._last
        if idle >= self.listener.idle_timeout:
            self.close()
        else:
            self._timer = self._loop.call_later(self.listener.idle_timeout - idle, self._check_idle)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._timer.cancel()
        self._connect.cancel()
        if self.transport is not None:
            self.transport.close()
        self.listener.forget(self)


class UdpListener(asyncio.DatagramProtocol):
    """Listens on ``spec``'s address; client associations balance over ``balancer``'s pool."""

    def __init__(self, spec: ListenerSpec, balancer: RoundRobin, idle_timeout: float) -> None:
        self.spec = spec
        self.idle_timeout = idle_timeout
        self._balancer = balancer
        self._transport: asyncio.DatagramTransport | None = None
        self._clients: dict[Address, _Association] = {}
        self.address: tuple[str, int] = (spec.ip, spec.port)
        #: Associations opened, and datagrams dropped for want of an endpoint.
        self.accepted = 0
        self.refused = 0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.spec.ip, self.spec.port)
        )
        sockname = transport.get_extra_info("sockname")
        self.address = (sockname[0], sockname[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (3.11's selector transport does not subclass DatagramTransport)
        transport = cast(asyncio.DatagramTransport, transport)
        self._transport = transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        association = self._clients.get(addr)
        if association is None:
            endpoint = self._balancer.next(self.spec.pool, str(addr[0]))
            if endpoint is None:
                self.refused += 1
                return
            self.accepted += 1
            association = _Association(self, addr, endpoint)
            self._clients[addr] = association
        association.send(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: UDP listener error: %s", self.spec.name, exc)

    def reply(self, data: bytes, client: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, client)

    def forget(self, association: _Association) -> None:
        if self._clients.get(association.client) is association:
            del self._clients[association.client]

    @property
    def associations(self) -> int:
        return len(self._clients)

    def drop_stale(self, live: Set[str]) -> None:
        """Close the associations whose endpoint is no longer in ``live``."""
        for association in list(self._clients.values()):
            if association.endpoint not in live:
                association.close()

    def close(self) -> None:
        """Stop listening and drop every association."""
        for association in list(self._clients.values()):
            association.close()
        if self._transport is not None:
            with contextlib.suppress(Exception):
                self._transport.close()
            self._transport = None
