"""The work queue keeps client-go's guarantees: one worker per item, no duplicates, FIFO, backoff.

Unit cases port client-go's ``util/workqueue`` tests (``queue_test.go``,
``delaying_queue_test.go``, ``rate_limiting_queue_test.go``, ``default_rate_limiters_test.go``;
each test names its original); a state machine drives the queue against a model. Time is a
:class:`FakeClock` throughout, except one short check of the event loop's clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from kframe.client._clock import FakeClock, LoopClock
from kframe.client._workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    ShutDown,
    WorkQueue,
    default_controller_rate_limiter,
)

EPS = 1e-6  # "just before" / "just after" a due time on the fake clock


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        await asyncio.wait_for(scenario(), 10)

    asyncio.run(main())


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(10):
        await asyncio.sleep(0)


# queue.go (queue_test.go).


@pytest.mark.parametrize("drain", [False, True], ids=["shut_down", "shut_down_with_drain"])
def test_basic(drain: bool) -> None:
    """TestBasic: 50 producers, 10 consumers; nothing added after shutdown is handed out."""

    async def scenario() -> None:
        q = WorkQueue[object]()
        in_flight: set[object] = set()

        async def produce(i: int) -> None:
            for _ in range(50):
                q.add(i)
                await asyncio.sleep(0)

        async def consume() -> None:
            while True:
                try:
                    item = await q.get()
                except ShutDown:
                    return
                assert item != "added after shutdown!"
                assert item not in in_flight, f"{item} handed to two workers at once"
                in_flight.add(item)
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                in_flight.remove(item)
                q.done(item)

        consumers = [asyncio.create_task(consume()) for _ in range(10)]
        await asyncio.gather(*(produce(i) for i in range(50)))
        if drain:
            await q.shut_down_with_drain()
        else:
            q.shut_down()
        q.add("added after shutdown!")
        await asyncio.gather(*consumers)
        assert q.len() == 0

    run(scenario)


@pytest.mark.parametrize("drain", [False, True], ids=["shut_down", "shut_down_with_drain"])
def test_add_while_processing(drain: bool) -> None:
    """TestAddWhileProcessing: every worker re-adds each item once while processing it."""

    async def scenario() -> None:
        q = WorkQueue[int]()
        handed: Counter[int] = Counter()

        async def consume() -> None:
            counters: Counter[int] = Counter()
            while True:
                try:
                    item = await q.get()
                except ShutDown:
                    return
                handed[item] += 1
                counters[item] += 1
                if counters[item] < 2:
                    q.add(item)
                await asyncio.sleep(0)
                q.done(item)

        consumers = [asyncio.create_task(consume()) for _ in range(10)]
        for i in range(50):
            q.add(i)
        await settle()
        while q.len() or any(handed[i] < 2 for i in range(50)):
            await asyncio.sleep(0)
        if drain:
            await q.shut_down_with_drain()
        else:
            q.shut_down()
        await asyncio.gather(*consumers)
        assert q.len() == 0
        assert all(handed[i] >= 2 for i in range(50))

    run(scenario)


def test_len() -> None:
    """TestLen: adding a queued item again does not grow the queue."""
    q = WorkQueue[str]()
    q.add("foo")
    assert q.len() == 1
    q.add("bar")
    assert q.len() == 2
    q.add("foo")
    assert q.len() == 2


def test_reinsert() -> None:
    """TestReinsert: an item added while processing comes back once done."""

    async def scenario() -> None:
        q = WorkQueue[str]()
        q.add("foo")
        item = await q.get()
        assert item == "foo"
        q.add(item)
        assert q.len() == 0, "a dirty item waits for done"
        q.add(item)
        q.done(item)
        assert q.len() == 1, "re-queued exactly once"
        assert await q.get() == "foo"
        q.done("foo")
        assert q.len() == 0

    run(scenario)


def test_fifo_and_duplicates_collapse() -> None:
    async def scenario() -> None:
        q = WorkQueue[str]()
        for item in ["a", "b", "a", "c", "b"]:
            q.add(item)
        assert [await q.get() for _ in range(3)] == ["a", "b", "c"]

    run(scenario)


def test_get_waits_for_an_item() -> None:
    async def scenario() -> None:
        q = WorkQueue[str]()
        getter = asyncio.create_task(q.get())
        await settle()
        assert not getter.done()
        q.add("foo")
        assert await getter == "foo"

    run(scenario)


def test_cancelled_getter_passes_its_wake_up_on() -> None:
    async def scenario() -> None:
        q = WorkQueue[str]()
        first = asyncio.create_task(q.get())
        second = asyncio.create_task(q.get())
        await settle()
        q.add("foo")  # wakes `first`...
        first.cancel()  # ...which is cancelled before it runs
        await settle()
        assert first.cancelled()
        assert second.done() and second.result() == "foo"

    run(scenario)


def test_cancelled_getter_leaves_the_queue() -> None:
    async def scenario() -> None:
        q = WorkQueue[str]()
        first = asyncio.create_task(q.get())
        await settle()
        first.cancel()
        await settle()
        q.add("foo")
        assert await q.get() == "foo"

    run(scenario)


def test_done_of_an_item_not_processing_raises() -> None:
    q = WorkQueue[str]()
    q.add("foo")
    with pytest.raises(ValueError, match="not being processed"):
        q.done("foo")
    assert q.len() == 1


def test_shut_down_hands_out_the_rest_then_raises() -> None:
    async def scenario() -> None:
        q = WorkQueue[str]()
        waiting = [asyncio.create_task(q.get()) for _ in range(3)]
        await settle()
        q.add("foo")
        q.add("bar")
        q.shut_down()
        assert q.shutting_down
        q.add("baz")
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert sorted(map(str, results[:2])) == ["bar", "foo"]
        assert isinstance(results[2], ShutDown)
        with pytest.raises(ShutDown):
            await q.get()

    run(scenario)


def test_queue_drainage_using_shut_down_with_drain() -> None:
    """TestQueueDrainageUsingShutDownWithDrain: the drain waits for done on both items."""

    async def scenario() -> None:
        q = WorkQueue[str]()
        q.add("foo")
        q.add("bar")
        first, second = await q.get(), await q.get()
        drain = asyncio.create_task(q.shut_down_with_drain())
        with pytest.raises(ShutDown):
            await q.get()
        q.done(first)
        await settle()
        assert not drain.done()
        q.done(second)
        await drain

    run(scenario)


def test_no_queue_drainage_using_shut_down() -> None:
    """TestNoQueueDrainageUsingShutDown: shut_down returns with items still processing."""

    async def scenario() -> None:
        q = WorkQueue[str]()
        q.add("foo")
        q.add("bar")
        await q.get()
        await q.get()
        q.shut_down()

    run(scenario)


def test_force_queue_shutdown_using_shut_down() -> None:
    """TestForceQueueShutdownUsingShutDown: shut_down ends a waiting shut_down_with_drain."""

    async def scenario() -> None:
        q = WorkQueue[str]()
        q.add("foo")
        q.add("bar")
        await q.get()
        await q.get()
        drain = asyncio.create_task(q.shut_down_with_drain())
        with pytest.raises(ShutDown):
            await q.get()
        await settle()
        assert not drain.done()
        q.shut_down()
        await drain

    run(scenario)


def test_queue_drainage_using_shut_down_with_drain_with_dirty_item() -> None:
    """TestQueueDrainageUsingShutDownWithDrainWithDirtyItem: the dirty item comes back once."""

    async def scenario() -> None:
        q = WorkQueue[str]()
        q.add("foo")
        gotten = await q.get()
        q.add("foo")
        drain = asyncio.create_task(q.shut_down_with_drain())
        with pytest.raises(ShutDown):
            await q.get()
        q.done(gotten)
        again = await q.get()
        assert again == "foo"
        q.done(again)
        with pytest.raises(ShutDown):
            await q.get()
        await drain

    run(scenario)


# delaying_queue.go (delaying_queue_test.go).


def test_simple_queue() -> None:
    """TestSimpleQueue: added after the delay, and only once."""
    clock = FakeClock()
    q = WorkQueue[str](clock=clock)
    q.add_after("foo", 0.05)
    assert q.len() == 0
    clock.advance(0.06)
    assert q.len() == 1
    clock.advance(10)
    assert q.len() == 1
    assert clock.pending_timers() == 0


def test_deduping() -> None:
    """TestDeduping: re-adding a waiting item keeps the earlier due time."""

    async def scenario() -> None:
        clock = FakeClock()
        q = WorkQueue[str](clock=clock)
        q.add_after("foo", 0.05)
        q.add_after("foo", 0.07)
        assert q.len() == 0
        clock.advance(0.06)
        assert q.len() == 1
        q.done(await q.get())
        clock.advance(0.02)  # past the second add_after: it was merged into the first
        assert q.len() == 0

        q.add_after("foo", 0.05)
        q.add_after("foo", 0.03)  # earlier: wins
        clock.advance(0.04)
        assert q.len() == 1
        q.done(await q.get())
        clock.advance(0.02)
        assert q.len() == 0

    run(scenario)


def test_add_two_fire_early() -> None:
    """TestAddTwoFireEarly: items fall due in due-time order, not add order."""

    async def scenario() -> None:
        clock = FakeClock()
        q = WorkQueue[str](clock=clock)
        q.add_after("foo", 1)
        q.add_after("bar", 0.05)
        clock.advance(0.06)
        assert q.len() == 1
        assert await q.get() == "bar"
        q.add_after("baz", 2)
        clock.advance(1)
        assert q.len() == 1
        assert await q.get() == "foo"
        clock.advance(2)
        assert q.len() == 1
        assert await q.get() == "baz"

    run(scenario)


def test_copy_shifting() -> None:
    """TestCopyShifting: three items due at once come out earliest first."""

    async def scenario() -> None:
        clock = FakeClock()
        q = WorkQueue[str](clock=clock)
        q.add_after("foo", 1)
        q.add_after("bar", 0.5)
        q.add_after("baz", 0.25)
        clock.advance(2)
        assert q.len() == 3
        assert [await q.get() for _ in range(3)] == ["baz", "bar", "foo"]

    run(scenario)


def test_add_after_without_delay_adds_at_once() -> None:
    q = WorkQueue[str](clock=FakeClock())
    q.add_after("foo", 0)
    q.add_after("bar", -1)
    assert q.len() == 2


def test_shut_down_drops_delayed_items() -> None:
    clock = FakeClock()
    q = WorkQueue[str](clock=clock)
    q.add_after("foo", 1)
    q.shut_down()
    assert clock.pending_timers() == 0
    q.add_after("bar", 1)
    clock.advance(2)
    assert q.len() == 0


def test_add_after_on_the_event_loop_clock() -> None:
    async def scenario() -> None:
        q = WorkQueue[str]()
        loop = asyncio.get_running_loop()
        start = loop.time()
        q.add_after("foo", 0.01)
        assert q.len() == 0
        assert await q.get() == "foo"
        assert loop.time() - start >= 0.01 - 0.001

    run(scenario)


# rate_limiting_queue.go (rate_limiting_queue_test.go).


def test_rate_limiting_queue() -> None:
    """TestRateLimitingQueue: delays from the limiter, counted per item, reset by forget."""

    async def scenario() -> None:
        clock = FakeClock()
        limiter = ItemExponentialFailureRateLimiter(0.001, 1)
        q = WorkQueue[str](rate_limiter=limiter, clock=clock)

        async def retried_after(item: str, delay: float) -> None:
            q.add_rate_limited(item)
            clock.advance(delay - EPS)
            assert q.len() == 0, f"{item} added before {delay}s"
            clock.advance(2 * EPS)
            assert q.len() == 1, f"{item} not added after {delay}s"
            q.done(await q.get())

        await retried_after("one", 0.001)
        await retried_after("one", 0.002)
        assert q.num_requeues("one") == 2
        await retried_after("two", 0.001)
        await retried_after("two", 0.002)
        q.forget("one")
        assert q.num_requeues("one") == 0
        await retried_after("one", 0.001)

    run(scenario)


def test_default_rate_limited_queue_backs_off_from_5ms() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        q = WorkQueue[str](clock=clock)
        for delay in [0.005, 0.01, 0.02, 0.04]:
            q.add_rate_limited("key")
            clock.advance(delay - EPS)
            assert q.len() == 0
            clock.advance(2 * EPS)
            assert q.len() == 1
            q.done(await q.get())
        assert q.num_requeues("key") == 4
        q.forget("key")
        assert q.num_requeues("key") == 0

    run(scenario)


# default_rate_limiters.go (default_rate_limiters_test.go).


def test_item_exponential_failure_rate_limiter() -> None:
    """TestItemExponentialFailureRateLimiter."""
    limiter = ItemExponentialFailureRateLimiter(0.001, 1)
    assert [limiter.when("one") for _ in range(5)] == [0.001, 0.002, 0.004, 0.008, 0.016]
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == [0.001, 0.002]
    assert limiter.num_requeues("two") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 0.001


def test_item_exponential_failure_rate_limiter_defaults() -> None:
    """Upstream's controller defaults: 5 ms, 10 ms, 20 ms, ... capped at 1000 s."""
    limiter = ItemExponentialFailureRateLimiter()
    assert [limiter.when("x") for _ in range(4)] == pytest.approx([0.005, 0.01, 0.02, 0.04])
    assert [limiter.when("x") for _ in range(30)][-1] == 1000.0


