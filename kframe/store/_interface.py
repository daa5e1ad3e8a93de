"""The Store interface: the subset of etcd v3 that the API server needs, as an async Protocol.

Semantics every backend must have (the conformance suite in ``kframe.testing.store`` checks
them):

- One cluster-wide revision, starting at 1 on an empty store, growing by exactly one per
  successful write (create, update, delete, and each key deleted by a lease expiry).
- Reads at a past revision see the store as it was then; a revision below the compacted one
  raises CompactedError.
- create fails with KeyExistsError; update and delete with an expected revision succeed only if
  the key's mod_revision equals it, else ConflictError carrying the current value.
- watch(prefix, start_revision=r) yields every change to keys under prefix with revision >= r,
  exactly once, in revision order, each with its previous value; r must be above the compacted
  revision. Without start_revision it starts after the current revision. watch() itself returns
  at once; a backend may read history when the watch is first iterated.
- compact(r) raises CompactedError if r is not above the compacted revision and
  FutureRevisionError if r is above the current one.
- A revision of None (or 0 and below) in get/list means "now".
- Leases survive a restart of a durable backend with their full TTL granted again, as etcd does
  (deadlines are not persisted).
- Watch queues are unbounded: a watcher that stops reading holds memory until it is closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from kframe.store._types import Event, KeyValue, Lease, ListResult

__all__ = ["Store", "Watch"]


@runtime_checkable
class Watch(Protocol):
    """A running watch: iterate it for events; close it to stop."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...


@runtime_checkable
class Store(Protocol):
    """An etcd-like key-value store with revisions, optimistic writes, watches and leases."""

    async def revision(self) -> int:
        """The current revision (1 for an empty store)."""
        ...

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        """The key's version at ``revision`` (default: now), or None if it did not exist."""
        ...

    async def list(
        self,
        prefix: str,
        *,
        limit: int | None = None,
        start: str | None = None,
        revision: int | None = None,
    ) -> ListResult:
        """Keys under ``prefix`` in key order, from ``start`` (inclusive) on, at ``revision``.

        With ``limit``, at most that many items; ``more`` tells whether keys remain.
        """
        ...

    async def count(self, prefix: str) -> int:
        """How many keys exist under ``prefix`` now."""
        ...

    async def create(self, key: str, value: bytes, *, lease: int = 0) -> KeyValue:
        """Create ``key``; KeyExistsError if it exists. Returns the new version."""
        ...

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, lease: int = 0
    ) -> KeyValue:
        """Replace ``key`` if its mod_revision is ``expected_revision``.

        ConflictError (with the current value) otherwise; KeyNotFoundError if it is gone.
        """
        ...

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        """Delete ``key`` (if its mod_revision is ``expected_revision``, when given).

        Returns the deleted version; KeyNotFoundError or ConflictError as for update.
        """
        ...

    def watch(self, prefix: str, *, start_revision: int | None = None) -> Watch:
        """Watch changes under ``prefix`` from ``start_revision`` (inclusive).

        Raises CompactedError (when iterated, at the latest) if ``start_revision`` is not
        above the compacted revision.
        """
        ...

    async def compact(self, revision: int) -> None:
        """Forget history below ``revision``; reads and watches below it raise CompactedError."""
        ...

    async def grant_lease(self, ttl: int) -> Lease:
        """A new lease of ``ttl`` seconds."""
        ...

    async def keep_alive(self, lease_id: int) -> int:
        """Renew a lease; returns its TTL. LeaseNotFoundError if it has expired."""
        ...

    async def revoke_lease(self, lease_id: int) -> None:
        """Revoke a lease now, deleting its keys. LeaseNotFoundError if it does not exist."""
        ...

    async def close(self) -> None:
        """Release connections, files and background tasks; watches end."""
        ...
