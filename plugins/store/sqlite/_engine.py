"""The store's operations as SQL on one connection, run only by the worker thread.

:class:`Engine` is synchronous and not thread-safe: the worker calls it for one job at a time
and brackets the writes of a batch in one transaction (group commit). A write checks
everything that can make it fail (existence, expected revision, lease) before it changes a
row, so a failed write leaves the transaction as it was and the other writes of the batch
commit. The events of committed writes are collected for the store to publish to watches.
"""

from __future__ import annotations

import builtins
import contextlib
import sqlite3
from typing import Any

from kframe.store import (
    CompactedError,
    ConflictError,
    Event,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    Lease,
    LeaseNotFoundError,
    ListResult,
    StoreError,
)

from ._rows import KV_COLUMNS, event, key_range, key_value

__all__ = ["Engine"]

_LATEST = f"SELECT {KV_COLUMNS}, deleted FROM kv WHERE key = ? ORDER BY rev DESC LIMIT 1"
_AT = f"SELECT {KV_COLUMNS}, deleted FROM kv WHERE key = ? AND rev <= ? ORDER BY rev DESC LIMIT 1"
_INSERT = (
    "INSERT INTO kv (key, rev, deleted, create_rev, prev_rev, next_rev, version, lease, value)"
    " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)"
)
_SUPERSEDE = "UPDATE kv SET next_rev = ? WHERE key = ? AND rev = ?"
_LIVE = "next_rev IS NULL AND deleted = 0"  # the exact condition of the kv_live index


