"""One informer per kind, shared by every controller of a manager (client-go's
SharedInformerFactory): each kind is listed and watched once however many controllers read it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from kframe.client import Client, Informer

__all__ = ["SharedInformers"]

T = TypeVar("T")


class SharedInformers:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._informers: dict[type[Any], Informer[Any]] = {}
        self._tasks: dict[type[Any], asyncio.Task[None]] = {}
        self._started = False  # since start(), until stop(): a new informer starts at once

    def get(
        self, cls: type[T], *, indexers: Mapping[str, Callable[[T], Iterable[str]]] | None = None
    ) -> Informer[T]:
        """The informer of ``cls`` (made on first use), with ``indexers`` added to its store.
        An informer asked for after :meth:`start` starts at once."""
        informer = self._informers.get(cls)
        if informer is None:
            informer = self._informers[cls] = Informer(self._client, cls)
            if self._started:
                self._start(cls, informer)
        for name, func in (indexers or {}).items():
            informer.store.add_indexer(name, func)
        return cast(Informer[T], informer)

    def _start(self, cls: type[Any], informer: Informer[Any]) -> None:
        self._tasks[cls] = asyncio.ensure_future(informer.run())

    def start(self) -> None:
        """Run every informer asked for so far, and from now on each one asked for later."""
        self._started = True
        for cls, informer in self._informers.items():
            if cls not in self._tasks:
                self._start(cls, informer)

    async def wait_for_sync(self) -> None:
        """Until every informer has listed once (WaitForCacheSync), including those asked for
        while waiting."""
        while True:
            pending = [i for i in self._informers.values() if not i.has_synced]
            if not pending:
                return
            for task in self._tasks.values():
                if task.done():
                    task.result()  # an informer that crashed: raise, do not wait forever
            await asyncio.wait(
                [asyncio.ensure_future(i.wait_for_sync()) for i in pending],
                timeout=1.0,
            )

    @property
    def kinds(self) -> list[type[Any]]:
        return list(self._informers)

    async def stop(self) -> None:
        self._started = False
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
