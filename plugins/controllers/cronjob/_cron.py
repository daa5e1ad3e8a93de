"""Cron schedules as the CronJob controller reads them (``github.com/robfig/cron/v3``
``ParseStandard`` and ``SpecSchedule.Next``).

A schedule is five fields (minute, hour, day of month, month, day of week: ``*``, ``?``,
numbers, names ``jan``-``dec`` and ``sun``-``sat``, ranges ``a-b``, steps ``/n``, lists ``,``),
a descriptor (``@yearly``, ``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``,
``@hourly``) or ``@every <duration>``, optionally after ``TZ=<zone>`` or ``CRON_TZ=<zone>``.
As in cron, when both day fields are restricted a day matching either runs; when either is
``*`` (or ``?``), both must match. :meth:`Schedule.next` walks the fields as robfig does, over
wall-clock time in the schedule's zone, so DST gaps skip and repeated hours run twice.
"""

from __future__ import annotations

import datetime as _dt
import re
import zoneinfo
from collections.abc import Mapping
from typing import Protocol

import attrs

__all__ = ["CronError", "EverySchedule", "Schedule", "SpecSchedule", "parse_schedule"]


class CronError(ValueError):
    """A schedule that does not parse (the message is robfig/cron's)."""


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_STAR = 1 << 63  # robfig starBit: the field was "*" or "?"
_BOUNDS: tuple[tuple[int, int, Mapping[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1)
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


class Schedule(Protocol):
    def next(self, t: _dt.datetime) -> _dt.datetime | None:
        """The first activation strictly after ``t`` (aware), or None (robfig's zero time)."""
        ...


def _number(text: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise CronError(
            f"failed to parse int from {text}: strconv.Atoi: parsing {text!r}: invalid syntax"
        )
    value = int(text)
    if value < 0:
        raise CronError(f"negative number ({value}) not allowed: {text}")
    return value


def _value(text: str, names: Mapping[str, int]) -> int:
    if names and text.lower() in names:
        return names[text.lower()]
    return _number(text)


def _range(expr: str, lo: int, hi: int, names: Mapping[str, int]) -> int:
    """The bits of one ``a-b/n`` range (robfig getRange)."""
    range_step = expr.split("/")
    low_high = range_step[0].split("-")
    extra = 0
    if low_high[0] in ("*", "?"):
        start, end, extra = lo, hi, _STAR
    else:
        start = _value(low_high[0], names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _value(low_high[1], names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_step) == 1:
        step = 1
    elif len(range_step) == 2:
        step = _number(range_step[1])
        if len(low_high) == 1:
            end = hi  # "N/step" means "N-max/step"
        if step > 1:
            extra = 0
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < lo:
        raise CronError(f"beginning of range ({start}) below minimum ({lo}): {expr}")
    if end > hi:
        raise CronError(f"end of range ({end}) above maximum ({hi}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    bits = 0
    for v in range(start, end + 1, step):
        bits |= 1 << v
    return bits | extra


def _field(text: str, lo: int, hi: int, names: Mapping[str, int]) -> int:
    bits = 0
    for expr in text.split(","):
        bits |= _range(expr, lo, hi, names)
    return bits


def _duration(text: str) -> float:
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise CronError(f"failed to parse duration @every {text}: time: invalid duration {text!r}")
    return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)


def _zone(name: str) -> _dt.tzinfo:
    if name in ("", "UTC"):
        return _UTC
    if name == "Local":
        return _UTC  # the controller's local zone is taken to be UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(f"provided bad location {name}: unknown time zone {name}") from exc


def parse_schedule(text: str, *, default_zone: _dt.tzinfo = _UTC) -> Schedule:
    """The schedule ``text`` (robfig ParseStandard); raises :class:`CronError`."""
    if not text:
        raise CronError("empty spec string")
    zone = default_zone
    if text.startswith(("TZ=", "CRON_TZ=")):
        head, _, text = text.partition(" ")
        zone = _zone(head.split("=", 1)[1])
        text = text.strip()
    if text.startswith("@every "):
        seconds = _duration(text[len("@every ") :].strip())
        return EverySchedule(max(1, int(seconds)))
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {text}")
        text = _DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: {fields}")
    minute, hour, dom, month, dow = (
        _field(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _BOUNDS, strict=True)
    )
    return SpecSchedule(minute=minute, hour=hour, dom=dom, month=month, dow=dow, zone=zone)


@attrs.frozen
class EverySchedule:
    """``@every <duration>``: every ``seconds`` whole seconds (ConstantDelaySchedule)."""

    seconds: int

    def next(self, t: _dt.datetime) -> _dt.datetime | None:
        return t.replace(microsecond=0) + _dt.timedelta(seconds=self.seconds)


@attrs.frozen
class SpecSchedule:
    """Five fields as bit sets (robfig SpecSchedule) in ``zone``."""

    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    zone: _dt.tzinfo = _UTC

    def day_matches(self, t: _dt.datetime) -> bool:
        dom = bool(1 << t.day & self.dom)
        dow = bool(1 << _weekday(t) & self.dow)
        if self.dom & _STAR or self.dow & _STAR:
            return dom and dow
        return dom or dow

    def matches(self, t: _dt.datetime) -> bool:
        """``t`` (wall time in the zone, on a whole minute) is an activation."""
        local = t.astimezone(self.zone)
        return (
            bool(1 << local.minute & self.minute)
            and bool(1 << local.hour & self.hour)
            and bool(1 << local.month & self.month)
            and self.day_matches(local)
        )

    def next(self, t: _dt.datetime) -> _dt.datetime | None:
        """robfig SpecSchedule.Next: the next whole second, then month, day, hour, minute and
        second are advanced in turn, restarting ("WRAP") when one rolls over; None after five
        years of trying (a schedule such as Feb 30)."""
        loc = self.zone
        orig = t.tzinfo
        # Seconds since the epoch, whole: Go's t.Add(1s - nanoseconds).
        ts = int(t.timestamp() // 1) + 1
        cur = _at(ts, loc)
        added = False
        year_limit = cur.year + 5
        while True:  # WRAP
            if cur.year > year_limit:
                return None
            wrapped = False
            while not (1 << cur.month & self.month):
                if not added:
                    added = True
                    cur = _go_date(cur.year, cur.month, 1, 0, 0, 0, loc)
                cur = _add_date(cur, months=1)
                if cur.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self.day_matches(cur):
                if not added:
                    added = True
                    cur = _go_date(cur.year, cur.month, cur.day, 0, 0, 0, loc)
                cur = _add_date(cur, days=1)
                # A DST change at midnight: back to midnight.
                if cur.hour != 0:
                    shift = 24 - cur.hour if cur.hour > 12 else -cur.hour
                    cur = _at(_ts(cur) + shift * 3600, loc)
                if cur.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << cur.hour & self.hour):
                if not added:
                    added = True
                    cur = _go_date(cur.year, cur.month, cur.day, cur.hour, 0, 0, loc)
                cur = _at(_ts(cur) + 3600, loc)
                if cur.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << cur.minute & self.minute):
                if not added:
                    added = True
                    cur = _at(_ts(cur) // 60 * 60, loc)  # Truncate(time.Minute)
                cur = _at(_ts(cur) + 60, loc)
                if cur.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while cur.second != 0:  # the standard parser's seconds field is 0
                added = True
                cur = _at(_ts(cur) + 1, loc)
                if cur.second == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            return cur.astimezone(orig) if orig is not None else cur


def _weekday(t: _dt.datetime) -> int:
    return (t.weekday() + 1) % 7  # Go: Sunday is 0


def _ts(t: _dt.datetime) -> int:
    return int(t.timestamp())


def _at(ts: int, loc: _dt.tzinfo) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts, loc)


def _offset(ts: int, loc: _dt.tzinfo) -> int:
    off = _at(ts, loc).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _go_date(y: int, mo: int, d: int, h: int, mi: int, s: int, loc: _dt.tzinfo) -> _dt.datetime:
    """Go's time.Date: the wall time in ``loc``, a time in a DST gap or overlap resolved the
    way Go does (the offset in force at the wall time read as UTC, checked once)."""
    # Normalise overflowing days and months as Go does.
    y, mo = y + (mo - 1) // 12, (mo - 1) % 12 + 1
    base = _dt.datetime(y, mo, 1) + _dt.timedelta(days=d - 1, hours=h, minutes=mi, seconds=s)
    unix = int((base - _EPOCH).total_seconds())
    off = _offset(unix, loc)
    if off:
        off2 = _offset(unix - off, loc)
        if off2 != off:
            off = off2
        unix -= off
    return _at(unix, loc)


def _add_date(t: _dt.datetime, *, months: int = 0, days: int = 0) -> _dt.datetime:
    """Go's t.AddDate(0, months, days) on the wall clock."""
    loc = t.tzinfo
    assert loc is not None
    return _go_date(t.year, t.month + months, t.day + days, t.hour, t.minute, t.second, loc)
