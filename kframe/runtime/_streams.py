"""Exec and Attach streams: the small async interface between a runtime and a streaming server.

CRI's Exec and Attach return a URL of the runtime's streaming server; kframe cuts that out. The
runtime returns a :class:`StreamSession` and the kubelet's streaming server (the websocket and
SPDY endpoint ``kubectl exec`` reaches through the API server) bridges it, one to one, to the
channels of Kubernetes' remotecommand protocol, whose numbers :class:`StreamChannel` keeps:

=========  ===================================================  ============================
channel    from the client                                      session call
=========  ===================================================  ============================
0 stdin    bytes typed by the user                              :meth:`~StreamSession.write_stdin`,
                                                                 end of input:
                                                                 :meth:`~StreamSession.close_stdin`
1 stdout   (to the client)                                      :meth:`~StreamSession.output`
2 stderr   (to the client; merged into stdout with a tty)       :meth:`~StreamSession.output`
3 error    (to the client) the final status, ``exit code N``    :meth:`~StreamSession.wait`
4 resize   ``{"Width": w, "Height": h}``                        :meth:`~StreamSession.resize`
=========  ===================================================  ============================

The bridge reads ``output()`` until it ends (the process exited, or the session closed), then
``wait()`` for the exit code, and calls ``close()`` when the client goes away (an exec's process
is killed; an attach just detaches). :class:`PipeSession` is a ready implementation on asyncio
queues that a runtime feeds from its side (``send``, ``finish``, ``read_stdin``).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import attrs

from kframe.runtime._errors import FailedPreconditionError

__all__ = [
    "AttachRequest",
    "ExecRequest",
    "PipeSession",
    "StreamChannel",
    "StreamChunk",
    "StreamSession",
    "TerminalSize",
]


class StreamChannel(enum.IntEnum):
    """The channel numbers of Kubernetes' remotecommand (``v5.channel.k8s.io``) protocol."""

    STDIN = 0
    STDOUT = 1
    STDERR = 2
    ERROR = 3
    RESIZE = 4


@attrs.frozen(kw_only=True)
class TerminalSize:
    width: int
    height: int


@attrs.frozen
class StreamChunk:
    """Output of the process: ``channel`` is STDOUT or STDERR."""

    channel: StreamChannel
    data: bytes


@attrs.frozen(kw_only=True)
class ExecRequest:
    """Exec: run ``cmd`` in the container, with the streams the client asked for."""

    container_id: str
    cmd: tuple[str, ...]
    tty: bool = False
    stdin: bool = False
    stdout: bool = True
    stderr: bool = True


@attrs.frozen(kw_only=True)
class AttachRequest:
    """Attach: connect to the streams of the container's main process."""

    container_id: str
    stdin: bool = False
    tty: bool = False
    stdout: bool = True
    stderr: bool = True


class StreamSession(Protocol):
    """One Exec or Attach session, as the streaming server drives it."""

    async def write_stdin(self, data: bytes) -> None:
        """Send ``data`` to the process's stdin (FailedPreconditionError once closed)."""
        ...

    async def close_stdin(self) -> None:
        """End the process's input (EOF); idempotent."""
        ...

    async def resize(self, size: TerminalSize) -> None:
        """The client's terminal changed size (meaningful with a tty)."""
        ...

    def output(self) -> AsyncIterator[StreamChunk]:
        """The process's stdout and stderr, in order, until it exits or the session closes."""
        ...

    async def wait(self) -> int | None:
        """The exit code once the process exits; None if the session closed first."""
        ...

    async def close(self) -> None:
        """End the session: an exec's process is killed, an attach detaches. Idempotent."""
        ...


class PipeSession:
    """A :class:`StreamSession` on asyncio queues; the runtime plays the process's side.

    Create it inside the event loop. ``on_close`` is called once if the client closes the
    session before :meth:`finish` (to kill an exec's process, say).
    """

    def __init__(self, *, on_close: Callable[[], object] | None = None) -> None:
        self._out: asyncio.Queue[StreamChunk | None] = asyncio.Queue()
        self._in: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._exit: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._stdin_closed = False
        self._on_close = on_close
        self.sizes: list[TerminalSize] = []  #: every resize, in order

    # -- the client's side (StreamSession) ------------------------------------------------------

    async def write_stdin(self, data: bytes) -> None:
        if self._stdin_closed or self._exit.done():
            raise FailedPreconditionError("stdin of the session is closed")
        self._in.put_nowait(data)

    async def close_stdin(self) -> None:
        if not self._stdin_closed:
            self._stdin_closed = True
            self._in.put_nowait(None)

    async def resize(self, size: TerminalSize) -> None:
        self.sizes.append(size)

    async def output(self) -> AsyncIterator[StreamChunk]:
        while (chunk := await self._out.get()) is not None:
            yield chunk
        self._out.put_nowait(None)  # a second reader ends too

    async def wait(self) -> int | None:
        return await asyncio.shield(self._exit)

    async def close(self) -> None:
        if self._exit.done():
            return
        if self._on_close is not None:
            self._on_close()
        self._end(None)

    # -- the process's side (the runtime) -------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._exit.done()

    def send(self, channel: StreamChannel, data: bytes) -> None:
        """Output from the process; dropped once the session has ended."""
        if not self._exit.done() and data:
            self._out.put_nowait(StreamChunk(channel, data))

    def finish(self, exit_code: int) -> None:
        """The process exited: output ends and :meth:`wait` returns ``exit_code``."""
        if not self._exit.done():
            self._end(exit_code)

    async def read_stdin(self) -> bytes | None:
        """The next bytes the client wrote, or None at end of input or once the session ended."""
        if self._exit.done():
            return None
        return await self._in.get()  # _end and close_stdin put the None

    def _end(self, exit_code: int | None) -> None:
        self._exit.set_result(exit_code)
        self._out.put_nowait(None)
        self._in.put_nowait(None)
