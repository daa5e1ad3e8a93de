"""The key space of one store inside etcd: its prefix, and etcd messages turned into kframe values.

With a prefix ``/p``, key ``/a`` is stored as ``/p/a``. So that a store on ``/p`` never sees the
keys of a store on ``/pq``, keys and list prefixes must then start with "/" (the empty prefix,
"everything", is the one exception); every kframe key does.
"""

from __future__ import annotations

from typing import Any

from kframe.store import Event, KeyValue, StoreError

__all__ = ["KeySpace", "prefix_end"]


def prefix_end(prefix: bytes) -> bytes:
    """The end of the range of keys starting with ``prefix`` (etcd's ``--prefix``)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\x00"  # every key


class KeySpace:
    """Maps kframe keys to etcd keys under ``prefix`` and back."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._raw = prefix.encode()

    def _check(self, what: str, text: str) -> None:
        if self._raw and not text.startswith("/"):
            raise StoreError(
                f"{what} {text!r} must start with '/' in an etcd store with prefix {self.prefix!r}"
            )

    def key(self, key: str) -> bytes:
        self._check("key", key)
        return self._raw + key.encode("utf-8", "surrogateescape")

    def range(self, prefix: str, start: str | None = None) -> tuple[bytes, bytes]:
        """The etcd range ``[key, range_end)`` for the keys under ``prefix`` from ``start``."""
        if self._raw and prefix == "":
            prefix = "/"
        self._check("prefix", prefix)
        begin = self._raw + prefix.encode("utf-8", "surrogateescape")
        end = prefix_end(begin)
        if start is not None:
            begin = max(begin, self._raw + start.encode("utf-8", "surrogateescape"))
        return begin, end

    def name(self, raw: bytes) -> str:
        return raw[len(self._raw) :].decode("utf-8", "surrogateescape")

    def kv(self, kv: Any) -> KeyValue:
        """A kframe KeyValue from an etcd ``mvccpb.KeyValue``."""
        return KeyValue(
            self.name(kv.key),
            bytes(kv.value),
            int(kv.create_revision),
            int(kv.mod_revision),
            int(kv.version),
            int(kv.lease),
        )

    def event(self, event: Any) -> Event:
        """A kframe Event from an etcd ``mvccpb.Event`` (watched with ``prev_kv``)."""
        prev = self.kv(event.prev_kv) if event.HasField("prev_kv") else None
        return Event("DELETE" if event.type == 1 else "PUT", self.kv(event.kv), prev)
