"""Container logs: reading CRI log files for ``GET /containerLogs`` (``kubectl logs``).

The runtime writes each line a container prints as ``<RFC 3339 nano time> <stream> <tag>
<text>`` (``2016-10-06T00:17:09.669794202Z stdout F hello``; tag ``P`` for a partial line,
``F`` for the end of one). :func:`stream_log` turns such a file into what ``kubectl logs``
prints, with upstream's options (``pkg/kubelet/kuberuntime/logs``): ``tailLines`` counts lines of
the file from its end, ``sinceSeconds``/``sinceTime`` drop older lines, ``timestamps`` puts the
time (RFC 3339 nano, trailing zeros dropped) before each, ``limitBytes`` cuts the output, and
``follow`` keeps reading as the file grows - across a rotation, to the new file - until the
container is no longer running. Docker's JSON lines (``{"log":...,"stream":...,"time":...}``)
are read too. :mod:`kframe.kubelet._server` calls it.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import re
from collections.abc import Awaitable, Callable
from typing import BinaryIO

import attrs

__all__ = ["LogMessage", "LogOptions", "format_timestamp", "parse_line", "stream_log", "tail_start"]

#: How often a followed log looks for new data.
POLL_SECONDS = 0.1
#: How long a followed log may be idle before the container's state is checked
#: (upstream's stateCheckPeriod is 5 s; a shorter one ends ``kubectl logs -f`` sooner).
STATE_CHECK_SECONDS = 1.0
_BLOCK = 64 * 1024

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_TIME = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)


@attrs.frozen
class LogMessage:
    nanos: int  #: the line's time, nanoseconds since the Unix epoch
    stream: str  #: stdout or stderr
    data: bytes  #: the text, with its newline unless the line is partial


@attrs.frozen(kw_only=True)
class LogOptions:
    """The kubelet's view of PodLogOptions (``NewLogOptions``)."""

    follow: bool = False
    timestamps: bool = False
    tail_lines: int | None = None  #: None: the whole file
    limit_bytes: int | None = None
    since_nanos: int | None = None  #: drop lines older than this


def _nanos(match: re.Match[bytes]) -> int | None:
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    frac, zone = match.group(7), match.group(8)
    try:
        stamp = _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.UTC)
    except ValueError:
        return None
    if zone != b"Z":
        sign = 1 if zone[:1] == b"+" else -1
        stamp -= sign * _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    delta = stamp - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    return seconds * 1_000_000_000 + (int(frac.ljust(9, b"0")) if frac else 0)


_SECONDS_CACHE: dict[bytes, int | None] = {}


