"""Scalar types that Kubernetes' schema names specially: times, IntOrString, raw JSON.

The generated models import these; the converter (``_codec``) knows how to read and write them.
``Quantity`` lives in ``_quantity`` and is re-exported here so the models import one module.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, NewType, TypeAlias

from kframe.api._quantity import Quantity

__all__ = [
    "IntOrString",
    "JSONObject",
    "MicroTime",
    "Quantity",
    "Time",
    "format_micro_time",
    "format_time",
    "micro_time_now",
    "parse_time",
    "time_now",
]

#: ``metav1.Time``: a UTC instant written with second precision (``2024-05-01T10:00:00Z``).
Time = NewType("Time", _dt.datetime)
#: ``metav1.MicroTime``: a UTC instant written with microseconds (``...T10:00:00.123456Z``).
MicroTime = NewType("MicroTime", _dt.datetime)
#: ``intstr.IntOrString``: ``targetPort: 8080`` or ``targetPort: http``, ``maxSurge: 25%``.
IntOrString: TypeAlias = int | str
#: Free-form JSON (``RawExtension``, ``FieldsV1``): kept as decoded.
JSONObject: TypeAlias = Mapping[str, Any]


# parse_time's last answer (datetimes are immutable, so one serves every caller): decoding an
# object reads its few timestamps, mostly the same second.
_last_parsed: tuple[str, _dt.datetime] | None = None


def parse_time(text: str) -> _dt.datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime.

    Raises ``ValueError`` for anything that is not RFC 3339 with a time zone, which is what
    Go's ``time.Parse(time.RFC3339, ...)`` rejects too.
    """
    global _last_parsed
    last = _last_parsed
    if last is not None and last[0] == text:
        return last[1]
    parsed = _parse_time(text)
    _last_parsed = (text, parsed)
    return parsed


def _parse_time(text: str) -> _dt.datetime:
    if len(text) < 20 or text[10] not in "Tt":
        raise ValueError(f'parsing time "{text}" as RFC 3339: expected YYYY-MM-DDTHH:MM:SSZ')
    try:
        parsed = _dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f'parsing time "{text}" as RFC 3339: invalid timestamp') from None
    if parsed.tzinfo is None:
        raise ValueError(f'parsing time "{text}" as RFC 3339: missing time zone')
    return parsed.astimezone(_dt.UTC)


def _utc(value: _dt.datetime) -> _dt.datetime:
    return value.replace(tzinfo=_dt.UTC) if value.tzinfo is None else value.astimezone(_dt.UTC)


# format_time's last answer: what one write stamps (an Event's first and last timestamps, a
# condition's transition) is mostly the same second, and strftime costs a few microseconds.
_last_formatted: tuple[_dt.datetime | None, str] = (None, "")


def format_time(value: _dt.datetime) -> str:
    """Format as ``metav1.Time`` does: UTC, whole seconds (the fraction is dropped)."""
    global _last_formatted
    last, text = _last_formatted
    # Equal datetimes are the same instant (or, naive, the same wall time, read as UTC).
    if last is not None and value == last and (value.tzinfo is None) == (last.tzinfo is None):
        return text
    text = _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    _last_formatted = (value, text)
    return text


def format_micro_time(value: _dt.datetime) -> str:
    """Format as ``metav1.MicroTime`` does: UTC with exactly six fraction digits."""
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_now() -> Time:
    """The current instant at ``Time``'s precision, so it round-trips unchanged."""
    return Time(_dt.datetime.now(_dt.UTC).replace(microsecond=0))


def micro_time_now() -> MicroTime:
    return MicroTime(_dt.datetime.now(_dt.UTC))
