"""A rate-limited sync loop: as upstream's ``BoundedFrequencyRunner`` (``pkg/util/async``).

The proxy asks for a sync on every relevant change (:meth:`BoundedFrequencyRunner.run`); the
runner calls the function at most once per ``min_interval`` (changes arriving meanwhile are
folded into the next call) and at least once per ``max_interval`` (the periodic full resync).
:meth:`~BoundedFrequencyRunner.retry_after` schedules an earlier call after a failure. Time is
read from a :class:`kframe.client.Clock`, so tests drive it with a ``FakeClock`` and no sleeps.

Upstream's runner has a token bucket (``burstRuns``); kframe's allows no burst: two runs are
always at least ``min_interval`` apart, the guarantee ``minSyncPeriod`` documents.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

from kframe.client import Clock, LoopClock, TimerHandle

__all__ = ["BoundedFrequencyRunner"]

log = logging.getLogger("kframe.proxy")


class BoundedFrequencyRunner:
    """Calls ``fn`` (plain or async) when asked, rate-limited, and periodically.

    ``min_interval``: the least time between two calls (kube-proxy's ``minSyncPeriod``, 1 s).
    ``max_interval``: the most time between two calls (kube-proxy's ``syncPeriod``, 30 s).
    ``fn``'s exceptions are logged; a failing ``fn`` should call :meth:`retry_after` itself.
    """

    def __init__(
        self,
        fn: Callable[[], Awaitable[None] | None],
        *,
        min_interval: float = 1.0,
        max_interval: float = 30.0,
        clock: Clock | None = None,
        name: str = "sync-runner",
    ) -> None:
        if min_interval < 0 or max_interval <= 0 or min_interval > max_interval:
            raise ValueError(
                f"{name}: need 0 <= min_interval <= max_interval and max_interval > 0 "
                f"(got {min_interval}, {max_interval})"
            )
        self._fn = fn
        self.name = name
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._clock: Clock = clock if clock is not None else LoopClock()
        self._requested = False
        self._retry_at: float | None = None
        self._next_periodic: float | None = None
        self._wake: asyncio.Event | None = None
        self.last_run: float | None = None
        #: How many times ``fn`` has been called.
        self.runs = 0

    def run(self) -> None:
        """Ask for a call as soon as ``min_interval`` allows. Many asks before then are one."""
        self._requested = True
        if self._wake is not None:
            self._wake.set()

    def retry_after(self, seconds: float) -> None:
        """Ask for a call ``seconds`` from now (still no sooner than ``min_interval`` allows),
        unless one is due sooner anyway."""
        when = self._clock.now() + seconds
        if self._retry_at is None or when < self._retry_at:
            self._retry_at = when
        if self._wake is not None:
            self._wake.set()

    def _due(self, now: float) -> float:
        assert self._next_periodic is not None
        due = self._next_periodic
        if self._requested:
            due = min(due, now)
        if self._retry_at is not None:
            due = min(due, self._retry_at)
        if self.last_run is not None:
            due = max(due, self.last_run + self.min_interval)
        return due

    async def _call(self) -> None:
        now = self._clock.now()
        self._requested = False
        self._retry_at = None
        self.last_run = now
        self._next_periodic = now + self.max_interval
        self.runs += 1
        try:
            result = self._fn()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("%s: the sync failed", self.name)

    async def loop(self) -> None:
        """Run until cancelled. The first periodic call is ``max_interval`` after the start, or
        the first :meth:`run` (which, before any call, is served at once)."""
        self._wake = asyncio.Event()
        self._next_periodic = self._clock.now() + self.max_interval
        while True:
            now = self._clock.now()
            due = self._due(now)
            if due <= now:
                await self._call()
                continue
            self._wake.clear()
            timer: TimerHandle = self._clock.call_at(due, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
