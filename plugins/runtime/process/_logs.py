"""Container output: non-blocking pipe reads, and the log file in CRI's log format.

Each line a container prints becomes ``<RFC 3339 nano time> <stream> <tag> <text>`` in the
file at ``log_path`` (``2016-10-06T00:17:09.669794202Z stdout F hello``). A line longer than
``max_line`` is cut into ``P`` (partial) entries ended by an ``F`` one, and output left without
a newline when the stream ends is a ``P`` entry, as containerd's ``redirectLogs`` writes them
(``internal/cri/io/logger.go``); the kubelet's reader joins them back. :class:`LogFile` reopens
the file for ReopenContainerLog after the kubelet rotated it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import time

__all__ = ["FdReader", "LineSplitter", "LogFile", "rfc3339_nano", "wake"]


def rfc3339_nano(ns: int) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: trailing zeros of the fraction dropped, as Go does."""
    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    digits = f"{frac:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def wake(ready: asyncio.Future[None]) -> None:
    """The fd callback: the fd is ready (it may fire again before it is removed)."""
    if not ready.done():
        ready.set_result(None)


class FdReader:
    """Reads a pipe (or a pty master) from the event loop without a transport."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd

    async def read(self, size: int = 65536) -> bytes:
        """The next bytes, b"" at the end (every writer closed it, or a pty's EIO)."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                return os.read(self.fd, size)
            except BlockingIOError:
                pass
            except OSError as e:
                if e.errno == errno.EIO:  # the pty's other side has closed
                    return b""
                raise
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_reader(self.fd, wake, ready)
            try:
                await ready
            finally:
                loop.remove_reader(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


class LineSplitter:
    """Bytes in, ``(tag, line)`` out: ``F`` for a whole line, ``P`` for a cut piece."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._buf = b""

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        buf = self._buf + data
        while True:
            nl = buf.find(b"\n", 0, self.max_line + 1)
            if nl >= 0:
                out.append(("F", buf[:nl]))
                buf = buf[nl + 1 :]
            elif len(buf) > self.max_line:
                out.append(("P", buf[: self.max_line]))
                buf = buf[self.max_line :]
            else:
                break
        self._buf = buf
        return out

    def end(self) -> list[tuple[str, bytes]]:
        rest, self._buf = self._buf, b""
        return [("P", rest)] if rest else []


class LogFile:
    """A container's CRI log file ("" path: output is only passed on, not written)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = -1
        self.error = ""  #: why the last write failed (the container runs on regardless)
        self.open()

    def open(self) -> None:
        if not self.path:
            return
        self.close()
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)

    def write(self, stream: str, entries: list[tuple[str, bytes]]) -> None:
        if self._fd < 0 or not entries:
            return
        stamp = rfc3339_nano(time.time_ns()).encode()
        head = b" " + stream.encode() + b" "
        data = b"".join(stamp + head + tag.encode() + b" " + line + b"\n" for tag, line in entries)
        try:
            os.write(self._fd, data)  # one write per chunk: the two streams never interleave
        except OSError as e:
            self.error = f"{self.path}: {e.strerror or e}"

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
