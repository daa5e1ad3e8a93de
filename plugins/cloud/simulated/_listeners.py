"""The simulated cloud's load balancers made real: TCP listeners on loopback addresses that
forward each connection to a backend node's ``address:nodePort``.

One listener per (load balancer, service port), bound to the load balancer's own address
(``127.x.y.z``: Linux routes all of 127.0.0.0/8 to the loopback device), so two Services may
both use port 80. Backends are taken in turn; one that refuses the connection is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._state import Backend

__all__ = ["Listeners"]

log = logging.getLogger("kframe_plugins.cloud.simulated")

#: How long a connection to one backend may take before the next is tried.
CONNECT_TIMEOUT = 5.0
_CHUNK = 64 * 1024


class _Port:
    def __init__(self, backends: tuple[Backend, ...]) -> None:
        self.backends = backends
        self.turn = itertools.count()
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.Task[Any]] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    def order(self) -> list[Backend]:
        if not self.backends:
            return []
        start = next(self.turn) % len(self.backends)
        return [*self.backends[start:], *self.backends[:start]]


class Listeners:
    """Every load balancer's listeners in this process, by load balancer key."""

    def __init__(self) -> None:
        self._lbs: dict[str, tuple[str, dict[int, _Port]]] = {}

    def addresses(self, key: str) -> dict[int, tuple[Backend, ...]]:
        _, ports = self._lbs.get(key, ("", {}))
        return {p: port.backends for p, port in ports.items()}

    async def ensure(
        self, key: str, address: str, ports: Mapping[int, tuple[Backend, ...]]
    ) -> None:
        """Listen on ``address`` at each of ``ports`` (service port -> backends): new ports
        start listening, dropped ones stop, kept ones switch to their new backends. An address
        that cannot be bound is an OSError (the service controller retries)."""
        old_address, current = self._lbs.get(key, (address, {}))
        if old_address != address:
            await self.remove(key)
            current = {}
        self._lbs[key] = (address, current)
        for number in [p for p in current if p not in ports]:
            await self._stop(current.pop(number))
        for number, backends in ports.items():
            port = current.get(number)
            if port is None:
                port = _Port(backends)
                port.server = await asyncio.start_server(self._handler(port), address, number)
                current[number] = port
                log.info("load balancer %s listening on %s:%d", key, address, number)
            port.backends = backends

    async def remove(self, key: str) -> None:
        _, ports = self._lbs.pop(key, ("", {}))
        for port in ports.values():
            await self._stop(port)

    async def close(self) -> None:
        for key in list(self._lbs):
            await self.remove(key)

    async def _stop(self, port: _Port) -> None:
        """Stop listening and end the open connections by closing their sockets (the handler
        tasks belong to asyncio's stream machinery, which must not see them cancelled)."""
        if port.server is not None:
            port.server.close()
        for writer in list(port.writers):
            writer.close()
        if port.connections:
            await asyncio.wait(list(port.connections), timeout=CONNECT_TIMEOUT)
        if port.server is not None:
            with contextlib.suppress(Exception):
                await port.server.wait_closed()

    def _handler(
        self, port: _Port
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            port.connections.add(task)
            port.writers.add(writer)
            try:
                await self._forward(port, reader, writer)
            except Exception as exc:  # a reset connection is the client's business
                log.debug("connection through %s ended: %s", port, exc)
            finally:
                port.writers.discard(writer)
                port.connections.discard(task)

        return accept

    async def _forward(
        self, port: _Port, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for backend in port.order():
            try:
                upstream = await asyncio.wait_for(
                    asyncio.open_connection(backend.address, backend.port), CONNECT_TIMEOUT
                )
                break
            except (OSError, TimeoutError) as exc:
                log.debug("backend %s:%d refused: %s", backend.address, backend.port, exc)
        if upstream is None:
            writer.close()
            return
        up_reader, up_writer = upstream
        port.writers.add(up_writer)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            port.writers.discard(up_writer)
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(Exception):
                    await w.wait_closed()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(_CHUNK):
            dst.write(data)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()
    except (ConnectionError, OSError):
        dst.close()
