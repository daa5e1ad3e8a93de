"""A TCP listener of the userspace backend: accept, pick an endpoint, splice both ways.

As upstream's userspace ``tcpProxySocket``: each accepted connection asks the balancer for an
endpoint and dials it, retrying with the next endpoint (affinity reset) on failure with growing
timeouts (``endpointDialTimeouts``: 250 ms, 500 ms, 1 s, 2 s). Bytes are copied both ways; an
end-of-stream from one side is passed on as a half-close (``write_eof``), so request-then-EOF
protocols work; a reset on either side closes both. A connection that finds no endpoint is
reset (kframe's choice: upstream closed it; iptables mode rejects it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct

from ._balancer import RoundRobin
from ._plan import ListenerSpec

__all__ = ["ENDPOINT_DIAL_TIMEOUTS", "TcpListener", "split_host_port"]

log = logging.getLogger("kframe.proxy.userspace")

#: upstream's ``endpointDialTimeouts``: one dial per timeout, the next endpoint each time.
ENDPOINT_DIAL_TIMEOUTS = (0.25, 0.5, 1.0, 2.0)
_CHUNK = 64 * 1024


def split_host_port(endpoint: str) -> tuple[str, int]:
    """``10.0.0.1:80`` or ``[fd00::1]:80`` -> (host, port)."""
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), so the client sees the refusal at once."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then half-close ``dst``. Raises on a reset of either side."""
    while data := await src.read(_CHUNK):
        dst.write(data)
        await dst.drain()
    if dst.can_write_eof() and not dst.is_closing():
        dst.write_eof()


async def splice(
    a: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    b: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    """Copy both ways until both sides have ended their streams, or either fails."""
    pipes = {
        asyncio.ensure_future(_pipe(a[0], b[1])),
        asyncio.ensure_future(_pipe(b[0], a[1])),
    }
    failed = False
    try:
        pending = pipes
        while pending and not failed:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            failed = any(not t.cancelled() and t.exception() is not None for t in done)
    finally:
        for task in pipes:
            task.cancel()
        for task in pipes:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for _, writer in (a, b):
            if failed:
                writer.transport.abort()
            else:
                writer.close()


class TcpListener:
    """Listens on ``spec``'s address; connections balance over ``balancer``'s pool for it.
    ``connections`` collects the tasks serving connections (the backend cancels them on
    close)."""

    def __init__(
        self, spec: ListenerSpec, balancer: RoundRobin, connections: set[asyncio.Task[None]]
    ) -> None:
        self.spec = spec
        self._balancer = balancer
        self._connections = connections
        self._server: asyncio.Server | None = None
        self.address: tuple[str, int] = (spec.ip, spec.port)
        #: Connections accepted, and those refused for want of an endpoint.
        self.accepted = 0
        self.refused = 0

    async def open(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, host=self.spec.ip, port=self.spec.port, reuse_address=True
        )
        sockname = self._server.sockets[0].getsockname()
        self.address = (sockname[0], sockname[1])

    def close(self) -> None:
        """Stop listening; connections being served go on (as upstream's)."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _dial(
        self, client_ip: str
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for attempt, timeout in enumerate(ENDPOINT_DIAL_TIMEOUTS):
            endpoint = self._balancer.next(self.spec.pool, client_ip, reset=attempt > 0)
            if endpoint is None:
                return None
            host, port = split_host_port(endpoint)
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            except (OSError, TimeoutError) as exc:
                log.debug("%s: dial %s failed: %s", self.spec.name, endpoint, exc)
        log.warning("%s: no endpoint answered after %d tries", self.spec.name, attempt + 1)
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            peer = writer.get_extra_info("peername")
            upstream = await self._dial(peer[0] if peer else "")
            if upstream is None:
                self.refused += 1
                _reset(writer)
                return
            self.accepted += 1
            await splice((reader, writer), upstream)
        except asyncio.CancelledError:
            # The backend closing: end the connection. Not re-raised: this task is the
            # connection's own, and 3.11's start_server callback logs a cancelled one as an
            # error (task.exception() raising CancelledError).
            writer.transport.abort()
        finally:
            self._connections.discard(task)
