"""What a ``sqlite://`` URL asks for: the database file and its durability, validated.

:func:`parse_config` is called by the backend's factory before anything touches the disk, so a
bad URL fails with :class:`~kframe.store.StoreURLError` and a message saying what to write.
"""

from __future__ import annotations

import os
from typing import Literal

import attrs

from kframe.store import StoreURL, StoreURLError

__all__ = ["DURABILITY", "Durability", "SQLiteConfig", "parse_config"]

Durability = Literal["full", "relaxed"]

# The value of PRAGMA synchronous for each durability. In WAL mode, FULL syncs the WAL on every
# commit (an acknowledged write survives power loss); NORMAL syncs only at checkpoints, so the
# last commits before a power loss (not a process crash) can be lost.
DURABILITY: dict[Durability, str] = {"full": "FULL", "relaxed": "NORMAL"}

_EXAMPLE = "sqlite:///var/lib/kframe/state.db"


@attrs.frozen(kw_only=True)
class SQLiteConfig:
    """An opened URL: the absolute database ``path`` and the ``durability`` of commits."""

    path: str
    durability: Durability = "full"

    @property
    def lock_path(self) -> str:
        return self.path + ".lock"


def parse_config(url: StoreURL) -> SQLiteConfig:
    """The config ``url`` names; StoreURLError for hosts, relative paths or unknown options."""
    if url.hosts:
        raise StoreURLError(
            f"sqlite store URL {url.raw!r} needs an absolute path after three slashes, "
            f"for example {_EXAMPLE} ({','.join(url.hosts)!r} reads as a host or relative path)"
        )
    path = url.path
    if not path or path.endswith("/") or not os.path.isabs(path):
        raise StoreURLError(
            f"sqlite store URL {url.raw!r} names no absolute database file; "
            f"use for example {_EXAMPLE}"
        )
    options = dict(url.options)
    value = options.pop("durability", "full")
    if options:
        raise StoreURLError(
            f"sqlite store URL {url.raw!r} has unknown options {sorted(options)}; "
            "the only option is durability=full|relaxed"
        )
    if value not in DURABILITY:
        raise StoreURLError(
            f"sqlite store URL {url.raw!r}: durability must be 'full' or 'relaxed', not {value!r}"
        )
    durability: Durability = "relaxed" if value == "relaxed" else "full"
    return SQLiteConfig(path=os.path.normpath(path), durability=durability)
