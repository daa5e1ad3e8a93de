"""Reading CRI log files as ``kubectl logs`` shows them: tail, since, timestamps, limit, follow."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kframe.kubelet._logs import (
    LogMessage,
    LogOptions,
    format_timestamp,
    parse_line,
    parse_time,
    stream_log,
    tail_start,
)

T0 = "2016-10-06T00:17:09.669794202Z"
LINES = (
    "2016-10-06T00:17:09.669794202Z stdout F one\n"
    "2016-10-06T00:17:10.000000000Z stderr F two\n"
    "2016-10-06T00:17:11.5Z stdout P thr\n"
    "2016-10-06T00:17:11.6Z stdout F ee\n"
    "not a log line\n"
    "2016-10-06T00:17:12Z stdout F four\n"
)


def read(path: Path, **options: object) -> bytes:
    out: list[bytes] = []

    async def write(data: bytes) -> None:
        out.append(data)

    asyncio.run(stream_log(str(path), LogOptions(**options), write))  # type: ignore[arg-type]
    return b"".join(out)


def log_file(tmp_path: Path, text: str = LINES) -> Path:
    path = tmp_path / "0.log"
    path.write_text(text)
    return path


def test_parse_cri_and_docker_lines() -> None:
    assert parse_line(f"{T0} stdout F hello world".encode()) == LogMessage(
        parse_time(T0.encode()) or 0, "stdout", b"hello world\n"
    )
    partial = parse_line(f"{T0} stderr P part".encode())
    assert partial is not None and partial.data == b"part" and partial.stream == "stderr"
    assert parse_line(f"{T0} stdout F".encode()) == LogMessage(
        parse_time(T0.encode()) or 0, "stdout", b"\n"
    )
    assert parse_line(b"garbage") is None
    assert parse_line(b"2016-13-06T00:00:00Z stdout F x") is None
    docker = parse_line(b'{"log":"hi\\n","stream":"stderr","time":"2016-10-06T00:17:09Z"}')
    assert docker is not None and docker.data == b"hi\n" and docker.stream == "stderr"


def test_timestamps_are_rfc3339_nano_without_trailing_zeros() -> None:
    assert format_timestamp(parse_time(T0.encode()) or 0) == T0
    assert format_timestamp(parse_time(b"2016-10-06T00:17:10.500Z") or 0) == (
        "2016-10-06T00:17:10.5Z"
    )
    assert format_timestamp(parse_time(b"2016-10-06T02:17:10+02:00") or 0) == (
        "2016-10-06T00:17:10Z"
    )


@given(st.integers(0, 2**62))
def test_timestamp_round_trip(nanos: int) -> None:
    assert parse_time(format_timestamp(nanos).encode()) == nanos


def test_whole_file_joins_partial_lines_and_skips_bad_ones(tmp_path: Path) -> None:
    assert read(log_file(tmp_path)) == b"one\ntwo\nthree\nfour\n"


def test_tail_lines_counts_file_lines(tmp_path: Path) -> None:
    path = log_file(tmp_path)
    assert read(path, tail_lines=1) == b"four\n"
    assert read(path, tail_lines=2) == b"four\n"  # the bad line is a line of the file
    assert read(path, tail_lines=3) == b"ee\nfour\n"
    assert read(path, tail_lines=0) == b""
    assert read(path, tail_lines=100) == b"one\ntwo\nthree\nfour\n"


@given(
    st.lists(st.binary(max_size=5).map(lambda b: b.replace(b"\n", b"")), max_size=20),
    st.integers(0, 25),
)
def test_tail_start_is_the_start_of_the_last_n_lines(lines: list[bytes], n: int) -> None:
    data = b"".join(line + b"\n" for line in lines)
    start = tail_start(io.BytesIO(data), n)
    expected = b"".join(line + b"\n" for line in lines[max(0, len(lines) - n) :]) if n else b""
    assert data[start:] == expected


def test_since_timestamps_and_limit_bytes(tmp_path: Path) -> None:
    path = log_file(tmp_path)
    since = parse_time(b"2016-10-06T00:17:10Z")
    assert read(path, since_nanos=since) == b"two\nthree\nfour\n"
    assert read(path, timestamps=True, tail_lines=1) == b"2016-10-06T00:17:12Z four\n"
    assert read(path, limit_bytes=6) == b"one\ntw"
    assert read(path, limit_bytes=4) == b"one\n"


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert read(tmp_path / "none.log") == b""


def test_follow_streams_until_the_container_exits_across_a_rotation(tmp_path: Path) -> None:
    path = log_file(tmp_path, f"{T0} stdout F first\n")
    running = True
    out: list[bytes] = []
    got = asyncio.Event()

    async def write(data: bytes) -> None:
        out.append(data)
        got.set()

    async def is_running() -> bool:
        return running

    async def main() -> None:
        nonlocal running
        task = asyncio.ensure_future(
            stream_log(str(path), LogOptions(follow=True), write, running=is_running)
        )
        await asyncio.wait_for(got.wait(), 10)
        got.clear()
        with open(path, "a") as f:
            f.write(f"{T0} stdout F sec")  # no newline yet: held back
            f.flush()
            await asyncio.sleep(0.3)
            assert b"".join(out) == b"first\n"
            f.write("ond\n")
        await asyncio.wait_for(got.wait(), 10)
        got.clear()
        os.rename(path, tmp_path / "0.log.1")  # the kubelet rotates the log
        path.write_text(f"{T0} stdout F third\n")
        await asyncio.wait_for(got.wait(), 10)
        running = False
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    assert b"".join(out) == b"first\nsecond\nthird\n"
