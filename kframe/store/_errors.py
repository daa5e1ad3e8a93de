"""Errors every Store backend raises, so callers (the API server) can map them to HTTP codes."""

from __future__ import annotations

from kframe.store._types import KeyValue

__all__ = [
    "CompactedError",
    "ConflictError",
    "FutureRevisionError",
    "KeyExistsError",
    "KeyNotFoundError",
    "LeaseNotFoundError",
    "StoreError",
    "StoreUnavailableError",
]


class StoreError(Exception):
    """Base class of store errors."""


class KeyExistsError(StoreError):
    """create() found the key already present."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key already exists: {key}")
        self.key = key


class KeyNotFoundError(StoreError):
    """update() or delete() found no such key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class ConflictError(StoreError):
    """An optimistic write lost: the key's mod_revision was not the expected one.

    ``current`` is the key's value now (None if it was deleted), so the caller can retry or
    report it without another read, as kube-apiserver's GuaranteedUpdate does.
    """

    def __init__(self, key: str, expected: int, current: KeyValue | None) -> None:
        now = current.mod_revision if current else "deleted"
        super().__init__(f"conflict on {key}: expected mod_revision {expected}, found {now}")
        self.key = key
        self.expected = expected
        self.current = current


class CompactedError(StoreError):
    """A read or watch asked for a revision that compaction has removed (HTTP 410 Gone)."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(
            f"required revision {requested} has been compacted (compacted revision {compacted})"
        )
        self.requested = requested
        self.compacted = compacted


class FutureRevisionError(StoreError):
    """A read asked for a revision the store has not reached yet."""

    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"required revision {requested} is a future revision (current {current})")
        self.requested = requested
        self.current = current


class LeaseNotFoundError(StoreError):
    """keep_alive() or revoke() named a lease that expired or never existed."""

    def __init__(self, lease_id: int) -> None:
        super().__init__(f"lease {lease_id} not found")
        self.lease_id = lease_id


class StoreUnavailableError(StoreError):
    """The backend cannot be reached or opened (unreachable etcd, corrupt SQLite file)."""