def parse_time(text: bytes) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 time, or None."""
    # The common case, a UTC time written by the runtime: the whole seconds are looked up (a
    # log's lines share them), the fraction read directly.
    if len(text) >= 20 and text[-1:] == b"Z" and text[19:20] in (b".", b"Z"):
        frac = text[20:-1]
        if (frac.isdigit() and len(frac) <= 9) or (not frac and len(text) == 20):
            key = text[:19]
            seconds = _SECONDS_CACHE.get(key, -1)
            if seconds == -1:
                match = _TIME.fullmatch(key + b"Z")
                seconds = _nanos(match) if match else None
                if len(_SECONDS_CACHE) > 4096:
                    _SECONDS_CACHE.clear()
                _SECONDS_CACHE[key] = seconds
            if seconds is None:
                return None
            return seconds + (int(frac.ljust(9, b"0")) if frac else 0)
    match = _TIME.fullmatch(text)
    return _nanos(match) if match else None


def format_timestamp(nanos: int) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: the fraction without trailing zeros."""
    seconds, frac = divmod(nanos, 1_000_000_000)
    stamp = (_EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def parse_line(line: bytes) -> LogMessage | None:
    """One line of a log file (CRI or Docker JSON); None for a line that does not parse."""
    if line.startswith(b"{"):
        return _parse_json(line)
    if line.endswith(b"\n"):
        line = line[:-1]
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        return None
    stream = parts[1]
    if stream != b"stdout" and stream != b"stderr":
        return None
    nanos = parse_time(parts[0])
    if nanos is None:
        return None
    text = parts[3] if len(parts) == 4 else b""
    # The tag may carry more flags after ':' (CRI's "F:..."); P marks a partial line.
    tag = parts[2]
    partial = tag == b"P" or tag.startswith(b"P:")
    return LogMessage(
        nanos, "stdout" if stream == b"stdout" else "stderr", text if partial else text + b"\n"
    )


def _parse_json(line: bytes) -> LogMessage | None:
    try:
        entry = json.loads(line)
        nanos = parse_time(str(entry["time"]).encode())
        text = str(entry["log"]).encode()
        stream = str(entry.get("stream", "stdout"))
    except (ValueError, KeyError, TypeError):
        return None
    return None if nanos is None else LogMessage(nanos, stream, text)


def tail_start(f: BinaryIO, lines: int) -> int:
    """The offset of the ``lines``-th line from the end of the open binary file ``f``
    (``tail.FindTailLineStartIndex``): a newline that ends the file does not start a line."""
    size = f.seek(0, os.SEEK_END)
    if lines <= 0:
        return size
    pos, count = size, 0
    skip_last = True
    while pos > 0:
        step = min(_BLOCK, pos)
        pos -= step
        f.seek(pos)
        block: bytes = f.read(step)
        end = len(block)
        while True:
            i = block.rfind(b"\n", 0, end)
            if i < 0:
                break
            end = i
            if skip_last and pos + i == size - 1:
                skip_last = False
                continue
            skip_last = False
            count += 1
            if count == lines:
                return pos + i + 1
        skip_last = False
    return 0


Write = Callable[[bytes], Awaitable[None]]


class _Writer:
    """Formats messages and enforces ``limitBytes``; ``done`` once the limit is reached.

    Output is written once per block read, not once per line.
    """

    def __init__(self, options: LogOptions, write: Write) -> None:
        self._options = options
        self._write = write
        self._left = options.limit_bytes
        self._buffer: list[bytes] = []
        self.done = False

    def finished(self) -> bool:
        return self.done

    async def flush(self) -> None:
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            await self._write(data)

    def message(self, msg: LogMessage) -> None:
        since = self._options.since_nanos
        if since is not None and msg.nanos < since:
            return
        data = msg.data
        if self._options.timestamps:
            data = format_timestamp(msg.nanos).encode() + b" " + data
        if self._left is not None:
            if len(data) >= self._left:
                data, self.done = data[: self._left], True
            self._left -= len(data)
        if data:
            self._buffer.append(data)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


async def stream_log(
    path: str,
    options: LogOptions,
    write: Write,
    *,
    running: Callable[[], Awaitable[bool]] | None = None,
    stopping: asyncio.Event | None = None,
) -> None:
    """Write the log at ``path`` to ``write``; with ``options.follow``, keep going while
    ``running()`` says the container runs (and until ``stopping`` is set).

    A file that does not exist (yet) reads as empty.
    """
    out = _Writer(options, write)

    async def still_running() -> bool:
        return running is not None and await running()

    follow = options.follow and running is not None
    f: BinaryIO | None = None
    try:
        while f is None:
            try:
                f = open(path, "rb")  # noqa: SIM115 - kept open across the follow loop
            except FileNotFoundError:
                if not follow or not await still_running() or (stopping and stopping.is_set()):
                    return
                await asyncio.sleep(POLL_SECONDS)
        ident = os.fstat(f.fileno())
        if options.tail_lines is not None:
            f.seek(tail_start(f, options.tail_lines))
        else:
            f.seek(0)
        pending = b""
        idle = 0.0
        while not out.finished():
            chunk = f.read(_BLOCK)
            if chunk:
                idle = 0.0
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    msg = parse_line(line)
                    if msg is not None:
                        out.message(msg)
                        if out.finished():
                            break
                await out.flush()
                if out.finished():
                    return
                continue
            if not follow:
                break
            if stopping is not None and stopping.is_set():
                return
            current = _identity(path)
            if current is not None and current != (ident.st_dev, ident.st_ino):
                # Rotated: what is left of the old file has been read; go on with the new one.
                f.close()
                f = open(path, "rb")  # noqa: SIM115
                ident = os.fstat(f.fileno())
                pending = b""
                continue
            if idle >= STATE_CHECK_SECONDS:
                idle = 0.0
                if not await still_running():
                    follow = False  # one more read for what was written before the exit
                    continue
            await asyncio.sleep(POLL_SECONDS)
            idle += POLL_SECONDS
        if pending and not out.finished():
            msg = parse_line(pending)
            if msg is not None:
                out.message(msg)
                await out.flush()
    finally:
        if f is not None:
            f.close()
