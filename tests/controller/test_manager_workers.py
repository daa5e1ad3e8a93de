"""The worker loop: a key is never reconciled by two workers at once, a failure retries with the
queue's per-key exponential backoff, ``requeue_after`` comes back after its delay, and a key
added while it is reconciled is reconciled again afterwards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.client import FakeClock, WorkQueue
from kframe.controller import Controller, Result, done, requeue_after, run_workers
from tests.controller.asyncrun import sync


async def settle(rounds: int = 50) -> None:
    """Let every ready task run (no timers are involved: the clock is fake)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class Tracking:
    """Reconciles by yielding a few times; notes overlaps of one key and re-adds keys while
    reconciling them, as an informer event arriving mid-sync would."""

    def __init__(self, queue: WorkQueue[str], readd: set[str]) -> None:
        self.queue = queue
        self.readd = set(readd)
        self.active: set[str] = set()
        self.overlaps: list[str] = []
        self.calls: list[str] = []
        self.concurrency = 0
        self.max_concurrency = 0

    async def reconcile(self, key: str) -> Result | None:
        if key in self.active:
            self.overlaps.append(key)
        self.active.add(key)
        self.concurrency += 1
        self.max_concurrency = max(self.max_concurrency, self.concurrency)
        self.calls.append(key)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            if key in self.readd:
                self.readd.discard(key)
                self.queue.add(key)  # arrives while the key is being processed
            for _ in range(3):
                await asyncio.sleep(0)
        finally:
            self.active.discard(key)
            self.concurrency -= 1
        return done()


@settings(max_examples=40, deadline=None)
@given(
    adds=st.lists(st.sampled_from("abcdef"), min_size=1, max_size=40),
    readd=st.sets(st.sampled_from("abcdef")),
    workers=st.integers(1, 5),
)
def test_a_key_is_never_reconciled_twice_at_once(
    adds: list[str], readd: set[str], workers: int
) -> None:
    async def main() -> Tracking:
        queue: WorkQueue[str] = WorkQueue(clock=FakeClock())
        controller = Tracking(queue, readd & set(adds))
        task = asyncio.ensure_future(run_workers("t", controller, queue, workers))
        for key in adds:
            queue.add(key)
            await asyncio.sleep(0)
        await settle(400)
        queue.shut_down()
        await asyncio.wait_for(task, 10)
        return controller

    controller = asyncio.run(main())
    assert controller.overlaps == []
    assert controller.max_concurrency <= workers
    # Every key was reconciled; one re-added mid-sync was reconciled once more after.
    assert set(controller.calls) == set(adds)
    for key in readd & set(adds):
        assert controller.calls.count(key) >= 2


class Failing:
    """Fails the first ``failures`` reconciles of every key, then returns ``result``."""

    def __init__(self, failures: int, result: Result | None = None) -> None:
        self.failures = failures
        self.result = result
        self.calls: list[str] = []

    async def reconcile(self, key: str) -> Result | None:
        self.calls.append(key)
        if len(self.calls) <= self.failures:
            raise RuntimeError("boom")
        return self.result


@contextlib.asynccontextmanager
async def workers_on(controller: Controller, clock: FakeClock) -> AsyncIterator[WorkQueue[str]]:
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    task = asyncio.ensure_future(run_workers("t", controller, queue, 2))
    try:
        yield queue
    finally:
        queue.shut_down()
        await asyncio.wait_for(task, 10)


@sync
async def test_a_failure_retries_with_exponential_backoff_then_forgets() -> None:
    clock = FakeClock()
    controller = Failing(failures=3)
    async with workers_on(controller, clock) as queue:
        queue.add("k")
        await settle()
        assert controller.calls == ["k"] and queue.num_requeues("k") == 1
        # client-go's default: 5 ms, doubling per failure of the key.
        for n, delay in enumerate((0.005, 0.010, 0.020), start=1):
            clock.advance(delay * 0.9)
            await settle()
            assert len(controller.calls) == n, "retried before its backoff"
            clock.advance(delay * 0.1)
            await settle()
            assert len(controller.calls) == n + 1
        assert queue.num_requeues("k") == 0  # the success forgot the failures
        clock.advance(3600)
        await settle()
        assert len(controller.calls) == 4


@sync
async def test_requeue_after_comes_back_after_its_delay_without_counting_a_failure() -> None:
    clock = FakeClock()
    controller = Failing(failures=0, result=requeue_after(30))
    async with workers_on(controller, clock) as queue:
        queue.add("k")
        await settle()
        assert controller.calls == ["k"] and queue.num_requeues("k") == 0
        clock.advance(29.9)
        await settle()
        assert controller.calls == ["k"]
        clock.advance(0.1)
        await settle()
        assert controller.calls == ["k", "k"]


@sync
async def test_requeue_after_zero_goes_through_the_rate_limiter() -> None:
    clock = FakeClock()
    controller = Failing(failures=0, result=Result(requeue_after=0))
    async with workers_on(controller, clock) as queue:
        queue.add("k")
        await settle()
        assert controller.calls == ["k"]
        clock.advance(0.005)
        await settle()
        assert controller.calls == ["k", "k"]


@sync
async def test_none_and_done_finish_the_key() -> None:
    clock = FakeClock()
    controller = Failing(failures=0, result=None)
    async with workers_on(controller, clock) as queue:
        queue.add("k")
        await settle()
        clock.advance(3600)
        await settle()
        assert controller.calls == ["k"] and queue.len() == 0