def test_item_exponential_failure_rate_limiter_overflow() -> None:
    """TestItemExponentialFailureRateLimiterOverFlow: huge exponents give the cap."""
    limiter = ItemExponentialFailureRateLimiter(0.001, 1000)
    for _ in range(5):
        limiter.when("one")
    assert limiter.when("one") == pytest.approx(0.032)
    for _ in range(1000):
        limiter.when("overflow1")
    assert limiter.when("overflow1") == 1000

    limiter = ItemExponentialFailureRateLimiter(60, 1000 * 3600)
    for _ in range(2):
        limiter.when("two")
    assert limiter.when("two") == 4 * 60
    for _ in range(2000):
        limiter.when("overflow2")
    assert limiter.when("overflow2") == 1000 * 3600


def test_item_fast_slow_rate_limiter() -> None:
    """TestItemFastSlowRateLimiter."""
    limiter = ItemFastSlowRateLimiter(0.005, 10, 3)
    assert [limiter.when("one") for _ in range(5)] == [0.005, 0.005, 0.005, 10, 10]
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == [0.005, 0.005]
    assert limiter.num_requeues("two") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 0.005


def test_max_of_rate_limiter() -> None:
    """TestMaxOfRateLimiter."""
    limiter: MaxOfRateLimiter[str] = MaxOfRateLimiter(
        ItemFastSlowRateLimiter(0.005, 3, 3), ItemExponentialFailureRateLimiter(0.001, 1)
    )
    assert [limiter.when("one") for _ in range(5)] == [0.005, 0.005, 0.005, 3, 3]
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == [0.005, 0.005]
    assert limiter.num_requeues("two") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 0.005


