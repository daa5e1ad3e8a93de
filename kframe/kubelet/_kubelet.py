"""The Kubelet: one node's agent, tying registration, heartbeats, the pod watch, admission,
the PLEG relist and the pod workers together over one runtime.

``await Kubelet(client, runtime, config).run()`` runs until cancelled. Many kubelets can share
a process: pass them one :class:`~kframe.kubelet.PodSource` (one watch for all) and one clock.
Nothing here blocks; per-node cost when idle is two sleeping tasks (lease, status) and a
relist that is skipped while the node has no pods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine, Mapping
from typing import Any, Protocol

from kframe.api.models import Node, Pod, Taint
from kframe.client import Client, Clock, LoopClock
from kframe.kubelet._admit import admit_pod
from kframe.kubelet._backoff import Backoff
from kframe.kubelet._config import KubeletConfig
from kframe.kubelet._events import EventRecorder
from kframe.kubelet._node import NodeLease, NodeStatusManager
from kframe.kubelet._pods import PodSource
from kframe.kubelet._probes import ProbeManager
from kframe.kubelet._worker import PodWorker
from kframe.runtime import (
    ContainerState,
    CRIError,
    NetworkConfig,
    PodSandboxState,
    Runtime,
    RuntimeConfig,
    RuntimeService,
)

__all__ = ["Kubelet", "Prober"]

log = logging.getLogger("kframe.kubelet")


class Prober(Protocol):
    """What the pod workers need of the probe manager (kframe/kubelet/_probes.py)."""

    def add_pod(self, pod: Pod, container_ids: Mapping[str, str]) -> None: ...
    def remove_pod(self, uid: str) -> None: ...
    def readiness(self, uid: str, container: str) -> bool: ...
    def started(self, uid: str, container: str) -> bool: ...
    def termination_grace(self, uid: str, container: str) -> int | None: ...
    async def close(self) -> None: ...


def _created(pod: Pod) -> tuple[str, str]:
    meta = pod.metadata
    stamp = meta.creation_timestamp if meta is not None else None
    return (stamp.isoformat() if stamp is not None else "", meta.name or "" if meta else "")


#: Admission failures that depend on the Node's labels and taints, which may have changed.
_NODE_PREDICATES = ("NodeAffinity", "TaintToleration")


class Kubelet:
    def __init__(
        self,
        client: Client,
        runtime: Runtime,
        config: KubeletConfig,
        *,
        clock: Clock | None = None,
        pods: PodSource | None = None,
        probes: Prober | None = None,
        seed: int | None = None,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.config = config
        self.clock: Clock = clock if clock is not None else LoopClock()
        self._own_source = pods is None
        self.pods = pods if pods is not None else PodSource(client, node_name=config.node_name)
        rng = random.Random(config.node_name if seed is None else seed)
        self.rng = rng
        self.port = config.port
        self.node_status = NodeStatusManager(
            client, runtime, config, self.clock, port=lambda: self.port, rng=rng
        )
        self.lease = NodeLease(client, config, self.clock, rng=rng)
        self.events = EventRecorder(client, self.clock, config.node_name)
        self.backoff = Backoff(self.clock, config.backoff_initial, config.backoff_max)
        self.image_failures: dict[str, float] = {}
        self.started_times: dict[str, str] = {}
        self.sandboxes: dict[str, PodWorker] = {}
        self.workers: dict[str, PodWorker] = {}
        self._rejected: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._relisted: dict[str, ContainerState] = {}
        self.node_labels: dict[str, str] = {}
        self.taints: tuple[Taint, ...] = ()
        self.registered = asyncio.Event()
        self.probes: Prober = probes if probes is not None else self._default_probes()

    def _default_probes(self) -> Prober:
        manager: Prober = ProbeManager(
            self.runtime.runtime_service,
            self.clock,
            on_liveness_failure=self._liveness_failed,
            on_change=self._probe_changed,
            on_event=self.events.event,
            network_probes=self.runtime.capabilities.reachable_pod_ips,
        )
        return manager

    @property
    def node_name(self) -> str:
        return self.config.node_name

    # -- lifecycle --------------------------------------------------------------------------

    async def register(self) -> None:
        """Register the Node (retrying until the API server takes it) and the lease owner."""
        delay = 0.5
        while True:
            try:
                node = await self.node_status.register()
                break
            except Exception as exc:
                log.warning("node %s: registering: %s", self.node_name, exc)
                await self.clock.sleep(delay)
                delay = min(delay * 2, 7.0)
        meta = node.metadata
        self.lease.node_uid = (meta.uid or "") if meta else ""
        self.node_labels = dict(meta.labels) if meta else {}
        self.taints = node.spec.taints if node.spec else ()
        if self.node_status.pod_cidr:
            with contextlib.suppress(CRIError):
                await self.runtime.runtime_service.update_runtime_config(
                    RuntimeConfig(network_config=NetworkConfig(pod_cidr=self.node_status.pod_cidr))
                )
        self.registered.set()

    async def run(self) -> None:
        """Register, then keep the node and its pods going until cancelled."""
        try:
            await self.register()
            self.spawn(self.lease.run())
            self.spawn(self.node_status.run())
            self.spawn(self._relist_loop())
            if self._own_source:
                self.spawn(self.pods.run())
            # Upstream admits the pods it finds at start oldest first (HandlePodAdditions):
            # take them from the synced cache, then hear of changes.
            await self.pods.informer.wait_for_sync()
            known = self.pods.subscribe(self.node_name, self._on_pod)
            for pod in sorted(known, key=_created):
                self._on_pod(None, pod)
            await asyncio.Event().wait()
        finally:
            self.pods.unsubscribe(self.node_name)
            tasks = [*self._tasks, *(w.task for w in self.workers.values() if w.task)]
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.probes.close()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("node %s: background task failed", self.node_name, exc_info=task.exception())

    # -- pods -------------------------------------------------------------------------------

    def _on_pod(self, old: Pod | None, new: Pod | None) -> None:
        pod = new if new is not None else old
        if pod is None or pod.metadata is None or pod.spec is None:
            return
        uid = pod.metadata.uid or ""
        worker = self.workers.get(uid)
        if new is None:
            if worker is not None:
                worker.gone = True
                worker.wake()
            self._rejected.discard(uid)
            return
        if worker is not None:
            worker.update(new)
            return
        if uid in self._rejected:
            return
        phase = new.status.phase if new.status else None
        if phase in ("Succeeded", "Failed"):
            if pod.metadata.deletion_timestamp:  # finished and deleted: nothing to stop
                self.spawn(self._delete(new))
            return
        result = admit_pod(
            new,
            node_name=self.node_name,
            labels=self.node_labels,
            allocatable=self.node_status.allocatable,
            admitted=[w.pod for w in self.workers.values() if not w.terminal],
            taints=self.taints,
        )
        if not result.admit:
            self._rejected.add(uid)
            if result.reason in _NODE_PREDICATES:
                self.spawn(self._admit_again(new, result.reason, result.message))
            else:
                self.spawn(self._reject(new, result.reason, result.message))
            return
        worker = PodWorker(self, new)
        self.workers[uid] = worker
        worker.task = asyncio.ensure_future(worker.run())

    def forget(self, worker: PodWorker) -> None:
        if self.workers.get(worker.uid) is worker:
            del self.workers[worker.uid]
        if worker.sandbox_id:
            self.sandboxes.pop(worker.sandbox_id, None)
        self.backoff.forget_prefix(worker.uid + "/")
        self.started_times.pop(worker.uid, None)
        self.events.forget(worker.uid)
        for key in [k for k in self.image_failures if k.startswith(worker.uid + "/")]:
            del self.image_failures[key]

    async def _admit_again(self, pod: Pod, reason: str, message: str) -> None:
        """Upstream admits against its node lister's current Node; the labels and taints held
        here are the registration's. Read the Node and admit again before rejecting."""
        meta = pod.metadata
        assert meta is not None
        try:
            node = await self.client.get(Node, self.node_name)
        except Exception:  # the API server is away: reject on what is known
            await self._reject(pod, reason, message)
            return
        labels = dict(node.metadata.labels or {}) if node.metadata else {}
        taints = node.spec.taints if node.spec else ()
        if labels == self.node_labels and taints == self.taints:
            await self._reject(pod, reason, message)
            return
        self.node_labels, self.taints = labels, taints
        self._rejected.discard(meta.uid or "")
        latest = self.pods.informer.store.get(f"{meta.namespace}/{meta.name}")
        if latest is not None and latest.metadata is not None and latest.metadata.uid == meta.uid:
            self._on_pod(None, latest)  # admitted, or rejected, on the current Node

    async def _reject(self, pod: Pod, reason: str, message: str) -> None:
        meta = pod.metadata
        assert meta is not None
        log.info(
            "node %s: rejecting pod %s/%s: %s", self.node_name, meta.namespace, meta.name, message
        )
        self.events.event(pod, "Warning", reason, message.removeprefix("Pod was rejected: "))
        await self.client.patch(
            Pod,
            meta.name or "",
            {"status": {"phase": "Failed", "reason": reason, "message": message}},
            namespace=meta.namespace,
            patch_type="strategic",
            subresource="status",
        )

    async def _delete(self, pod: Pod) -> None:
        meta = pod.metadata
        assert meta is not None
        with contextlib.suppress(Exception):
            await self.client.delete(
                Pod,
                meta.name or "",
                namespace=meta.namespace,
                preconditions={"uid": meta.uid or ""},
            )

    # -- PLEG -------------------------------------------------------------------------------

    async def relist(self) -> None:
        """One PLEG relist: wake the worker of every container whose state changed."""
        containers = await self.runtime.runtime_service.list_containers()
        seen: dict[str, ContainerState] = {}
        for c in containers:
            seen[c.id] = c.state
            if self._relisted.get(c.id) != c.state:
                worker = self.sandboxes.get(c.pod_sandbox_id)
                if worker is not None:
                    worker.wake()
        for ident in self._relisted.keys() - seen.keys():
            for worker in self.workers.values():
                if ident in worker.ids.values():
                    worker.wake()
        self._relisted = seen
        for sandbox in await self.runtime.runtime_service.list_pod_sandbox():
            worker = self.sandboxes.get(sandbox.id)
            if (
                worker is not None
                and sandbox.state == PodSandboxState.NOTREADY
                and not worker.terminal
                and worker.sandbox_id == sandbox.id
                and not worker.sandbox_lost
            ):
                worker.sandbox_lost = True
                worker.wake()

    async def _relist_loop(self) -> None:
        period = self.config.pleg_relist_period
        while True:
            await self.clock.sleep(period)
            if not self.workers and not self._relisted:
                continue
            try:
                await self.relist()
            except CRIError as exc:
                log.warning("node %s: relist: %s", self.node_name, exc)

    # -- probes and the streaming server ----------------------------------------------------

    def _liveness_failed(self, uid: str, container: str, message: str) -> None:
        worker = self.workers.get(uid)
        if worker is not None:
            # A probe's own terminationGracePeriodSeconds overrides the pod's for this kill.
            grace = self.probes.termination_grace(uid, container)
            worker.kill_container(container, message, grace)

    def _probe_changed(self, uid: str) -> None:
        worker = self.workers.get(uid)
        if worker is not None:
            worker.wake()

    def lookup(
        self, namespace: str, pod: str, container: str
    ) -> tuple[RuntimeService, str, str, str | None]:
        """For the kubelet server: (runtime, container id, log path, previous log path)."""
        for worker in self.workers.values():
            meta = worker.pod.metadata
            if meta is None or meta.namespace != namespace or meta.name != pod:
                continue
            view = worker.views.get(container)
            if view is None:
                raise KeyError(f'container "{container}" not found in pod "{pod}"')
            if view.current is None:
                # Upstream's validateContainerLogStatus words (a 400 from the server).
                reason = view.waiting_reason or "ContainerCreating"
                raise LookupError(
                    f'container "{container}" in pod "{pod}" is waiting to start: {reason}'
                )
            previous = view.previous.log_path if view.previous is not None else None
            return self.runtime.runtime_service, view.current.id, view.current.log_path, previous
        raise KeyError(f'pod "{pod}" does not exist')
