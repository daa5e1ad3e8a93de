"""The scheduler's events: repeats counted on the first Event (client-go's EventCorrelator),
in order, and written anew when the first is gone."""

from __future__ import annotations

import asyncio
from typing import Any

from kframe.api.models import Event
from kframe.scheduler._recorder import AGGREGATE_INTERVAL, Recorder
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


def test_after_ten_quiet_minutes_or_when_the_event_is_gone_it_is_created_again() -> None:
    async def main() -> None:
        client = _Events()
        now = [0.0]
        recorder = Recorder(client, monotonic=lambda: now[0])  # type: ignore[arg-type]
        pod = make_pod("web")
        recorder.event(pod, "p", "Warning", "FailedScheduling", "m")
        await recorder.drain()
        (name,) = client.stored
        del client.stored[name]  # the Events TTL
        recorder.event(pod, "p", "Warning", "FailedScheduling", "m")
        await recorder.drain()
        assert client.calls[-2:] == [("patch-missing", name, 2), ("create", name, 2)]
        now[0] += AGGREGATE_INTERVAL + 1
        recorder.event(pod, "p", "Warning", "FailedScheduling", "m")
        await recorder.drain()
        assert client.calls[-1][0] == "create" and client.calls[-1][1] != name
        assert client.calls[-1][2] == 1

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
