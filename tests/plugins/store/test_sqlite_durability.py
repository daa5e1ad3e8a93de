"""Acknowledged writes survive a SIGKILL of the writing process, and nothing is half-written.

A writer subprocess opens a store and keeps creating, updating and deleting keys from a few
concurrent coroutines (so commits are grouped), compacting now and then, and prints each write
the moment its await returns. The test kills it at a random moment, reopens the file, and
checks that every printed write is there, that the table holds no impossible state, and that
the revision carries on. SIGKILL tests a process crash; surviving power loss rests on
``synchronous=FULL`` as well, which a test cannot simulate.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kframe.store import open_store

# Each line: "P key value mod_revision" after a create or update returns, "D key mod_revision"
# (of the deleted version) after a delete returns.
_WRITER = r"""
import asyncio, sys
from kframe.store import open_store

async def writer(store, w):
    current = {}
    i = 0
    while True:
        key = f"/d/{w}/{i % 16:02}"
        kv = current.get(key)
        if kv is not None and i % 7 == 0:
            await store.delete(key, expected_revision=kv.mod_revision)
            del current[key]
            print(f"D {key} {kv.mod_revision}", flush=True)
        else:
            value = f"w{w}i{i}" * (1 + i % 5)
            if kv is None:
                kv = await store.create(key, value.encode())
            else:
                kv = await store.update(key, value.encode(), expected_revision=kv.mod_revision)
            current[key] = kv
            print(f"P {key} {value} {kv.mod_revision}", flush=True)
        if w == 0 and i % 150 == 149:
            await store.compact(max(2, (await store.revision()) - 40))
        i += 1

async def main():
    store = await open_store(sys.argv[1])
    print("ready", flush=True)
    await asyncio.gather(*(writer(store, w) for w in range(4)))

asyncio.run(main())
"""


def _run_writer_and_kill(url: str, out: Path, delay: float) -> list[list[str]]:
    """Start the writer, SIGKILL it ``delay`` seconds after it is ready; its acknowledged lines."""
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, url], stdout=sink)
    try:
        deadline = time.monotonic() + 30
        while not out.read_bytes().startswith(b"ready\n"):
            assert proc.poll() is None, f"writer exited with {proc.returncode}"
            assert time.monotonic() < deadline, "writer did not start"
            time.sleep(0.01)
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"writer died on its own: {proc.returncode}"
    # A line cut short by the kill was never acknowledged to anyone: drop it.
    lines = out.read_text().split("\n")[1:-1]
    return [line.split(" ") for line in lines]


def _check_rows(path: Path) -> tuple[int, int, dict[str, list[Any]]]:
    """Check the raw table for impossible states; the revision, compacted revision, and rows
    by key."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        rows = conn.execute(
            "SELECT key, rev, deleted, create_rev, prev_rev, next_rev, version, lease, value"
            " FROM kv ORDER BY key, rev"
        ).fetchall()
    finally:
        conn.close()
    revision, compacted = meta["revision"], meta["compacted"]
    # Every write adds one row at one new revision: above the compacted revision they are
    # contiguous up to the recorded revision (nothing lost, nothing from a torn commit).
    # (Revision 1 is the empty store: the first write is revision 2.)
    first = max(compacted, 1) + 1
    revs = sorted(row[1] for row in rows if row[1] >= first)
    assert revs == list(range(first, revision + 1)), (compacted, revision, revs[:3], revs[-3:])
    by_key: dict[str, list[Any]] = {}
    for row in rows:
        by_key.setdefault(row[0], []).append(row)
    for key, history in by_key.items():
        for before, after in itertools.pairwise(history):
            assert before[5] == after[1], f"{key}: row {before[1]} not superseded by {after[1]}"
        assert history[-1][5] is None, f"{key}: the latest row is marked superseded"
        revs_of_key = {row[1]: row for row in history}
        for key_, rev, deleted, create_rev, prev_rev, _, version, lease, value in history:
            assert isinstance(key_, str) and isinstance(value, bytes) and lease == 0
            value.decode()
            if deleted:
                assert (create_rev, version, value) == (0, 0, b"") and prev_rev
            elif prev_rev == 0:
                assert (create_rev, version) == (rev, 1), f"{key}@{rev}: a bad create"
            if prev_rev and rev > compacted:
                # Compaction keeps the row before every row it keeps (a watch's prev_kv).
                prev = revs_of_key.get(prev_rev)
                assert prev is not None and not prev[2], f"{key}@{rev}: no previous row"
                if not deleted:
                    assert (create_rev, version) == (prev[3], prev[6] + 1), f"{key}@{rev}"
    return revision, compacted, by_key


def _trial(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / f"trial-{seed}" / "state.db"
    acked = _run_writer_and_kill(
        f"sqlite://{path}", tmp_path / f"out-{seed}.txt", rng.uniform(0.05, 0.8)
    )
    assert acked, "the writer acknowledged nothing before the kill"
    revision, compacted, rows = _check_rows(path)
    puts = [
        (key, value.encode(), int(rev)) for op, key, value, rev in (a for a in acked if a[0] == "P")
    ]
    assert revision >= max(rev for _, _, rev in puts), "acknowledged revisions are missing"

    last: dict[str, list[str]] = {}
    for line in acked:
        last[line[1]] = line  # each key has one writer, so file order is its write order
    for key, line in last.items():
        history = rows.get(key, [])
        latest = history[-1] if history else None
        if line[0] == "P":
            rev = int(line[3])
            assert latest is not None and latest[1] >= rev, f"{key}: acknowledged {line} lost"
            if latest[1] == rev:
                assert (latest[2], latest[8]) == (0, line[2].encode()), f"{key}: {line}"
        else:
            deleted_rev = int(line[2])
            assert latest is None or latest[1] > deleted_rev, f"{key}: delete {line} lost"

    async def reopen() -> None:
        store = await open_store(f"sqlite://{path}")
        try:
            assert await store.revision() == revision
            for key, value, rev in puts:
                if rev > compacted:
                    kv = await store.get(key, revision=rev)
                    assert kv is not None and (kv.value, kv.mod_revision) == (value, rev), key
            new = await store.create("/after/crash", b"x")
            assert new.mod_revision == revision + 1
        finally:
            await store.close()

    asyncio.run(asyncio.wait_for(reopen(), 60))
    _check_rows(path)


@pytest.mark.parametrize("trial", range(5))
def test_acknowledged_writes_survive_sigkill(tmp_path: Path, trial: int) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    try:
        _trial(tmp_path, seed)
    except AssertionError as exc:
        raise AssertionError(f"trial {trial} with seed {seed}: {exc}") from exc


@pytest.mark.slow
def test_acknowledged_writes_survive_fifty_sigkills(tmp_path: Path) -> None:
    for trial in range(50):
        seed = int.from_bytes(os.urandom(4), "big")
        try:
            _trial(tmp_path, seed)
        except AssertionError as exc:
            raise AssertionError(f"trial {trial} with seed {seed}: {exc}") from exc
