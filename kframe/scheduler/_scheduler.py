"""The scheduler: informers feed the queue and the cache; one cycle at a time picks a node; the
binding cycle runs in the background (upstream scheduler.go, schedule_one.go, eventhandlers.go).

Pods are this scheduler's when their ``spec.schedulerName`` names one of its profiles. A cycle
is synchronous from the snapshot to the assumption (see _cache.py for why that matters);
PostFilter (preemption) and binding await the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any

from kframe.api import evolve
from kframe.api.models import Namespace, Node, Pod, Service
from kframe.api.models.apps_v1 import ReplicaSet, StatefulSet
from kframe.api.models.policy_v1 import PodDisruptionBudget
from kframe.client import Client, Informer

from ._cache import SchedulerCache
from ._config import KubeSchedulerConfiguration
from ._cycle import FitError, NoNodesAvailableError, schedule_pod
from ._cycle_state import CycleState
from ._events import (
    ActionType,
    ClusterEvent,
    EventInterest,
    node_update_actions,
    pod_update_actions,
)
from ._framework import Framework, SchedulingError
from ._interfaces import EnqueueExtensions, PluginFactory, QueuedPodInfo
from ._metrics import SchedulerMetrics
from ._nominator import Nominator
from ._podinfo import PodInfo, pod_key
from ._queue import SchedulingQueue
from ._recorder import Recorder
from ._status import Code, Status

__all__ = ["Scheduler"]

log = logging.getLogger("kframe.scheduler")

# Kinds the in-tree plugins list through Handle.list_objects, watched alongside pods and nodes.
WATCHED_KINDS: tuple[type, ...] = (Namespace, Service, ReplicaSet, StatefulSet, PodDisruptionBudget)

# Terminal pods hold no resources: the scheduler's pod informer leaves them out, as upstream's.
_POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"


def _scheduler_name(pod: Pod) -> str:
    return (pod.spec.scheduler_name if pod.spec else None) or "default-scheduler"


def _bound(pod: Pod) -> bool:
    return bool(pod.spec and pod.spec.node_name)


class Scheduler:
    """Schedules this scheduler's pending pods through the API, until cancelled."""

    def __init__(
        self,
        client: Client,
        config: KubeSchedulerConfiguration,
        factories: Callable[[str], PluginFactory],
        *,
        seed: int | None = None,
        watched_kinds: Sequence[type] = WATCHED_KINDS,
    ) -> None:
        self.client = client
        self.config = config
        self.cache = SchedulerCache()
        self.recorder = Recorder(client)
        self.metrics = SchedulerMetrics(
            lambda: self.queue.pending(),
            unschedulable=self._unschedulable_by_plugin,
            cache_size=self.cache.sizes,
        )
        self._informers: dict[type, Informer[Any]] = {
            cls: Informer(client, cls) for cls in watched_kinds
        }
        self.profiles: dict[str, Framework] = {}
        for profile in config.profiles:
            self.profiles[profile.scheduler_name] = Framework(
                profile,
                factories,
                percentage_of_nodes_to_score=config.percentage_of_nodes_to_score,
                objects=self._objects,
                client=client,
            )
        self.nominator = Nominator()
        for fwk in self.profiles.values():
            fwk.nominator = self.nominator
            fwk.metrics = self.metrics
        first = next(iter(self.profiles.values()))
        self._interest = {
            name: EventInterest(
                {
                    pl.name: pl.events_to_register()
                    for pl in fwk.plugins.values()
                    if isinstance(pl, EnqueueExtensions)
                }
            )
            for name, fwk in self.profiles.items()
        }
        self.queue = SchedulingQueue(
            first.less,
            key=first.sort_key,
            pre_enqueue=self._pre_enqueue,
            worth_requeuing=self._worth_requeuing,
            initial_backoff=float(config.pod_initial_backoff_seconds),
            max_backoff=float(config.pod_max_backoff_seconds),
            incoming=self.metrics.incoming,
        )
        self._pods: Informer[Pod] = Informer(client, Pod, field_selector=_POD_FIELD_SELECTOR)
        self._nodes: Informer[Node] = Informer(client, Node)
        self._rng = random.Random(seed)
        for fwk in self.profiles.values():
            fwk.rng = self._rng
        self._next_start = 0
        self._binding: set[asyncio.Task[None]] = set()
        self.scheduled = 0
        # The informers synced and scheduling began (``/readyz``).
        self.synced = False
        self._wire()

    def _unschedulable_by_plugin(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for qpi in self.queue.rejected():
            profile = _scheduler_name(qpi.pod)
            for plugin in qpi.unschedulable_plugins | qpi.pending_plugins:
                counts[plugin, profile] = counts.get((plugin, profile), 0) + 1
        return counts

    # -- informers --------------------------------------------------------------------------

    def _objects(self, cls: type[Any]) -> Sequence[Any]:
        informer = self._informers.get(cls)
        return informer.store.list() if informer is not None else ()

    def _responsible(self, pod: Pod) -> bool:
        return _scheduler_name(pod) in self.profiles

    def _pre_enqueue(self, pod: Pod) -> Status | None:
        fwk = self.profiles.get(_scheduler_name(pod))
        return fwk.run_pre_enqueue_plugins(pod) if fwk is not None else None

    def _worth_requeuing(self, qpi: QueuedPodInfo, event: ClusterEvent) -> bool:
        interest = self._interest.get(_scheduler_name(qpi.pod))
        plugins = qpi.unschedulable_plugins | qpi.pending_plugins
        return interest is None or interest.worth_requeuing(plugins, event)

    def _wire(self) -> None:
        def nominate(pod: Pod) -> None:
            node = pod.status.nominated_node_name if pod.status else None
            if node and not _bound(pod):
                self.nominator.add(PodInfo(pod), node)
            else:
                self.nominator.delete(pod_key(pod))

        def pod_added(pod: Pod) -> None:
            nominate(pod)
            if _bound(pod):
                self.cache.add_pod(pod)
                self.queue.move_on_event(ClusterEvent("Pod", ActionType.ADD, "AssignedPodAdd"))
            elif self._responsible(pod):
                self.queue.add(pod)

        def pod_updated(old: Pod, new: Pod) -> None:
            nominate(new)
            if _bound(new):
                if not _bound(old):
                    self.queue.delete(new)
                self.cache.update_pod(new)
                self.queue.move_on_event(ClusterEvent("Pod", pod_update_actions(old, new)))
            elif self._responsible(new):
                self.queue.update(new)

        def pod_deleted(pod: Pod) -> None:
            self.nominator.delete(pod_key(pod))
            if _bound(pod):
                self.cache.remove_pod(pod)
                self.queue.move_on_event(
                    ClusterEvent("Pod", ActionType.DELETE, "AssignedPodDelete")
                )
            else:
                self.queue.delete(pod)

        self._pods.add_handler(pod_added, pod_updated, pod_deleted)

        def node_added(node: Node) -> None:
            self.cache.add_node(node)
            self.queue.move_on_event(ClusterEvent("Node", ActionType.ADD, "NodeAdd"))

        def node_updated(old: Node, new: Node) -> None:
            self.cache.update_node(new)
            self.queue.move_on_event(ClusterEvent("Node", node_update_actions(old, new)))

        self._nodes.add_handler(node_added, node_updated, self.cache.remove_node)
        for cls, informer in self._informers.items():
            informer.add_handler(*self._kind_handlers(cls.__name__))

    def _kind_handlers(self, kind: str) -> tuple[Callable[..., None], ...]:
        def on(action: ActionType) -> Callable[..., None]:
            def handler(*_: object) -> None:
                self.queue.move_on_event(ClusterEvent(kind, action))

            return handler

        return on(ActionType.ADD), on(ActionType.UPDATE), on(ActionType.DELETE)

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Watch, then schedule until cancelled."""
        tasks = [asyncio.ensure_future(i.run()) for i in self._informers.values()]
        tasks.append(asyncio.ensure_future(self._nodes.run()))
        try:
            for informer in self._informers.values():
                await informer.wait_for_sync()
            await self._nodes.wait_for_sync()
            tasks.append(asyncio.ensure_future(self._pods.run()))
            await self._pods.wait_for_sync()
            self.synced = True
            tasks.append(asyncio.ensure_future(self.queue.run_flushes()))
            while True:
                await self.schedule_one()
                # A cycle need not suspend (pop returns at once while pods are queued): let
                # binding, informers and everything else on the loop run between cycles.
                await asyncio.sleep(0)
        finally:
            self.queue.close()
            for task in [*tasks, *self._binding]:
                task.cancel()
            for task in [*tasks, *self._binding]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.recorder.drain()

    async def schedule_one(self) -> None:
        """One scheduling cycle for the next pod in the queue."""
        qpi = await self.queue.pop()
        pod = qpi.pod
        key = qpi.pod_info.key
        cycle = self.queue.scheduling_cycle
        fwk = self.profiles.get(_scheduler_name(pod))
        current = self._pods.store.get(key)
        if fwk is None or current is None or _bound(current) or self.cache.is_assumed(key):
            self.queue.done(key)
            return
        start = perf_counter()
        state = CycleState(qpi.pod_info)
        snapshot = self.cache.snapshot()
        fwk.set_snapshot(snapshot)
        metrics = self.metrics
        try:
            result, processed = schedule_pod(
                fwk, state, pod, snapshot, self._rng, start_index=self._next_start
            )
        except NoNodesAvailableError as err:
            metrics.algorithm_duration(perf_counter() - start)
            # Upstream: Unschedulable with no plugin named (so backoff, not unschedulable),
            # no PostFilter, and any nomination cleared.
            self.nominator.delete(key)
            nominated = "" if pod.status and pod.status.nominated_node_name else None
            self._fail(fwk, qpi, "Unschedulable", err.message, cycle, start, nominated)
            return
        except FitError as err:
            metrics.algorithm_duration(perf_counter() - start)
            await self._post_filter_and_fail(fwk, state, qpi, err, cycle, start)
            return
        except SchedulingError as err:
            metrics.algorithm_duration(perf_counter() - start)
            self._fail(fwk, qpi, "SchedulerError", str(err), cycle, start)
            return
        metrics.algorithm_duration(perf_counter() - start)
        if len(snapshot):
            self._next_start = (self._next_start + processed) % len(snapshot)
        host = result.suggested_host
        assert pod.spec is not None
        assumed = qpi.pod_info.with_pod(evolve(pod, spec=evolve(pod.spec, node_name=host)))
        self.cache.assume_pod(assumed, host)
        self.nominator.delete(key)
        t0 = perf_counter()
        status = fwk.run_reserve_plugins(state, pod, host)
        self._observe(fwk, "Reserve", status, t0)
        if status is None:
            t0 = perf_counter()
            status = fwk.run_permit_plugins(state, pod, host)
            self._observe(fwk, "Permit", status, t0)
            if status is not None and status.code is Code.WAIT:
                status = None
        if status is not None:
            self._undo(fwk, state, pod, host)
            self._fail_status(fwk, qpi, status, cycle, start)
            return
        self.queue.done(key)
        task = asyncio.ensure_future(self._bind(fwk, state, qpi, host, cycle, start))
        self._binding.add(task)
        task.add_done_callback(self._binding.discard)

    def _observe(self, fwk: Framework, point: str, status: Status | None, t0: float) -> None:
        code = status.code.label if status is not None else "Success"
        self.metrics.extension_point(point, code, fwk.profile_name, perf_counter() - t0)

    async def _bind(
        self,
        fwk: Framework,
        state: CycleState,
        qpi: QueuedPodInfo,
        host: str,
        cycle: int,
        start: float,
    ) -> None:
        pod = qpi.pod
        status = await fwk.wait_on_permit(pod)
        if status is None:
            t0 = perf_counter()
            status = await fwk.run_pre_bind_plugins(state, pod, host)
            self._observe(fwk, "PreBind", status, t0)
        if status is None:
            t0 = perf_counter()
            status = await fwk.run_bind_plugins(state, pod, host)
            self._observe(fwk, "Bind", status, t0)
            if status.success:
                status = None
            elif status.code is Code.SKIP:
                status = Status(Code.ERROR, "no bind plugin bound the pod")
        if status is not None:
            self._undo(fwk, state, pod, host)
            self._fail_status(fwk, qpi, status, cycle, start)
            return
        first = qpi.initial_attempt_timestamp
        self.metrics.pod_scheduled(
            fwk.profile_name,
            perf_counter() - start,
            qpi.attempts,
            self.queue.clock.now() - first if first is not None else None,
        )
        t0 = perf_counter()
        fwk.run_post_bind_plugins(state, pod, host)
        self._observe(fwk, "PostBind", None, t0)
        self.scheduled += 1
        meta = pod.metadata
        assert meta is not None
        self.recorder.event(
            pod,
            fwk.profile_name,
            "Normal",
            "Scheduled",
            f"Successfully assigned {meta.namespace}/{meta.name} to {host}",
        )

    def _undo(self, fwk: Framework, state: CycleState, pod: Pod, host: str) -> None:
        t0 = perf_counter()
        fwk.run_unreserve_plugins(state, pod, host)
        self._observe(fwk, "Unreserve", None, t0)
        self.cache.forget_pod(pod_key(pod))

    async def _post_filter_and_fail(
        self,
        fwk: Framework,
        state: CycleState,
        qpi: QueuedPodInfo,
        err: FitError,
        cycle: int,
        start: float,
    ) -> None:
        nominated: str | None = None
        diagnosis = err.diagnosis
        if fwk.post_filter_plugins:
            statuses = {
                name: s
                for name in self.cache.node_names()
                if (s := diagnosis.status_of(name)) is not None
            }
            t0 = perf_counter()
            result, status = await fwk.run_post_filter_plugins(state, qpi.pod, statuses)
            self._observe(fwk, "PostFilter", status, t0)
            if status.success:
                nominated = result.nominated_node_name if result else None
                if nominated:
                    self.nominator.add(qpi.pod_info, nominated)
            else:
                if status.message:
                    diagnosis.post_filter_msg = status.message
                if result is not None and result.nominated_node_name == "":
                    # Preemption found nothing: a nomination left from before is cleared.
                    self.nominator.delete(qpi.pod_info.key)
                    if qpi.pod.status and qpi.pod.status.nominated_node_name:
                        nominated = ""
        qpi.unschedulable_plugins = set(diagnosis.unschedulable_plugins)
        qpi.pending_plugins = set(diagnosis.pending_plugins)
        self._fail(fwk, qpi, "Unschedulable", err.message, cycle, start, nominated)

    def _fail_status(
        self, fwk: Framework, qpi: QueuedPodInfo, status: Status, cycle: int, start: float
    ) -> None:
        if status.rejected:
            qpi.unschedulable_plugins = {status.plugin} if status.plugin else set()
            self._fail(fwk, qpi, "Unschedulable", status.message, cycle, start)
        else:
            qpi.unschedulable_plugins = set()
            self._fail(fwk, qpi, "SchedulerError", status.message, cycle, start)

    def _fail(
        self,
        fwk: Framework,
        qpi: QueuedPodInfo,
        reason: str,
        message: str,
        cycle: int,
        start: float,
        nominated: str | None = None,
    ) -> None:
        """handleSchedulingFailure: requeue the pod if it still waits, and tell the user."""
        result = "unschedulable" if reason == "Unschedulable" else "error"
        self.metrics.attempt(result, fwk.profile_name, perf_counter() - start)
        key = qpi.pod_info.key
        current = self._pods.store.get(key)
        if current is None or _bound(current):
            self.queue.done(key)
            return
        if reason == "SchedulerError":
            log.warning("scheduling %s failed: %s", key, message)
        self.queue.add_unschedulable(qpi, cycle)
        self.recorder.event(current, fwk.profile_name, "Warning", "FailedScheduling", message)
        self.recorder.condition(current, reason, message, nominated)
