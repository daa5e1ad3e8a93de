"""Rows of the ``kv`` table as Store values, and key prefixes as SQL ranges.

Shared by the engine's reads and writes so that every query selects the same columns in the
same order and decodes them one way.
"""

from __future__ import annotations

from typing import Any

from kframe.store import Event, KeyValue

__all__ = ["KV_COLUMNS", "event", "key_range", "key_value", "prefix_end"]

# The columns a KeyValue is built from, in key_value()'s order.
KV_COLUMNS = "key, value, create_rev, rev, version, lease"


def key_value(row: Any) -> KeyValue:
    """A KeyValue from a row of KV_COLUMNS."""
    return KeyValue(row[0], row[1], row[2], row[3], row[4], row[5])


def event(row: Any) -> Event:
    """A watch event from a row of KV_COLUMNS, deleted, then the previous row's KV_COLUMNS."""
    prev = key_value(row[7:]) if row[7] is not None else None
    if row[6]:
        return Event("DELETE", KeyValue(row[0], b"", 0, row[3], 0, 0), prev)
    return Event("PUT", key_value(row), prev)


def prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (None: no bound).

    Keys are TEXT, compared by SQLite as UTF-8 bytes, which order like code points; so the
    bound is the prefix with its last code point incremented (as etcd's prefix range end).
    """
    chars = list(prefix)
    while chars:
        point = ord(chars[-1]) + 1
        if point <= 0x10FFFF:
            # Surrogates cannot be encoded as UTF-8 and no key contains one; skip past them.
            chars[-1] = chr(0xE000 if 0xD800 <= point <= 0xDFFF else point)
            return "".join(chars)
        chars.pop()
    return None


def key_range(
    prefix: str, start: str | None = None, *, column: str = "key"
) -> tuple[str, tuple[str, ...]]:
    """A SQL condition on ``column`` for keys under ``prefix`` from ``start`` on, with its
    parameters."""
    low = max(prefix, start) if start is not None else prefix
    high = prefix_end(prefix)
    if high is None:
        return f"{column} >= ?", (low,)
    return f"{column} >= ? AND {column} < ?", (low, high)
