"""The controller manager: runs the enabled controllers over shared informers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kframe.client import Client, Clock, LeaderElectionConfig, LeaderElector
from kframe.controller._context import ControllerContext
from kframe.controller._informers import SharedInformers
from kframe.controller._interface import Controller, ControllerSpec
from kframe.controller._leader import LeaderElection, LeadershipLost, default_identity
from kframe.controller._workers import run_workers
from kframe.registry import Registry, build_registry

__all__ = [
    "UPSTREAM_COMPONENTS",
    "ControllerManager",
    "as_spec",
    "enabled_controllers",
    "registered_controllers",
]

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
    canonical = _canonical_names(specs)
    resolved = []
    for item in selection:
        if item == "*":
            resolved.append(item)
            continue
        # upstream ValidateControllersOptions: only a bare "*" is special; "-*" is unknown.
        negated = item.startswith("-")
        bare = item[1:] if negated else item
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


#: Upstream's event source names where they are not the controller's name with ``-controller``
#: (each controller's ``record.EventSource{Component: ...}`` in pkg/controller), under the short
#: and the upstream (``*-controller``) names a plugin may register.
UPSTREAM_COMPONENTS = {
    "endpoints": "endpoint-controller",
    "endpoints-controller": "endpoint-controller",
    "endpointslice": "endpoint-slice-controller",
    "endpointslice-controller": "endpoint-slice-controller",
    "nodelifecycle": "node-controller",
    "node-lifecycle-controller": "node-controller",
    "podautoscaler": "horizontal-pod-autoscaler",
    "horizontal-pod-autoscaler-controller": "horizontal-pod-autoscaler",
    "horizontalpodautoscaling": "horizontal-pod-autoscaler",
    "disruption": "controllermanager",
    "disruption-controller": "controllermanager",
    "garbagecollector": "garbage-collector-controller",
}


def _component(name: str, spec: ControllerSpec) -> str:
    for known in (name, *spec.aliases):
        if known in UPSTREAM_COMPONENTS:
            return UPSTREAM_COMPONENTS[known]
    return ""


def _canonical_names(specs: Mapping[str, ControllerSpec]) -> dict[str, str]:
    canonical = {name: name for name in specs}
    for name, spec in specs.items():
        for alias in spec.aliases:
            canonical.setdefault(alias, name)
    return canonical


class ControllerManager:
    """Builds each enabled controller on one shared informer set and runs its workers.

    ``workers`` overrides a controller's default concurrency by name (upstream's
    ``--concurrent-*-syncs``). :meth:`run` runs until cancelled. With ``leader_election``
    enabled, the controllers run only while this manager holds the Lease (see
    :class:`~kframe.controller.LeaderElection`); each term of leadership builds the controllers
    afresh, with new informers and queues, as a restarted upstream process would.
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
        leader_election: LeaderElection | None = None,
        election_clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.specs = {name: as_spec(v) for name, v in specs.items()}
        self.names = enabled_controllers(controllers, self.specs)
        self.options = dict(options or {})
        canonical = _canonical_names(self.specs)
        self.workers: dict[str, int] = {}
        for name, count in (workers or {}).items():
            if name not in canonical:
                raise ValueError(
                    f"--concurrent-syncs: {name!r} is not in the list of known controllers "
                    f"({', '.join(sorted(self.specs)) or 'none installed'})"
                )
            if not isinstance(count, int) or count < 1:
                raise ValueError(f"--concurrent-syncs {name}={count}: must be at least 1")
            self.workers[canonical[name]] = count
        self.clock = clock
        self.leader_election = leader_election
        self.election_clock = election_clock
        self.elector: LeaderElector | None = None
        self.informers = SharedInformers(client)
        self.contexts: dict[str, ControllerContext] = {}
        self.controllers: dict[str, Controller] = {}
        self.synced = asyncio.Event()
        #: Set while the controllers run (at once without leader election).
        self.leading = asyncio.Event()
        self._terms = 0

    def build(self) -> None:
        """Make every enabled controller (each registers its informers and handlers). A
        controller whose build raises (a bad ``--option`` value is a ValueError) stops the
        build; the error carries a note naming the controller, and :meth:`run` raises it."""
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
                component=_component(name, spec),
            )
            self.contexts[name] = ctx
            try:
                self.controllers[name] = spec.build(ctx)
            except Exception as exc:
                del self.contexts[name]
                exc.add_note(f"building controller {name!r}")
                raise

    async def run(self) -> None:
        """Run the controllers until cancelled: at once, or while leading (with leader
        election). Losing the lease stops them, then raises :class:`LeadershipLost` or, with
        ``recampaign``, contends again."""
        election = self.leader_election
        if election is None or not election.enabled:
            await self._run_controllers()
            return
        config = LeaderElectionConfig(
            name=election.name,
            namespace=election.namespace,
            identity=election.identity or default_identity(),
            lease_duration=election.lease_duration,
            renew_deadline=election.renew_deadline,
            retry_period=election.retry_period,
            release_on_cancel=election.release_on_cancel,
        )
        self.elector = LeaderElector(self.client, config, clock=self.election_clock)
        where = f"{config.namespace}/{config.name}"
        while True:
            await self.elector.run(
                self._run_controllers,
                self._stopped_leading,
                lambda holder: log.info("lease %s: new leader %r", where, holder),
            )
            if not election.recampaign:
                raise LeadershipLost(f"leader election lost: lease {where} not renewed in time")
            log.warning("lease %s lost: controllers stopped; contending again", where)

    def _stopped_leading(self) -> None:
        self.leading.clear()
        self.synced.clear()

    async def _run_controllers(self) -> None:
        """Start informers, wait for their first list, then run every controller's workers and
        background loops until cancelled."""
        if self._terms:
            # A new term of leadership: fresh controllers, informers and queues.
            self.informers = SharedInformers(self.client)
            self.contexts = {}
            self.controllers = {}
        self._terms += 1
        self.build()
        self.leading.set()
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
            log.info("controllers running: %s", ", ".join(self.names) or "none")
            if not tasks:
                await asyncio.Event().wait()  # nothing to run: hold the lease until cancelled
            await asyncio.gather(*tasks)
        finally:
            self.leading.clear()
            for ctx in self.contexts.values():
                ctx.queue.shut_down()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.informers.stop()
            await _drain_events(self.contexts.values())


#: How long a stopping manager waits for its Events to be written (they are best effort: an
#: API server that does not answer must not hold up a shutdown or a change of leader).
EVENT_DRAIN_TIMEOUT = 5.0


async def _drain_events(contexts: Iterable[ControllerContext]) -> None:
    drains = [asyncio.ensure_future(ctx.recorder.drain()) for ctx in contexts]
    if not drains:
        return
    _, pending = await asyncio.wait(drains, timeout=EVENT_DRAIN_TIMEOUT)
    for task in pending:
        task.cancel()
    await asyncio.gather(*drains, return_exceptions=True)


async def _guard(name: str, loop: Any) -> None:
    try:
        await loop
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s: a background loop stopped", name)
