"""The clock the work queue and its rate limiters read and set timers on.

:class:`LoopClock` (the default) is the running event loop's clock; :class:`FakeClock` is a clock a
test moves by hand, the counterpart of client-go's ``k8s.io/utils/clock/testing.FakeClock``, so a
controller's retries and delays can be tested without sleeping.
"""

from __future__ import annotations

import asyncio
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
    """Monotonic time in seconds, and timers that call back at a point of it."""

    def now(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        """Call ``callback`` (on the event loop) once :meth:`now` reaches ``when``."""
        ...


class LoopClock:
    """The running event loop's clock (``loop.time()``, ``loop.call_at``).

    Outside a running loop :meth:`now` reads ``time.monotonic()``, which is what the standard
    event loops use, so a rate limiter may be asked for a delay from synchronous code too.
    """

    def now(self) -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        return asyncio.get_running_loop().call_at(when, callback)


class _FakeTimer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], object]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when :meth:`step` is called; timers fire inside :meth:`step`.

    Timers due at the same moment fire in the order they were set. A timer set by a callback
    during :meth:`step` fires in the same step if it is already due.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        timer = _FakeTimer(callback)
        heapq.heappush(self._timers, (when, next(self._seq), timer))
        return timer

    def step(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward and run every timer that is then due."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back: step({seconds})")
        self._now += seconds
        while self._timers and self._timers[0][0] <= self._now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.callback()

    def pending_timers(self) -> int:
        """How many timers are set and not yet fired or cancelled."""
        return sum(not timer.cancelled for _, _, timer in self._timers)


if TYPE_CHECKING:
    _loop_clock: Clock = LoopClock()
    _fake_clock: Clock = FakeClock()
