"""The clock a runtime reads: monotonic seconds for delays, the wall time for timestamps.

Runtimes take a :class:`Clock` so that a test can move time by hand: ``kframe.client``'s
``LoopClock`` and ``FakeClock`` satisfy this Protocol as they are (the kubelet, which may import
both packages, passes its own clock on), and :class:`SystemClock` is the default when none is
given. ``kframe.runtime`` may not import ``kframe.client`` (docs/architecture.md), hence this
small copy of the part it needs.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import time
from typing import Protocol

__all__ = ["Clock", "SystemClock", "wall_nanos"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


class Clock(Protocol):
    """Monotonic seconds, the wall time, and a sleep."""

    def now(self) -> float:
        """Monotonic seconds: what start delays and run durations are measured on."""
        ...

    def wall(self) -> _dt.datetime:
        """The current time as an aware UTC datetime (``created_at``, ``started_at``)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once :meth:`now` has moved ``seconds`` on."""
        ...


class SystemClock:
    """The running event loop's monotonic clock and the system's wall time."""

    def now(self) -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    def wall(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def wall_nanos(clock: Clock) -> int:
    """The clock's wall time in nanoseconds since the Unix epoch, as CRI's timestamps are."""
    delta = clock.wall() - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
