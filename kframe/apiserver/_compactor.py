"""Periodic compaction, as kube-apiserver's compactor does for etcd.

Every interval the store is compacted to the revision seen one interval earlier, so clients
that read within the last interval can still resume from their revision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kframe.store import CompactedError, Store

__all__ = ["Compactor"]

log = logging.getLogger("kframe.apiserver")


class Compactor:
    def __init__(self, store: Store, interval: float) -> None:
        self._store = store
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        previous = 0
        while True:
            await asyncio.sleep(self._interval)
            try:
                if previous:
                    await self._store.compact(previous)
                previous = await self._store.revision()
            except CompactedError:
                previous = await self._store.revision()  # someone else compacted further
            except Exception:  # the store is down: try again next interval
                log.exception("compaction failed")
