"""CronJob schedules as ``github.com/robfig/cron/v3``'s ``ParseStandard`` reads them.

:func:`schedule_error` returns the parser's own error text (which upstream shows verbatim in
``spec.schedule: Invalid value: "...": <error>``), or ``None`` for a valid schedule: five fields
(minute, hour, day of month, month, day of week) or a descriptor (``@hourly``, ``@every 1h30m``).
"""

from __future__ import annotations

import re
import zoneinfo

from kframe.apiserver._validate_field import go_quote

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# minute, hour, day of month, month, day of week: (min, max, names)
_FIELDS: tuple[tuple[int, int, dict[str, int] | None], ...] = (
    (0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 6, _DAYS),
)  # fmt: skip
_DESCRIPTORS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_UNITS = ("ns", "us", "µs", "μs", "ms", "s", "m", "h")
_INT64_MAX = 2**63 - 1


class _CronError(Exception):
    pass


def _atoi(expr: str) -> int:
    """Go's ``strconv.Atoi`` with cron's ``mustParseInt`` checks."""
    if not re.fullmatch(r"[+-]?[0-9]+", expr):
        detail = f"strconv.Atoi: parsing {go_quote(expr)}: invalid syntax"
        raise _CronError(f"failed to parse int from {expr}: {detail}")
    num = int(expr)
    if not -(2**63) <= num <= _INT64_MAX:
        detail = f"strconv.Atoi: parsing {go_quote(expr)}: value out of range"
        raise _CronError(f"failed to parse int from {expr}: {detail}")
    if num < 0:
        raise _CronError(f"negative number ({num}) not allowed: {expr}")
    return num


def _int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _atoi(expr)


def _check_range(expr: str, low: int, high: int, names: dict[str, int] | None) -> None:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    if low_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _int_or_name(low_high[0], names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], names)
        else:
            raise _CronError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if len(low_high) == 1:
            end = high
    elif len(range_and_step) > 2:
        raise _CronError(f"too many slashes: {expr}")
    if start < low:
        raise _CronError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise _CronError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise _CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise _CronError(f"step of range should be a positive number: {expr}")


def _duration_error(text: str) -> str | None:
    """Go's ``time.ParseDuration`` error text, or ``None`` when ``text`` parses."""
    quoted = go_quote(text)
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return None
    if not body:
        return f"time: invalid duration {quoted}"
    while body:
        number = re.match(r"[0-9]*(\.[0-9]*)?", body)
        assert number is not None
        if number.group(0) in ("", "."):
            return f"time: invalid duration {quoted}"
        body = body[number.end() :]
        unit = re.match(r"[^0-9.]*", body)
        assert unit is not None
        if not unit.group(0):
            return f"time: missing unit in duration {quoted}"
        if unit.group(0) not in _UNITS:
            return f"time: unknown unit {go_quote(unit.group(0))} in duration {quoted}"
        body = body[unit.end() :]
    return None


def schedule_error(spec: str) -> str | None:
    """``cron.ParseStandard(spec)``'s error, or ``None``."""
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        location = spec[spec.find("=") + 1 : space if space >= 0 else len(spec)]
        try:
            zoneinfo.ZoneInfo(location)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return f"provided bad location {location}: unknown time zone {location}"
        spec = spec[space:].strip() if space >= 0 else ""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            problem = _duration_error(spec[len("@every ") :])
            return f"failed to parse duration {spec}: {problem}" if problem else None
        return f"unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    try:
        for text, (low, high, names) in zip(fields, _FIELDS, strict=True):
            for expr in (e for e in text.split(",") if e):
                _check_range(expr, low, high, names)
    except _CronError as err:
        return str(err)
    return None


def time_zone_error(name: str) -> str | None:
    """``time.LoadLocation``'s error for a CronJob ``timeZone``."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name}"
    return None
