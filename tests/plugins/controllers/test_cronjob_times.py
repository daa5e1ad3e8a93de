"""Which schedule time a CronJob runs next (upstream mostRecentScheduleTime and
nextScheduleTimeDuration), its Job's name and scheduled-timestamp annotation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import CronJob
from kframe_plugins.controllers.cronjob import (
    NEXT_SCHEDULE_DELTA,
    job_name,
    most_recent_schedule_time,
    next_schedule_delay,
    parse_schedule,
)
from kframe_plugins.controllers.cronjob._controller import _rfc3339

UTC = dt.UTC
BASE = dt.datetime(2024, 3, 1, 0, 0, tzinfo=UTC)


def cronjob(created: dt.datetime, last: dt.datetime | None = None, **spec: Any) -> CronJob:
    body: dict[str, Any] = {
        "metadata": {
            "name": "cj",
            "namespace": "default",
            "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {}}, **spec},
    }
    if last is not None:
        body["status"] = {"lastScheduleTime": last.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return from_dict(body, CronJob)


# Regular schedules (a fixed interval), for which upstream's estimate is exact.
regular = st.one_of(
    st.sampled_from([1, 2, 5, 10, 15, 20, 30]).map(lambda k: f"*/{k} * * * *"),
    st.tuples(st.integers(0, 59), st.sampled_from([1, 2, 3, 4, 6, 8, 12])).map(
        lambda mh: f"{mh[0]} */{mh[1]} * * *"
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    text=regular,
    created=st.integers(0, 3 * 24 * 3600),
    elapsed=st.integers(0, 3 * 24 * 3600),
    deadline=st.one_of(st.none(), st.integers(0, 7200)),
)
def test_most_recent_is_the_latest_time_in_the_window(
    text: str, created: int, elapsed: int, deadline: int | None
) -> None:
    sched = parse_schedule(text)
    start = BASE + dt.timedelta(seconds=created)
    now = start + dt.timedelta(seconds=elapsed)
    cj = cronjob(start.replace(microsecond=0), startingDeadlineSeconds=deadline)
    earliest, recent, _ = most_recent_schedule_time(cj, now, sched, with_deadline=True)
    if deadline is not None:
        assert earliest == max(start, now - dt.timedelta(seconds=deadline))
    # brute force: walk every schedule time after earliest
    want = None
    t = sched.next(earliest)
    while t is not None and t <= now:
        want = t
        t = sched.next(t)
    assert recent == want


@given(text=regular, elapsed=st.integers(0, 2 * 24 * 3600))
def test_the_next_sync_is_just_after_the_next_schedule_time(text: str, elapsed: int) -> None:
    sched = parse_schedule(text)
    now = BASE + dt.timedelta(seconds=elapsed)
    cj = cronjob(BASE, last=None)
    delay = next_schedule_delay(cj, now, sched)
    nxt = now + dt.timedelta(seconds=delay - NEXT_SCHEDULE_DELTA)
    assert nxt > now - dt.timedelta(seconds=60)
    assert sched.next(nxt - dt.timedelta(seconds=1)) == nxt  # a schedule time
    assert delay > 0


def test_job_name_is_minutes_since_the_epoch() -> None:
    cj = cronjob(BASE)
    when = dt.datetime(2024, 3, 1, 10, 5, tzinfo=UTC)
    assert job_name(cj, when) == f"cj-{int(when.timestamp()) // 60}" == "cj-28488125"


def test_scheduled_timestamp_is_rfc3339_in_the_zone() -> None:
    import zoneinfo

    when = dt.datetime(2024, 7, 1, 13, 0, tzinfo=UTC)
    assert _rfc3339(when) == "2024-07-01T13:00:00Z"
    ny = when.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert _rfc3339(ny) == "2024-07-01T09:00:00-04:00"


@settings(max_examples=150, deadline=None)
@given(
    text=st.sampled_from(
        ["0 0 1,2 * *", "30 6-16/4 * * 1-5", "*/7 * * * *", "0 0 * * 0", "15 3 29 2 *", "@hourly"]
    ),
    created=st.integers(0, 60 * 24 * 3600),
    elapsed=st.integers(0, 90 * 24 * 3600),
)
def test_most_recent_is_a_schedule_time_in_the_window_for_any_schedule(
    text: str, created: int, elapsed: int
) -> None:
    # Upstream's estimate may miss a time for irregular schedules, but never invents one.
    sched = parse_schedule(text)
    start = BASE + dt.timedelta(seconds=created)
    now = start + dt.timedelta(seconds=elapsed)
    cj = cronjob(start.replace(microsecond=0))
    earliest, recent, _ = most_recent_schedule_time(cj, now, sched, with_deadline=True)
    if recent is not None:
        assert earliest < recent <= now
        assert sched.next(recent - dt.timedelta(seconds=1)) == recent
