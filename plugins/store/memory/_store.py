"""MemoryStore: an in-process MVCC key-value store with etcd's revision semantics."""

from __future__ import annotations

import asyncio
import bisect
import builtins
import itertools
import time
from collections.abc import AsyncIterator

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
    Watch,
    WatchHub,
)

from ._keys import SortedKeys

# A key's history: (revision, version or None for a deletion), oldest first.
_History = list[tuple[int, KeyValue | None]]


class _LeaseState:
    __slots__ = ("deadline", "keys", "ttl")

    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self.deadline = time.monotonic() + ttl
        self.keys: set[str] = set()


class MemoryStore:
    """All state in dictionaries; every method runs without awaiting, so each is atomic."""

    def __init__(self) -> None:
        self._revision = 1
        self._compacted = 0
        self._live: dict[str, KeyValue] = {}
        self._live_keys = SortedKeys()
        self._history: dict[str, _History] = {}
        self._all_keys = SortedKeys()  # every key with history
        self._log: list[Event] = []  # every event above the compacted revision, in order
        self._hub = WatchHub()
        self._leases: dict[int, _LeaseState] = {}
        self._lease_ids = itertools.count(0x1000)
        self._expiry: asyncio.Task[None] | None = None
        self._closed = False

    # -- reads ----------------------------------------------------------------------------------

    def _check_read(self, revision: int | None) -> int:
        self._check_open()
        if revision is None or revision <= 0:
            return self._revision
        if revision < self._compacted:
            raise CompactedError(revision, self._compacted)
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)
        return revision

    def _at(self, key: str, revision: int) -> KeyValue | None:
        if revision == self._revision:
            return self._live.get(key)
        history = self._history.get(key)
        if not history:
            return None
        i = bisect.bisect_right(history, revision, key=lambda h: h[0])
        return history[i - 1][1] if i else None

    async def revision(self) -> int:
        self._check_open()
        return self._revision

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        return self._at(key, self._check_read(revision))

    async def list(
        self,
        prefix: str,
        *,
        limit: int | None = None,
        start: str | None = None,
        revision: int | None = None,
    ) -> ListResult:
        rev = self._check_read(revision)
        keys = self._live_keys if rev == self._revision else self._all_keys
        begin = max(prefix, start) if start is not None else prefix
        items: builtins.list[KeyValue] = []
        more = False
        for key in keys.from_key(begin):
            if not key.startswith(prefix):
                break
            kv = self._at(key, rev)
            if kv is None:
                continue
            if limit is not None and limit > 0 and len(items) == limit:
                more = True
                break
            items.append(kv)
        return ListResult(tuple(items), rev, more)

    async def count(self, prefix: str) -> int:
        self._check_open()
        n = 0
        for key in self._live_keys.from_key(prefix):
            if not key.startswith(prefix):
                break
            n += 1
        return n

    # -- writes ---------------------------------------------------------------------------------

    def _commit(self, events: builtins.list[Event]) -> None:
        for event in events:
            key = event.kv.key
            if key not in self._history:
                self._all_keys.add(key)
                self._history[key] = []
            if event.type == "PUT":
                if key not in self._live:
                    self._live_keys.add(key)
                self._live[key] = event.kv
                self._history[key].append((event.revision, event.kv))
            else:
                del self._live[key]
                self._live_keys.discard(key)
                self._history[key].append((event.revision, None))
            self._detach(event.prev_kv)
            if event.type == "PUT" and event.kv.lease:
                self._leases[event.kv.lease].keys.add(key)
        self._log.extend(events)
        self._hub.publish(events)

    def _detach(self, kv: KeyValue | None) -> None:
        if kv is not None and kv.lease and (lease := self._leases.get(kv.lease)):
            lease.keys.discard(kv.key)

    def _check_lease(self, lease: int) -> None:
        if lease and lease not in self._leases:
            raise LeaseNotFoundError(lease)

    async def create(self, key: str, value: bytes, *, lease: int = 0) -> KeyValue:
        self._check_open()
        self._check_lease(lease)
        if key in self._live:
            raise KeyExistsError(key)
        self._revision += 1
        kv = KeyValue(key, bytes(value), self._revision, self._revision, 1, lease)
        self._commit([Event("PUT", kv, None)])
        return kv

    def _expect(self, key: str, expected: int | None) -> KeyValue:
        current = self._live.get(key)
        if current is None:
            raise KeyNotFoundError(key)
        if expected is not None and current.mod_revision != expected:
            raise ConflictError(key, expected, current)
        return current

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, lease: int = 0
    ) -> KeyValue:
        self._check_open()
        self._check_lease(lease)
        current = self._expect(key, expected_revision)
        self._revision += 1
        kv = KeyValue(
            key, bytes(value), current.create_revision, self._revision, current.version + 1, lease
        )
        self._commit([Event("PUT", kv, current)])
        return kv

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        self._check_open()
        current = self._expect(key, expected_revision)
        self._revision += 1
        self._commit([self._deletion(current)])
        return current

    def _deletion(self, current: KeyValue) -> Event:
        tombstone = KeyValue(current.key, b"", 0, self._revision, 0, 0)
        return Event("DELETE", tombstone, current)

    # -- watch and compaction -------------------------------------------------------------------

    def watch(self, prefix: str, *, start_revision: int | None = None) -> Watch:
        self._check_open()
        if start_revision is not None and start_revision <= self._compacted:
            return self._hub.open(prefix, error=CompactedError(start_revision, self._compacted))
        if start_revision is None or start_revision > self._revision:
            watch = self._hub.open(prefix)
            if start_revision is not None and start_revision > self._revision + 1:
                return _FromRevision(watch, start_revision)  # etcd waits for the revision
            return watch
        i = bisect.bisect_left(self._log, start_revision, key=lambda e: e.revision)
        return self._hub.open(prefix, [e for e in self._log[i:] if e.kv.key.startswith(prefix)])

    async def compact(self, revision: int) -> None:
        self._check_open()
        if revision <= self._compacted:
            raise CompactedError(revision, self._compacted)
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)
        self._compacted = revision
        i = bisect.bisect_right(self._log, revision, key=lambda e: e.revision)
        del self._log[:i]
        for key in list(self._history):
            history = self._history[key]
            # Keep the newest version at or below the compacted revision: reads there need it.
            j = bisect.bisect_right(history, revision, key=lambda h: h[0])
            keep_from = j - 1 if j and history[j - 1][1] is not None else j
            del history[: max(keep_from, 0)]
            if not history:
                del self._history[key]
                self._all_keys.discard(key)

    # -- leases ---------------------------------------------------------------------------------

    async def grant_lease(self, ttl: int) -> Lease:
        self._check_open()
        if ttl <= 0:
            raise StoreError(f"lease TTL must be positive, got {ttl}")
        lease_id = next(self._lease_ids)
        self._leases[lease_id] = _LeaseState(ttl)
        self._ensure_expiry()
        return Lease(lease_id, ttl)

    async def keep_alive(self, lease_id: int) -> int:
        self._check_open()
        lease = self._leases.get(lease_id)
        if lease is None:
            raise LeaseNotFoundError(lease_id)
        lease.deadline = time.monotonic() + lease.ttl
        return lease.ttl

    async def revoke_lease(self, lease_id: int) -> None:
        self._check_open()
        if lease_id not in self._leases:
            raise LeaseNotFoundError(lease_id)
        self._revoke(lease_id)

    def _revoke(self, lease_id: int) -> None:
        lease = self._leases.pop(lease_id)
        if not lease.keys:
            return
        # As etcd: one transaction, so every attached key is deleted at the same revision.
        self._revision += 1
        self._commit([self._deletion(self._live[k]) for k in sorted(lease.keys)])

    def _ensure_expiry(self) -> None:
        if self._expiry is None or self._expiry.done():
            self._expiry = asyncio.get_running_loop().create_task(self._expire_leases())

    async def _expire_leases(self) -> None:
        while self._leases and not self._closed:
            now = time.monotonic()
            for lease_id in [i for i, s in self._leases.items() if s.deadline <= now]:
                self._revoke(lease_id)
            if not self._leases:
                return
            soonest = min(s.deadline for s in self._leases.values())
            await asyncio.sleep(max(0.01, soonest - time.monotonic()))

    # -- lifecycle ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")

    async def close(self) -> None:
        self._closed = True
        self._hub.close_all()
        if self._expiry is not None:
            self._expiry.cancel()


class _FromRevision:
    """A watch that starts at a revision the store has not reached: drops earlier events."""

    def __init__(self, inner: Watch, start: int) -> None:
        self._inner = inner
        self._start = start

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        async for event in self._inner:
            if event.revision >= self._start:
                yield event

    async def close(self) -> None:
        await self._inner.close()
