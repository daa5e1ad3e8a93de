"""Watches of the SQLite store: history replayed from the table, then live events.

:meth:`SQLiteStore.watch` registers the live part with the WatchHub at once, at the revision
the loop has published, and asks the worker for the rows from the start revision up to that
same revision. Live events are all above it and replayed ones at or below it, so nothing is
missed or seen twice at the seam, even though reading the history takes a trip to the thread.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator

from kframe.store import Event, StoreError, Watch

__all__ = ["SQLiteWatch"]


class SQLiteWatch:
    """Yields ``replay`` (once it arrives), then the live events at or above ``min_revision``."""

    def __init__(
        self, live: Watch, replay: asyncio.Future[list[Event]] | None, min_revision: int = 0
    ) -> None:
        self._live = live
        self._replay = replay
        self._pending: collections.deque[Event] = collections.deque()
        self._min_revision = min_revision
        self._closed = False
        if replay is not None:
            # A watch closed or dropped before it is iterated must not log a lost exception.
            replay.add_done_callback(_consume)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        if self._replay is not None:
            try:
                # Shielded: a consumer's timeout must not cancel the history read itself.
                events = await asyncio.shield(self._replay)
            except StoreError:
                await self._live.close()
                raise
            if self._closed:
                return
            # Held on the watch, not the generator: the next iteration resumes where this
            # one stopped, as with the hub's queue.
            self._replay = None
            self._pending.extend(events)
        while self._pending:
            yield self._pending.popleft()
        async for event in self._live:
            if event.revision >= self._min_revision:
                yield event

    async def close(self) -> None:
        self._closed = True
        self._pending.clear()
        await self._live.close()


def _consume(future: asyncio.Future[list[Event]]) -> None:
    if not future.cancelled():
        future.exception()