def test_bucket_rate_limiter_burst_then_qps_spacing() -> None:
    clock = FakeClock(1000.0)
    limiter = BucketRateLimiter(qps=10, burst=100, clock=clock)
    assert [limiter.when(i) for i in range(100)] == [0.0] * 100
    assert [limiter.when(i) for i in range(100, 103)] == pytest.approx([0.1, 0.2, 0.3])
    assert limiter.num_requeues(100) == 0
    clock.advance(1.0)  # ten tokens back: the debt of three is paid, seven remain
    assert [limiter.when(i) for i in range(7)] == [0.0] * 7
    assert limiter.when(7) == pytest.approx(0.1)


def test_bucket_rate_limiter_refills_to_burst_only() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(qps=1, burst=2, clock=clock)
    clock.advance(3600)
    assert [limiter.when("x") for _ in range(3)] == pytest.approx([0.0, 0.0, 1.0])


@pytest.mark.parametrize(("qps", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_bucket_rate_limiter_rejects_impossible_buckets(qps: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        BucketRateLimiter(qps=qps, burst=burst)


def test_default_controller_rate_limiter() -> None:
    """Per item 5 ms doubling; past a burst of 100 retries, the bucket spaces them 100 ms."""
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock=clock)
    assert [limiter.when(i) for i in range(100)] == [0.005] * 100
    assert limiter.when(100) == pytest.approx(0.1)
    assert limiter.when(101) == pytest.approx(0.2)
    assert limiter.when(0) == pytest.approx(0.3)  # bucket beats the item's 10 ms
    assert limiter.num_requeues(0) == 2
    limiter.forget(0)
    assert limiter.num_requeues(0) == 0
    clock.advance(3600)
    assert limiter.when(0) == 0.005


def test_limiters_conform_to_the_protocol() -> None:
    limiters: list[RateLimiter[Hashable]] = [
        ItemExponentialFailureRateLimiter(),
        ItemFastSlowRateLimiter(0.005, 10, 3),
        BucketRateLimiter(clock=FakeClock()),
        MaxOfRateLimiter(),
        default_controller_rate_limiter(clock=FakeClock()),
    ]
    for limiter in limiters:
        assert isinstance(limiter.when("x"), float)
        limiter.forget("x")
        assert limiter.num_requeues("x") == 0


# The clock (kframe.client._clock), shared with leader election.


def test_fake_clock_fires_timers_and_wakes_sleepers_in_due_order() -> None:
    async def scenario() -> None:
        clock = FakeClock(10.0)
        fired: list[tuple[str, float]] = []

        async def sleeper(name: str, seconds: float) -> None:
            await clock.sleep(seconds)
            fired.append((name, clock.now()))

        clock.call_at(12.0, lambda: fired.append(("timer@12", clock.now())))
        tasks = [
            asyncio.create_task(sleeper("sleep1", 1.0)),
            asyncio.create_task(sleeper("sleep3", 3.0)),
        ]
        await settle()
        clock.call_at(11.0, lambda: fired.append(("timer@11", clock.now())))  # after sleep1's
        assert clock.next_deadline() == 11.0
        assert clock.pending_timers() == 4
        clock.advance(0.5)
        await settle()
        assert fired == []
        clock.advance(1.5)  # to 12: due timers fire within advance, sleepers run after it
        assert fired == [("timer@11", 12.0), ("timer@12", 12.0)]
        await settle()
        assert fired[2:] == [("sleep1", 12.0)]
        assert clock.next_deadline() == 13.0
        clock.advance(5)
        await asyncio.gather(*tasks)
        assert fired[3:] == [("sleep3", 17.0)]
        assert clock.next_deadline() is None and clock.pending_timers() == 0

    run(scenario)


def test_fake_clock_drops_cancelled_timers_and_sleeps() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        fired: list[str] = []
        clock.call_at(1.0, lambda: fired.append("cancelled")).cancel()
        task = asyncio.create_task(clock.sleep(2.0))
        await settle()
        assert (clock.next_deadline(), clock.pending_timers()) == (2.0, 1)
        task.cancel()
        await asyncio.wait({task})
        assert (clock.next_deadline(), clock.pending_timers()) == (None, 0)
        clock.advance(5)
        assert fired == []
        await clock.sleep(0)  # yields once; sets no timer
        await clock.sleep(-1)
        assert clock.pending_timers() == 0

    run(scenario)


def test_fake_clock_timer_set_in_the_past_fires_on_the_next_advance() -> None:
    clock = FakeClock(5.0)
    fired: list[float] = []
    clock.call_at(1.0, lambda: fired.append(clock.now()))
    assert fired == [] and clock.next_deadline() == 1.0
    clock.advance(0)
    assert fired == [5.0]


def test_fake_clock_wall_time_moves_with_it() -> None:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    clock = FakeClock(100.0, wall_start=start)
    assert clock.wall() == start
    clock.advance(90.5)
    assert clock.wall() == start + dt.timedelta(seconds=90.5)
    assert clock.wall().utcoffset() == dt.timedelta(0)
    assert FakeClock().wall() == start  # the default: a fixed, aware instant
    with pytest.raises(ValueError, match="back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="aware"):
        FakeClock(wall_start=dt.datetime(2024, 1, 1))


def test_loop_clock() -> None:
    async def scenario() -> None:
        clock = LoopClock()
        loop = asyncio.get_running_loop()
        start = clock.now()
        assert abs(start - loop.time()) < 0.01
        woken = loop.create_future()
        clock.call_at(start + 0.01, lambda: woken.set_result(clock.now()))
        await clock.sleep(0.02)
        assert woken.done() and woken.result() >= start + 0.01 - 0.001
        assert clock.now() - start >= 0.02 - 0.001
        await clock.sleep(-1)  # returns at once
        wall = clock.wall()
        assert wall.utcoffset() == dt.timedelta(0)
        assert abs(wall - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)

    run(scenario)
    assert LoopClock().now() > 0  # outside a loop: time.monotonic()


# The state machine.

ITEMS = st.sampled_from("abcde")
DELAYS = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])
BASE, CAP = 1.0, 8.0  # the machine's exponential limiter, in fake seconds


class WorkQueueMachine(RuleBasedStateMachine):
    """Workers (``get`` tasks) and producers against a model of queue.go plus the delays.

    The model predicts exactly which items are handed out and in which order; the harness
    checks, on the real queue's output, that no item is with two workers at once and that every
    accepted add is followed by a handout of that item (delayed adds dropped by shutdown aside).
    """

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.queue = WorkQueue[str](
            rate_limiter=ItemExponentialFailureRateLimiter(BASE, CAP), clock=self.clock
        )
        # The model.
        self.pending: list[str] = []
        self.dirty: set[str] = set()
        self.waiting: dict[str, tuple[float, int]] = {}
        self.seq = 0
        self.failures: Counter[str] = Counter()
        self.shut = False
        self.idle_workers = 0
        # The harness: what the real queue did.
        self.handed: list[str] = []
        self.shutdowns = 0
        self.workers: list[asyncio.Task[None]] = []
        self.processing: set[str] = set()
        self.owed: set[str] = set()
        self.expected_shutdowns = 0

    async def _worker(self) -> None:
        try:
            item = await self.queue.get()
        except ShutDown:
            self.shutdowns += 1
        else:
            self.handed.append(item)

    def _sync(self) -> None:
        """Run the loop, then check the real handouts against the model's."""
        self.loop.run_until_complete(settle())
        expected: list[str] = []
        while self.idle_workers and self.pending:
            item = self.pending.pop(0)
            self.dirty.discard(item)
            expected.append(item)
            self.idle_workers -= 1
        if self.shut and not self.pending:
            self.expected_shutdowns += self.idle_workers
            self.idle_workers = 0
        handed, self.handed = self.handed, []
        assert handed == expected
        assert self.shutdowns == self.expected_shutdowns
        for item in handed:
            assert item not in self.processing, f"{item} handed to two workers at once"
            self.processing.add(item)
            self.owed.discard(item)

    def _model_add(self, item: str) -> None:
        if self.shut:
            return
        self.owed.add(item)
        if item not in self.dirty:
            self.dirty.add(item)
            if item not in self.processing:
                self.pending.append(item)

    def _model_add_after(self, item: str, delay: float) -> None:
        if self.shut:
            return
        if delay <= 0:
            self._model_add(item)
            return
        self.owed.add(item)
        due = self.clock.now() + delay
        current = self.waiting.get(item)
        if current is None or due < current[0]:
            self.waiting[item] = (due, self.seq)
            self.seq += 1

    @initialize()
    def start(self) -> None:
        self.loop.run_until_complete(settle())

    @rule(item=ITEMS)
    def add(self, item: str) -> None:
        self.queue.add(item)
        self._model_add(item)
        self._sync()

    @rule(item=ITEMS, delay=DELAYS)
    def add_after(self, item: str, delay: float) -> None:
        self.queue.add_after(item, delay)
        self._model_add_after(item, delay)
        self._sync()

    @rule(item=ITEMS)
    def add_rate_limited(self, item: str) -> None:
        self.queue.add_rate_limited(item)
        delay = min(BASE * 2 ** self.failures[item], CAP)
        self.failures[item] += 1
        self._model_add_after(item, delay)
        self._sync()

    @rule(item=ITEMS)
    def forget(self, item: str) -> None:
        self.queue.forget(item)
        del self.failures[item]

    @rule()
    def get(self) -> None:
        self.workers.append(self.loop.create_task(self._worker()))
        self.idle_workers += 1
        self._sync()

    @precondition(lambda self: self.idle_workers > 0)
    @rule()
    def cancel_idle_worker(self) -> None:
        idle = [task for task in self.workers if not task.done()]
        idle[0].cancel()
        self.idle_workers -= 1
        self._sync()

    @precondition(lambda self: self.processing)
    @rule(data=st.data())
    def done(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(sorted(self.processing)))
        self.queue.done(item)
        self.processing.remove(item)
        if item in self.dirty:
            self.pending.append(item)
        self._sync()

    @rule(seconds=st.sampled_from([0.25, 0.5, 1.0, 4.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        now = self.clock.now()
        for due, _, item in sorted((*when, item) for item, when in self.waiting.items()):
            if due <= now:
                del self.waiting[item]
                self._model_add(item)
        self._sync()

    @rule()
    def shut_down(self) -> None:
        self.queue.shut_down()
        self.shut = True
        self.waiting.clear()
        self.owed &= self.dirty  # delayed adds are dropped
        self._sync()

    @invariant()
    def len_matches_the_model(self) -> None:
        assert self.queue.len() == len(self.pending)
        assert self.queue.shutting_down == self.shut

    @invariant()
    def no_duplicates_pending(self) -> None:
        # The queue's own pending deque (private; read only here).
        queued = list(self.queue._queue)
        assert len(queued) == len(set(queued))
        assert queued == self.pending

    @invariant()
    def num_requeues_match_the_model(self) -> None:
        for item in "abcde":
            assert self.queue.num_requeues(item) == self.failures[item]

    def teardown(self) -> None:
        try:
            # Let everything owed come out: fire the delays, finish and fetch everything.
            for _ in range(20):
                self.advance(100.0)
                for item in sorted(self.processing):
                    self.queue.done(item)
                    self.processing.remove(item)
                    if item in self.dirty:
                        self.pending.append(item)
                self._sync()
                while self.idle_workers < len(self.pending):
                    self.get()
                if not (self.processing or self.pending or self.waiting):
                    break
            assert not self.owed, f"added but never handed out: {sorted(self.owed)}"
        finally:
            for task in self.workers:
                task.cancel()
            self.loop.run_until_complete(settle())
            self.loop.close()


TestWorkQueueMachine = WorkQueueMachine.TestCase
