"""The scheduling queue: active, backoff and unschedulable pods (upstream internal/queue).

- active: pods ready for a cycle, ordered by the profile's QueueSort plugin;
- backoff: pods that failed recently, each waiting ``initial * 2^(attempts-1)`` seconds
  (1 s doubling to 10 s by default) before going back to active;
- unschedulable: pods no node fitted, waiting for a cluster event one of the plugins that
  rejected them registered, or for 5 minutes, whichever comes first.

A pod a PreEnqueue plugin rejects (scheduling gates) waits in unschedulable until an update
lets it in. One pod is in at most one of the three at a time; ``pop`` hands out one pod at a
time and the scheduler reports back with :meth:`add_unschedulable` or :meth:`done`.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Iterator
from typing import Any

from kframe.api.models import Pod
from kframe.client import Clock, LoopClock

from ._events import WILDCARD, ActionType, ClusterEvent
from ._interfaces import QueuedPodInfo
from ._podinfo import PodInfo, pod_key
from ._status import Status

__all__ = ["SchedulingQueue"]

# How long a pod may stay unschedulable before it is retried anyway.
MAX_IN_UNSCHEDULABLE = 300.0


# Upstream's resource names in event labels: a bound pod is an AssignedPod, a queued one an
# UnschedulablePod.
_RESOURCE_LABELS = {"Pod": "AssignedPod", "UnscheduledPod": "UnschedulablePod"}


def _event_label(event: ClusterEvent) -> str:
    """The event's label in ``scheduler_queue_incoming_pods_total``: upstream's
    ClusterEvent.Label(), the resource and the action (``NodeAdd``, ``NodeUpdateNodeLabel``)."""
    if event.label:
        return event.label
    action = event.action
    if action is ActionType.ADD:
        name = "Add"
    elif action is ActionType.DELETE:
        name = "Delete"
    elif (
        action.name
        and action in ActionType.UPDATE
        and action is not ActionType.UPDATE_OTHER
        and not action & (action - 1)
    ):
        # One kind of update: its upstream name, UPDATE_NODE_LABEL -> UpdateNodeLabel.
        name = "".join(part.capitalize() for part in action.name.split("_"))
    else:
        name = "Update"
    return _RESOURCE_LABELS.get(event.resource, event.resource) + name


class _Entry:
    __slots__ = ("less", "qpi", "removed")

    def __init__(self, qpi: QueuedPodInfo, less: Callable[[QueuedPodInfo, QueuedPodInfo], bool]):
        self.qpi = qpi
        self.less = less
        # Removed entries stay in the heap until they reach the top (heapq cannot delete).
        self.removed = False

    def __lt__(self, other: _Entry) -> bool:
        return self.less(self.qpi, other.qpi)


class _KeyedEntry(_Entry):
    """An entry ordered by the QueueSort plugin's key, read once as it enters the heap."""

    __slots__ = ("key",)

    def __init__(
        self,
        qpi: QueuedPodInfo,
        less: Callable[[QueuedPodInfo, QueuedPodInfo], bool],
        key: Callable[[QueuedPodInfo], Any],
    ):
        super().__init__(qpi, less)
        self.key = key(qpi)

    def __lt__(self, other: _Entry) -> bool:
        return bool(self.key < other.key)  # type: ignore[attr-defined]  # one heap, one kind


