"""The scheduler's events through client-go's EventCorrelator: the spam filter, similar events
combined, repeats counted on the first Event in order, and written anew when it is gone."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kframe.api.models import Event
from kframe.scheduler._correlator import (
    AGGREGATE_INTERVAL,
    COMBINED_PREFIX,
    SPAM_BURST,
    EventCorrelator,
)
from kframe.scheduler._recorder import Recorder
from kframe.testing.scheduler import make_node, make_pod
from tests.scheduler.test_scheduler import _events, _plain, cluster, eventually


class _NotFound(Exception):
    code = 404


class _Events:
    """Just enough of a Client: creates and patches Events, slowly, and logs the calls."""

    def __init__(self) -> None:
        self.stored: dict[str, Event] = {}
        self.calls: list[tuple[str, str, Any]] = []

    async def create(self, obj: Event, *, namespace: str | None = None) -> Event:
        await asyncio.sleep(0.01)  # a patch issued meanwhile must wait for this
        assert obj.metadata is not None and obj.metadata.name
        self.stored[obj.metadata.name] = obj
        self.calls.append(("create", obj.metadata.name, obj.count))
        return obj

    async def patch(self, cls: type, name: str, patch: Any, **_: Any) -> Event:
        if name not in self.stored:
            self.calls.append(("patch-missing", name, patch["count"]))
            raise _NotFound(name)
        self.calls.append(("patch", name, patch["count"]))
        return self.stored[name]


def test_repeats_patch_the_first_event_in_order_and_a_new_message_is_a_new_event() -> None:
    async def main() -> None:
        client = _Events()
        now = [0.0]
        recorder = Recorder(client, monotonic=lambda: now[0])  # type: ignore[arg-type]
        pod = make_pod("web")
        for _ in range(3):
            recorder.event(pod, "default-scheduler", "Warning", "FailedScheduling", "0/1 nodes")
            now[0] += 1
        recorder.event(pod, "default-scheduler", "Warning", "FailedScheduling", "0/2 nodes")
        await recorder.drain()
        assert len({name for _, name, _ in client.calls}) == 2
        by_name = [c for c in client.calls if c[1] == client.calls[0][1]]
        assert [(op, count) for op, _, count in by_name] == [
            ("create", 1),
            ("patch", 2),
            ("patch", 3),
        ]
        assert len(client.stored) == 2

    asyncio.run(main())


def test_an_event_gone_is_created_again_with_its_count() -> None:
    async def main() -> None:
        client = _Events()
        now = [0.0]
        recorder = Recorder(client, monotonic=lambda: now[0])  # type: ignore[arg-type]
        pod = make_pod("web")
        recorder.event(pod, "p", "Warning", "FailedScheduling", "m")
        await recorder.drain()
        (name,) = client.stored
        del client.stored[name]  # the Events TTL
        now[0] += AGGREGATE_INTERVAL + 1  # deduplication has no time limit (upstream's LRU)
        recorder.event(pod, "p", "Warning", "FailedScheduling", "m")
        await recorder.drain()
        assert client.calls[-2:] == [("patch-missing", name, 2), ("create", name, 2)]

    asyncio.run(main())


def test_a_pod_retried_gets_one_failed_scheduling_event_with_a_count() -> None:
    async def main() -> None:
        async with cluster() as (client, _):
            await client.create(_plain(make_node("bad1")))
            await client.create(_plain(make_pod("web")))

            async def counted() -> Any:
                events = await _events(client, "web", "FailedScheduling")
                return events if events and (events[0].count or 0) >= 2 else None

            events = await eventually(counted)
            assert len(events) == 1
            assert events[0].message == "0/1 nodes are available: 1 rejected bad1."
            assert events[0].last_timestamp and events[0].first_timestamp
            assert events[0].last_timestamp >= events[0].first_timestamp

    asyncio.run(main())


def _obj(name: str = "web") -> tuple[str, str, str, str, str]:
    return ("Pod", "default", name, "uid-" + name, "v1")


def test_the_spam_filter_lets_25_through_then_one_every_five_minutes() -> None:
    correlator = EventCorrelator()
    results = [
        correlator.correlate("s", _obj(), "Warning", "R", f"m{i % 3}", 0.0) for i in range(30)
    ]
    assert all(r is not None for r in results[:25]) and results[25:] == [None] * 5
    # Another object has its own bucket; the same object gets a token back after 300 s.
    assert correlator.correlate("s", _obj("other"), "Warning", "R", "m", 0.0) is not None
    assert correlator.correlate("s", _obj(), "Warning", "R", "m", 299.0) is None
    assert correlator.correlate("s", _obj(), "Warning", "R", "m", 301.0) is not None
    assert correlator.correlate("s", _obj(), "Warning", "R", "m", 302.0) is None


def test_ten_similar_messages_within_ten_minutes_become_one_combined_event() -> None:
    correlator = EventCorrelator()
    out = [correlator.correlate("s", _obj(), "Warning", "R", f"m{i}", float(i)) for i in range(12)]
    assert [c.message for c in out[:9] if c] == [f"m{i}" for i in range(9)]
    combined = [c for c in out[9:] if c]
    assert [c.message for c in combined] == [COMBINED_PREFIX + "m9", COMBINED_PREFIX + "m10",
                                             COMBINED_PREFIX + "m11"]  # fmt: skip
    assert [c.count for c in combined] == [1, 2, 3]  # one Event, patched
    assert len({c.key for c in combined}) == 1
    # Ten quiet minutes later the messages stand alone again.
    later = correlator.correlate("s", _obj(), "Warning", "R", "m0", 11.0 + AGGREGATE_INTERVAL + 1)
    assert later is not None and later.message == "m0" and later.count == 2


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3)), max_size=60))
def test_counts_go_up_by_one_per_key_and_the_burst_is_never_exceeded(
    occurrences: list[tuple[str, int]],
) -> None:
    correlator = EventCorrelator()
    counts: dict[tuple[str, ...], int] = {}
    accepted: dict[str, int] = {}
    for name, message in occurrences:
        c = correlator.correlate("s", _obj(name), "Warning", "R", str(message), 0.0)
        if c is None:
            assert accepted.get(name, 0) == SPAM_BURST
            continue
        accepted[name] = accepted.get(name, 0) + 1
        counts[c.key] = counts.get(c.key, 0) + 1
        assert c.count == counts[c.key]
