"""Informers: a local, indexed cache of one kind, kept current by list-then-watch.

As client-go's reflector and indexer: list, then watch from the list's resourceVersion; resume
the watch from the last seen resourceVersion when it ends; list again when the server answers
410 (the revision was compacted), telling handlers about whatever changed in between.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from kframe.apiserver import APIError
from kframe.client._interface import Client

__all__ = ["Indexer", "Informer", "object_key"]

log = logging.getLogger("kframe.client")

T = TypeVar("T")
Handler = Callable[..., Awaitable[None] | None]


def object_key(obj: Any) -> str:
    """``namespace/name``, or ``name`` for cluster-scoped objects (client-go's MetaNamespaceKey)."""
    meta = getattr(obj, "metadata", None)
    name = getattr(meta, "name", None) or ""
    namespace = getattr(meta, "namespace", None)
    return f"{namespace}/{name}" if namespace else name


def _namespace_index(obj: Any) -> list[str]:
    namespace = getattr(getattr(obj, "metadata", None), "namespace", None)
    return [namespace] if namespace else []


class Indexer(Generic[T]):
    """Objects by key, plus named secondary indexes (``namespace`` is always there)."""

    def __init__(self, indexers: Mapping[str, Callable[[T], Iterable[str]]] | None = None):
        self._items: dict[str, T] = {}
        self._indexers: dict[str, Callable[[T], Iterable[str]]] = {
            "namespace": _namespace_index,
            **(indexers or {}),
        }
        self._indices: dict[str, dict[str, set[str]]] = {n: {} for n in self._indexers}

    def _unindex(self, key: str, obj: T) -> None:
        for name, func in self._indexers.items():
            for value in func(obj):
                keys = self._indices[name].get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._indices[name][value]

    def _index(self, key: str, obj: T) -> None:
        for name, func in self._indexers.items():
            for value in func(obj):
                self._indices[name].setdefault(value, set()).add(key)

    def add_indexer(self, name: str, func: Callable[[T], Iterable[str]]) -> None:
        """Add a secondary index, over the objects already held too. Adding the same function
        under the same name again is a no-op (informers are shared); another one is an error."""
        existing = self._indexers.get(name)
        if existing is not None:
            if existing is not func:
                raise ValueError(f"index {name!r} already exists with another function")
            return
        self._indexers[name] = func
        index: dict[str, set[str]] = {}
        for key, obj in self._items.items():
            for value in func(obj):
                index.setdefault(value, set()).add(key)
        self._indices[name] = index

    def put(self, obj: T) -> T | None:
        """Add or replace; returns the object it replaced."""
        key = object_key(obj)
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self._items[key] = obj
        self._index(key, obj)
        return old

    def remove(self, key: str) -> T | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def list_keys(self) -> builtins.list[str]:
        return sorted(self._items)

    def list(self) -> builtins.list[T]:
        return [self._items[k] for k in sorted(self._items)]

    def by_index(self, index: str, value: str) -> builtins.list[T]:
        """Objects whose index function returned ``value`` (KeyError for an unknown index)."""
        keys = self._indices[index].get(value, set())
        return [self._items[k] for k in sorted(keys)]

    def __len__(self) -> int:
        return len(self._items)


class _Registration:
    """One ``add_handler`` call: its handlers, and the replay of the objects already held
    (async ``on_add``) that must finish before the handlers hear of anything newer."""

    __slots__ = ("handlers", "replaying")

    def __init__(self, handlers: tuple[Handler | None, Handler | None, Handler | None]) -> None:
        self.handlers = handlers
        self.replaying: asyncio.Future[None] | None = None


class Informer(Generic[T]):
    """Keeps :attr:`store` equal to the server's objects of ``cls`` and calls handlers.

    Handlers (plain or async callables) run in registration order: ``on_add(obj)``,
    ``on_update(old, new)``, ``on_delete(obj)``. A handler's exception is logged, not raised.
    A handler added once objects are held hears of each of them as an add first (client-go's
    AddEventHandler on a started informer).
    """

    def __init__(
        self,
        client: Client,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        indexers: Mapping[str, Callable[[T], Iterable[str]]] | None = None,
        retry_delay: float = 1.0,
    ) -> None:
        self._client = client
        self._cls = cls
        self._namespace = namespace
        self._label_selector = label_selector
        self._field_selector = field_selector
        self._retry_delay = retry_delay
        self.store: Indexer[T] = Indexer(indexers)
        self._handlers: list[_Registration] = []
        self._synced = asyncio.Event()
        self.resource_version = ""

    def add_handler(
        self,
        on_add: Handler | None = None,
        on_update: Handler | None = None,
        on_delete: Handler | None = None,
    ) -> None:
        """Call these for every change from now on. If the store already holds objects,
        ``on_add`` is called for each of them first, in key order: at once when it is a plain
        function; an async one is awaited in the background, and the registration's later
        events wait for that replay."""
        registration = _Registration((on_add, on_update, on_delete))
        self._handlers.append(registration)
        if on_add is None or not len(self.store):
            return
        existing = self.store.list()
        for i, obj in enumerate(existing):
            try:
                result = on_add(obj)
            except Exception:
                log.exception("informer handler for %s failed", self._cls.__name__)
                continue
            if inspect.isawaitable(result):
                registration.replaying = asyncio.ensure_future(
                    self._replay(on_add, result, existing[i + 1 :])
                )
                return

    async def _replay(self, on_add: Handler, first: Awaitable[Any], rest: list[T]) -> None:
        try:
            await first
        except Exception:
            log.exception("informer handler for %s failed", self._cls.__name__)
        for obj in rest:
            try:
                result = on_add(obj)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("informer handler for %s failed", self._cls.__name__)

    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        await self._synced.wait()

    async def _call(self, which: int, *args: Any) -> None:
        # A snapshot: a handler added while these run has this object in its replay already.
        for registration in list(self._handlers):
            handler = registration.handlers[which]
            if handler is None:
                continue
            replaying = registration.replaying
            if replaying is not None:
                if not replaying.done():
                    await asyncio.shield(replaying)
                registration.replaying = None
            try:
                result = handler(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("informer handler for %s failed", self._cls.__name__)

    async def _relist(self) -> None:
        items: list[T] = []
        token = ""
        while True:
            page = await self._client.list(
                self._cls,
                namespace=self._namespace,
                label_selector=self._label_selector,
                field_selector=self._field_selector,
                limit=500,
                continue_token=token,
            )
            items.extend(page.items)
            if not token:
                self.resource_version = page.resource_version
            token = page.continue_token
            if not token:
                break
        seen = set()
        for obj in items:
            key = object_key(obj)
            seen.add(key)
            old = self.store.put(obj)
            if old is None:
                await self._call(0, obj)
            elif old != obj:
                await self._call(1, old, obj)
        for key in [k for k in self.store.list_keys() if k not in seen]:
            gone = self.store.remove(key)
            if gone is not None:
                await self._call(2, gone)
        self._synced.set()

    async def _watch(self) -> None:
        async for event in self._client.watch(
            self._cls,
            namespace=self._namespace,
            label_selector=self._label_selector,
            field_selector=self._field_selector,
            resource_version=self.resource_version,
        ):
            if event.resource_version:
                self.resource_version = event.resource_version
            obj = event.object
            if obj is None:  # a bookmark: only the resourceVersion moves
                continue
            if event.type == "DELETED":
                gone = self.store.remove(object_key(obj))
                await self._call(2, gone if gone is not None else obj)
                continue
            old = self.store.put(obj)
            if old is None:
                await self._call(0, obj)
            else:
                await self._call(1, old, obj)

    async def run(self) -> None:
        """List, then watch, until cancelled."""
        need_list = True
        while True:
            try:
                if need_list:
                    await self._relist()
                    need_list = False
                await self._watch()  # the server ended the watch: resume where it stopped
            except APIError as exc:
                if exc.code == 410:  # compacted: our revision is gone, start over
                    need_list = True
                    continue
                log.warning("informer for %s: %s; retrying", self._cls.__name__, exc)
                need_list = True
                await asyncio.sleep(self._retry_delay)

    @contextlib.asynccontextmanager
    async def running(self) -> Any:
        """``async with informer.running():`` runs it in the background until the block ends."""
        task = asyncio.ensure_future(self.run())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
