"""Leader election on a Lease, against a real API server, on a virtual clock.

The candidates sleep on a :class:`FakeClock`; a driver moves it from one sleeper's deadline to
the next, but only while no API call is in flight and the event loop has nothing else to do, so
a minute of election runs in milliseconds and the same way every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

import attrs
import pytest

from kframe.api import MicroTime, models
from kframe.apiserver import APIError, APIServer
from kframe.client import Client, HttpClient, InProcessClient, ObjectList, PatchType, WatchEvent
from kframe.client._clock import FakeClock
from kframe.client._leaderelection import (
    JITTER_FACTOR,
    LeaderElectionConfig,
    LeaderElector,
)
from kframe.store import open_store

T = TypeVar("T")

NAME, NAMESPACE = "election", "default"
LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 15.0, 10.0, 2.0
#: The longest a non-leader waits between two tries.
MAX_RETRY_WAIT = RETRY_PERIOD * (1 + JITTER_FACTOR)
WALL_START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


class TrackedClient:
    """A Client that counts its calls in flight and, while ``failing``, fails them with 503."""

    def __init__(self, inner: Client, harness: Harness) -> None:
        self._inner = inner
        self._harness = harness
        self.failing = False
        self.calls: list[str] = []

    @contextlib.contextmanager
    def _track(self, verb: str) -> Iterator[None]:
        self.calls.append(verb)
        if self.failing:
            raise APIError(503, "ServiceUnavailable", "injected failure")
        self._harness.inflight += 1
        try:
            yield
        finally:
            self._harness.inflight -= 1

    async def create(self, obj: T, *, namespace: str | None = None, dry_run: bool = False) -> T:
        with self._track("create"):
            return await self._inner.create(obj, namespace=namespace, dry_run=dry_run)

    async def get(self, cls: type[T], name: str, *, namespace: str | None = None) -> T:
        with self._track("get"):
            return await self._inner.get(cls, name, namespace=namespace)

    async def list(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> ObjectList[T]:
        with self._track("list"):
            return await self._inner.list(
                cls,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=limit,
                continue_token=continue_token,
                resource_version=resource_version,
            )

    async def update(self, obj: T, *, subresource: str = "") -> T:
        with self._track("update"):
            return await self._inner.update(obj, subresource=subresource)

    async def patch(
        self,
        cls: type[T],
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "strategic",
        subresource: str = "",
    ) -> T:
        with self._track("patch"):
            return await self._inner.patch(
                cls,
                name,
                patch,
                namespace=namespace,
                patch_type=patch_type,
                subresource=subresource,
            )

    async def delete(
        self,
        cls: type[T],
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
    ) -> T:
        with self._track("delete"):
            return await self._inner.delete(
                cls,
                name,
                namespace=namespace,
                propagation_policy=propagation_policy,
                preconditions=preconditions,
            )

    def watch(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        allow_bookmarks: bool = True,
        timeout_seconds: int = 0,
    ) -> AsyncIterator[WatchEvent[T]]:
        return self._inner.watch(
            cls,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            allow_bookmarks=allow_bookmarks,
            timeout_seconds=timeout_seconds,
        )

    async def close(self) -> None:
        await self._inner.close()


@attrs.define
class Candidate:
    identity: str
    elector: LeaderElector
    client: TrackedClient
    task: asyncio.Task[None] | None = None
    #: [started, stopped] leading, on the election clock (stopped is inf while leading).
    intervals: list[list[float]] = attrs.Factory(list)
    stopped_calls: list[float] = attrs.Factory(list)
    new_leaders: list[str] = attrs.Factory(list)

    @property
    def leading(self) -> bool:
        return bool(self.intervals) and self.intervals[-1][1] == math.inf

    async def kill(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.wait({self.task})


class Harness:
    def __init__(self, server: APIServer, kind: str) -> None:
        self.server = server
        self.kind = kind
        self.clock = FakeClock(wall_start=WALL_START)
        self.inflight = 0
        self.candidates: list[Candidate] = []
        self._clients: list[Client] = []
        self._rng = random.Random(7)

    def client(self) -> Client:
        inner: Client = (
            InProcessClient(self.server)
            if self.kind == "inprocess"
            else HttpClient(self.server.url)
        )
        self._clients.append(inner)
        return inner

    def candidate(self, identity: str, *, release_on_cancel: bool = True) -> Candidate:
        client = TrackedClient(self.client(), self)
        config = LeaderElectionConfig(
            name=NAME,
            namespace=NAMESPACE,
            identity=identity,
            lease_duration=LEASE_DURATION,
            renew_deadline=RENEW_DEADLINE,
            retry_period=RETRY_PERIOD,
            release_on_cancel=release_on_cancel,
        )
        elector = LeaderElector(
            client, config, clock=self.clock, rng=random.Random(self._rng.random())
        )
        candidate = Candidate(identity, elector, client)
        self.candidates.append(candidate)
        return candidate

    def start(self, identity: str, *, release_on_cancel: bool = True) -> Candidate:
        candidate = self.candidate(identity, release_on_cancel=release_on_cancel)
        clock = self.clock

        async def lead() -> None:
            candidate.intervals.append([clock.now(), math.inf])
            try:
                await asyncio.Event().wait()
            finally:
                candidate.intervals[-1][1] = clock.now()

        def stopped() -> None:
            candidate.stopped_calls.append(clock.now())

        candidate.task = asyncio.create_task(
            candidate.elector.run(lead, stopped, candidate.new_leaders.append)
        )
        return candidate

    async def settle(self) -> None:
        """Return once no API call is in flight and the loop has run idle for a while."""
        quiet = 0
        while quiet < 20:
            await asyncio.sleep(0 if self.inflight == 0 else 0.0005)
            quiet = quiet + 1 if self.inflight == 0 else 0

    async def run_until(self, until: float) -> None:
        """Move the clock to ``until``, waking each sleeper in turn and letting it act."""
        while True:
            await self.settle()
            due = self.clock.next_deadline()
            if due is None or due > until:
                self.clock.advance(max(0.0, until - self.clock.now()))
                await self.settle()
                return
            self.clock.advance(max(0.0, due - self.clock.now()))

    async def lease(self) -> models.Lease:
        return await self._clients[0].get(models.Lease, NAME, namespace=NAMESPACE)

    def assert_mutual_exclusion(self) -> list[tuple[float, float, str]]:
        """No two candidates ever led at once; the leading periods, in order."""
        periods = sorted(
            (start, end, c.identity) for c in self.candidates for start, end in c.intervals
        )
        for (_, end, who), (start, _, next_who) in itertools.pairwise(periods):
            assert start >= end, f"{next_who} started leading at {start}, {who} led until {end}"
        return periods

    async def close(self) -> None:
        tasks = [c.task for c in self.candidates if c.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in self._clients:
            await client.close()


def run(scenario: Callable[[Harness], Awaitable[None]], kind: str = "inprocess") -> None:
    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.start("127.0.0.1", 0)
        harness = Harness(server, kind)
        try:
            await asyncio.wait_for(scenario(harness), 10)
        finally:
            await harness.close()
            await server.stop()
            await server.store.close()

    asyncio.run(main())


def wall(at: float) -> dt.datetime:
    return WALL_START + dt.timedelta(seconds=at)


def test_config_validation() -> None:
    def config(
        lease_duration: float = 15.0, renew_deadline: float = 10.0, retry_period: float = 2.0
    ) -> LeaderElectionConfig:
        return LeaderElectionConfig(
            name="l",
            namespace="ns",
            identity="me",
            lease_duration=lease_duration,
            renew_deadline=renew_deadline,
            retry_period=retry_period,
        )

    defaults = LeaderElectionConfig(name="l", namespace="ns", identity="me")
    assert (defaults.lease_duration, defaults.renew_deadline, defaults.retry_period) == (
        15.0,
        10.0,
        2.0,
    )
    assert defaults.release_on_cancel
    with pytest.raises(ValueError, match="lease_duration must be greater than renew_deadline"):
        config(lease_duration=10.0)
    with pytest.raises(ValueError, match="retry_period\\*JITTER_FACTOR"):
        config(retry_period=10 / JITTER_FACTOR)
    with pytest.raises(ValueError, match="greater than zero"):
        config(retry_period=0.0)
    with pytest.raises(ValueError, match="must not be empty"):
        LeaderElectionConfig(name="l", namespace="ns", identity="")
    assert config(lease_duration=10.5).lease_duration_seconds == 11


def test_single_candidate_leads_and_renews() -> None:
    async def scenario(h: Harness) -> None:
        a = h.start("a")
        await h.run_until(0)
        assert a.intervals == [[0.0, math.inf]]
        assert a.elector.is_leader() and a.elector.leader() == "a"
        assert a.new_leaders == ["a"]
        first = await h.lease()
        assert first.spec == models.LeaseSpec(
            holder_identity="a",
            lease_duration_seconds=15,
            acquire_time=MicroTime(wall(0)),
            renew_time=MicroTime(wall(0)),
            lease_transitions=0,
        )

        # As upstream, the first renewal follows the acquisition at once.
        assert a.client.calls == ["get", "create", "update"]
        await h.run_until(5)
        assert a.client.calls[3:] == ["update", "update"]  # renewing: no read, only a write
        renewed = await h.lease()
        assert renewed.spec is not None and first.spec is not None
        assert renewed.spec.renew_time == wall(4)  # renewed at 2 and 4
        assert renewed.spec.acquire_time == wall(0)
        assert renewed.spec.lease_transitions == 0
        assert renewed.metadata and first.metadata
        assert int(renewed.metadata.resource_version or 0) > int(
            first.metadata.resource_version or 0
        )
        await h.run_until(60)
        assert a.intervals == [[0.0, math.inf]] and a.stopped_calls == []

        await a.kill()  # release_on_cancel: the holder is cleared
        assert a.intervals == [[0.0, 60.0]] and a.stopped_calls == [60.0]
        released = await h.lease()
        assert released.spec is not None
        assert (released.spec.holder_identity, released.spec.lease_duration_seconds) == ("", 1)
        assert released.spec.lease_transitions == 0
        assert not a.elector.is_leader() and a.new_leaders == ["a", ""]

    run(scenario)


def two_candidates(kind: str) -> None:
    async def scenario(h: Harness) -> None:
        # Both start at once: both find no Lease, both create it, one create fails with 409.
        a, b = h.start("a"), h.start("b")
        await h.run_until(30)
        leader, other = (a, b) if a.leading else (b, a)
        assert leader.leading and not other.intervals
        assert other.elector.leader() == leader.identity and not other.elector.is_leader()
        assert other.new_leaders == [leader.identity]

        # Hand over back and forth: the leader steps down (releasing) and comes back.
        now = 30.0
        for _ in range(3):
            await leader.kill()
            await h.run_until(now + MAX_RETRY_WAIT)
            assert other.leading
            now += 30
            leader = h.start(leader.identity)
            await h.run_until(now)
            assert not leader.intervals
            leader, other = other, leader
        periods = h.assert_mutual_exclusion()
        assert [who for _, _, who in periods] == [a.identity, b.identity] * 2
        lease = await h.lease()
        assert lease.spec is not None and lease.spec.lease_transitions == 3

    run(scenario, kind)


def test_two_candidates_one_leader_at_a_time() -> None:
    two_candidates("inprocess")


def test_two_candidates_one_leader_at_a_time_over_http() -> None:
    two_candidates("http")


def test_killed_leader_is_taken_over_after_lease_duration() -> None:
    async def scenario(h: Harness) -> None:
        a = h.start("a", release_on_cancel=False)
        await h.run_until(1)
        b = h.start("b")
        await h.run_until(10)
        assert a.leading and not b.intervals
        await a.kill()  # at 10, right after a renewal; the Lease still names a
        assert a.stopped_calls == [10.0]
        lease = await h.lease()
        assert lease.spec is not None and lease.spec.holder_identity == "a"

        await h.run_until(10 + LEASE_DURATION)
        assert not b.intervals  # b counts from when it saw the last renewal, at 10 or later
        await h.run_until(10 + LEASE_DURATION + 2 * MAX_RETRY_WAIT)
        assert b.leading
        took_over = b.intervals[0][0]
        assert 10 + LEASE_DURATION <= took_over <= 10 + LEASE_DURATION + 2 * MAX_RETRY_WAIT
        lease = await h.lease()
        assert lease.spec is not None
        assert (lease.spec.holder_identity, lease.spec.lease_transitions) == ("b", 1)
        assert lease.spec.acquire_time == wall(took_over)
        assert b.new_leaders == ["a", "b"]
        h.assert_mutual_exclusion()

    run(scenario)


def test_release_on_cancel_hands_over_at_once() -> None:
    async def scenario(h: Harness) -> None:
        a = h.start("a")
        await h.run_until(1)
        b = h.start("b")
        await h.run_until(10)
        await a.kill()
        lease = await h.lease()
        assert lease.spec is not None
        assert (lease.spec.holder_identity, lease.spec.lease_duration_seconds) == ("", 1)
        await h.run_until(10 + MAX_RETRY_WAIT)
        assert b.leading and b.intervals[0][0] <= 10 + MAX_RETRY_WAIT
        lease = await h.lease()
        assert lease.spec is not None
        assert (lease.spec.holder_identity, lease.spec.lease_transitions) == ("b", 1)
        assert lease.spec.lease_duration_seconds == 15
        assert b.new_leaders == ["a", "b"]  # it saw the empty holder and took it in one try
        h.assert_mutual_exclusion()

    run(scenario)


def test_stale_holder_is_taken_over() -> None:
    async def scenario(h: Harness) -> None:
        # Its renewTime is a day old, but a candidate trusts only its own clock: it waits a
        # full leaseDurationSeconds from when it first saw the record.
        stale = WALL_START - dt.timedelta(days=1)
        await h.client().create(
            models.Lease(
                metadata=models.ObjectMeta(name=NAME, namespace=NAMESPACE),
                spec=models.LeaseSpec(
                    holder_identity="ghost",
                    lease_duration_seconds=15,
                    acquire_time=MicroTime(stale),
                    renew_time=MicroTime(stale),
                    lease_transitions=3,
                ),
            )
        )
        a = h.start("a")
        await h.run_until(14.9)
        assert not a.intervals and a.elector.leader() == "ghost"
        await h.run_until(15 + MAX_RETRY_WAIT)
        assert a.leading and 15 <= a.intervals[0][0] <= 15 + MAX_RETRY_WAIT
        lease = await h.lease()
        assert lease.spec is not None
        assert (lease.spec.holder_identity, lease.spec.lease_transitions) == ("a", 4)
        assert lease.spec.acquire_time == wall(a.intervals[0][0])
        assert a.new_leaders == ["ghost", "a"]

    run(scenario)


def test_renewal_failure_stops_leading_within_renew_deadline() -> None:
    async def scenario(h: Harness) -> None:
        a = h.start("a")
        await h.run_until(1)
        b = h.start("b")
        await h.run_until(20)  # a renewed at 20
        assert a.leading
        a.client.failing = True
        await h.run_until(20 + RETRY_PERIOD + RENEW_DEADLINE - 0.1)
        assert a.leading  # still within the deadline of the round that started at 22
        await h.run_until(20 + RETRY_PERIOD + RENEW_DEADLINE)
        assert a.intervals == [[0.0, 32.0]] and a.stopped_calls == [32.0]
        assert a.task is not None and a.task.done() and a.task.exception() is None
        assert not b.intervals  # a's release failed too, so b waits out the lease
        await h.run_until(20 + LEASE_DURATION + MAX_RETRY_WAIT * 2)
        assert b.leading and b.intervals[0][0] >= 20 + LEASE_DURATION
        h.assert_mutual_exclusion()

    run(scenario)


def test_leading_task_failure_ends_leadership() -> None:
    async def scenario(h: Harness) -> None:
        c = h.candidate("a")
        stopped: list[float] = []

        async def lead() -> None:
            await h.clock.sleep(5)
            raise RuntimeError("controller crashed")

        task = asyncio.create_task(c.elector.run(lead, lambda: stopped.append(h.clock.now())))
        await h.run_until(10)
        assert task.done() and stopped == [5.0]
        with pytest.raises(RuntimeError, match="controller crashed"):
            task.result()
        lease = await h.lease()
        assert lease.spec is not None and lease.spec.holder_identity == ""

    run(scenario)


def test_real_clock() -> None:
    """The default clock: acquire at once, renew, release on cancel (about 0.3 s)."""

    async def scenario(h: Harness) -> None:
        config = LeaderElectionConfig(
            name=NAME,
            namespace=NAMESPACE,
            identity="a",
            lease_duration=0.5,
            renew_deadline=0.3,
            retry_period=0.1,
        )
        elector = LeaderElector(h.client(), config)
        started, stopped = asyncio.Event(), asyncio.Event()

        async def lead() -> None:
            started.set()
            await asyncio.Event().wait()

        task = asyncio.create_task(elector.run(lead, stopped.set))
        await asyncio.wait_for(started.wait(), 2)
        first = await h.lease()
        await asyncio.sleep(0.25)
        renewed = await h.lease()
        assert first.spec is not None and renewed.spec is not None
        assert renewed.spec.lease_duration_seconds == 1  # whole seconds, rounded up
        assert first.spec.renew_time and renewed.spec.renew_time
        assert renewed.spec.renew_time > first.spec.renew_time
        task.cancel()
        await asyncio.wait({task})
        assert stopped.is_set()
        released = await h.lease()
        assert released.spec is not None
        assert (released.spec.holder_identity, released.spec.lease_duration_seconds) == ("", 1)

    run(scenario)
