"""PrioritySort, ported from upstream priority_sort_test.go."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.client import FakeClock
from kframe.scheduler import (
    PodInfo,
    QueuedPodInfo,
    QueueSortKeyPlugin,
    QueueSortPlugin,
    SchedulingQueue,
)
from kframe.testing.scheduler import StaticHandle, make_pod
from kframe_plugins.scheduler.names import PRIORITY_SORT
from kframe_plugins.scheduler.queuesort import FACTORIES, PrioritySort

LOW, HIGH = 10, 100
T1, T2 = 1000.0, 1001.0


def _plugin() -> PrioritySort:
    plugin = FACTORIES[PRIORITY_SORT].new(None, StaticHandle())
    assert isinstance(plugin, PrioritySort)
    return plugin


def _queued(priority: int | None, timestamp: float = 0.0, name: str = "p") -> QueuedPodInfo:
    return QueuedPodInfo(PodInfo(make_pod(name, priority=priority)), timestamp=timestamp)


def test_conformance() -> None:
    plugin = _plugin()
    assert plugin.name == "PrioritySort"
    assert isinstance(plugin, QueueSortPlugin)


@pytest.mark.parametrize(
    ("p1", "p2", "expected"),
    [
        pytest.param(
            _queued(LOW), _queued(HIGH), False, id="TestLess/p1.priority less than p2.priority"
        ),
        pytest.param(
            _queued(HIGH), _queued(LOW), True, id="TestLess/p1.priority greater than p2.priority"
        ),
        pytest.param(
            _queued(HIGH, T1),
            _queued(HIGH, T2),
            True,
            id="TestLess/equal priority. p1 is added to schedulingQ earlier than p2",
        ),
        pytest.param(
            _queued(HIGH, T2),
            _queued(HIGH, T1),
            False,
            id="TestLess/equal priority. p2 is added to schedulingQ earlier than p1",
        ),
        # Not upstream cases: a missing priority counts as 0.
        pytest.param(_queued(None, T2), _queued(0, T1), False, id="missing priority is 0"),
        pytest.param(_queued(None), _queued(-5), True, id="missing priority above negative"),
        pytest.param(_queued(HIGH, T1), _queued(HIGH, T1), False, id="equal is not less"),
    ],
)
def test_less(p1: QueuedPodInfo, p2: QueuedPodInfo, expected: bool) -> None:
    assert _plugin().less(p1, p2) is expected


@given(st.lists(st.tuples(st.integers(-5, 5) | st.none(), st.integers(0, 5)), max_size=8))
def test_less_is_a_strict_order(items: list[tuple[int | None, int]]) -> None:
    plugin = _plugin()
    queued = [_queued(p, float(t), f"p{i}") for i, (p, t) in enumerate(items)]
    for a in queued:
        assert not plugin.less(a, a)
        for b in queued:
            assert not (plugin.less(a, b) and plugin.less(b, a))
            key_a = (-(a.pod.spec.priority or 0), a.timestamp)  # type: ignore[union-attr]
            key_b = (-(b.pod.spec.priority or 0), b.timestamp)  # type: ignore[union-attr]
            assert plugin.less(a, b) == (key_a < key_b)


@given(st.lists(st.tuples(st.integers(-5, 5) | st.none(), st.integers(0, 5)), max_size=8))
def test_sort_key_orders_as_less(items: list[tuple[int | None, int]]) -> None:
    plugin = _plugin()
    assert isinstance(plugin, QueueSortKeyPlugin)
    queued = [_queued(p, float(t), f"p{i}") for i, (p, t) in enumerate(items)]
    for a in queued:
        for b in queued:
            assert plugin.less(a, b) == (plugin.sort_key(a) < plugin.sort_key(b))


@given(st.lists(st.tuples(st.integers(-3, 3) | st.none(), st.integers(0, 1)), max_size=30))
def test_the_queue_pops_in_the_same_order_by_key_as_by_less(
    items: list[tuple[int | None, int]],
) -> None:
    # Keys compare as ``less`` does, so the heap makes the same moves: ties come out alike.
    plugin = _plugin()

    async def order(key: Callable[[QueuedPodInfo], Any] | None) -> list[str]:
        clock = FakeClock()
        queue = SchedulingQueue(plugin.less, key=key, clock=clock)
        for i, (priority, gap) in enumerate(items):
            clock.advance(float(gap))  # equal timestamps too
            queue.add(make_pod(f"p{i}", priority=priority))
        return [(await queue.pop()).pod_info.key for _ in items]

    assert asyncio.run(order(None)) == asyncio.run(order(plugin.sort_key))
