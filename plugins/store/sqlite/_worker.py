"""The one thread that touches the database, and the group commit it runs.

The store's coroutines submit jobs (a function of the :class:`~._engine.Engine`) and await a
future; the event loop never blocks on SQLite or on an fsync. The thread takes every job queued
so far as one batch, runs them in order inside one transaction, commits once, and only then
hands all the results and the batch's watch events back to the loop in a single callback. So a
write is acknowledged only after its commit is durable, writes that queue up while a commit is
syncing share the next one, and a reader never sees a write that could still be rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from kframe.store import Event, StoreError, StoreUnavailableError

from ._config import SQLiteConfig
from ._engine import Engine
from ._lock import FileLock
from ._schema import open_database

__all__ = ["Delivery", "OpenState", "Worker"]

T = TypeVar("T")

# A job's future and its result or error, handed to the loop after the commit.
Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]

# More jobs than this wait for the next commit, so one batch cannot hold results back for long.
_MAX_BATCH = 1024


@attrs.frozen
class OpenState:
    """What the store needs to know about the database once it is open."""

    revision: int
    compacted: int
    leases: dict[int, int]


@attrs.frozen
class Delivery:
    """One batch's outcome: results to hand out and events to publish, after its commit."""

    results: list[Outcome]
    events: list[Event]
    revision: int
    compacted: int


@attrs.define
class _Job:
    fn: Callable[[Engine], Any] | None  # None: stop the thread
    write: bool
    future: asyncio.Future[Any]


class Worker:
    """Owns the lock, the connection and the engine; runs jobs in batches on its thread."""

    def __init__(
        self,
        config: SQLiteConfig,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[Delivery], None],
    ) -> None:
        self._config = config
        self._loop = loop
        self._deliver = deliver
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._opened: asyncio.Future[OpenState] = loop.create_future()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(
            target=self._run, name=f"kframe-sqlite:{config.path}", daemon=True
        )

    async def start(self) -> OpenState:
        """Start the thread and wait for it to open the database."""
        self._thread.start()
        return await self._opened

    def submit(self, fn: Callable[[Engine], T], *, write: bool) -> asyncio.Future[T]:
        """Queue ``fn`` for the thread; the future resolves after the batch commits."""
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put(_Job(fn, write, future))
        return future

    async def stop(self) -> None:
        """Finish the queued jobs, close the database and release the lock."""
        if not self._stopped.done():
            self._jobs.put(_Job(None, True, self._loop.create_future()))
        # Shielded: a caller cancelled while closing must not leave the file half-closed.
        await asyncio.shield(self._stopped)

    # -- the thread -----------------------------------------------------------------------------

    def _post(self, fn: Callable[..., object], *args: object) -> bool:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            return False  # the loop is closed: nobody is left to answer
        return True

    def _run(self) -> None:
        config = self._config
        lock: FileLock | None = None
        conn: sqlite3.Connection | None = None
        try:
            lock = FileLock.acquire(config.lock_path, config.path)
            conn = open_database(config)
            engine = Engine(conn)
            state = OpenState(engine.revision, engine.compacted, dict(engine.leases))
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if lock is not None:
                lock.release()
            error = exc if isinstance(exc, StoreError) else self._unavailable(exc)
            self._post(_settle, self._opened, None, error)
            return
        try:
            if self._post(_settle, self._opened, state, None):
                self._serve(engine)
        finally:
            conn.close()
            lock.release()
            self._post(_settle, self._stopped, None, None)

    def _serve(self, engine: Engine) -> None:
        while True:
            batch = [self._jobs.get()]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            stop = any(job.fn is None for job in batch)
            delivery = self._run_batch(engine, [job for job in batch if job.fn is not None])
            if not self._post(self._deliver, delivery) or stop:
                return

    def _run_batch(self, engine: Engine, batch: list[_Job]) -> Delivery:
        results: list[Outcome] = []
        if engine.broken is not None:
            failed: list[Outcome] = [
                (job.future, None, self._unavailable(engine.broken)) for job in batch
            ]
            return Delivery(failed, [], engine.revision, engine.compacted)
        try:
            for job in batch:
                assert job.fn is not None
                try:
                    results.append((job.future, job.fn(engine), None))
                except StoreError as exc:
                    # Raised before the job changed anything: only this job fails.
                    results.append((job.future, None, exc))
                except sqlite3.Error:
                    raise
                except Exception as exc:
                    if job.write:
                        raise  # it may have changed rows: the whole batch must go
                    results.append((job.future, None, exc))
            engine.commit()
        except Exception as exc:
            engine.rollback()
            # Nothing of the batch committed, and its reads may have seen its writes.
            results = [(job.future, None, self._unavailable(exc)) for job in batch]
        if engine.reclaim_needed:
            # The compaction is committed; if reclaiming fails, the next compaction does it.
            with contextlib.suppress(sqlite3.Error):
                engine.reclaim()
        return Delivery(results, engine.take_events(), engine.revision, engine.compacted)

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        detail = str(exc) or type(exc).__name__
        error = StoreUnavailableError(f"SQLite store {self._config.path}: {detail}")
        error.__cause__ = exc
        return error


def _settle(future: asyncio.Future[T], result: T, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
