"""SQLiteStore: the Store interface over the worker thread, plus watches and lease expiry.

Everything that touches the file goes to the worker as a job; what the event loop keeps is
what it must answer without a trip to the thread: the revision it has published to watches
(for ``revision()`` and to place a new watch's seam), the compacted revision, and the lease
deadlines. The database is the truth; these follow it through each batch's delivery.
"""

from __future__ import annotations

import asyncio
import time

from kframe.store import (
    CompactedError,
    KeyValue,
    Lease,
    LeaseNotFoundError,
    ListResult,
    Store,
    StoreError,
    Watch,
    WatchHub,
)

from ._config import SQLiteConfig
from ._watch import SQLiteWatch
from ._worker import Delivery, Worker

__all__ = ["SQLiteStore"]


class SQLiteStore:
    """A Store in one SQLite file; open it with :meth:`open` (or ``open_store``)."""

    def __init__(self, config: SQLiteConfig) -> None:
        self.config = config
        self._worker = Worker(config, asyncio.get_running_loop(), self._deliver)
        self._hub = WatchHub()
        self._revision = 1  # published: every write up to here is committed and delivered
        self._compacted = 0
        # Lease deadlines are kept in memory only, as etcd does: a reopened store gives every
        # persisted lease its full TTL again, so keep-alives cost no disk write.
        self._deadlines: dict[int, float] = {}
        self._ttls: dict[int, int] = {}
        self._expiry: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    async def open(cls, config: SQLiteConfig) -> SQLiteStore:
        """Lock and open (or create) the file; StoreUnavailableError if that fails."""
        store = cls(config)
        state = await store._worker.start()
        store._revision = state.revision
        store._compacted = state.compacted
        now = time.monotonic()
        for lease_id, ttl in state.leases.items():
            store._ttls[lease_id] = ttl
            store._deadlines[lease_id] = now + ttl
        if store._deadlines:
            store._ensure_expiry()
        return store

    def _deliver(self, delivery: Delivery) -> None:
        """Called on the loop by the worker after each batch commits."""
        self._hub.publish(delivery.events)
        self._revision = delivery.revision
        self._compacted = delivery.compacted
        for future, result, error in delivery.results:
            if future.done():
                continue  # the caller gave up; the write happened all the same
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")

    # -- reads ----------------------------------------------------------------------------------

    async def revision(self) -> int:
        self._check_open()
        return self._revision

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        self._check_open()
        _check_key(key)
        return await self._worker.submit(lambda e: e.get(key, revision), write=False)

    async def list(
        self,
        prefix: str,
        *,
        limit: int | None = None,
        start: str | None = None,
        revision: int | None = None,
    ) -> ListResult:
        self._check_open()
        _check_key(prefix)
        if start is not None:
            _check_key(start)
        return await self._worker.submit(
            lambda e: e.list(prefix, limit, start, revision), write=False
        )

    async def count(self, prefix: str) -> int:
        self._check_open()
        _check_key(prefix)
        return await self._worker.submit(lambda e: e.count(prefix), write=False)

    # -- writes ---------------------------------------------------------------------------------

    async def create(self, key: str, value: bytes, *, lease: int = 0) -> KeyValue:
        self._check_open()
        _check_key(key)
        data = bytes(value)
        return await self._worker.submit(lambda e: e.create(key, data, lease), write=True)

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, lease: int = 0
    ) -> KeyValue:
        self._check_open()
        _check_key(key)
        data = bytes(value)
        return await self._worker.submit(
            lambda e: e.update(key, data, expected_revision, lease), write=True
        )

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        self._check_open()
        _check_key(key)
        return await self._worker.submit(lambda e: e.delete(key, expected_revision), write=True)

    # -- watch and compaction -------------------------------------------------------------------

    def watch(self, prefix: str, *, start_revision: int | None = None) -> Watch:
        self._check_open()
        _check_key(prefix)
        if start_revision is not None and start_revision <= self._compacted:
            return self._hub.open(prefix, error=CompactedError(start_revision, self._compacted))
        # Registered now, without awaiting: the hub hands this watch every event above the
        # published revision, and the replay below covers the rest.
        published = self._revision
        live = self._hub.open(prefix)
        if start_revision is None or start_revision > published:
            # etcd waits for a future start revision; drop what comes before it.
            return SQLiteWatch(live, None, start_revision or 0)
        replay = self._worker.submit(
            lambda e: e.replay(prefix, start_revision, published), write=False
        )
        return SQLiteWatch(live, replay)

    async def compact(self, revision: int) -> None:
        self._check_open()
        await self._worker.submit(lambda e: e.compact(revision), write=True)

    # -- leases ---------------------------------------------------------------------------------

    async def grant_lease(self, ttl: int) -> Lease:
        self._check_open()
        lease = await self._worker.submit(lambda e: e.grant_lease(ttl), write=True)
        self._ttls[lease.id] = lease.ttl
        self._deadlines[lease.id] = time.monotonic() + lease.ttl
        self._ensure_expiry()
        return lease

    async def keep_alive(self, lease_id: int) -> int:
        self._check_open()
        if lease_id not in self._deadlines:
            raise LeaseNotFoundError(lease_id)
        ttl = self._ttls[lease_id]
        self._deadlines[lease_id] = time.monotonic() + ttl
        return ttl

    async def revoke_lease(self, lease_id: int) -> None:
        self._check_open()
        if lease_id not in self._deadlines:
            raise LeaseNotFoundError(lease_id)
        try:
            await self._worker.submit(lambda e: e.revoke_lease(lease_id), write=True)
        except LeaseNotFoundError:
            self._forget(lease_id)
            raise
        self._forget(lease_id)

    def _forget(self, lease_id: int) -> None:
        self._deadlines.pop(lease_id, None)
        self._ttls.pop(lease_id, None)

    def _ensure_expiry(self) -> None:
        if self._expiry is None or self._expiry.done():
            self._expiry = asyncio.get_running_loop().create_task(self._expire_leases())

    async def _expire_leases(self) -> None:
        while self._deadlines and not self._closed:
            now = time.monotonic()
            expired = [i for i, deadline in self._deadlines.items() if deadline <= now]
            for lease_id in expired:
                # Gone at once: a keep-alive racing the revocation must fail, as in etcd.
                del self._deadlines[lease_id]
            results = await asyncio.gather(
                *(self._revoke_expired(lease_id) for lease_id in expired)
            )
            for lease_id, ok in zip(expired, results, strict=True):
                if ok:
                    self._ttls.pop(lease_id, None)
                elif not self._closed and lease_id in self._ttls:
                    # The revocation failed (I/O error): try again shortly.
                    self._deadlines[lease_id] = time.monotonic() + 1.0
            if not self._deadlines:
                return
            soonest = min(self._deadlines.values())
            await asyncio.sleep(max(0.01, soonest - time.monotonic()))

    async def _revoke_expired(self, lease_id: int) -> bool:
        try:
            await self._worker.submit(lambda e: e.revoke_lease(lease_id), write=True)
        except LeaseNotFoundError:
            return True  # revoked meanwhile by revoke_lease()
        except StoreError:
            return False
        return True

    # -- lifecycle ------------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._hub.close_all()
        if self._expiry is not None:
            self._expiry.cancel()
        await self._worker.stop()


def _check_key(key: str) -> None:
    # Keys are stored as UTF-8 TEXT; reject what cannot be encoded here, before the worker.
    try:
        key.encode()
    except UnicodeEncodeError:
        raise StoreError(f"key is not valid Unicode text: {key!r}") from None


# Conformance stated in code: mypy checks SQLiteStore against the Store protocol here.
_STORE: type[Store] = SQLiteStore
