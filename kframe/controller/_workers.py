"""The worker loop every controller runs N of (upstream's processNextWorkItem)."""

from __future__ import annotations

import asyncio
import logging

from kframe.client import ShutDown, WorkQueue
from kframe.controller._interface import Controller

__all__ = ["run_workers"]

log = logging.getLogger("kframe.controller")


async def _worker(name: str, controller: Controller, queue: WorkQueue[str]) -> None:
    while True:
        try:
            key = await queue.get()
        except ShutDown:
            return
        try:
            result = await controller.reconcile(key)
        except Exception as exc:
            # A failed sync retries with the queue's per-item exponential backoff.
            log.warning("%s: syncing %r failed: %s", name, key, exc, exc_info=log.isEnabledFor(10))
            queue.add_rate_limited(key)
        else:
            if result is not None and result.requeue_after is not None:
                queue.forget(key)
                if result.requeue_after > 0:
                    queue.add_after(key, result.requeue_after)
                else:
                    queue.add_rate_limited(key)
            else:
                queue.forget(key)
        finally:
            queue.done(key)


async def run_workers(
    name: str, controller: Controller, queue: WorkQueue[str], workers: int
) -> None:
    """``workers`` concurrent reconcile loops over ``queue`` until cancelled or shut down."""
    tasks = [asyncio.ensure_future(_worker(name, controller, queue)) for _ in range(workers)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
