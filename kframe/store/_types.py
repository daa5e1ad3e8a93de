"""The values a Store hands out: key-values with revisions, list pages, watch events, leases."""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["Event", "KeyValue", "Lease", "ListResult"]


@attrs.frozen
class KeyValue:
    """One version of one key, as etcd's mvccpb.KeyValue.

    ``create_revision`` is the revision that created the key, ``mod_revision`` the one that last
    changed it, ``version`` counts changes since creation (1 after create). ``lease`` is the
    attached lease id, 0 for none.
    """

    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int = 0


@attrs.frozen
class ListResult:
    """A page of a prefix listing, read at one revision.

    ``revision`` is the store revision the page was read at: pass it back with ``start`` set
    past the last key to read the next page consistently. ``more`` says keys remain.
    """

    items: tuple[KeyValue, ...]
    revision: int
    more: bool


@attrs.frozen
class Event:
    """One change seen by a watch.

    For ``PUT``, ``kv`` is the new version and ``prev_kv`` the one before it (None on
    create). For ``DELETE``, ``kv`` carries the key with the deleting revision as
    ``mod_revision`` and an empty value, and ``prev_kv`` the deleted version.
    """

    type: Literal["PUT", "DELETE"]
    kv: KeyValue
    prev_kv: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision

    @property
    def is_create(self) -> bool:
        return self.type == "PUT" and self.kv.version == 1


@attrs.frozen
class Lease:
    """A granted lease: keys attached to it are deleted when it expires or is revoked."""

    id: int
    ttl: int
