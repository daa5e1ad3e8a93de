"""EtcdStore: the Store interface over etcd v3, each operation one etcd request (or transaction).

create, update and guarded delete are single transactions that compare a key's create or mod
revision and, when the comparison fails, read the key in the same transaction, so a
ConflictError carries the value that won.
"""

from __future__ import annotations

import asyncio
import builtins
from typing import Any

from aetcd import rpc

from kframe.store import (
    CompactedError,
    ConflictError,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    Lease,
    LeaseNotFoundError,
    ListResult,
    Store,
    StoreError,
    Watch,
)

from ._client import Connection, EtcdError
from ._keys import KeySpace
from ._watch import EtcdWatch

__all__ = ["EtcdStore"]

_PROBE = b"\x00kframe-probe"  # a key no store uses (kframe keys are text)
_COMPACTED = "required revision has been compacted"
_FUTURE = "required revision is a future revision"
_NO_LEASE = "requested lease not found"

_EQUAL, _GREATER = rpc.Compare.EQUAL, rpc.Compare.GREATER
_VERSION, _CREATE, _MOD = rpc.Compare.VERSION, rpc.Compare.CREATE, rpc.Compare.MOD


def _exists(key: bytes) -> Any:
    return rpc.Compare(key=key, target=_VERSION, result=_GREATER, version=0)


