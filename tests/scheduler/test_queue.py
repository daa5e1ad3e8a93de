"""The scheduling queue against a simple model: each pod in one place at most, pops in
QueueSort order, backoff doubling to the cap, events and the 5-minute flush move pods back."""

from __future__ import annotations

import asyncio

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from kframe.client import FakeClock
from kframe.scheduler import ActionType, ClusterEvent, QueuedPodInfo, SchedulingQueue, Status
from kframe.scheduler import Code as _Code
from kframe.testing.scheduler import make_pod

NAMES = [f"p{i}" for i in range(6)]


def less(a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
    pa = (a.pod.spec.priority if a.pod.spec else 0) or 0
    pb = (b.pod.spec.priority if b.pod.spec else 0) or 0
    return pa > pb or (pa == pb and a.timestamp < b.timestamp)


def gate(pod: object) -> Status | None:
    spec = getattr(pod, "spec", None)
    if spec is not None and spec.scheduling_gates:
        return Status(_Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "gated", plugin="SchedulingGates")
    return None


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.queue = SchedulingQueue(less, pre_enqueue=gate, clock=self.clock)
        # Model: key -> where ("active", "backoff", "unschedulable", "gated", "flight").
        self.where: dict[str, str] = {}
        self.priority: dict[str, int] = {}
        self.flight: dict[str, tuple[QueuedPodInfo, int]] = {}

    def teardown(self) -> None:
        self.loop.close()

    @rule(name=st.sampled_from(NAMES), priority=st.integers(0, 3), gated=st.booleans())
    def add(self, name: str, priority: int, gated: bool) -> None:
        key = f"default/{name}"
        if self.where.get(key) == "flight":
            return
        spec = {"schedulingGates": [{"name": "g"}]} if gated else {}
        self.queue.add(make_pod(name, priority=priority, spec=spec))
        self.where[key] = "gated" if gated else "active"
        self.priority[key] = priority

    @rule(name=st.sampled_from(NAMES))
    def delete(self, name: str) -> None:
        key = f"default/{name}"
        self.queue.delete(make_pod(name))
        self.where.pop(key, None)
        self.flight.pop(key, None)

    @precondition(lambda self: "active" in self.where.values())
    @rule()
    def pop(self) -> None:
        qpi = self.loop.run_until_complete(self.queue.pop())
        key = qpi.pod_info.key
        assert self.where[key] == "active"
        best = max(self.priority[k] for k, w in self.where.items() if w == "active")
        assert self.priority[key] == best, "QueueSort order: highest priority first"
        self.where[key] = "flight"
        self.flight[key] = (qpi, self.queue.scheduling_cycle)

    @precondition(lambda self: bool(self.flight))
    @rule(data=st.data(), rejected=st.booleans())
    def fail(self, data: st.DataObject, rejected: bool) -> None:
        key = data.draw(st.sampled_from(sorted(self.flight)))
        qpi, cycle = self.flight.pop(key)
        qpi.unschedulable_plugins = {"P"} if rejected else set()
        self.queue.add_unschedulable(qpi, cycle)
        self.where[key] = "here-after-failure"  # backoff or unschedulable: checked below
        self.where[key] = self._place(key)

    @precondition(lambda self: bool(self.flight))
    @rule(data=st.data())
    def done(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.flight)))
        self.flight.pop(key)
        self.queue.done(key)
        del self.where[key]

    @rule()
    def node_added(self) -> None:
        self.queue.move_on_event(ClusterEvent("Node", ActionType.ADD))
        for key in list(self.where):
            self.where[key] = self._place(key) if self.where[key] != "flight" else "flight"

    @rule(seconds=st.sampled_from([0.5, 1.0, 5.0, 11.0, 301.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock._now += seconds
        self.queue.flush_backoff_completed()
        self.queue.flush_unschedulable_leftover()
        for key in list(self.where):
            if self.where[key] != "flight":
                self.where[key] = self._place(key)

    def _place(self, key: str) -> str:
        q = self.queue
        if key in q._active_keys:
            return "active"
        if key in q._backoff:
            return "backoff"
        if key in q._unschedulable:
            return "gated" if q._unschedulable[key].gating_plugin is not None else "unschedulable"
        raise AssertionError(f"{key} is nowhere")

    @invariant()
    def one_place_each(self) -> None:
        q = self.queue
        places = [set(q._active_keys), set(q._backoff), set(q._unschedulable), set(q._in_flight)]
        for i, a in enumerate(places):
            for b in places[i + 1 :]:
                assert not a & b
        assert set().union(*places) == set(self.where)

    @invariant()
    def counts_agree(self) -> None:
        pending = self.queue.pending()
        for where in ("active", "backoff", "unschedulable", "gated"):
            assert pending[where] == sum(1 for w in self.where.values() if w == where)

    @invariant()
    def backoff_is_capped(self) -> None:
        for qpi in self.queue._backoff.values():
            assert self.queue.backoff_duration(qpi) <= 10.0


TestQueue = QueueMachine.TestCase


def test_backoff_doubles_from_one_second_to_ten() -> None:
    queue = SchedulingQueue(less, clock=FakeClock())
    qpi = QueuedPodInfo(__import__("kframe.scheduler").scheduler.PodInfo(make_pod("p")))
    durations = []
    for attempts in range(1, 7):
        qpi.attempts = attempts
        durations.append(queue.backoff_duration(qpi))
    assert durations == [1, 2, 4, 8, 10, 10]


def test_an_event_the_rejecting_plugin_did_not_register_leaves_the_pod_waiting() -> None:
    def worth(qpi: QueuedPodInfo, event: ClusterEvent) -> bool:
        return event.resource == "Node"

    loop = asyncio.new_event_loop()
    clock = FakeClock()
    queue = SchedulingQueue(less, clock=clock, worth_requeuing=worth)
    queue.add(make_pod("p"))
    qpi = loop.run_until_complete(queue.pop())
    qpi.unschedulable_plugins = {"NodeAffinity"}
    queue.add_unschedulable(qpi, queue.scheduling_cycle)
    assert queue.pending()["unschedulable"] == 1
    assert queue.move_on_event(ClusterEvent("Service", ActionType.ADD)) == 0
    assert queue.move_on_event(ClusterEvent("Node", ActionType.ADD)) == 1
    assert queue.pending()["backoff"] == 1  # it failed just now: backoff first
    clock._now += 1.5
    queue.flush_backoff_completed()
    assert queue.pending()["active"] == 1
    loop.close()
