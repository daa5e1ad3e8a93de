"""The ``sqlite://`` Store backend: kframe's embedded default, one durable file (as k3s/kine).

``sqlite:///absolute/path.db`` opens (or creates, with its directory) the database. Every
write is acknowledged only after its commit is on disk: WAL journal with ``synchronous=FULL``,
so it survives a crash of the process or of the machine; writes that arrive while a commit is
syncing are committed together (group commit). ``?durability=relaxed`` uses
``synchronous=NORMAL`` instead: faster, still safe against a process crash, but a power loss
or kernel crash can lose the last acknowledged writes.

One process at a time: opening takes an exclusive lock on ``<path>.lock`` and a second opener
gets StoreUnavailableError naming the holder's pid, because watches are served from the
process that writes. Compaction deletes superseded history and returns the freed pages to the
file system, so the file stays bounded by the live data plus uncompacted history.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl
from kframe.store import Store, StoreURL

from ._config import SQLiteConfig, parse_config
from ._store import SQLiteStore

__all__ = ["SQLiteConfig", "SQLiteStore", "kframe_store_backends", "open_sqlite_store"]


async def open_sqlite_store(url: StoreURL) -> Store:
    """Open the store ``url`` names; StoreURLError for a bad URL, StoreUnavailableError if the
    file is locked by another process, corrupt, or not a kframe store."""
    return await SQLiteStore.open(parse_config(url))


@hookimpl
def kframe_store_backends() -> Mapping[str, object]:
    return {"sqlite": open_sqlite_store}
