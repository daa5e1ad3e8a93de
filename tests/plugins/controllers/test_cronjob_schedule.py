"""Cron schedule parsing and next times (robfig/cron ParseStandard), against a brute-force
minute-by-minute matcher."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe_plugins.controllers.cronjob import CronError, SpecSchedule, parse_schedule

UTC = dt.UTC
BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def brute_next(sched: SpecSchedule, t: dt.datetime, horizon_minutes: int) -> dt.datetime | None:
    """The first whole minute after ``t`` whose wall time in the zone matches, by trying every
    minute (the obviously right answer)."""
    start = int(t.timestamp()) // 60 * 60 + 60
    for i in range(horizon_minutes):
        cand = dt.datetime.fromtimestamp(start + 60 * i, UTC)
        if sched.matches(cand):
            return cand
    return None


@st.composite
def field(draw: st.DrawFn, lo: int, hi: int) -> str:
    def one() -> st.SearchStrategy[str]:
        n = st.integers(lo, hi)
        return st.one_of(
            st.just("*"),
            n.map(str),
            st.tuples(n, n).map(lambda ab: f"{min(ab)}-{max(ab)}"),
            st.tuples(st.sampled_from(["*", str(lo)]), st.integers(1, hi - lo + 1)).map(
                lambda ps: f"{ps[0]}/{ps[1]}"
            ),
            st.tuples(n, n, st.integers(1, 5)).map(
                lambda abs_: f"{min(abs_[:2])}-{max(abs_[:2])}/{abs_[2]}"
            ),
        )

    parts = draw(st.lists(one(), min_size=1, max_size=3))
    return ",".join(parts)


@st.composite
def schedules(draw: st.DrawFn) -> str:
    return " ".join(draw(field(lo, hi)) for lo, hi in BOUNDS)


times = st.datetimes(
    min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2037, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(text=schedules(), t=times, zone=st.sampled_from(ZONES))
def test_next_is_the_first_matching_minute(text: str, t: dt.datetime, zone: str) -> None:
    horizon = 3 * 24 * 60
    sched = parse_schedule(f"TZ={zone} {text}")
    assert isinstance(sched, SpecSchedule)
    got = sched.next(t)
    want = brute_next(sched, t, horizon)
    if want is not None:
        assert got == want
    else:
        limit = dt.datetime.fromtimestamp(int(t.timestamp()) // 60 * 60 + 60 * horizon, UTC)
        assert got is None or got >= limit
        assert got is None or sched.matches(got)


@settings(max_examples=50, deadline=None)
@given(text=schedules(), t=times)
def test_next_is_strictly_later_and_chains(text: str, t: dt.datetime) -> None:
    sched = parse_schedule(text)
    first = sched.next(t)
    if first is None:
        return
    assert first > t and first.second == 0 and first.microsecond == 0
    second = sched.next(first)
    assert second is None or second > first


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("@hourly", "2024-03-01T10:15:00", "2024-03-01T11:00:00"),
        ("@daily", "2024-03-01T10:15:00", "2024-03-02T00:00:00"),
        ("@midnight", "2024-03-01T00:00:00", "2024-03-02T00:00:00"),
        ("@weekly", "2024-03-01T10:15:00", "2024-03-03T00:00:00"),  # Sunday
        ("@monthly", "2024-03-01T10:15:00", "2024-04-01T00:00:00"),
        ("@yearly", "2024-03-01T10:15:00", "2025-01-01T00:00:00"),
        ("@annually", "2024-03-01T10:15:00", "2025-01-01T00:00:00"),
        ("*/15 * * * *", "2024-03-01T10:15:00", "2024-03-01T10:30:00"),
        ("5/20 * * * *", "2024-03-01T10:46:00", "2024-03-01T11:05:00"),
        ("0 9 * JAN-mar mon-FRI", "2024-03-29T09:00:00", "2025-01-01T09:00:00"),
        # both day fields restricted: either matches (the 13th, or a Friday)
        ("0 0 13 * 5", "2024-03-01T10:00:00", "2024-03-08T00:00:00"),
        # one day field a star: both must match
        ("0 0 * * 5", "2024-03-01T10:00:00", "2024-03-08T00:00:00"),
        ("0 0 1 * ?", "2024-03-01T10:00:00", "2024-04-01T00:00:00"),
        ("0 0 29 2 *", "2024-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("@every 90s", "2024-03-01T10:00:00.5", "2024-03-01T10:01:30"),
        ("@every 1h30m", "2024-03-01T10:00:00", "2024-03-01T11:30:00"),
    ],
)
def test_examples(text: str, after: str, expected: str) -> None:
    assert parse_schedule(text).next(at(after)) == at(expected)


def test_time_zone_prefix_and_zoneinfo() -> None:
    sched = parse_schedule("TZ=America/New_York 0 9 * * *")
    got = sched.next(at("2024-07-01T00:00:00"))
    assert got == at("2024-07-01T13:00:00")  # 09:00 EDT
    winter = sched.next(at("2024-01-10T00:00:00"))
    assert winter == at("2024-01-10T14:00:00")  # 09:00 EST
    cron_tz = parse_schedule("CRON_TZ=Asia/Kolkata 30 5 * * *")
    assert cron_tz.next(at("2024-01-01T00:00:00")) == at("2024-01-02T00:00:00")


def test_dst_gap_is_skipped_and_repeated_hour_runs_twice() -> None:
    ny = zoneinfo.ZoneInfo("America/New_York")
    gap = parse_schedule("TZ=America/New_York 30 2 * * *")
    # 2024-03-10 02:30 does not exist in New York: the next run is on the 11th.
    nxt = gap.next(dt.datetime(2024, 3, 9, 12, 0, tzinfo=ny))
    assert nxt is not None and nxt.astimezone(ny).day == 11
    twice = parse_schedule("TZ=America/New_York 30 1 * * *")
    first = twice.next(dt.datetime(2024, 11, 3, 0, 0, tzinfo=ny))
    assert first is not None
    second = twice.next(first)
    # aware datetimes in one zone subtract as wall times: compare instants
    assert second is not None and second.timestamp() - first.timestamp() == 3600


def test_a_schedule_that_never_comes_is_none() -> None:
    assert parse_schedule("0 0 30 2 *").next(at("2024-01-01T00:00:00")) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty spec string"),
        ("* * * *", "expected exactly 5 fields, found 4"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        ("x * * * *", "failed to parse int from x"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("@every soon", "failed to parse duration"),
        ("TZ=Mars/Olympus * * * * *", "provided bad location Mars/Olympus"),
    ],
)
def test_bad_schedules(text: str, message: str) -> None:
    with pytest.raises(CronError, match=re.escape(message)):
        parse_schedule(text)