class SchedulingQueue:
    def __init__(
        self,
        less: Callable[[QueuedPodInfo, QueuedPodInfo], bool],
        *,
        pre_enqueue: Callable[[Pod], Status | None] = lambda pod: None,
        worth_requeuing: Callable[[QueuedPodInfo, ClusterEvent], bool] = lambda q, e: True,
        clock: Clock | None = None,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
        incoming: Callable[[str, str], None] | None = None,
        key: Callable[[QueuedPodInfo], Any] | None = None,
    ) -> None:
        """``key``: the QueueSort plugin's ``sort_key``, if it has one; the heap then compares
        keys rather than calling ``less``."""
        self._less = less
        self._key = key
        # Told (queue, event) whenever a pod enters a queue: scheduler_queue_incoming_pods_total.
        self._incoming = incoming
        self._pre_enqueue = pre_enqueue
        self._worth = worth_requeuing
        self.clock: Clock = clock or LoopClock()
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self._active: list[_Entry] = []
        self._active_keys: dict[str, _Entry] = {}
        self._backoff: dict[str, QueuedPodInfo] = {}
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._in_flight: dict[str, QueuedPodInfo] = {}
        self._wakeup = asyncio.Event()
        self._closed = False
        self.scheduling_cycle = 0
        self._move_request_cycle = -1

    # -- adding and removing ----------------------------------------------------------------

    def add(self, pod: Pod) -> None:
        """A new pending pod (informer add)."""
        key = pod_key(pod)
        if key in self._in_flight:
            return
        now = self.clock.now()
        qpi = QueuedPodInfo(PodInfo(pod), timestamp=now, initial_attempt_timestamp=None)
        self._remove(key)
        self._admit(qpi, "UnschedulablePodAdd")

    def update(self, pod: Pod) -> None:
        """A pending pod changed: it keeps its attempts; a gated pod is re-checked."""
        key = pod_key(pod)
        if key in self._in_flight:
            self._in_flight[key].pod_info = PodInfo(pod)
            return
        old = self._find(key)
        if old is None:
            self.add(pod)
            return
        old.pod_info = PodInfo(pod)
        if key in self._unschedulable:
            if old.gating_plugin is not None:
                del self._unschedulable[key]
                self._admit(old, "UnschedulablePodUpdate")
            elif self._worth(old, ClusterEvent("UnscheduledPod", ActionType.UPDATE)):
                del self._unschedulable[key]
                self._to_backoff_or_active(old, "UnschedulablePodUpdate")
        elif key in self._active_keys:
            self._remove(key)
            self._push_active(old)

    def delete(self, pod: Pod) -> None:
        key = pod_key(pod)
        self._remove(key)
        self._in_flight.pop(key, None)

    def _find(self, key: str) -> QueuedPodInfo | None:
        entry = self._active_keys.get(key)
        if entry is not None:
            return entry.qpi
        return self._backoff.get(key) or self._unschedulable.get(key)

    def _remove(self, key: str) -> None:
        entry = self._active_keys.pop(key, None)
        if entry is not None:
            entry.removed = True
        self._backoff.pop(key, None)
        self._unschedulable.pop(key, None)

    def _admit(self, qpi: QueuedPodInfo, event: str) -> None:
        """Active unless a PreEnqueue plugin keeps it out."""
        status = self._pre_enqueue(qpi.pod)
        if status is not None and not status.success:
            qpi.gating_plugin = status.plugin or ""
            self._unschedulable[qpi.pod_info.key] = qpi
            if self._incoming is not None:
                self._incoming("unschedulable", event)
            return
        qpi.gating_plugin = None
        self._push_active(qpi)
        if self._incoming is not None:
            self._incoming("active", event)

    def _push_active(self, qpi: QueuedPodInfo) -> None:
        entry = (
            _Entry(qpi, self._less)
            if self._key is None
            else _KeyedEntry(qpi, self._less, self._key)
        )
        self._active_keys[qpi.pod_info.key] = entry
        heapq.heappush(self._active, entry)
        self._wakeup.set()

    # -- the scheduler's side ---------------------------------------------------------------

    async def pop(self) -> QueuedPodInfo:
        """The next pod to schedule; waits for one. Raises asyncio.CancelledError on close."""
        while True:
            while self._active:
                entry = heapq.heappop(self._active)
                if entry.removed:
                    continue
                qpi = entry.qpi
                del self._active_keys[qpi.pod_info.key]
                qpi.attempts += 1
                if qpi.initial_attempt_timestamp is None:
                    qpi.initial_attempt_timestamp = self.clock.now()
                self.scheduling_cycle += 1
                self._in_flight[qpi.pod_info.key] = qpi
                return qpi
            if self._closed:
                raise asyncio.CancelledError("the scheduling queue is closed")
            self._wakeup.clear()
            await self._wakeup.wait()

    def done(self, key: str) -> None:
        """The pod's cycle ended with it assumed (or deleted): it leaves the queue."""
        self._in_flight.pop(key, None)

    def add_unschedulable(self, qpi: QueuedPodInfo, cycle: int) -> None:
        """After a failed attempt in scheduling cycle ``cycle``.

        Pods rejected by plugins wait for an event; an event that came while the pod was in
        its cycle (upstream's moveRequestCycle) sends it to backoff instead, as does an error.
        """
        key = qpi.pod_info.key
        if self._in_flight.pop(key, None) is None and self._find(key) is not None:
            return
        qpi.timestamp = self.clock.now()
        rejected = qpi.unschedulable_plugins or qpi.pending_plugins
        if not rejected or self._move_request_cycle >= cycle:
            self._backoff[key] = qpi
            queue = "backoff"
        else:
            self._unschedulable[key] = qpi
            queue = "unschedulable"
        if self._incoming is not None:
            self._incoming(queue, "ScheduleAttemptFailure")

    def backoff_duration(self, qpi: QueuedPodInfo) -> float:
        duration = self.initial_backoff
        for _ in range(1, qpi.attempts):
            duration *= 2
            if duration > self.max_backoff:
                return self.max_backoff
        return duration

    def _backing_off(self, qpi: QueuedPodInfo, now: float) -> bool:
        return qpi.timestamp + self.backoff_duration(qpi) > now

    def _to_backoff_or_active(self, qpi: QueuedPodInfo, event: str) -> None:
        if self._backing_off(qpi, self.clock.now()):
            self._backoff[qpi.pod_info.key] = qpi
            if self._incoming is not None:
                self._incoming("backoff", event)
        else:
            self._admit(qpi, event)

    # -- events and timers ------------------------------------------------------------------

    def move_on_event(self, event: ClusterEvent) -> int:
        """Unschedulable pods that ``event`` may help go to backoff or active; returns how many."""
        moved = 0
        label = ""
        for key, qpi in list(self._unschedulable.items()):
            if qpi.gating_plugin is not None:
                continue
            if event is WILDCARD or self._worth(qpi, event):
                del self._unschedulable[key]
                label = label or _event_label(event)
                self._to_backoff_or_active(qpi, label)
                moved += 1
        self._move_request_cycle = self.scheduling_cycle
        return moved

    def flush_backoff_completed(self) -> None:
        now = self.clock.now()
        for key, qpi in list(self._backoff.items()):
            if not self._backing_off(qpi, now):
                del self._backoff[key]
                self._admit(qpi, "BackoffComplete")

    def flush_unschedulable_leftover(self) -> None:
        now = self.clock.now()
        for key, qpi in list(self._unschedulable.items()):
            if qpi.gating_plugin is None and now - qpi.timestamp > MAX_IN_UNSCHEDULABLE:
                del self._unschedulable[key]
                self._to_backoff_or_active(qpi, "UnschedulableTimeout")

    async def run_flushes(self) -> None:
        """Upstream's periodic flushes: backoff every second, leftovers every 30 s."""
        ticks = 0
        while not self._closed:
            await self.clock.sleep(1.0)
            self.flush_backoff_completed()
            ticks += 1
            if ticks % 30 == 0:
                self.flush_unschedulable_leftover()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    # -- inspection -------------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        """Queue sizes by queue, as the ``scheduler_pending_pods`` metric reports them."""
        gated = sum(1 for q in self._unschedulable.values() if q.gating_plugin is not None)
        return {
            "active": len(self._active_keys),
            "backoff": len(self._backoff),
            "unschedulable": len(self._unschedulable) - gated,
            "gated": gated,
        }

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (self._find(key) is not None or key in self._in_flight)

    def rejected(self) -> Iterator[QueuedPodInfo]:
        """Pods waiting after plugins rejected them (in backoff or unschedulable, not gated)."""
        yield from self._backoff.values()
        yield from (q for q in self._unschedulable.values() if q.gating_plugin is None)

    def pods(self) -> Iterator[QueuedPodInfo]:
        yield from (e.qpi for e in self._active_keys.values())
        yield from self._backoff.values()
        yield from self._unschedulable.values()
