"""EtcdWatch: one etcd watch stream per kframe watch, re-established when its member goes away.

Before its first stream, a watch from a given revision checks that the revision is above the
compacted one (``check_start``): etcd itself accepts a start equal to its compacted revision,
kframe does not.

When the stream breaks (its member died, lost its leader, or a connection dropped), the watch
opens a new one from the revision after the last event it delivered, on whichever member the
channel picks, so no event is lost or repeated. If no stream can be opened for the store's
``timeout``, the watch ends with StoreUnavailableError; if the history it needs was compacted in
the meantime, with CompactedError.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from aetcd import rpc

from kframe.store import CompactedError, Event, StoreError

from ._client import Connection, EtcdError
from ._keys import KeySpace

__all__ = ["EtcdWatch"]

_RETRY_FIRST, _RETRY_MAX = 0.05, 1.0
# Streams ask for a leader, so a member cut off from the others hands its watches back.
_METADATA = (("hasleader", "true"),)
# etcd (3.4's syncWatchersLoop) replays history to a new watcher in a loop that runs every
# 100 ms; until it has, a compaction past the watcher's position cancels it. The replay's first
# response shows it has run, unless it held a full batch (watchBatchMaxRevs revisions: more
# follow). A watch whose range had no events gets no response at all, so past _QUIET without
# one it counts as caught up: ten passes, since a busy host delays them (250 ms was not enough).
_BATCH_MAX_REVS = 1000
_QUIET = 1.0


class _Stop:
    def __init__(self, error: StoreError | None) -> None:
        self.error = error


class EtcdWatch:
    """A kframe Watch over an etcd watch stream; started by :meth:`start` in a running loop."""

    def __init__(
        self,
        conn: Connection,
        keys: KeySpace,
        key_range: tuple[bytes, bytes],
        start: int,
        *,
        check_start: Callable[[int], Awaitable[None]] | None,
        on_close: Callable[[EtcdWatch], None],
    ) -> None:
        self._conn = conn
        self._keys = keys
        self._range = key_range
        self._next = start  # the first revision not delivered yet
        self._check_start = check_start
        self._on_close = on_close
        self._queue: asyncio.Queue[Event | _Stop] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._failing_since: float | None = None
        self._caught_up_at: float | None = None  # loop time after which history is replayed
        self._replaying = False  # etcd has yet to send this stream's history
        self.restarts = 0  # how many times the stream was re-established
        self.member_id = 0  # the etcd member the current stream is on

    # -- the stream ----------------------------------------------------------------------------

    def start(self) -> None:
        """Open the stream (once), if an event loop is running; else wait for the next call."""
        if self._task is None and not self._closed:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._task = loop.create_task(self._run())

    def caught_up(self) -> bool:
        """Whether etcd no longer needs history below the current revision for this watch."""
        if self._task is None or self._task.done():
            return True
        return self._caught_up_at is not None and asyncio.get_running_loop().time() >= (
            self._caught_up_at
        )

    def _stop(self, error: StoreError | None) -> None:
        self._queue.put_nowait(_Stop(error))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = _RETRY_FIRST
        try:
            if self._check_start is not None:
                await self._check_start(self._next)
        except StoreError as error:
            self._stop(error)
            return
        while not self._closed:
            try:
                await self._stream()
                detail = "stream closed by etcd"
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    self._stop(self._conn.translate(error))
                    return
                detail = " ".join((error.details() or "").split())
            except StoreError as error:
                self._stop(error)
                return
            except Exception as error:  # a bug: end the watch with it rather than hang it
                self._stop(StoreError(f"etcd watch failed: {error!r}"))
                raise
            self._caught_up_at, self._replaying = None, False
            now = loop.time()
            if self._failing_since is None:
                self._failing_since, delay = now, _RETRY_FIRST
            elif now - self._failing_since > self._conn.config.timeout:
                self._stop(self._conn.unavailable(f"watch cannot be re-established: {detail}"))
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)
            self.restarts += 1

    async def _stream(self) -> None:
        call: Any = self._conn.watch.Watch(metadata=_METADATA)
        try:
            key, end = self._range
            create = rpc.WatchCreateRequest(
                key=key, range_end=end, start_revision=self._next, prev_kv=True
            )
            await call.write(rpc.WatchRequest(create_request=create))
            while True:
                response = await call.read()
                if response is grpc.aio.EOF:
                    return
                self._handle(response)
                if response.canceled:
                    return  # etcd gave the watch up (no leader here): open it elsewhere
        finally:
            call.cancel()

    def _handle(self, response: Any) -> None:
        if response.compact_revision:
            raise CompactedError(self._next, int(response.compact_revision))
        if response.created:
            self._failing_since = None
            self.member_id = int(response.header.member_id)
            now = asyncio.get_running_loop().time()
            # A start above the current revision needs no history: etcd waits for it.
            self._replaying = self._next <= int(response.header.revision)
            self._caught_up_at = now + _QUIET if self._replaying else now
        if response.canceled and "leader" not in response.cancel_reason:
            raise EtcdError("CANCELLED", f"watch cancelled: {response.cancel_reason}")
        last = 0
        revisions: set[int] = set()
        for raw in response.events:
            event = self._keys.event(raw)
            if event.revision >= self._next:
                self._queue.put_nowait(event)
            last = max(last, event.revision)
            revisions.add(event.revision)
        if self._replaying and revisions and len(revisions) < _BATCH_MAX_REVS:
            self._replaying = False
            self._caught_up_at = asyncio.get_running_loop().time()
        # etcd never splits one revision's events over two responses (without `fragment`).
        self._next = max(self._next, last + 1)
        self._conn.saw(response.header.revision)

    # -- the Watch protocol --------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Event]:
        self.start()
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Stop):
                self._queue.put_nowait(item)  # a later iteration ends the same way
                if item.error is not None:
                    raise item.error
                return
            yield item

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._on_close(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._stop(None)
