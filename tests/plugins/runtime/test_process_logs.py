"""The process runtime's CRI log lines: splitting output into F and P entries, timestamps.

Properties: however the output arrives in chunks, the entries join back to the output (``F``
ends a line, ``P`` continues it), no entry is longer than the limit and none holds a newline;
timestamps are Go's RFC3339Nano.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kframe_plugins.runtime.process import LineSplitter, rfc3339_nano

output = st.lists(st.sampled_from([b"a", b"bc", b"\n", b"defgh", b"\n\n", b"x" * 9]), max_size=30)


@given(pieces=output, max_line=st.integers(1, 12), cuts=st.lists(st.integers(0, 200)))
def test_entries_join_back(pieces: list[bytes], max_line: int, cuts: list[int]) -> None:
    data = b"".join(pieces)
    splitter = LineSplitter(max_line)
    entries: list[tuple[str, bytes]] = []
    start = 0
    for cut in sorted(c for c in cuts if c < len(data)):
        entries += splitter.feed(data[start:cut])
        start = max(start, cut)
    entries += splitter.feed(data[start:])
    entries += splitter.end()
    joined = b"".join(line + (b"\n" if tag == "F" else b"") for tag, line in entries)
    assert joined == data
    for tag, line in entries:
        assert tag in ("F", "P") and b"\n" not in line and len(line) <= max_line
    assert all(line for tag, line in entries if tag == "P"), "no empty partial entry"


def test_the_last_line_without_a_newline_is_partial() -> None:
    splitter = LineSplitter(100)
    assert splitter.feed(b"one\ntw") == [("F", b"one")]
    assert splitter.feed(b"o") == []
    assert splitter.end() == [("P", b"two")]
    assert splitter.end() == []


def test_timestamps_are_rfc3339_nano_in_utc() -> None:
    ns = int(dt.datetime(2016, 10, 6, 0, 17, 9, tzinfo=dt.UTC).timestamp()) * 10**9
    assert rfc3339_nano(ns + 669794202) == "2016-10-06T00:17:09.669794202Z"
    assert rfc3339_nano(ns + 500_000_000) == "2016-10-06T00:17:09.5Z"  # Go drops zeros
    assert rfc3339_nano(ns) == "2016-10-06T00:17:09Z"