class Engine:
    """MVCC reads and writes over the ``kv`` table; the state counters live in ``meta``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.events: list[Event] = []  # of the writes since the last take_events()
        self.in_transaction = False
        self.reclaim_needed = False
        self.broken: Exception | None = None  # see rollback()
        self.revision = 1
        self.compacted = 0
        self.next_lease = 0
        self.leases: dict[int, int] = {}  # id -> ttl
        self.load()

    def load(self) -> None:
        """Read the counters and leases from the database (at open, and after a rollback)."""
        meta = dict(self._conn.execute("SELECT name, value FROM meta").fetchall())
        self.revision = int(meta["revision"])
        self.compacted = int(meta["compacted"])
        self.next_lease = int(meta["next_lease"])
        self.leases = dict(self._conn.execute("SELECT id, ttl FROM leases").fetchall())

    # -- transactions ---------------------------------------------------------------------------

    def _begin(self) -> None:
        if not self.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")
            self.in_transaction = True

    def commit(self) -> None:
        """Make the batch's writes durable (the COMMIT syncs the WAL under synchronous=FULL)."""
        if not self.in_transaction:
            return
        self._conn.executemany(
            "UPDATE meta SET value = ? WHERE name = ?",
            [
                (self.revision, "revision"),
                (self.compacted, "compacted"),
                (self.next_lease, "next_lease"),
            ],
        )
        self._conn.execute("COMMIT")
        self.in_transaction = False

    def rollback(self) -> None:
        """Undo the batch after a database error, and forget its events.

        If the counters cannot be read back, the engine is ``broken``: its counters may count
        writes that never committed, so it refuses every later job until the store reopens.
        """
        self.events.clear()
        self.reclaim_needed = False
        if self.in_transaction:
            self.in_transaction = False
            # SQLite may already have rolled back by itself (disk full, I/O error).
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
        try:
            self.load()
        except (sqlite3.Error, KeyError, ValueError) as exc:
            self.broken = exc

    def take_events(self) -> builtins.list[Event]:
        events, self.events = self.events, []
        return events

    def reclaim(self) -> None:
        """After a compaction commits: give freed pages back and empty the WAL."""
        self.reclaim_needed = False
        # incremental_vacuum frees one page per step and returns no rows, so execute() stops
        # after the first page; executescript() steps every statement to completion.
        self._conn.executescript("PRAGMA incremental_vacuum;")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # -- reads ----------------------------------------------------------------------------------

    def _read_revision(self, revision: int | None) -> int:
        if revision is None or revision <= 0:
            return self.revision
        if revision < self.compacted:
            raise CompactedError(revision, self.compacted)
        if revision > self.revision:
            raise FutureRevisionError(revision, self.revision)
        return revision

    def _latest(self, key: str) -> KeyValue | None:
        row = self._conn.execute(_LATEST, (key,)).fetchone()
        return None if row is None or row[6] else key_value(row)

    def get(self, key: str, revision: int | None) -> KeyValue | None:
        at = self._read_revision(revision)
        row = self._conn.execute(_AT, (key, at)).fetchone()
        return None if row is None or row[6] else key_value(row)

    def list(
        self, prefix: str, limit: int | None, start: str | None, revision: int | None
    ) -> ListResult:
        at = self._read_revision(revision)
        keys, params = key_range(prefix, start)
        args: tuple[object, ...]
        if at == self.revision:
            where, args = f"{_LIVE} AND {keys}", params
        else:
            where = f"{keys} AND rev <= ? AND (next_rev IS NULL OR next_rev > ?) AND deleted = 0"
            args = (*params, at, at)
        sql = f"SELECT {KV_COLUMNS} FROM kv WHERE {where} ORDER BY key"
        if limit is not None and limit > 0:
            # One row past the page says whether more remain.
            rows = self._conn.execute(f"{sql} LIMIT ?", (*args, limit + 1)).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
        else:
            rows = self._conn.execute(sql, args).fetchall()
            more = False
        return ListResult(tuple(map(key_value, rows)), at, more)

    def count(self, prefix: str) -> int:
        keys, params = key_range(prefix)
        row = self._conn.execute(f"SELECT count(*) FROM kv WHERE {_LIVE} AND {keys}", params)
        return int(row.fetchone()[0])

    def replay(self, prefix: str, start: int, upto: int) -> builtins.list[Event]:
        """The events under ``prefix`` with revisions in [start, upto], for a new watch."""
        if start <= self.compacted:
            raise CompactedError(start, self.compacted)
        keys, params = key_range(prefix, column="r.key")
        columns = ", ".join(f"r.{c}" for c in KV_COLUMNS.split(", "))
        previous = ", ".join(f"p.{c}" for c in KV_COLUMNS.split(", "))
        rows = self._conn.execute(
            f"SELECT {columns}, r.deleted, {previous} FROM kv AS r"
            " LEFT JOIN kv AS p ON p.key = r.key AND p.rev = r.prev_rev"
            f" WHERE r.rev >= ? AND r.rev <= ? AND {keys} ORDER BY r.rev, r.key",
            (start, upto, *params),
        ).fetchall()
        return [event(row) for row in rows]

    # -- writes ---------------------------------------------------------------------------------

    def _check_lease(self, lease: int) -> None:
        if lease and lease not in self.leases:
            raise LeaseNotFoundError(lease)

    def _write(self, kv: KeyValue, deleted: bool, prev_rev: int, supersede: int) -> None:
        """Insert the row for ``kv`` (at ``kv.mod_revision``), superseding row ``supersede``."""
        self._begin()
        if supersede:
            self._conn.execute(_SUPERSEDE, (kv.mod_revision, kv.key, supersede))
        self._conn.execute(
            _INSERT,
            (
                kv.key,
                kv.mod_revision,
                int(deleted),
                kv.create_revision,
                prev_rev,
                kv.version,
                kv.lease,
                kv.value,
            ),
        )

    def create(self, key: str, value: bytes, lease: int) -> KeyValue:
        self._check_lease(lease)
        row = self._conn.execute(_LATEST, (key,)).fetchone()
        if row is not None and not row[6]:
            raise KeyExistsError(key)
        rev = self.revision + 1
        kv = KeyValue(key, value, rev, rev, 1, lease)
        # A create has no previous value, but it does supersede the tombstone before it.
        self._write(kv, False, 0, row[3] if row is not None else 0)
        self.revision = rev
        self.events.append(Event("PUT", kv, None))
        return kv

    def _expect(self, key: str, expected: int | None) -> KeyValue:
        current = self._latest(key)
        if current is None:
            raise KeyNotFoundError(key)
        if expected is not None and current.mod_revision != expected:
            raise ConflictError(key, expected, current)
        return current

    def update(self, key: str, value: bytes, expected: int, lease: int) -> KeyValue:
        self._check_lease(lease)
        current = self._expect(key, expected)
        rev = self.revision + 1
        kv = KeyValue(key, value, current.create_revision, rev, current.version + 1, lease)
        self._write(kv, False, current.mod_revision, current.mod_revision)
        self.revision = rev
        self.events.append(Event("PUT", kv, current))
        return kv

    def delete(self, key: str, expected: int | None) -> KeyValue:
        current = self._expect(key, expected)
        self.revision += 1
        self._delete(current)
        return current

    def _delete(self, current: KeyValue) -> None:
        tombstone = KeyValue(current.key, b"", 0, self.revision, 0, 0)
        self._write(tombstone, True, current.mod_revision, current.mod_revision)
        self.events.append(Event("DELETE", tombstone, current))

    def grant_lease(self, ttl: int) -> Lease:
        if ttl <= 0:
            raise StoreError(f"lease TTL must be positive, got {ttl}")
        self._begin()
        lease_id = self.next_lease
        self._conn.execute("INSERT INTO leases (id, ttl) VALUES (?, ?)", (lease_id, ttl))
        self.next_lease += 1
        self.leases[lease_id] = ttl
        return Lease(lease_id, ttl)

    def revoke_lease(self, lease_id: int) -> None:
        if lease_id not in self.leases:
            raise LeaseNotFoundError(lease_id)
        self._begin()
        self._conn.execute("DELETE FROM leases WHERE id = ?", (lease_id,))
        del self.leases[lease_id]
        rows: builtins.list[Any] = self._conn.execute(
            f"SELECT {KV_COLUMNS} FROM kv WHERE lease = ? AND lease != 0 AND {_LIVE} ORDER BY key",
            (lease_id,),
        ).fetchall()
        if rows:
            # As etcd: every key of the lease is deleted in one transaction, at one revision.
            self.revision += 1
            for row in rows:
                self._delete(key_value(row))

    def compact(self, revision: int) -> None:
        """Delete the rows no read at or above ``revision`` can see."""
        if revision <= self.compacted:
            raise CompactedError(revision, self.compacted)
        if revision > self.revision:
            raise FutureRevisionError(revision, self.revision)
        self._begin()
        window = (self.compacted, revision)
        # Only rows written since the last compaction can have superseded a row that is now
        # unreachable, so compaction costs the history it removes, not the size of the store.
        superseded = self._conn.execute(
            "SELECT key, prev_rev FROM kv WHERE rev > ? AND rev <= ? AND prev_rev != 0", window
        ).fetchall()
        self._conn.executemany("DELETE FROM kv WHERE key = ? AND rev = ?", superseded)
        # A tombstone at or below the compacted revision: reads there see no key without it.
        self._conn.execute("DELETE FROM kv WHERE rev > ? AND rev <= ? AND deleted = 1", window)
        self.compacted = revision
        self.reclaim_needed = True
