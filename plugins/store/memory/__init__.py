"""The ``memory://`` Store backend: kframe's reference semantics, for tests and simulations.

Nothing is persisted; everything is lost when the process ends.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl
from kframe.store import Store, StoreURL, StoreURLError

from ._store import MemoryStore

__all__ = ["MemoryStore", "kframe_store_backends", "open_memory_store"]


async def open_memory_store(url: StoreURL) -> Store:
    if url.hosts or url.path not in ("", "/") or url.options:
        raise StoreURLError(f"memory store URL takes no host, path or options: {url.raw!r}")
    return MemoryStore()


@hookimpl
def kframe_store_backends() -> Mapping[str, object]:
    return {"memory": open_memory_store}
