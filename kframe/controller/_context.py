"""What a controller's factory is handed: the client, shared informers, its own work queue."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from kframe.client import (
    Client,
    Clock,
    EventRecorder,
    Informer,
    LoopClock,
    WorkQueue,
    object_key,
)
from kframe.controller._expectations import Expectations
from kframe.controller._informers import SharedInformers

__all__ = ["ControllerContext"]

log = logging.getLogger("kframe.controller")

T = TypeVar("T")
V = TypeVar("V")


class ControllerContext:
    """Everything one controller needs; the manager makes one per enabled controller.

    ``options`` are the manager's ``--option name=value`` settings (strings), read with
    :meth:`option`; ``workers`` is how many reconciles of this controller may run at once.
    """

    def __init__(
        self,
        name: str,
        client: Client,
        informers: SharedInformers,
        *,
        clock: Clock | None = None,
        options: Mapping[str, str] | None = None,
        workers: int = 1,
        component: str = "",
    ) -> None:
        self.name = name
        self.client = client
        self.informers = informers
        self.clock: Clock = clock if clock is not None else LoopClock()
        self.options: Mapping[str, str] = dict(options or {})
        self.workers = workers
        self.queue: WorkQueue[str] = WorkQueue(clock=self.clock, name=name)
        # Upstream event sources name the controller (``deployment-controller``).
        self.component = component or (
            name if name.endswith("-controller") else f"{name}-controller"
        )
        self.background: list[Callable[[], Awaitable[None]]] = []
        self.recorder = EventRecorder(client, self.component, monotonic=self.clock.now, logger=log)

    # -- informers ------------------------------------------------------------------------------

    def informer(
        self, cls: type[T], *, indexers: Mapping[str, Callable[[T], Iterable[str]]] | None = None
    ) -> Informer[T]:
        """The shared informer of ``cls``; read its ``store``, add handlers to it."""
        return self.informers.get(cls, indexers=indexers)

    def watch(
        self,
        cls: type[T],
        keys: Callable[[T], Iterable[str]] | None = None,
        *,
        indexers: Mapping[str, Callable[[T], Iterable[str]]] | None = None,
    ) -> Informer[T]:
        """Enqueue on every add, update and delete of ``cls``: the object's own key, or the
        keys ``keys(obj)`` maps it to (a pod to its owner, say); an update enqueues the keys
        of both the old and the new object."""
        informer = self.informer(cls, indexers=indexers)
        mapper = keys if keys is not None else (lambda obj: (object_key(obj),))

        def on_add(obj: T) -> None:
            for key in mapper(obj):
                self.queue.add(key)

        def on_update(old: T, new: T) -> None:
            for key in {*mapper(old), *mapper(new)}:
                self.queue.add(key)

        informer.add_handler(on_add, on_update, on_add)
        return informer

    def enqueue(self, obj: Any) -> None:
        self.queue.add(object_key(obj))

    def enqueue_after(self, obj: Any, seconds: float) -> None:
        self.queue.add_after(object_key(obj), seconds)

    # -- the rest -------------------------------------------------------------------------------

    def option(self, name: str, default: V, parse: Callable[[str], V] | None = None) -> V:
        """The ``--option`` value of ``name`` parsed as ``default``'s type (or by ``parse``),
        else ``default``. A value that does not parse is a ValueError naming the option."""
        raw = self.options.get(name)
        if raw is None:
            return default
        convert: Callable[[str], Any] = parse if parse is not None else type(default)
        try:
            return convert(raw)  # type: ignore[no-any-return]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"--option {name}={raw}: {exc}") from None

    def expectations(self) -> Expectations:
        return Expectations(self.clock)

    def add_background(self, run: Callable[[], Awaitable[None]]) -> None:
        """A loop the manager runs beside the workers (a second queue, a periodic resync)."""
        self.background.append(run)

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        """Record an Event about ``obj`` from this controller's component (best effort: a
        failed write is only logged). Repeats are counted on one Event and an object's bursts
        are capped, by client-go's correlator (:class:`~kframe.client.EventRecorder`)."""
        self.recorder.event(obj, type_, reason, message)
