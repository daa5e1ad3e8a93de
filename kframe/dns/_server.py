"""The DNS server: UDP and TCP on one port, answering from a :class:`RecordTable`.

Questions inside the cluster domain are answered from the table, authoritatively (NXDOMAIN for
a name it does not hold, NOERROR with no records for a name that exists without the asked type,
the zone's SOA in the authority section of either, as CoreDNS answers). Others go to the
:class:`Forwarder` when there is one (SERVFAIL when no upstream answers), and are REFUSED when
there is none. An ExternalName's CNAME to a name outside the cluster is chased upstream too.

UDP answers larger than the client's limit (512 bytes, or its EDNS payload size) are sent empty
with TC set, so the client retries over TCP (RFC 1035 4.2.1, RFC 6891 6.2.5). TCP connections
carry any number of length-prefixed messages (RFC 7766) and close after 10 s idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from kframe.dns._forward import Forwarder
from kframe.dns._records import RecordTable

__all__ = ["DNSServer"]

log = logging.getLogger("kframe.dns")

_UDP_DEFAULT = 512  # RFC 1035: the UDP limit of a client without EDNS
_TCP_MAX = 65535
_TCP_IDLE = 10.0  # seconds a TCP connection may sit without a query


class DNSServer:
    """Serves ``table`` on ``host:port`` over UDP and TCP (``port=0``: any free port, the same
    for both; read :attr:`port` after :meth:`start`)."""

    def __init__(
        self,
        table: RecordTable,
        *,
        host: str = "127.0.0.1",
        port: int = 1053,
        forwarder: Forwarder | None = None,
    ) -> None:
        self.table = table
        self.host = host
        self.port = port
        self.forwarder = forwarder
        self._transport: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- answering --------------------------------------------------------------------------

    def answer_locally(self, query: dns.message.Message) -> dns.message.Message | None:
        """The response when the table (or a protocol error) settles it; None when the question
        must go upstream."""
        response = dns.message.make_response(query, recursion_available=self.forwarder is not None)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if query.edns > 0:  # RFC 6891 6.1.3: only EDNS version 0 exists
            response.set_rcode(dns.rcode.BADVERS)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN or question.rdtype in (
            dns.rdatatype.AXFR,
            dns.rdatatype.IXFR,
        ):
            response.set_rcode(dns.rcode.REFUSED)
            return response
        answer = self.table.lookup(question.name, question.rdtype)
        if answer is None:
            if self.forwarder is not None and self.forwarder.upstreams:
                return None
            if self.table.is_reverse(question.name):
                response.flags |= dns.flags.AA
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        response.set_rcode(answer.rcode)
        response.answer = list(answer.answer)
        response.authority = list(answer.authority)
        response.additional = list(answer.additional)
        return response

    async def respond(self, query: dns.message.Message) -> dns.message.Message:
        """The response to ``query``: from the table, or from upstream."""
        response = self.answer_locally(query)
        if response is None:
            assert self.forwarder is not None
            upstream = await self.forwarder.query(query)
            if upstream is None:
                response = dns.message.make_response(query, recursion_available=True)
                response.set_rcode(dns.rcode.SERVFAIL)
                return response
            upstream.id = query.id
            upstream.flags |= dns.flags.RA  # the recursion is this server's offer
            return upstream
        target = self._external_target(response)
        if target is not None and self.forwarder is not None and self.forwarder.upstreams:
            await self._chase(query, response, target)
        return response

    def _external_target(self, response: dns.message.Message) -> dns.name.Name | None:
        if not response.answer or response.answer[-1].rdtype != dns.rdatatype.CNAME:
            return None
        if response.question[0].rdtype in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
            return None
        target: dns.name.Name = next(iter(response.answer[-1])).target
        return None if self.table.is_authoritative(target) else target

    async def _chase(
        self, query: dns.message.Message, response: dns.message.Message, target: dns.name.Name
    ) -> None:
        # CoreDNS resolves an ExternalName's target upstream and appends what it finds.
        assert self.forwarder is not None
        chase = dns.message.make_query(target, query.question[0].rdtype)
        found = await self.forwarder.query(chase)
        if found is not None and found.rcode() == dns.rcode.NOERROR:
            response.answer.extend(found.answer)

    async def handle(self, wire: bytes, *, limit: int | None) -> bytes | None:
        """The response to one wire-format message (None: not worth answering). ``limit``:
        the largest response the transport takes (None: the client's UDP limit)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return _format_error(wire)
        if query.flags & dns.flags.QR:
            return None  # a response: never answer one (no reflection loops)
        response = await self.respond(query)
        if limit is None:
            limit = max(_UDP_DEFAULT, query.payload) if query.edns >= 0 else _UDP_DEFAULT
        return _render(response, min(limit, _TCP_MAX))

    # -- serving ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind UDP, then TCP on the same port."""
        loop = asyncio.get_running_loop()
        for attempt in range(5):
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UDPProtocol(self), local_addr=(self.host, self.port)
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port)
            except OSError:
                transport.close()
                if self.port or attempt == 4:  # a fixed port is taken over TCP: say so
                    raise
                continue  # an ephemeral UDP port whose TCP twin is taken: try another
            self._transport = transport
            self.port = port
            return

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
            self._tcp = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        transport = self._transport
        if transport is None:
            return
        # The table answers synchronously: only what goes upstream needs a task.
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            out = _format_error(data)
            if out is not None:
                transport.sendto(out, addr)
            return
        if query.flags & dns.flags.QR:
            return
        try:
            response = self.answer_locally(query)
        except Exception:
            log.exception("DNS query from %s failed", addr)
            out = _server_failure(data)
            if out is not None:
                transport.sendto(out, addr)
            return
        if response is not None and self._external_target(response) is None:
            limit = max(_UDP_DEFAULT, query.payload) if query.edns >= 0 else _UDP_DEFAULT
            transport.sendto(_render(response, limit), addr)
            return
        task = asyncio.ensure_future(self._answer_udp(data, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_udp(self, wire: bytes, addr: tuple[str, int]) -> None:
        try:
            out = await self.handle(wire, limit=None)
        except Exception:
            log.exception("DNS query from %s failed", addr)
            out = _server_failure(wire)
        if out is not None and self._transport is not None:
            self._transport.sendto(out, addr)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._tcp_queries(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            # Cancelled by stop(): end quietly (asyncio's stream callback would log a
            # cancelled connection task as an error).
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _tcp_queries(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                head = await asyncio.wait_for(reader.readexactly(2), _TCP_IDLE)
                (size,) = struct.unpack("!H", head)
                wire = await asyncio.wait_for(reader.readexactly(size), _TCP_IDLE)
            except (asyncio.IncompleteReadError, TimeoutError):
                return
            try:
                out = await self.handle(wire, limit=_TCP_MAX)
            except Exception:
                log.exception("DNS query over TCP failed")
                out = _server_failure(wire)
            if out is None:
                continue
            writer.write(struct.pack("!H", len(out)) + out)
            await writer.drain()


class _UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DNSServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._server._datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("DNS UDP socket: %s", exc)


def _render(response: dns.message.Message, limit: int) -> bytes:
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        # Too big for the client: send the header and question with TC, so it asks over TCP.
        response.answer = []
        response.authority = []
        response.additional = []
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=limit)


def _header_reply(wire: bytes, rcode: dns.rcode.Rcode) -> bytes | None:
    if len(wire) < 12:
        return None  # not even a header: nothing to reply to
    (ident, flags) = struct.unpack("!HH", wire[:4])
    if flags & dns.flags.QR:
        return None
    reply = dns.message.Message(id=ident)
    reply.flags = dns.flags.QR | (flags & dns.flags.RD)
    reply.set_rcode(rcode)
    return reply.to_wire()


def _format_error(wire: bytes) -> bytes | None:
    return _header_reply(wire, dns.rcode.FORMERR)


def _server_failure(wire: bytes) -> bytes | None:
    return _header_reply(wire, dns.rcode.SERVFAIL)
