"""What a controller is: something that reconciles one key at a time.

As in kube-controller-manager, a controller watches kinds through shared informers, puts the
keys of objects that need work on its own work queue, and N workers call :meth:`reconcile` for
one key at a time. The work queue guarantees a key is never reconciled by two workers at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from kframe.controller._context import ControllerContext

__all__ = ["Controller", "ControllerSpec", "Result", "done", "requeue_after"]


@attrs.frozen
class Result:
    """What a reconcile asks for next: nothing (``requeue_after`` None), or another
    reconcile of the same key after ``requeue_after`` seconds (0: as soon as possible, through
    the rate limiter). An exception instead retries with the queue's rate-limited backoff."""

    requeue_after: float | None = None


def done() -> Result:
    """The key is reconciled: forget its failures."""
    return Result()


def requeue_after(seconds: float) -> Result:
    """Reconcile the key again after ``seconds`` (a timer, not a failure: backoff is reset)."""
    return Result(requeue_after=max(0.0, seconds))


@runtime_checkable
class Controller(Protocol):
    """Reconciles one work-queue key (``namespace/name``, or ``name`` when cluster-scoped).

    ``reconcile`` reads from informer caches, writes through the client, and must be
    idempotent: the same key may come again at any time, and the object may be gone.
    """

    async def reconcile(self, key: str) -> Result | None: ...


ControllerFactory = Callable[["ControllerContext"], Controller]


@attrs.frozen
class ControllerSpec:
    """How a plugin registers a controller (``kframe_controllers`` returns ``{name: spec}``;
    a bare factory is taken as ``ControllerSpec(factory)``).

    ``build`` receives the controller's context, registers its informer handlers there and
    returns the controller. ``workers`` is its default concurrency (upstream's
    ``--concurrent-*-syncs``); ``enabled_by_default`` says whether ``--controllers=*`` includes
    it, as upstream's disabled-by-default controllers (bootstrapsigner, tokencleaner).
    ``aliases`` are other names ``--controllers`` accepts for it (upstream registers
    ``replicaset-controller`` and accepts the older ``replicaset``).
    """

    build: ControllerFactory
    workers: int = 1
    enabled_by_default: bool = True
    aliases: tuple[str, ...] = ()
