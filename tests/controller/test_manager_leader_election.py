"""The controller manager behind leader election: one of several managers on one API server runs
controllers; another takes over when the leader stops or loses its lease.

Timings are shortened (a 2 s lease) so takeovers happen in seconds; every wait is a poll
with a generous timeout, never a timed assertion.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from kframe.api.models import ConfigMap, Lease, ObjectMeta
from kframe.apiserver import APIError, APIServer
from kframe.client import Client, InProcessClient
from kframe.controller import (
    LEASE_NAME,
    LEASE_NAMESPACE,
    ControllerContext,
    ControllerManager,
    ControllerSpec,
    LeaderElection,
    LeadershipLost,
    Result,
    default_identity,
    done,
)
from kframe.store import open_store
from kframe.testing.controllers import wait_for
from tests.controller.asyncrun import sync

FAST = {"lease_duration": 2.0, "renew_deadline": 1.2, "retry_period": 0.25}


class FlakyClient:
    """The in-process client, whose Lease calls fail with 503 while ``failing``."""

    def __init__(self, inner: Client) -> None:
        self._inner = inner
        self.failing = False

    def _check(self, what: Any) -> None:
        if self.failing and (what is Lease or isinstance(what, Lease)):
            raise APIError(503, "ServiceUnavailable", "injected failure")

    async def get(self, cls: type[Any], name: str, **kw: Any) -> Any:
        self._check(cls)
        return await self._inner.get(cls, name, **kw)

    async def create(self, obj: Any, **kw: Any) -> Any:
        self._check(obj)
        return await self._inner.create(obj, **kw)

    async def update(self, obj: Any, **kw: Any) -> Any:
        self._check(obj)
        return await self._inner.update(obj, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Seen:
    """A controller that notes which manager reconciled each ConfigMap key."""

    def __init__(self, who: str, log: list[tuple[str, str]]) -> None:
        self.who = who
        self.log = log

    def spec(self) -> ControllerSpec:
        def build(ctx: ControllerContext) -> Seen:
            ctx.watch(ConfigMap)
            return self

        return ControllerSpec(build)

    async def reconcile(self, key: str) -> Result | None:
        self.log.append((self.who, key))
        return done()


@contextlib.asynccontextmanager
async def api_server() -> AsyncIterator[APIServer]:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    try:
        yield server
    finally:
        await server.store.close()


def manager(
    server: APIServer, who: str, log: list[tuple[str, str]], **election: Any
) -> tuple[ControllerManager, FlakyClient]:
    client = FlakyClient(InProcessClient(server))
    mgr = ControllerManager(
        cast(Client, client),
        {"seen": Seen(who, log).spec()},
        leader_election=LeaderElection(identity=who, **{**FAST, **election}),
    )
    return mgr, client


async def holder(server: APIServer) -> str:
    lease = await InProcessClient(server).get(Lease, LEASE_NAME, namespace=LEASE_NAMESPACE)
    return (lease.spec.holder_identity if lease.spec else None) or ""


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, LeadershipLost):
        await task


def test_defaults_are_upstreams() -> None:
    election = LeaderElection()
    assert (election.lease_duration, election.renew_deadline, election.retry_period) == (
        15.0,
        10.0,
        2.0,
    )
    assert (election.name, election.namespace) == ("kube-controller-manager", "kube-system")
    host, _, uid = default_identity().rpartition("_")
    assert host and len(uid) == 36 and default_identity() != default_identity()


@sync
async def test_one_leader_runs_controllers_and_another_takes_over_when_it_stops() -> None:
    async with api_server() as server:
        log: list[tuple[str, str]] = []
        a, _ = manager(server, "a", log)
        b, _ = manager(server, "b", log)
        tasks = {"a": asyncio.ensure_future(a.run()), "b": asyncio.ensure_future(b.run())}
        try:
            managers = {"a": a, "b": b}
            await wait_for(lambda: a.synced.is_set() or b.synced.is_set(), what="a leader")
            first = "a" if a.leading.is_set() else "b"
            other = "b" if first == "a" else "a"
            assert not managers[other].leading.is_set()
            assert await holder(server) == first
            client = InProcessClient(server)
            await client.create(ConfigMap(metadata=ObjectMeta(name="one", namespace="default")))
            await wait_for(lambda: (first, "default/one") in log, what="the leader reconciles")

            await stop(tasks[first])  # a clean stop releases the lease
            await wait_for(lambda: managers[other].synced.is_set(), what="the takeover")
            assert await holder(server) == other
            await client.create(ConfigMap(metadata=ObjectMeta(name="two", namespace="default")))
            await wait_for(lambda: (other, "default/two") in log, what="the new leader works")
            # The new leader lists everything afresh, including what the old one reconciled.
            await wait_for(lambda: (other, "default/one") in log, what="a fresh list")
            assert (first, "default/two") not in log
        finally:
            for task in tasks.values():
                await stop(task)


@sync
async def test_a_crashed_leader_is_replaced_after_the_lease_duration() -> None:
    async with api_server() as server:
        log: list[tuple[str, str]] = []
        a, _ = manager(server, "a", log, release_on_cancel=False)
        ta = asyncio.ensure_future(a.run())
        await wait_for(a.synced.is_set, what="a leads")
        await stop(ta)  # not released: b must wait the lease out
        assert await holder(server) == "a"
        b, _ = manager(server, "b", log)
        tb = asyncio.ensure_future(b.run())
        try:
            await wait_for(b.synced.is_set, what="b takes over")
            assert await holder(server) == "b"
        finally:
            await stop(tb)


@sync
async def test_a_leader_that_cannot_renew_stops_its_controllers_and_raises() -> None:
    async with api_server() as server:
        log: list[tuple[str, str]] = []
        a, flaky = manager(server, "a", log)
        ta = asyncio.ensure_future(a.run())
        await wait_for(a.synced.is_set, what="a leads")
        b, _ = manager(server, "b", log)
        tb = asyncio.ensure_future(b.run())
        try:
            queue = a.contexts["seen"].queue
            flaky.failing = True
            with pytest.raises(LeadershipLost, match="kube-system/kube-controller-manager"):
                await asyncio.wait_for(ta, 30)
            assert not a.leading.is_set() and queue.shutting_down
            await wait_for(b.synced.is_set, what="b takes over")
            assert await holder(server) == "b"
        finally:
            await stop(ta)
            await stop(tb)


@sync
async def test_recampaign_builds_the_controllers_afresh_on_the_next_term() -> None:
    async with api_server() as server:
        log: list[tuple[str, str]] = []
        a, flaky = manager(server, "a", log, recampaign=True)
        ta = asyncio.ensure_future(a.run())
        try:
            await wait_for(a.synced.is_set, what="a leads")
            first_queue = a.contexts["seen"].queue
            flaky.failing = True
            await wait_for(lambda: first_queue.shutting_down, what="a stops leading")
            flaky.failing = False
            await wait_for(
                lambda: a.synced.is_set() and a.contexts["seen"].queue is not first_queue,
                what="a leads again",
            )
            assert not ta.done()
        finally:
            await stop(ta)


@sync
async def test_without_leader_election_the_controllers_start_at_once() -> None:
    async with api_server() as server:
        log: list[tuple[str, str]] = []
        mgr = ControllerManager(
            InProcessClient(server),
            {"seen": Seen("x", log).spec()},
            leader_election=LeaderElection(enabled=False),
        )
        task = asyncio.ensure_future(mgr.run())
        try:
            await wait_for(mgr.synced.is_set, what="running")
            assert mgr.elector is None
            with pytest.raises(APIError):
                await holder(server)
        finally:
            await stop(task)
