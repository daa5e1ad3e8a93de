"""The Store conformance suite: run it against any backend, kframe's or a third party's.

Subclass :class:`StoreConformance` in a test module and give it a ``store_factory`` fixture: an
async callable that opens a fresh, empty store (for a shared server, an empty key prefix).
For the state machine, ``TestMyStore = store_state_machine(factory).TestCase``::

    import pytest
    from kframe.testing.store import StoreConformance, store_state_machine

    async def open_mine():
        return await open_store("mine://...")

    class TestMine(StoreConformance):
        @pytest.fixture
        def store_factory(self):
            return open_mine

    TestMineStateMachine = store_state_machine(open_mine).TestCase

Revisions are checked relative to where a store starts, so a backend on a shared server (etcd,
whose revision is cluster-wide) passes too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from kframe.store import (
    CompactedError,
    ConflictError,
    Event,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    LeaseNotFoundError,
    Store,
    Watch,
)
from kframe.testing._store_machine import store_state_machine, take_events

__all__ = ["StoreConformance", "StoreFactory", "collect", "store_state_machine"]

T = TypeVar("T")
StoreFactory = Callable[[], Awaitable[Store]]


def _run(factory: StoreFactory, body: Callable[[Store], Coroutine[Any, Any, T]]) -> T:
    async def main() -> T:
        store = await factory()
        try:
            return await asyncio.wait_for(body(store), timeout=60)
        finally:
            await store.close()

    return asyncio.run(main())


async def collect(watch: Watch, n: int, timeout: float = 10.0) -> list[Event]:
    """The next ``n`` events of ``watch`` (fails the test if they do not come in time)."""
    events = await take_events(watch, n, timeout)
    if len(events) < n:
        pytest.fail(f"watch delivered {len(events)} of {n} events in {timeout}s: {events}")
    return events


async def _no_more(watch: Watch, wait: float = 0.3) -> list[Event]:
    return await take_events(watch, None, wait)


class StoreConformance:
    """Unit cases every Store backend must pass. Needs a ``store_factory`` fixture."""

    # -- revisions and basic operations ---------------------------------------------------------

    def test_each_write_adds_one_revision(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            r0 = await s.revision()
            assert r0 >= 1
            kv = await s.create("/a", b"1")
            assert (kv.create_revision, kv.mod_revision, kv.version) == (r0 + 1, r0 + 1, 1)
            kv2 = await s.update("/a", b"2", expected_revision=kv.mod_revision)
            assert (kv2.create_revision, kv2.mod_revision, kv2.version) == (r0 + 1, r0 + 2, 2)
            deleted = await s.delete("/a")
            assert deleted == kv2
            assert await s.revision() == r0 + 3
            again = await s.create("/a", b"3")
            assert (again.create_revision, again.version) == (r0 + 4, 1)

        _run(store_factory, body)

    def test_get_now_and_in_the_past(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            assert await s.get("/missing") is None
            kv1 = await s.create("/k", b"v1")
            kv2 = await s.update("/k", b"v2", expected_revision=kv1.mod_revision)
            await s.delete("/k")
            assert await s.get("/k") is None
            assert await s.get("/k", revision=kv1.mod_revision) == kv1
            assert await s.get("/k", revision=kv2.mod_revision) == kv2
            assert await s.get("/k", revision=kv1.mod_revision - 1) is None
            with pytest.raises(FutureRevisionError):
                await s.get("/k", revision=await s.revision() + 10)

        _run(store_factory, body)

    def test_values_are_bytes_and_keep_every_byte(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            blob = bytes(range(256)) * 40
            await s.create("/bin", blob)
            got = await s.get("/bin")
            assert got is not None and got.value == blob
            await s.create("/empty", b"")
            empty = await s.get("/empty")
            assert empty is not None and empty.value == b""

        _run(store_factory, body)

    def test_create_existing_key_fails_and_changes_nothing(
        self, store_factory: StoreFactory
    ) -> None:
        async def body(s: Store) -> None:
            await s.create("/x", b"1")
            rev = await s.revision()
            with pytest.raises(KeyExistsError):
                await s.create("/x", b"2")
            assert await s.revision() == rev
            got = await s.get("/x")
            assert got is not None and got.value == b"1"

        _run(store_factory, body)

    def test_stale_update_and_delete_conflict_with_current_value(
        self, store_factory: StoreFactory
    ) -> None:
        async def body(s: Store) -> None:
            kv1 = await s.create("/c", b"1")
            kv2 = await s.update("/c", b"2", expected_revision=kv1.mod_revision)
            rev = await s.revision()
            with pytest.raises(ConflictError) as info:
                await s.update("/c", b"3", expected_revision=kv1.mod_revision)
            assert info.value.current == kv2
            with pytest.raises(ConflictError) as info2:
                await s.delete("/c", expected_revision=kv1.mod_revision)
            assert info2.value.current == kv2
            assert await s.revision() == rev

        _run(store_factory, body)

    def test_update_or_delete_missing_key(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            with pytest.raises(KeyNotFoundError):
                await s.update("/nope", b"x", expected_revision=1)
            with pytest.raises(KeyNotFoundError):
                await s.delete("/nope")

        _run(store_factory, body)

    def test_one_of_two_racing_writers_wins(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            kv = await s.create("/race", b"0")
            results = await asyncio.gather(
                *(
                    s.update("/race", str(i).encode(), expected_revision=kv.mod_revision)
                    for i in range(2)
                ),
                return_exceptions=True,
            )
            wins = [r for r in results if not isinstance(r, BaseException)]
            losses = [r for r in results if isinstance(r, ConflictError)]
            assert len(wins) == 1 and len(losses) == 1
            assert losses[0].current == wins[0]
            creates = await asyncio.gather(
                s.create("/new", b"a"), s.create("/new", b"b"), return_exceptions=True
            )
            assert sum(isinstance(r, KeyExistsError) for r in creates) == 1

        _run(store_factory, body)

    # -- lists ----------------------------------------------------------------------------------

    def test_list_prefix_in_key_order(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            for key in ["/p/b", "/p/a", "/q/a", "/p/c", "/pa"]:
                await s.create(key, key.encode())
            page = await s.list("/p/")
            assert [kv.key for kv in page.items] == ["/p/a", "/p/b", "/p/c"]
            assert page.revision == await s.revision() and not page.more
            assert await s.count("/p/") == 3
            assert await s.count("/zzz/") == 0
            assert (await s.list("/zzz/")).items == ()

        _run(store_factory, body)

    def test_paginated_list_is_consistent_at_the_first_page_revision(
        self, store_factory: StoreFactory
    ) -> None:
        async def body(s: Store) -> None:
            for i in range(7):
                await s.create(f"/pg/{i}", b"v")
            first = await s.list("/pg/", limit=3)
            assert [kv.key for kv in first.items] == ["/pg/0", "/pg/1", "/pg/2"] and first.more
            # Writes after the first page must not show in the later pages.
            await s.delete("/pg/4")
            await s.create("/pg/45", b"new")
            keys = [kv.key for kv in first.items]
            page = first
            while page.more:
                page = await s.list(
                    "/pg/", limit=3, start=page.items[-1].key + "\x00", revision=first.revision
                )
                assert page.revision == first.revision
                keys += [kv.key for kv in page.items]
            assert keys == [f"/pg/{i}" for i in range(7)]

        _run(store_factory, body)

    def test_list_at_a_past_revision(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            a = await s.create("/h/a", b"1")
            await s.create("/h/b", b"1")
            await s.update("/h/a", b"2", expected_revision=a.mod_revision)
            await s.delete("/h/b")
            old = await s.list("/h/", revision=a.mod_revision + 1)
            assert [(kv.key, kv.value) for kv in old.items] == [("/h/a", b"1"), ("/h/b", b"1")]

        _run(store_factory, body)

    # -- watches --------------------------------------------------------------------------------

    def test_watch_sees_every_change_once_in_order_with_previous_values(
        self, store_factory: StoreFactory
    ) -> None:
        async def body(s: Store) -> None:
            watch = s.watch("/w/")
            kv = await s.create("/w/a", b"1")
            await s.create("/other", b"x")
            kv2 = await s.update("/w/a", b"2", expected_revision=kv.mod_revision)
            await s.delete("/w/a")
            events = await collect(watch, 3)
            assert [e.type for e in events] == ["PUT", "PUT", "DELETE"]
            assert events[0].kv == kv and events[0].prev_kv is None and events[0].is_create
            assert events[1].kv == kv2 and events[1].prev_kv == kv
            assert events[2].prev_kv == kv2 and events[2].kv.key == "/w/a"
            assert events[2].revision == kv2.mod_revision + 1
            assert await _no_more(watch) == []
            await watch.close()

        _run(store_factory, body)

    def test_watch_from_a_past_revision_replays_then_follows(
        self, store_factory: StoreFactory
    ) -> None:
        async def body(s: Store) -> None:
            first = await s.create("/r/a", b"1")
            await s.create("/r/b", b"1")
            watch = s.watch("/r/", start_revision=first.mod_revision + 1)
            await s.create("/r/c", b"1")
            events = await collect(watch, 2)
            assert [e.kv.key for e in events] == ["/r/b", "/r/c"]
            await watch.close()

        _run(store_factory, body)

    def test_many_watchers_each_see_everything(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            watches = [s.watch("/m/") for _ in range(10)]
            for i in range(20):
                await s.create(f"/m/{i:02}", b"v")
            for watch in watches:
                events = await collect(watch, 20)
                assert [e.kv.key for e in events] == [f"/m/{i:02}" for i in range(20)]
                await watch.close()

        _run(store_factory, body)

    def test_closed_watch_ends(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            watch = s.watch("/z/")
            await watch.close()
            assert await _no_more(watch, 1.0) == []

        _run(store_factory, body)

    # -- compaction -----------------------------------------------------------------------------

    def test_compaction(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            kv = await s.create("/k", b"1")
            kv2 = await s.update("/k", b"2", expected_revision=kv.mod_revision)
            await s.create("/gone", b"1")
            await s.delete("/gone")
            at = await s.revision()
            await s.update("/k", b"3", expected_revision=kv2.mod_revision)
            await s.compact(at)
            with pytest.raises(CompactedError):
                await s.get("/k", revision=kv.mod_revision)
            with pytest.raises(CompactedError):
                await s.list("/", revision=at - 1)
            got = await s.get("/k", revision=at)
            assert got is not None and got.value == b"2"
            assert await s.get("/gone", revision=at) is None
            watch = s.watch("/", start_revision=kv.mod_revision)
            with pytest.raises(CompactedError):
                await collect(watch, 1)
            follow = s.watch("/", start_revision=at + 1)
            events = await collect(follow, 1)
            assert events[0].kv.value == b"3"
            await follow.close()

        _run(store_factory, body)

    # -- leases ---------------------------------------------------------------------------------

    def test_revoking_a_lease_deletes_its_keys(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            lease = await s.grant_lease(60)
            await s.create("/l/a", b"1", lease=lease.id)
            await s.create("/l/b", b"1", lease=lease.id)
            await s.create("/l/c", b"1")
            watch = s.watch("/l/")
            before = await s.revision()
            assert await s.keep_alive(lease.id) >= 60
            await s.revoke_lease(lease.id)
            events = await collect(watch, 2)
            assert {(e.type, e.kv.key) for e in events} == {("DELETE", "/l/a"), ("DELETE", "/l/b")}
            assert [kv.key for kv in (await s.list("/l/")).items] == ["/l/c"]
            # As etcd: the keys of one lease go in one transaction, one revision.
            assert await s.revision() == before + 1
            with pytest.raises(LeaseNotFoundError):
                await s.keep_alive(lease.id)
            with pytest.raises(LeaseNotFoundError):
                await s.revoke_lease(lease.id)
            await watch.close()

        _run(store_factory, body)

    def test_expired_lease_deletes_its_keys(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            lease = await s.grant_lease(1)
            await s.create("/e/a", b"1", lease=lease.id)
            watch = s.watch("/e/")
            # etcd rounds short TTLs up to its minimum (about 2 s); allow for that.
            events = await collect(watch, 1, timeout=15)
            assert events[0].type == "DELETE" and events[0].kv.key == "/e/a"
            await watch.close()

        _run(store_factory, body)

    def test_writing_with_an_unknown_lease_fails(self, store_factory: StoreFactory) -> None:
        async def body(s: Store) -> None:
            rev = await s.revision()
            with pytest.raises(LeaseNotFoundError):
                await s.create("/nl", b"1", lease=987654321)
            assert await s.revision() == rev and await s.get("/nl") is None

        _run(store_factory, body)
