"""The work queue controllers feed with object keys and drain with workers (client-go's workqueue).

The Python form of client-go's ``util/workqueue`` (``queue.go``, ``delaying_queue.go``,
``rate_limiting_queue.go``) in one asyncio class, :class:`WorkQueue`. Event handlers
:meth:`~WorkQueue.add` keys; workers loop on :meth:`~WorkQueue.get`, sync the key, then call
:meth:`~WorkQueue.forget` (success) or :meth:`~WorkQueue.add_rate_limited` (retry), and always
:meth:`~WorkQueue.done`. The queue guarantees:

* an item is handed to at most one worker at a time: an item added while it is being processed
  is marked dirty and queued again, once, when the worker calls :meth:`~WorkQueue.done`;
* an item waiting in the queue is there once, however often it is added;
* items are handed out in the order they were first added (delayed items when they fall due).

All methods must be called on the event loop's thread; only :meth:`~WorkQueue.get` and
:meth:`~WorkQueue.shut_down_with_drain` wait.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Hashable, MutableSequence
from typing import Generic, TypeVar

from kframe.client._clock import Clock, LoopClock, TimerHandle
from kframe.client._workqueue_limiters import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)

__all__ = [
    "WorkQueue",
    "ShutDown",
    "RateLimiter",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "BucketRateLimiter",
    "MaxOfRateLimiter",
    "default_controller_rate_limiter",
]

T = TypeVar("T", bound=Hashable)


class ShutDown(Exception):
    """Raised by :meth:`WorkQueue.get` once the queue is shut down and empty: the worker exits."""


class WorkQueue(Generic[T]):
    """A deduplicating FIFO of items to process, with delayed and rate-limited adds.

    ``rate_limiter`` decides the delay of :meth:`add_rate_limited` (the default is
    :func:`default_controller_rate_limiter` on ``clock``); ``clock`` times :meth:`add_after`
    (the default is the event loop's; pass a :class:`~kframe.client._clock.FakeClock` to control
    time in tests).
    """

    def __init__(
        self,
        *,
        rate_limiter: RateLimiter[T] | None = None,
        clock: Clock | None = None,
        name: str = "",
    ) -> None:
        self.name = name
        self._clock: Clock = LoopClock() if clock is None else clock
        self._rate_limiter: RateLimiter[T] = (
            default_controller_rate_limiter(clock=self._clock)
            if rate_limiter is None
            else rate_limiter
        )
        # queue.go: every item of _queue is in _dirty and not in _processing.
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._shutting_down = False
        self._drain = False
        self._getters: deque[asyncio.Future[None]] = deque()
        self._drain_waiters: list[asyncio.Future[None]] = []
        # delaying_queue.go: when each waiting item is due, and a heap of (due, seq, item)
        # holding stale entries for items whose due time was moved earlier.
        self._waiting: dict[T, tuple[float, int]] = {}
        self._heap: list[tuple[float, int, T]] = []
        self._seq = itertools.count()
        self._timer: TimerHandle | None = None
        self._timer_at = 0.0

    def __repr__(self) -> str:
        return (
            f"<WorkQueue {self.name!r} queued={len(self._queue)} "
            f"processing={len(self._processing)} waiting={len(self._waiting)}"
            f"{' shutting down' if self._shutting_down else ''}>"
        )

    # The queue (queue.go).

    def add(self, item: T) -> None:
        """Mark ``item`` as needing processing; ignored once the queue is shutting down."""
        if self._shutting_down or item in self._dirty:
            return
        self._dirty.add(item)
        if item not in self._processing:
            self._push(item)

    async def get(self) -> T:
        """Wait for the next item and mark it as being processed; call :meth:`done` after.

        Once the queue is shut down, the items still queued are handed out, then
        :class:`ShutDown` is raised.
        """
        while not self._queue:
            if self._shutting_down:
                raise ShutDown
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                if getter in self._getters:
                    self._getters.remove(getter)
                elif not getter.cancelled() and self._queue:
                    self._wake_getter()  # woken, then cancelled: pass the wake-up on
                raise
        item = self._queue.popleft()
        self._processing.add(item)
        self._dirty.discard(item)
        return item

    def done(self, item: T) -> None:
        """Mark ``item`` as processed; if it was added meanwhile, queue it again.

        Raises ``ValueError`` if ``item`` is not being processed.
        """
        if item not in self._processing:
            raise ValueError(f"{item!r} is not being processed")
        self._processing.remove(item)
        if item in self._dirty:
            self._push(item)
        elif not self._processing:
            self._wake_all(self._drain_waiters)

    def len(self) -> int:
        """How many items wait to be handed out (not counting delayed or processing ones)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def shut_down(self) -> None:
        """Ignore new items and drop delayed ones; :meth:`get` hands out the rest, then raises.

        Also ends a :meth:`shut_down_with_drain` that is waiting.
        """
        self._drain = False
        self._shut_down()

    async def shut_down_with_drain(self) -> None:
        """:meth:`shut_down`, then wait until every item being processed is :meth:`done`.

        Workers must keep calling :meth:`done`, or this waits forever; a :meth:`shut_down`
        meanwhile ends the wait at once.
        """
        self._drain = True
        self._shut_down()
        while self._processing and self._drain:
            waiter = asyncio.get_running_loop().create_future()
            self._drain_waiters.append(waiter)
            await waiter

    # Delaying (delaying_queue.go).

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` once ``delay`` seconds have passed; an earlier due time wins.

        A delay of zero or less adds at once (leaving any later delayed add of the item in place).
        """
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        due = self._clock.now() + delay
        current = self._waiting.get(item)
        if current is not None and current[0] <= due:
            return
        seq = next(self._seq)
        self._waiting[item] = (due, seq)
        heapq.heappush(self._heap, (due, seq, item))
        self._arm_timer()

    # Rate limiting (rate_limiting_queue.go).

    def add_rate_limited(self, item: T) -> None:
        """Add ``item`` after the delay the rate limiter gives it (counting one more failure)."""
        self.add_after(item, self._rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """Reset the rate limiter's count for ``item``; it still needs :meth:`done`."""
        self._rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        """How many failures of ``item`` the rate limiter counts."""
        return self._rate_limiter.num_requeues(item)

    # Internals.

    def _push(self, item: T) -> None:
        self._queue.append(item)
        self._wake_getter()

    def _wake_getter(self) -> None:
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return

    @staticmethod
    def _wake_all(waiters: MutableSequence[asyncio.Future[None]]) -> None:
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        waiters.clear()

    def _shut_down(self) -> None:
        self._shutting_down = True
        self._waiting.clear()
        self._heap.clear()
        self._arm_timer()
        self._wake_all(self._getters)
        if not self._drain:
            self._wake_all(self._drain_waiters)

    def _arm_timer(self) -> None:
        """Set the timer for the earliest due item, dropping stale heap entries first."""
        while self._heap and self._waiting.get(self._heap[0][2]) != self._heap[0][:2]:
            heapq.heappop(self._heap)
        if self._timer is not None and (not self._heap or self._timer_at != self._heap[0][0]):
            self._timer.cancel()
            self._timer = None
        if self._heap and self._timer is None:
            self._timer_at = self._heap[0][0]
            self._timer = self._clock.call_at(self._timer_at, self._on_timer)

    def _on_timer(self) -> None:
        # The loop may fire a timer up to its clock resolution early: what was due then is due.
        now = max(self._clock.now(), self._timer_at)
        self._timer = None
        while self._heap and self._heap[0][0] <= now:
            due, seq, item = heapq.heappop(self._heap)
            if self._waiting.get(item) == (due, seq):
                del self._waiting[item]
                self.add(item)
        self._arm_timer()
