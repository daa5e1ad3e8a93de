"""The rate-limited sync loop, on a fake clock: no real sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.client import FakeClock
from kframe.proxy import BoundedFrequencyRunner


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


@contextlib.asynccontextmanager
async def running(
    clock: FakeClock, min_interval: float = 1.0, max_interval: float = 30.0
) -> AsyncIterator[tuple[BoundedFrequencyRunner, list[float]]]:
    times: list[float] = []
    runner = BoundedFrequencyRunner(
        lambda: times.append(clock.now()),
        min_interval=min_interval,
        max_interval=max_interval,
        clock=clock,
    )
    task = asyncio.ensure_future(runner.loop())
    await settle()
    try:
        yield runner, times
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def tick(clock: FakeClock, seconds: float) -> None:
    """Move the clock on, stopping at every timer due on the way (so a run happens at the
    moment it was due, not at the end of the step)."""
    end = clock.now() + seconds
    while (due := clock.next_deadline()) is not None and due <= end:
        clock.advance(max(0.0, due - clock.now()))
        await settle()
    clock.advance(end - clock.now())
    await settle()


def run(test: Callable[[], object]) -> None:
    asyncio.run(test())  # type: ignore[arg-type]


def test_requests_are_rate_limited_and_folded() -> None:
    async def body() -> None:
        clock = FakeClock()
        async with running(clock) as (runner, times):
            runner.run()
            await settle()
            assert times == [0.0]  # the first request is served at once
            for _ in range(5):
                runner.run()  # within min_interval: folded into one
            await settle()
            assert times == [0.0]
            await tick(clock, 0.5)
            assert times == [0.0]
            await tick(clock, 0.5)
            assert times == [0.0, 1.0]
            await tick(clock, 5)
            assert times == [0.0, 1.0]  # nothing asked: nothing runs
            runner.run()
            await settle()
            assert times == [0.0, 1.0, 6.0]  # long enough since the last: at once

    run(body)


def test_runs_periodically_without_requests() -> None:
    async def body() -> None:
        clock = FakeClock()
        async with running(clock, max_interval=30) as (runner, times):
            await tick(clock, 29.9)
            assert times == []
            await tick(clock, 0.1)
            assert times == [30.0]
            await tick(clock, 10)
            runner.run()
            await settle()
            await tick(clock, 29.9)  # a run resets the periodic timer
            assert times == [30.0, 40.0]
            await tick(clock, 0.1)
            assert times == [30.0, 40.0, 70.0]

    run(body)


def test_retry_after_runs_early_but_not_sooner_than_min_interval() -> None:
    async def body() -> None:
        clock = FakeClock()
        async with running(clock, min_interval=2, max_interval=30) as (runner, times):
            runner.run()
            await settle()
            runner.retry_after(0.5)
            await tick(clock, 1)
            assert times == [0.0]  # the retry waits for min_interval
            await tick(clock, 1)
            assert times == [0.0, 2.0]
            runner.retry_after(5)
            runner.retry_after(10)  # the sooner one counts
            await tick(clock, 5)
            assert times == [0.0, 2.0, 7.0]
            assert runner.runs == 3

    run(body)


def test_a_failing_function_does_not_stop_the_loop() -> None:
    async def body() -> None:
        clock = FakeClock()
        calls: list[float] = []

        def flaky() -> None:
            calls.append(clock.now())
            raise RuntimeError("boom")

        runner = BoundedFrequencyRunner(flaky, min_interval=1, max_interval=5, clock=clock)
        task = asyncio.ensure_future(runner.loop())
        await settle()
        runner.run()
        await settle()
        await tick(clock, 5)
        assert calls == [0.0, 5.0]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    run(body)


def test_bad_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="min_interval"):
        BoundedFrequencyRunner(lambda: None, min_interval=5, max_interval=1)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 10, allow_nan=False), st.booleans()), max_size=25),
    st.sampled_from([0.0, 1.0, 2.5]),
)
def test_runs_are_spaced_and_requests_served(ops: list[tuple[float, bool]], min_i: float) -> None:
    """Two runs are never closer than min_interval nor further apart than max_interval, and a
    request is served no later than min_interval after the run before it (or at once)."""

    async def body() -> None:
        clock = FakeClock()
        async with running(clock, min_interval=min_i, max_interval=10) as (runner, times):
            requests: list[float] = []
            for dt, ask in ops:
                await tick(clock, dt)
                if ask:
                    requests.append(clock.now())
                    runner.run()
                    await settle()
            await tick(clock, max(min_i, 0.0))
            gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
            assert all(g <= 10 + 1e-9 for g in gaps)
            assert all(b - a >= min_i - 1e-9 for a, b in itertools.pairwise(times))
            for asked in requests:
                served = [t for t in times if t >= asked - 1e-9]
                assert served, f"request at {asked} never served"
                before = max([t for t in times if t < asked - 1e-9], default=None)
                limit = asked if before is None else max(asked, before + min_i)
                assert served[0] <= limit + 1e-9

    asyncio.run(body())
