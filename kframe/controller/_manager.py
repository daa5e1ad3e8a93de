"""The controller manager: runs the enabled controllers over shared informers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kframe.client import Client, Clock
from kframe.controller._context import ControllerContext
from kframe.controller._informers import SharedInformers
from kframe.controller._interface import Controller, ControllerSpec
from kframe.controller._workers import run_workers
from kframe.registry import Registry, build_registry

__all__ = ["ControllerManager", "as_spec", "enabled_controllers", "registered_controllers"]

log = logging.getLogger("kframe.controller")


def as_spec(value: Any) -> ControllerSpec:
    """A registered value as a :class:`ControllerSpec` (a bare factory is one with defaults)."""
    if isinstance(value, ControllerSpec):
        return value
    if callable(value):
        return ControllerSpec(value)
    raise TypeError(f"a controller registers a ControllerSpec or a factory, not {value!r}")


def registered_controllers(registry: Registry | None = None) -> dict[str, ControllerSpec]:
    """Every controller the installed plugins register, by name."""
    if registry is None:
        registry = build_registry()
    return {e.name: as_spec(e.factory) for e in registry.entries("controller")}


def enabled_controllers(selection: Sequence[str], specs: Mapping[str, ControllerSpec]) -> list[str]:
    """The names ``--controllers`` selects, as upstream's IsControllerEnabled: the first entry
    naming a controller (``name`` or ``-name``) decides; otherwise ``*`` enables the controllers
    enabled by default. An unknown name is a ValueError."""
    canonical = {name: name for name in specs}
    for name, spec in specs.items():
        for alias in spec.aliases:
            canonical.setdefault(alias, name)
    resolved = []
    for item in selection:
        negated = item.startswith("-")
        bare = item[1:] if negated else item
        if bare == "*":
            resolved.append(item)
            continue
        if bare not in canonical:
            raise ValueError(
                f"--controllers: {bare!r} is not in the list of known controllers "
                f"({', '.join(sorted(specs)) or 'none installed'})"
            )
        resolved.append(("-" if negated else "") + canonical[bare])
    chosen = []
    for name in sorted(specs):
        decided: bool | None = None
        star = False
        for item in resolved:
            if item == name:
                decided = True
                break
            if item == f"-{name}":
                decided = False
                break
            if item == "*":
                star = True
        if decided is None:
            decided = star and specs[name].enabled_by_default
        if decided:
            chosen.append(name)
    return chosen


class ControllerManager:
    """Builds each enabled controller on one shared informer set and runs its workers.

    ``workers`` overrides a controller's default concurrency by name. :meth:`run` runs until
    cancelled; the leader-election wrapper decides when it may.
    """

    def __init__(
        self,
        client: Client,
        specs: Mapping[str, Any],
        *,
        controllers: Sequence[str] = ("*",),
        options: Mapping[str, str] | None = None,
        workers: Mapping[str, int] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.specs = {name: as_spec(v) for name, v in specs.items()}
        self.names = enabled_controllers(controllers, self.specs)
        self.options = dict(options or {})
        self.workers = dict(workers or {})
        self.clock = clock
        self.informers = SharedInformers(client)
        self.contexts: dict[str, ControllerContext] = {}
        self.controllers: dict[str, Controller] = {}
        self.synced = asyncio.Event()

    def build(self) -> None:
        """Make every enabled controller (each registers its informers and handlers)."""
        for name in self.names:
            if name in self.controllers:
                continue
            spec = self.specs[name]
            ctx = ControllerContext(
                name,
                self.client,
                self.informers,
                clock=self.clock,
                options=self.options,
                workers=self.workers.get(name, spec.workers),
            )
            self.contexts[name] = ctx
            self.controllers[name] = spec.build(ctx)

    async def run(self) -> None:
        """Start informers, wait for their first list, then run every controller's workers and
        background loops until cancelled."""
        self.build()
        self.informers.start()
        tasks: list[asyncio.Task[None]] = []
        try:
            await self.informers.wait_for_sync()
            self.synced.set()
            for name, controller in self.controllers.items():
                ctx = self.contexts[name]
                tasks.append(
                    asyncio.ensure_future(run_workers(name, controller, ctx.queue, ctx.workers))
                )
                tasks.extend(asyncio.ensure_future(_guard(name, b())) for b in ctx.background)
            log.info("controllers running: %s", ", ".join(self.names))
            await asyncio.gather(*tasks)
        finally:
            for ctx in self.contexts.values():
                ctx.queue.shut_down()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.informers.stop()


async def _guard(name: str, loop: Any) -> None:
    try:
        await loop
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s: a background loop stopped", name)
