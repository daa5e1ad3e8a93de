"""The probe manager: liveness, readiness and startup probes of the running containers.

The pod worker (:mod:`kframe.kubelet._worker`) calls :meth:`ProbeManager.add_pod` with the ids of
the running containers after each sync in which they changed, :meth:`~ProbeManager.remove_pod`
when the pod goes, and reads :meth:`~ProbeManager.readiness` and :meth:`~ProbeManager.started`
for the pod's status. As upstream's ``pkg/kubelet/prober``:

- one worker per probe, probing every ``periodSeconds`` (first once ``initialDelaySeconds`` have
  passed since the container started), each attempt bounded by ``timeoutSeconds``;
- a result is taken once it repeats ``successThreshold`` (or ``failureThreshold``) times in a
  row; readiness starts False, liveness True, startup unknown (not started);
- liveness and readiness do not probe until the startup probe has succeeded;
- a liveness or startup result of Failure calls ``on_liveness_failure`` (the kubelet kills the
  container) and puts the worker on hold until the container has a new id;
- every failed attempt is a Warning ``Unhealthy`` event (``Readiness probe failed: ...``).

Each worker costs one timer on the clock between attempts and one task while probing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import aiohttp

from kframe.api.models import Container, Pod, Probe
from kframe.kubelet._probes_checks import (
    Outcome,
    ProbeError,
    ProbeTarget,
    Result,
    run_probe,
)
from kframe.runtime import RuntimeService

if TYPE_CHECKING:
    from kframe.client import Clock, TimerHandle

__all__ = ["LIVENESS", "READINESS", "STARTUP", "ProbeManager"]

log = logging.getLogger("kframe.kubelet")

LIVENESS = "Liveness"
READINESS = "Readiness"
STARTUP = "Startup"

#: An attempt that errors (not fails) is retried this often before it is thrown away.
MAX_PROBE_RETRIES = 3

EventSink = Callable[[Pod, str, str, str, str], None]


def _with_defaults(probe: Probe) -> tuple[int, int, int, int, int]:
    # SetDefaults_Probe: 0 (unset) means the default.
    return (
        max(0, probe.initial_delay_seconds or 0),
        probe.period_seconds or 10,
        probe.timeout_seconds or 1,
        probe.success_threshold or 1,
        probe.failure_threshold or 3,
    )


class _ContainerProbes:
    """The results and workers of one container instance (one CRI id)."""

    __slots__ = ("container_id", "kill_grace", "live", "ready", "started", "workers")

    def __init__(self, container_id: str, *, has_startup: bool, has_readiness: bool) -> None:
        self.container_id = container_id
        self.started = not has_startup
        self.ready = not has_readiness
        self.live = True
        self.kill_grace: int | None = None
        self.workers: list[_Worker] = []


class _Worker:
    """Probes one container with one probe, on the manager's clock."""

    __slots__ = (
        "_handle",
        "_manager",
        "_next",
        "_run",
        "_stopped",
        "_task",
        "container",
        "delay",
        "failure_threshold",
        "kind",
        "last",
        "on_hold",
        "period",
        "pod",
        "probe",
        "started_at",
        "state",
        "success_threshold",
    )

    def __init__(
        self,
        manager: ProbeManager,
        pod: Pod,
        container: Container,
        kind: str,
        probe: Probe,
        state: _ContainerProbes,
    ) -> None:
        self._manager = manager
        self.pod = pod
        self.container = container
        self.kind = kind
        self.probe = probe
        self.state = state
        self.delay, self.period, _, self.success_threshold, self.failure_threshold = _with_defaults(
            probe
        )
        self.last: Result | None = None
        self._run = 0
        self.on_hold = False
        self._stopped = False
        self._handle: TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self.started_at = manager.clock.now()
        self._next = self.started_at + self.delay

    def start(self) -> None:
        # Upstream ticks every period from the worker's start and skips the ticks before the
        # initial delay; kframe probes first when the delay is over (as the docs describe it).
        self._schedule(self._next)

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The attempt under way, if any."""
        return self._task

    def stop(self) -> None:
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def trigger(self) -> None:
        """Probe now (upstream's manualTriggerCh), unless an attempt is under way."""
        if self._stopped or (self._task is not None and not self._task.done()):
            return
        if self._manager.clock.now() < self.started_at + self.delay:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._next = self._manager.clock.now()
        self._schedule(self._next)

    def _schedule(self, when: float) -> None:
        if not self._stopped:
            self._handle = self._manager.clock.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        if self._stopped:
            return
        self._task = asyncio.get_running_loop().create_task(self._attempt())

    async def _attempt(self) -> None:
        try:
            await self._probe_once()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not end the worker: upstream's doProbe eats panics
            log.exception("probe of %s crashed", self.container.name)
        finally:
            self._task = None
        now = self._manager.clock.now()
        self._next += self.period
        if self._next < now:  # an attempt outlasted the period: the ticker dropped ticks
            self._next = now
        self._schedule(self._next)

    async def _probe_once(self) -> None:
        if self.on_hold:
            return
        state = self.state
        if self.kind == STARTUP and state.started:
            return  # kept for nothing more: the container has started
        if self.kind != STARTUP and not state.started:
            return  # liveness and readiness wait for the startup probe
        manager = self._manager
        outcome = await manager.attempt(self)
        if outcome is None or self._stopped:
            return  # errored: thrown away
        result = Result.FAILURE if outcome.result == Result.FAILURE else Result.SUCCESS
        if result == self.last:
            self._run += 1
        else:
            self.last, self._run = result, 1
        if (result == Result.FAILURE and self._run < self.failure_threshold) or (
            result == Result.SUCCESS and self._run < self.success_threshold
        ):
            return  # below the threshold: the result stands
        manager.set_result(self, result == Result.SUCCESS)
        if self.kind in (LIVENESS, STARTUP) and result == Result.FAILURE:
            # Upstream stops probing until the container has a new id.
            self.on_hold = True
            self._run = 0


class ProbeManager:
    """Runs the probes of the running containers of one kubelet's pods."""

    def __init__(
        self,
        runtime_service: RuntimeService,
        clock: Clock,
        *,
        on_liveness_failure: Callable[[str, str, str], None] | None = None,
        on_change: Callable[[str], None] | None = None,
        on_event: EventSink | None = None,
        network_probes: bool = True,
    ) -> None:
        self.runtime_service = runtime_service
        self.clock = clock
        self._on_liveness_failure = on_liveness_failure
        self._on_change = on_change
        self._on_event = on_event
        self._network = network_probes
        self._pods: dict[str, dict[str, _ContainerProbes]] = {}
        self._pod_ips: dict[str, str] = {}
        self._session: aiohttp.ClientSession | None = None

    # -- the kubelet's side -----------------------------------------------------------------

    def add_pod(self, pod: Pod, container_ids: Mapping[str, str]) -> None:
        meta, spec = pod.metadata, pod.spec
        if meta is None or spec is None or not meta.uid:
            return
        uid = meta.uid
        status = pod.status
        self._pod_ips[uid] = (status.pod_ip if status is not None else None) or ""
        containers = self._pods.setdefault(uid, {})
        specs = {c.name: c for c in (*spec.init_containers, *spec.containers) if c.name}
        for name in list(containers):
            if container_ids.get(name) != containers[name].container_id:
                for worker in containers.pop(name).workers:
                    worker.stop()
        for name, ident in container_ids.items():
            container = specs.get(name)
            if container is None or name in containers:
                if name in containers:
                    for worker in containers[name].workers:
                        worker.pod = pod
                continue
            state = _ContainerProbes(
                ident,
                has_startup=container.startup_probe is not None,
                has_readiness=container.readiness_probe is not None,
            )
            containers[name] = state
            for kind, probe in (
                (STARTUP, container.startup_probe),
                (READINESS, container.readiness_probe),
                (LIVENESS, container.liveness_probe),
            ):
                if probe is not None:
                    worker = _Worker(self, pod, container, kind, probe, state)
                    state.workers.append(worker)
                    worker.start()

    def remove_pod(self, uid: str) -> None:
        for state in self._pods.pop(uid, {}).values():
            for worker in state.workers:
                worker.stop()
        self._pod_ips.pop(uid, None)

    def readiness(self, uid: str, container: str) -> bool:
        state = self._pods.get(uid, {}).get(container)
        return state is not None and state.started and state.ready

    def started(self, uid: str, container: str) -> bool:
        state = self._pods.get(uid, {}).get(container)
        return state is not None and state.started

    def liveness(self, uid: str, container: str) -> bool:
        """The liveness result (True with no livenessProbe or before any failure)."""
        state = self._pods.get(uid, {}).get(container)
        return state is not None and state.live

    def termination_grace(self, uid: str, container: str) -> int | None:
        """The ``terminationGracePeriodSeconds`` of the liveness or startup probe that failed,
        if it sets one: upstream kills with it instead of the pod's (GA in 1.28)."""
        state = self._pods.get(uid, {}).get(container)
        return state.kill_grace if state is not None else None

    async def close(self) -> None:
        tasks = [
            w.task
            for containers in self._pods.values()
            for state in containers.values()
            for w in state.workers
            if w.task is not None
        ]
        for uid in list(self._pods):
            self.remove_pod(uid)
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- the workers' side ------------------------------------------------------------------

    def _http_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Upstream's probe transport: no keep-alive, no proxy, TLS not verified.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True, ssl=False),
                trust_env=False,
                auto_decompress=True,
            )
        return self._session

    async def attempt(self, worker: _Worker) -> Outcome | None:
        """One attempt (``prober.probe``): the outcome, with its event; None if it errored."""
        pod, container = worker.pod, worker.container
        uid = pod.metadata.uid if pod.metadata is not None else ""
        target = ProbeTarget(
            container=container,
            container_id=worker.state.container_id,
            pod_ip=self._pod_ips.get(uid or "", ""),
        )
        needs_http = worker.probe.http_get is not None and self._network
        session = self._http_session() if needs_http else None
        error: ProbeError | None = None
        for _ in range(MAX_PROBE_RETRIES):
            try:
                outcome = await run_probe(
                    worker.probe,
                    target,
                    self.runtime_service,
                    session,
                    self.clock,
                    network=self._network,
                )
            except ProbeError as exc:
                error = exc
                continue
            break
        else:
            assert error is not None
            self._event(worker, "Warning", "Unhealthy", f"{worker.kind} probe errored: {error}")
            return None
        if outcome.result == Result.FAILURE:
            self._event(
                worker, "Warning", "Unhealthy", f"{worker.kind} probe failed: {outcome.output}"
            )
        elif outcome.result == Result.WARNING:
            message = f"{worker.kind} probe warning: {outcome.output}"
            self._event(worker, "Warning", "ProbeWarning", message)
        return outcome

    def _event(self, worker: _Worker, type_: str, reason: str, message: str) -> None:
        if self._on_event is not None:
            with contextlib.suppress(Exception):
                self._on_event(worker.pod, type_, reason, message, worker.container.name or "")

    def set_result(self, worker: _Worker, success: bool) -> None:
        state = worker.state
        uid = (worker.pod.metadata.uid if worker.pod.metadata is not None else "") or ""
        if self._pods.get(uid, {}).get(worker.container.name or "") is not state:
            return  # a result for a container instance that is gone
        name = worker.container.name or ""
        if worker.kind == READINESS:
            changed = state.ready != success
            state.ready = success
        elif worker.kind == STARTUP:
            changed = state.started != success
            state.started = success
            if success:
                # The kubelet's status update triggers the readiness probe of a container that
                # has started and is not ready (UpdatePodStatus); do it here at once.
                for other in state.workers:
                    if other.kind != STARTUP:
                        other.trigger()
        else:
            changed = state.live != success
            state.live = success
        if not success and worker.kind in (LIVENESS, STARTUP):
            self._killed(worker, name)
        if changed and self._on_change is not None:
            self._on_change(uid)

    def _killed(self, worker: _Worker, name: str) -> None:
        spec = worker.pod.spec
        what = "liveness" if worker.kind == LIVENESS else "startup"
        message = f"Container {name} failed {what} probe"
        init = spec is not None and any(c.name == name for c in spec.init_containers)
        never = spec is not None and spec.restart_policy == "Never"
        if init or not never:  # a sidecar restarts whatever the pod's policy
            message += ", will be restarted"
        uid = (worker.pod.metadata.uid if worker.pod.metadata is not None else "") or ""
        worker.state.kill_grace = worker.probe.termination_grace_period_seconds
        log.info("pod %s: %s", uid, message)
        if self._on_liveness_failure is not None:
            self._on_liveness_failure(uid, name, message)