class EtcdStore:
    """A Store on an etcd cluster, under a key prefix. Open it with ``open_store("etcd://...")``."""

    def __init__(self, conn: Connection, keys: KeySpace) -> None:
        self._conn = conn
        self._keys = keys
        self._watches: set[EtcdWatch] = set()
        self._closed = False

    @property
    def prefix(self) -> str:
        return self._keys.prefix

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")
        # Watches opened while no event loop ran start with the store's next request.
        for watch in self._watches:
            watch.start()

    async def _read(self, request: Any) -> Any:
        try:
            return await self._conn.call(self._conn.kv.Range, request, idempotent=True)
        except EtcdError as error:
            raise await self._revision_error(error, int(request.revision)) from None

    async def _revision_error(self, error: EtcdError, requested: int) -> StoreError:
        if _FUTURE in error.detail:
            return FutureRevisionError(requested, await self.revision())
        if _COMPACTED in error.detail:
            return CompactedError(requested, await self._conn.compacted_revision(_PROBE))
        return error

    async def _check_watch_start(self, start: int) -> None:
        """CompactedError unless ``start`` is above the compacted revision."""
        if start <= 1:
            return
        request = rpc.RangeRequest(key=_PROBE, revision=start - 1, count_only=True)
        try:
            await self._read(request)
        except CompactedError as error:
            raise CompactedError(start, error.compacted) from None
        except FutureRevisionError:
            pass  # etcd waits for a future start revision

    async def probe(self, budget: float) -> None:
        """Check that the cluster answers a linearizable read within ``budget`` seconds."""
        request = rpc.RangeRequest(key=_PROBE, count_only=True)
        await self._conn.call(self._conn.kv.Range, request, idempotent=True, budget=budget)

    # -- reads ----------------------------------------------------------------------------------

    async def revision(self) -> int:
        self._check_open()
        response = await self._read(rpc.RangeRequest(key=_PROBE, count_only=True))
        return int(response.header.revision)

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        self._check_open()
        at = revision if revision is not None and revision > 0 else 0
        response = await self._read(rpc.RangeRequest(key=self._keys.key(key), revision=at))
        return self._keys.kv(response.kvs[0]) if response.kvs else None

    async def list(
        self,
        prefix: str,
        *,
        limit: int | None = None,
        start: str | None = None,
        revision: int | None = None,
    ) -> ListResult:
        self._check_open()
        key, end = self._keys.range(prefix, start)
        at = revision if revision is not None and revision > 0 else 0
        wanted = limit if limit is not None and limit > 0 else 0
        response = await self._read(
            rpc.RangeRequest(key=key, range_end=end, limit=wanted, revision=at)
        )
        items = tuple(self._keys.kv(kv) for kv in response.kvs)
        return ListResult(items, at or int(response.header.revision), bool(response.more))

    async def count(self, prefix: str) -> int:
        self._check_open()
        key, end = self._keys.range(prefix)
        response = await self._read(rpc.RangeRequest(key=key, range_end=end, count_only=True))
        return int(response.count)

    # -- writes ---------------------------------------------------------------------------------

    async def _txn(self, compare: builtins.list[Any], success: Any, key: bytes) -> Any:
        request = rpc.TxnRequest(
            compare=compare,
            success=[success],
            failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=key))],
        )
        try:
            response, ambiguous = await self._conn.call_conditional(self._conn.kv.Txn, request)
        except EtcdError as error:
            if _NO_LEASE in error.detail:
                lease = int(success.request_put.lease)
                raise LeaseNotFoundError(lease) from None
            raise
        if ambiguous and not response.succeeded:
            raise self._conn.unavailable(
                "a member failed while it handled this write, and a retry found the key "
                "changed: the write may or may not have been applied; read the key again"
            )
        return response

    def _current(self, response: Any) -> KeyValue | None:
        kvs = response.responses[0].response_range.kvs
        return self._keys.kv(kvs[0]) if kvs else None

    async def create(self, key: str, value: bytes, *, lease: int = 0) -> KeyValue:
        self._check_open()
        raw = self._keys.key(key)
        put = rpc.RequestOp(request_put=rpc.PutRequest(key=raw, value=bytes(value), lease=lease))
        absent = rpc.Compare(key=raw, target=_CREATE, result=_EQUAL, create_revision=0)
        response = await self._txn([absent], put, raw)
        if not response.succeeded:
            raise KeyExistsError(key)
        rev = int(response.header.revision)
        return KeyValue(key, bytes(value), rev, rev, 1, lease)

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, lease: int = 0
    ) -> KeyValue:
        self._check_open()
        raw = self._keys.key(key)
        put = rpc.PutRequest(key=raw, value=bytes(value), lease=lease, prev_kv=True)
        same = rpc.Compare(key=raw, target=_MOD, result=_EQUAL, mod_revision=expected_revision)
        response = await self._txn([_exists(raw), same], rpc.RequestOp(request_put=put), raw)
        if not response.succeeded:
            current = self._current(response)
            if current is None:
                raise KeyNotFoundError(key)
            raise ConflictError(key, expected_revision, current)
        prev = response.responses[0].response_put.prev_kv
        rev = int(response.header.revision)
        return KeyValue(key, bytes(value), int(prev.create_revision), rev, prev.version + 1, lease)

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        self._check_open()
        raw = self._keys.key(key)
        compare = [_exists(raw)]
        if expected_revision is not None:
            compare.append(
                rpc.Compare(key=raw, target=_MOD, result=_EQUAL, mod_revision=expected_revision)
            )
        delete = rpc.DeleteRangeRequest(key=raw, prev_kv=True)
        response = await self._txn(compare, rpc.RequestOp(request_delete_range=delete), raw)
        if not response.succeeded:
            current = self._current(response)
            if current is None:
                raise KeyNotFoundError(key)
            raise ConflictError(key, expected_revision or 0, current)
        return self._keys.kv(response.responses[0].response_delete_range.prev_kvs[0])

    # -- watch and compaction -------------------------------------------------------------------

    def watch(self, prefix: str, *, start_revision: int | None = None) -> Watch:
        self._check_open()
        # Without a start: everything after the newest revision this store has seen. Writes by
        # others since then are delivered too, which is what a caller that listed first wants.
        start = self._conn.revision_seen + 1 if start_revision is None else start_revision
        watch = EtcdWatch(
            self._conn,
            self._keys,
            self._keys.range(prefix),
            start,
            check_start=None if start_revision is None else self._check_watch_start,
            on_close=self._watches.discard,
        )
        if start < 1:
            watch._stop(CompactedError(start, 0))
            return watch
        self._watches.add(watch)
        watch.start()  # without a running loop, the store's next request starts it
        return watch

    async def compact(self, revision: int) -> None:
        self._check_open()
        # Watches opened before keep their history: let etcd replay it to them first.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._conn.config.timeout
        while not all(w.caught_up() for w in self._watches) and loop.time() < deadline:
            await asyncio.sleep(0.02)
        request = rpc.CompactionRequest(revision=revision)
        try:
            await self._conn.call(self._conn.kv.Compact, request, idempotent=False)
        except EtcdError as error:
            raise await self._revision_error(error, revision) from None

    # -- leases ---------------------------------------------------------------------------------

    async def grant_lease(self, ttl: int) -> Lease:
        self._check_open()
        if ttl <= 0:
            raise StoreError(f"lease TTL must be positive, got {ttl}")
        request = rpc.LeaseGrantRequest(TTL=ttl)
        response = await self._conn.call(self._conn.lease.LeaseGrant, request, idempotent=False)
        if response.error:
            raise StoreError(f"etcd refused a lease: {response.error}")
        return Lease(int(response.ID), int(response.TTL))

    async def keep_alive(self, lease_id: int) -> int:
        self._check_open()
        ttl = await self._conn.keep_alive_once(lease_id)
        if ttl <= 0:
            raise LeaseNotFoundError(lease_id)
        return ttl

    async def revoke_lease(self, lease_id: int) -> None:
        self._check_open()
        request = rpc.LeaseRevokeRequest(ID=lease_id)
        try:
            await self._conn.call(self._conn.lease.LeaseRevoke, request, idempotent=False)
        except EtcdError as error:
            if _NO_LEASE in error.detail:
                raise LeaseNotFoundError(lease_id) from None
            raise

    # -- lifecycle ------------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for watch in list(self._watches):
            await watch.close()
        await self._conn.close()


_conforms: type[Store] = EtcdStore
