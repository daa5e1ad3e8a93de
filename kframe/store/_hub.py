"""Watch fan-out for backends that see every write themselves (memory, SQLite).

A backend publishes each committed write's events; the hub hands them to every open watch whose
prefix matches. Opening a watch from a past revision replays history first: the backend passes
the replay and registers the watch in one step without awaiting in between, so no event is lost
or seen twice at the seam.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from kframe.store._errors import StoreError
from kframe.store._types import Event

__all__ = ["WatchHub"]

_CLOSED = object()


class _HubWatch:
    def __init__(self, hub: WatchHub, prefix: str, error: StoreError | None) -> None:
        self._hub = hub
        self.prefix = prefix
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._error = error
        self._closed = False

    def _put(self, event: object) -> None:
        self._queue.put_nowait(event)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        if self._error is not None:
            raise self._error
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            assert isinstance(item, Event)
            yield item

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._hub._watches.discard(self)
            self._put(_CLOSED)


class WatchHub:
    """Open watches and the events published to them."""

    def __init__(self) -> None:
        self._watches: set[_HubWatch] = set()

    def open(
        self, prefix: str, replay: Iterable[Event] = (), *, error: StoreError | None = None
    ) -> _HubWatch:
        """A watch on ``prefix`` that first yields ``replay`` (already filtered by the caller).

        With ``error``, the watch raises it when iterated (a compacted start revision).
        """
        watch = _HubWatch(self, prefix, error)
        if error is None:
            for event in replay:
                watch._put(event)
            self._watches.add(watch)
        return watch

    def publish(self, events: Iterable[Event]) -> None:
        """Deliver committed events, in revision order, to every matching watch."""
        batch = list(events)
        if not batch or not self._watches:
            return
        for watch in self._watches:
            for event in batch:
                if event.kv.key.startswith(watch.prefix):
                    watch._put(event)

    def close_all(self) -> None:
        for watch in list(self._watches):
            watch._closed = True
            watch._put(_CLOSED)
        self._watches.clear()
