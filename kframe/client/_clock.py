"""The one clock of ``kframe.client``: what work queues, rate limiters and leader election read.

A :class:`Clock` gives monotonic seconds (:meth:`~Clock.now`), the wall time to write into
objects (:meth:`~Clock.wall`), timers (:meth:`~Clock.call_at`) and a sleep
(:meth:`~Clock.sleep`). :class:`LoopClock` (the default everywhere) is the running event loop's
clock; :class:`FakeClock` is a clock a test moves by hand, the counterpart of client-go's
``k8s.io/utils/clock/testing.FakeClock``, so retries, delays and a minute of leader election run
in milliseconds, the same way every time.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import heapq
import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

__all__ = ["Clock", "FakeClock", "LoopClock", "TimerHandle"]


class TimerHandle(Protocol):
    """A timer set with :meth:`Clock.call_at`; ``asyncio.TimerHandle`` is one."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic time in seconds, the wall time, timers, and a sleep."""

    def now(self) -> float:
        """Monotonic seconds: what delays, lease expiry and deadlines are measured on."""
        ...

    def wall(self) -> _dt.datetime:
        """The current time as an aware UTC datetime (written into objects, never compared)."""
        ...

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        """Call ``callback`` (on the event loop) once :meth:`now` reaches ``when``."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once :meth:`now` has moved ``seconds`` on (yielding once if ``seconds <= 0``)."""
        ...


class LoopClock:
    """The running event loop's clock (``loop.time()``, ``loop.call_at``, ``asyncio.sleep``).

    Outside a running loop :meth:`now` reads ``time.monotonic()``, which is what the standard
    event loops use, so a rate limiter may be asked for a delay from synchronous code too. The
    wall time is the system's, in UTC.
    """

    def now(self) -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    def wall(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.UTC)

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        return asyncio.get_running_loop().call_at(when, callback)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class _FakeTimer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], object]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FakeClock:
    """A clock that moves only when :meth:`advance` is called; timers fire inside it.

    Every timer, whether set with :meth:`call_at` or by a :meth:`sleep` (a future the timer
    resolves), fires in :meth:`advance` once due: earliest due first, and in the order set when
    due at the same moment. A timer set by a callback during :meth:`advance` fires in the same
    call if it is already due; one set for a moment already past fires on the next
    :meth:`advance` (``advance(0)`` will do). :meth:`now` reads the time moved to throughout.

    :meth:`next_deadline` tells a test driver when the earliest timer is due, so a driver can
    jump from one event to the next once the code under test is otherwise idle. The wall time is
    ``wall_start`` plus the seconds moved since ``start``.
    """

    def __init__(
        self,
        start: float = 0.0,
        wall_start: _dt.datetime = _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC),
    ) -> None:
        if wall_start.tzinfo is None:
            raise ValueError("wall_start must be an aware datetime")
        self._now = start
        self._start = start
        self._wall_start = wall_start.astimezone(_dt.UTC)
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> _dt.datetime:
        return self._wall_start + _dt.timedelta(seconds=self._now - self._start)

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        timer = _FakeTimer(callback)
        heapq.heappush(self._timers, (when, next(self._seq), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self.call_at(self._now + seconds, lambda: _wake(future))
        try:
            await future
        finally:
            timer.cancel()  # a no-op once fired; drops an abandoned sleep's timer

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` on, then fire every timer that is due (waking sleepers)."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back: advance({seconds})")
        self._now += seconds
        while self._timers and self._timers[0][0] <= self._now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.cancelled = True  # fired: no longer pending, and cancel() is a no-op
                timer.callback()

    def next_deadline(self) -> float | None:
        """When the earliest timer (or sleeper) is due, or None when none is set."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def pending_timers(self) -> int:
        """How many timers (sleepers included) are set and not yet fired or cancelled."""
        return sum(not timer.cancelled for _, _, timer in self._timers)


if TYPE_CHECKING:
    _loop_clock: Clock = LoopClock()
    _fake_clock: Clock = FakeClock()
