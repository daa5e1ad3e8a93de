"""The SQLite backend: the Store conformance suite, plus what only a file-backed store has.

URLs, reopening (revisions, history, leases persist), the single-writer lock, refusing corrupt
or foreign files with one clear line, listing at scale, and compaction bounding the file size.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kframe.store import (
    CompactedError,
    Store,
    StoreUnavailableError,
    StoreURLError,
    open_store,
)
from kframe.testing.store import StoreConformance, StoreFactory, collect, store_state_machine

T = TypeVar("T")

# The state machine's factory takes no arguments and runs once per example, so its files go
# in one directory for the session, removed when the interpreter exits.
_SESSION_DIR = tempfile.mkdtemp(prefix="kframe-sqlite-test-")
atexit.register(shutil.rmtree, _SESSION_DIR, ignore_errors=True)
_counter = itertools.count()


async def open_fresh_sqlite() -> Store:
    return await open_store(f"sqlite://{_SESSION_DIR}/{next(_counter)}/state.db")


class TestSQLiteConformance(StoreConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        async def factory() -> Store:
            return await open_store(f"sqlite://{tmp_path}/{next(counter)}.db")

        return factory


TestSQLiteStateMachine = store_state_machine(open_fresh_sqlite).TestCase


def run(body: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(asyncio.wait_for(body(), 60))


def test_is_a_store(tmp_path: Path) -> None:
    async def body() -> None:
        store = await open_store(f"sqlite://{tmp_path}/a.db")
        assert isinstance(store, Store)
        assert type(store).__module__ == "kframe_plugins.store.sqlite._store"
        await store.close()

    run(body)


# -- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://relative.db", "needs an absolute path after three slashes"),
        ("sqlite://./state.db", "needs an absolute path after three slashes"),
        ("sqlite://host/abs.db", "needs an absolute path after three slashes"),
        ("sqlite://", "names no absolute database file"),
        ("sqlite:///", "names no absolute database file"),
        ("sqlite:///tmp/dir/", "names no absolute database file"),
        ("sqlite:///tmp/x.db?cache=big", r"unknown options \['cache'\]"),
        ("sqlite:///tmp/x.db?durability=none", "durability must be 'full' or 'relaxed'"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StoreURLError, match=message):
        run(lambda: open_store(url))


def test_creates_the_parent_directory_and_accepts_relaxed_durability(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.db"

    async def body() -> None:
        store = await open_store(f"sqlite://{path}?durability=relaxed")
        await store.create("/k", b"v")
        await store.close()

    run(body)
    assert path.exists() and Path(f"{path}.lock").exists()


# -- persistence ----------------------------------------------------------------------------------


def test_reopen_keeps_revisions_history_compaction_and_leases(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/state.db"

    async def first() -> tuple[int, int, int]:
        store = await open_store(url)
        assert await store.revision() == 1
        kv = await store.create("/a", b"1")
        await store.update("/a", b"2", expected_revision=kv.mod_revision)
        lease = await store.grant_lease(600)
        await store.create("/leased", b"x", lease=lease.id)
        await store.create("/gone", b"x")
        await store.delete("/gone")
        await store.compact(kv.mod_revision + 1)
        rev = await store.revision()
        await store.close()
        return rev, kv.mod_revision + 1, lease.id

    rev, compacted, lease_id = run(first)

    async def second() -> None:
        store = await open_store(url)
        assert await store.revision() == rev
        got = await store.get("/a", revision=compacted)
        assert got is not None and got.value == b"2" and got.version == 2
        with pytest.raises(CompactedError):
            await store.get("/a", revision=compacted - 1)
        assert [kv.key for kv in (await store.list("/")).items] == ["/a", "/leased"]
        assert await store.keep_alive(lease_id) == 600
        watch = store.watch("/", start_revision=compacted + 1)
        new = await store.create("/b", b"1")
        assert new.mod_revision == rev + 1
        events = await collect(watch, 4)
        assert [(e.type, e.kv.key, e.revision) for e in events] == [
            ("PUT", "/leased", compacted + 1),
            ("PUT", "/gone", compacted + 2),
            ("DELETE", "/gone", compacted + 3),
            ("PUT", "/b", rev + 1),
        ]
        assert events[2].prev_kv is not None and events[2].prev_kv.value == b"x"
        await store.revoke_lease(lease_id)
        assert await store.get("/leased") is None
        second_lease = await store.grant_lease(5)
        assert second_lease.id != lease_id
        await watch.close()
        await store.close()

    run(second)


def test_a_lease_expires_after_reopen(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/state.db"

    async def first() -> None:
        store = await open_store(url)
        lease = await store.grant_lease(1)
        await store.create("/e/a", b"1", lease=lease.id)
        await store.create("/e/b", b"1", lease=lease.id)
        await store.close()

    async def second() -> None:
        store = await open_store(url)
        before = await store.revision()
        watch = store.watch("/e/")
        events = await collect(watch, 2, timeout=15)
        assert {(e.type, e.kv.key, e.revision) for e in events} == {
            ("DELETE", "/e/a", before + 1),
            ("DELETE", "/e/b", before + 1),
        }
        assert await store.count("/e/") == 0
        await watch.close()
        await store.close()

    run(first)
    run(second)


# -- one writer -----------------------------------------------------------------------------------


def test_a_second_opener_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/state.db"

    async def body() -> None:
        store = await open_store(url)
        message = re.escape(f"{tmp_path}/state.db is in use by another process (pid {os.getpid()})")
        with pytest.raises(StoreUnavailableError, match=message):
            await open_store(url)
        await store.close()
        again = await open_store(url)
        await again.close()

    run(body)


# -- bad files ------------------------------------------------------------------------------------


def _one_line_error(url: str) -> str:
    with pytest.raises(StoreUnavailableError) as info:
        run(lambda: open_store(url))
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_random_bytes_are_refused_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    content = os.urandom(8192)
    path.write_bytes(content)
    message = _one_line_error(f"sqlite://{path}")
    assert str(path) in message and "not a database" in message
    assert path.read_bytes() == content


def test_a_foreign_sqlite_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
    conn.close()
    content = path.read_bytes()
    message = _one_line_error(f"sqlite://{path}")
    assert str(path) in message and "not a kframe store" in message
    assert path.read_bytes() == content


def test_a_truncated_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def fill() -> None:
        store = await open_store(f"sqlite://{path}")
        for i in range(300):
            await store.create(f"/k/{i:04}", b"x" * 500)
        await store.close()

    run(fill)
    content = path.read_bytes()
    assert len(content) > 8192
    # Keep the header and schema page, damage the rest.
    path.write_bytes(content[:4096] + os.urandom(len(content) - 4096))

    async def use() -> None:
        store = await open_store(f"sqlite://{path}")
        try:
            await store.list("/k/")
        finally:
            await store.close()

    with pytest.raises(StoreUnavailableError, match=str(path)) as info:
        run(use)
    assert "\n" not in str(info.value)


def test_a_directory_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.db").mkdir()
    message = _one_line_error(f"sqlite://{tmp_path}/state.db")
    assert f"{tmp_path}/state.db" in message


# -- watches under concurrent writes ------------------------------------------------------------


def test_watches_opened_during_writes_see_each_event_once(tmp_path: Path) -> None:
    """The seam between replayed history and live events holds while commits are in flight."""

    async def body() -> None:
        store = await open_store(f"sqlite://{tmp_path}/state.db?durability=relaxed")
        base = await store.revision()

        async def write(n: int) -> None:
            for i in range(n):
                await asyncio.gather(*(store.create(f"/s/{i}/{j}", b"v") for j in range(5)))

        writer = asyncio.create_task(write(60))
        watches = []
        while not writer.done():
            now = await store.revision()
            for back in (0, 3, 17):
                start = max(base + 1, now - back)
                watches.append((start, store.watch("/s/", start_revision=start)))
            await asyncio.sleep(0.002)
        await writer
        end = await store.revision()
        assert end == base + 300
        for start, watch in watches:
            events = await collect(watch, end - start + 1)
            assert [e.revision for e in events] == list(range(start, end + 1))
            await watch.close()
        await store.close()

    run(body)


# -- scale and group commit -----------------------------------------------------------------------


def test_listing_ten_thousand_keys_is_fast(tmp_path: Path) -> None:
    async def body() -> None:
        store = await open_store(f"sqlite://{tmp_path}/state.db?durability=relaxed")
        # Concurrent creates share commits, which keeps the setup quick.
        for chunk in range(0, 10_000, 500):
            await asyncio.gather(
                *(
                    store.create(f"/registry/pods/{i:05}", b"x" * 200)
                    for i in range(chunk, chunk + 500)
                )
            )
        await store.create("/registry/podsx", b"outside")
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            page = await store.list("/registry/pods/")
            best = min(best, time.perf_counter() - started)
        assert len(page.items) == 10_000 and not page.more
        assert await store.count("/registry/pods/") == 10_000
        # The target is well under 100 ms; the bound leaves room for a loaded CI machine.
        assert best < 0.25, f"listing 10,000 keys took {best * 1000:.0f} ms"
        await store.close()

    run(body)


def test_concurrent_writes_share_commits_and_each_gets_its_own_revision(tmp_path: Path) -> None:
    async def body() -> None:
        store = await open_store(f"sqlite://{tmp_path}/state.db")
        start = await store.revision()
        kvs = await asyncio.gather(*(store.create(f"/c/{i:03}", b"v") for i in range(200)))
        assert sorted(kv.mod_revision for kv in kvs) == list(range(start + 1, start + 201))
        assert await store.revision() == start + 200
        await store.close()

    run(body)


# -- compaction bounds the file -------------------------------------------------------------------


def _size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def test_compaction_keeps_the_file_bounded(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    sizes: list[int] = []

    async def body() -> None:
        store = await open_store(f"sqlite://{path}?durability=relaxed")
        kvs = {f"/b/{i:03}": await store.create(f"/b/{i:03}", b"0" * 1000) for i in range(100)}
        for _ in range(4):
            for _ in range(20):
                updated = await asyncio.gather(
                    *(
                        store.update(key, os.urandom(500) * 2, expected_revision=kv.mod_revision)
                        for key, kv in kvs.items()
                    )
                )
                kvs = {kv.key: kv for kv in updated}
            before = _size(path)
            await store.compact(await store.revision())
            sizes.append(_size(path))
            assert sizes[-1] < before / 4, (before, sizes[-1])
        await store.close()

    run(body)
    # Each round writes 2,000 versions of 1 kB; after compaction only 100 remain.
    assert max(sizes) < 2 * min(sizes), sizes
    assert max(sizes) < 1_000_000, sizes
