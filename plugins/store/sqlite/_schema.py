"""The database file: its tables, the pragmas that make it durable, and opening or creating it.

Called once by the worker thread when the store opens. Every change to a key is one row of
``kv``, in the spirit of kine (k3s's etcd shim): the row holds the revision that made the
change, whether it deleted the key, the key's create revision, version and lease after it, the
revision of the key's previous row (``prev_rev``, for a watch event's previous value) and the
revision that superseded it (``next_rev``, NULL while it is the key's latest row). Unlike kine,
a row does not copy the old value: the previous row is kept until compaction passes the row
that superseded it, so ``prev_rev`` always finds it.
"""

from __future__ import annotations

import os
import sqlite3

from kframe.store import StoreUnavailableError

from ._config import DURABILITY, SQLiteConfig

__all__ = ["FORMAT", "SCHEMA_VERSION", "open_database"]

FORMAT = "kframe-store"
SCHEMA_VERSION = 1

_TABLES = """
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value
);

CREATE TABLE kv (
    id         INTEGER PRIMARY KEY,  -- insertion order, which is revision order
    key        TEXT    NOT NULL,
    rev        INTEGER NOT NULL,     -- the revision of this change
    deleted    INTEGER NOT NULL,     -- 1: a tombstone, the key was deleted at rev
    create_rev INTEGER NOT NULL,     -- 0 on tombstones
    prev_rev   INTEGER NOT NULL,     -- the key's previous row (0: none, this is a create)
    next_rev   INTEGER,              -- the row that superseded this one (NULL: latest)
    version    INTEGER NOT NULL,     -- 0 on tombstones
    lease      INTEGER NOT NULL,     -- 0: none
    value      BLOB    NOT NULL
);

-- A key at revision R: the last row of the key with rev <= R.
CREATE UNIQUE INDEX kv_key_rev ON kv (key, rev);
-- Watch replay and compaction walk rows by revision.
CREATE INDEX kv_rev ON kv (rev);
-- Lists and counts at the current revision read only the live rows, however long the history.
CREATE INDEX kv_live ON kv (key) WHERE next_rev IS NULL AND deleted = 0;
-- Revoking a lease finds the live keys attached to it.
CREATE INDEX kv_lease ON kv (lease) WHERE lease != 0 AND next_rev IS NULL AND deleted = 0;

CREATE TABLE leases (
    id  INTEGER PRIMARY KEY,
    ttl INTEGER NOT NULL
);
"""

# meta rows: the format marker, schema version, and the counters that rows cannot give back
# after compaction (the last write may have been a deletion whose tombstone is gone).
_INITIAL_META = {
    "format": FORMAT,
    "schema_version": SCHEMA_VERSION,
    "revision": 1,
    "compacted": 0,
    "next_lease": 0x1000,
}


def open_database(config: SQLiteConfig) -> sqlite3.Connection:
    """Open (or create) the store at ``config.path``, checked and configured.

    Raises StoreUnavailableError, one line naming the file, if it is not a kframe store or
    cannot be opened. Must be called from the thread that will use the connection.
    """
    path = config.path
    try:
        # isolation_level=None: no implicit transactions; the worker issues BEGIN and COMMIT.
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"cannot open SQLite store {path}: {exc}") from None
    try:
        _prepare(conn, config)
    except StoreUnavailableError:
        conn.close()
        raise
    except (sqlite3.Error, OSError) as exc:
        conn.close()
        raise StoreUnavailableError(f"cannot open SQLite store {path}: {exc}") from None
    return conn


def _prepare(conn: sqlite3.Connection, config: SQLiteConfig) -> None:
    # Look before changing anything, so a file that is not ours is left exactly as it was.
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        _create(conn)
        _sync_directory(os.path.dirname(config.path))
    elif "meta" not in tables or "kv" not in tables:
        raise StoreUnavailableError(
            f"SQLite file {config.path} is not a kframe store (it has other tables: "
            f"{', '.join(sorted(tables)[:5])})"
        )
    else:
        _check_format(conn, config.path)
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreUnavailableError(
            f"SQLite store {config.path}: the file system does not support WAL mode (got {mode})"
        )
    conn.execute(f"PRAGMA synchronous = {DURABILITY[config.durability]}")
    # The WAL is reset at each checkpoint; this caps what it keeps on disk afterwards.
    conn.execute("PRAGMA journal_size_limit = 67108864")
    # 64 MiB of page cache keeps a cluster's worth of live rows in memory for lists.
    conn.execute("PRAGMA cache_size = -65536")
    # Another process may read the file (sqlite3 shell, backups); wait for it, do not fail.
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = OFF")


def _create(conn: sqlite3.Connection) -> None:
    # auto_vacuum must be chosen before the first table exists; INCREMENTAL lets compaction
    # hand freed pages back to the file system.
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("PRAGMA journal_mode = WAL")
    rows = ", ".join(f"('{name}', {value!r})" for name, value in _INITIAL_META.items())
    # One transaction: a crash while creating leaves an empty file, not half a schema.
    conn.executescript(
        f"BEGIN IMMEDIATE; {_TABLES} INSERT INTO meta (name, value) VALUES {rows}; COMMIT;"
    )


def _sync_directory(directory: str) -> None:
    # A new file's directory entry is only durable once the directory is synced; SQLite does
    # this for its WAL but not for the database file it creates. The parent too, in case the
    # directory itself was just created.
    for path in (directory, os.path.dirname(directory)):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_format(conn: sqlite3.Connection, path: str) -> None:
    meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
    if meta.get("format") != FORMAT:
        raise StoreUnavailableError(f"SQLite file {path} is not a kframe store (no format mark)")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise StoreUnavailableError(
            f"SQLite store {path} has schema version {version}; this kframe reads version "
            f"{SCHEMA_VERSION}"
        )
    missing = {"revision", "compacted", "next_lease"} - meta.keys()
    if missing:
        raise StoreUnavailableError(f"SQLite store {path} is damaged: meta lacks {sorted(missing)}")
