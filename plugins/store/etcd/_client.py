"""The gRPC connection to etcd: one channel balanced over every endpoint, retries, error mapping.

Requests go through aetcd's generated etcd v3 stubs (``aetcd.rpc``) on a ``grpc.aio`` channel
that balances round-robin over the endpoints, so a dead member only costs the requests that
were on it. :meth:`Connection.call` retries what is safe to retry and turns every gRPC error
into a one-line StoreError; no gRPC exception leaves this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc
from aetcd import rpc

from kframe.store import StoreError, StoreUnavailableError

from ._config import EtcdConfig

__all__ = ["Connection", "EtcdError"]

_CHANNEL_OPTIONS = (
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.max_receive_message_length", -1),  # a big list is one response
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    # Find a silent member (no FIN: a partition, a frozen host) while a watch is open. etcd's
    # default --grpc-keepalive-min-time is 5 s, and it refuses pings without a stream.
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 0),
)

# UNAVAILABLE errors after which a write certainly did not happen: it was never sent, or etcd
# refused it before proposing it. Other failures of a write (a timeout, a connection lost after
# sending) are ambiguous and are reported, not retried.
_NOT_SENT = (
    "connections to all backends failing",
    "failed to connect",
    "connection refused",
    "etcdserver: no leader",
    "etcdserver: not capable",
)

_RETRY_FIRST, _RETRY_MAX = 0.05, 0.5


class EtcdError(StoreError):
    """An error etcd answered that has no kframe meaning of its own (``code`` is gRPC's)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"etcd: {detail} ({code})")
        self.code = code
        self.detail = detail


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _retryable(error: Any, idempotent: bool) -> bool:
    if error.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    if idempotent:
        return True
    detail = _one_line(error.details()).lower()
    return any(marker in detail for marker in _NOT_SENT)


class Connection:
    """The channel, the stubs, and the highest revision any response has shown."""

    def __init__(self, config: EtcdConfig, target: str) -> None:
        self.config = config
        self.channel: Any = grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)
        self.kv: Any = rpc.KVStub(self.channel)
        self.lease: Any = rpc.LeaseStub(self.channel)
        self.watch: Any = rpc.WatchStub(self.channel)
        self.revision_seen = 0

    def saw(self, revision: int) -> None:
        self.revision_seen = max(self.revision_seen, int(revision))

    def unavailable(self, detail: str) -> StoreUnavailableError:
        return StoreUnavailableError(f"etcd unavailable at {self.config.endpoint_list}: {detail}")

    def translate(self, error: Any, budget: float | None = None) -> StoreError:
        """A one-line StoreError for a gRPC error (``budget``: the deadline it ran into)."""
        code = error.code()
        detail = _one_line(error.details()) or code.name
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            within = f" within {budget:g}s" if budget else ""
            return self.unavailable(f"no answer{within} ({detail})")
        if code == grpc.StatusCode.UNAVAILABLE:
            return self.unavailable(detail)
        return EtcdError(code.name, detail)

    async def call(
        self,
        method: Callable[..., Any],
        request: Any,
        *,
        idempotent: bool,
        budget: float | None = None,
    ) -> Any:
        """Send a unary request; retry it while that is safe and time remains.

        Reads are idempotent and retried on any UNAVAILABLE answer (a member going away, a
        leader election); writes only when they cannot have been applied.
        """
        response, _ = await self._call(method, request, idempotent, budget)
        return response

    async def call_conditional(self, method: Callable[..., Any], request: Any) -> tuple[Any, bool]:
        """Send a transaction guarded by a comparison, retrying on any UNAVAILABLE answer.

        Retrying cannot apply it twice: once applied, its comparison fails. The flag says
        whether a failed attempt may have been applied, so that a lost comparison on a later
        attempt means "outcome unknown" rather than a conflict.
        """
        return await self._call(method, request, True, None)

    async def _call(
        self, method: Callable[..., Any], request: Any, retry_all: bool, budget: float | None
    ) -> tuple[Any, bool]:
        budget = budget or self.config.timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        # A request can hang on a member that just lost its leader (etcd answers it only after
        # its own request timeout): give up on one attempt early and try another member.
        attempt = max(1.0, budget / 3)
        delay = _RETRY_FIRST
        ambiguous = False
        while True:
            remaining = deadline - loop.time()
            timeout = remaining if remaining < 2 * attempt else attempt
            try:
                response = await method(request, timeout=max(timeout, 0.001))
            except grpc.aio.AioRpcError as error:
                left = deadline - loop.time()
                timed_out = error.code() == grpc.StatusCode.DEADLINE_EXCEEDED and left > 0.1
                if (_retryable(error, retry_all) or (retry_all and timed_out)) and left > delay:
                    ambiguous = ambiguous or not _retryable(error, False)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _RETRY_MAX)
                    continue
                raise self.translate(error, budget) from None
            self.saw(response.header.revision)
            return response, ambiguous

    async def keep_alive_once(self, lease_id: int) -> int:
        """One LeaseKeepAlive round trip; the TTL etcd answers (0: no such lease)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeout
        delay = _RETRY_FIRST
        while True:
            call = self.lease.LeaseKeepAlive(timeout=max(deadline - loop.time(), 0.001))
            try:
                await call.write(rpc.LeaseKeepAliveRequest(ID=lease_id))
                response = await call.read()
            except grpc.aio.AioRpcError as error:
                if _retryable(error, True) and deadline - loop.time() > delay:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _RETRY_MAX)
                    continue
                raise self.translate(error, self.config.timeout) from None
            finally:
                call.cancel()
            if response is grpc.aio.EOF:
                raise self.unavailable("lease keep-alive stream closed without an answer")
            self.saw(response.header.revision)
            return int(response.TTL)

    async def compacted_revision(self, probe: bytes) -> int:
        """etcd's compacted revision (0 if unknown): a watch from revision 1 is refused with it.

        ``probe`` is a key to watch that nobody writes.
        """
        call = self.watch.Watch()
        try:
            create = rpc.WatchCreateRequest(key=probe, start_revision=1)
            async with asyncio.timeout(min(self.config.timeout, 2.0)):
                await call.write(rpc.WatchRequest(create_request=create))
                while True:
                    response = await call.read()
                    if response is grpc.aio.EOF:
                        return 0
                    if response.compact_revision:
                        return int(response.compact_revision)
        except (TimeoutError, grpc.aio.AioRpcError):
            return 0
        finally:
            call.cancel()

    async def close(self) -> None:
        await self.channel.close()
        # gRPC's poller thread hands the last completions (of the calls just cancelled) to the
        # event loop; give it a moment, or a caller closing its loop right away logs
        # "Event loop is closed" from inside gRPC.
        await asyncio.sleep(0.01)
