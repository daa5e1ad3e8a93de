"""The Client interface: how every component talks to the API server, and nothing else.

Objects are kframe's typed models; the resource is found from the model's ``API_VERSION`` and
``KIND``. Failures raise :class:`kframe.apiserver.APIError` with the server's code, reason and
message, whichever implementation is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

import attrs

__all__ = ["Client", "ObjectList", "PatchType", "WatchEvent"]

T = TypeVar("T")
PatchType = Literal["strategic", "merge", "json"]


@attrs.frozen
class ObjectList(Generic[T]):
    """One page of a list: the items, the revision read at, the token for the next page."""

    items: tuple[T, ...]
    resource_version: str
    continue_token: str = ""


@attrs.frozen
class WatchEvent(Generic[T]):
    """``ADDED``, ``MODIFIED``, ``DELETED`` (with the object), or ``BOOKMARK`` (object None)."""

    type: str
    object: T | None
    resource_version: str
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@runtime_checkable
class Client(Protocol):
    async def create(self, obj: T, *, namespace: str | None = None, dry_run: bool = False) -> T:
        """Create ``obj`` (in ``namespace``, or its own, or ``default``)."""
        ...

    async def get(self, cls: type[T], name: str, *, namespace: str | None = None) -> T: ...

    async def list(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> ObjectList[T]:
        """Objects of ``cls`` (all namespaces when ``namespace`` is None)."""
        ...

    async def update(self, obj: T, *, subresource: str = "") -> T:
        """Replace ``obj`` (its ``metadata.resourceVersion``, if set, must be current)."""
        ...

    async def patch(
        self,
        cls: type[T],
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "strategic",
        subresource: str = "",
    ) -> T: ...

    async def delete(
        self,
        cls: type[T],
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
    ) -> T:
        """Delete, returning the object as it was (or as marked, while finalizers remain)."""
        ...

    def watch(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        allow_bookmarks: bool = True,
        timeout_seconds: int = 0,
    ) -> AsyncIterator[WatchEvent[T]]:
        """Changes after ``resource_version`` (without one: the current objects as ADDED, then
        changes). A 410 arrives as an APIError with ``code == 410``."""
        ...

    async def close(self) -> None: ...
