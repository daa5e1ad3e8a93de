"""metav1.Time text: the remembered last answer never differs from formatting afresh."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kframe.api import format_time, parse_time

zones = st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone.min])
moments = st.builds(
    lambda d, z: d.replace(tzinfo=z),
    st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(9998, 1, 1)),
    zones,
)


def _fresh(value: dt.datetime) -> str:
    utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


@given(st.lists(moments, max_size=12), st.data())
def test_format_time_is_formatting_afresh(values: list[dt.datetime], data: st.DataObject) -> None:
    # Repeats, the same wall time naive and aware, the same instant in other zones.
    for value in values + [data.draw(st.sampled_from(values))] * 2 if values else values:
        assert format_time(value) == _fresh(value)
        same_wall = value.replace(tzinfo=None if value.tzinfo else dt.UTC)
        assert format_time(same_wall) == _fresh(same_wall)
        assert format_time(value) == _fresh(value)


@given(st.lists(moments, max_size=12))
def test_parse_time_reads_back_what_format_time_writes(values: list[dt.datetime]) -> None:
    for value in values:
        text = format_time(value)
        assert parse_time(text) == parse_time(text) == dt.datetime.fromisoformat(text)
        assert format_time(parse_time(text)) == text
