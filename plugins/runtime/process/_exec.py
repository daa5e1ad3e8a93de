"""ExecSync, Exec and Attach: extra processes in a running container, and its own streams.

An exec runs in the container's network namespace, cgroup, user, environment and working
directory, in a process group of its own; the runtime kills it when the container exits (as
a container's pid namespace takes its execs along). ExecSync collects the output and waits
``timeout`` seconds at most (then kills the command and raises :class:`ExecTimeoutError`, as
containerd answers DeadlineExceeded). Exec and Attach return a :class:`ProcessSession`, a
:class:`~kframe.runtime.PipeSession` whose resize reaches the pty.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence

from kframe.runtime import (
    CRIError,
    ExecSyncResponse,
    PipeSession,
    StreamChannel,
    TerminalSize,
)

from ._logs import FdReader
from ._process import FdWriter, Spawned, exit_code_of

__all__ = [
    "MAX_EXEC_OUTPUT",
    "ExecTimeoutError",
    "ProcessSession",
    "collect",
    "drain",
    "feed_stdin",
    "run_session",
]

#: ExecSync keeps at most this much of each stream (an exec probe reads a few KiB).
MAX_EXEC_OUTPUT = 16 * 1024 * 1024
#: How long output may still arrive after the process exited (a child it left may hold it).
DRAIN_SECONDS = 2.0


class ExecTimeoutError(CRIError):
    """ExecSync's command ran past its timeout and was killed (gRPC DeadlineExceeded)."""

    code = "DeadlineExceeded"


class ProcessSession(PipeSession):
    """A PipeSession whose terminal resizes go to the process's pty."""

    def __init__(self, *, on_close: Callable[[], object] | None = None) -> None:
        super().__init__(on_close=on_close)
        self.spawned: Spawned | None = None

    async def resize(self, size: TerminalSize) -> None:
        await super().resize(size)
        if self.spawned is not None:
            self.spawned.resize(size.width, size.height)


async def _read_into(reader: FdReader | None, chunks: list[bytes]) -> None:
    kept = 0
    while reader is not None and (data := await reader.read()):
        if kept < MAX_EXEC_OUTPUT:
            chunks.append(data[: MAX_EXEC_OUTPUT - kept])
            kept += len(chunks[-1])


async def drain(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Let output readers finish after the process exited; stop those a child keeps open."""
    _, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def collect(spawned: Spawned, cmd: Sequence[str], timeout: int) -> ExecSyncResponse:
    """Wait for ``spawned`` and gather its output (``timeout`` seconds, 0: no limit)."""
    loop = asyncio.get_running_loop()
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        loop.create_task(_read_into(spawned.out, out)),
        loop.create_task(_read_into(spawned.err, err)),
    ]
    try:
        try:
            code = await asyncio.wait_for(spawned.proc.wait(), timeout if timeout > 0 else None)
        except TimeoutError:
            spawned.signal_group(signal.SIGKILL)
            await spawned.proc.wait()
            raise ExecTimeoutError(
                f"command {' '.join(cmd)!r} timed out after {timeout}s and was killed"
            ) from None
        finally:
            await drain(readers)
    finally:
        spawned.close()
    code = exit_code_of(code)
    return ExecSyncResponse(stdout=b"".join(out), stderr=b"".join(err), exit_code=code)


async def pump_to_session(
    reader: FdReader | None, channel: StreamChannel, session: PipeSession
) -> None:
    if reader is None:
        return
    while data := await reader.read():
        session.send(channel, data)


async def feed_stdin(session: PipeSession, writer: FdWriter, *, close_at_end: bool = True) -> None:
    """Copy what the client types to ``writer``; at the client's end of input, close it."""
    with contextlib.suppress(OSError):
        while (data := await session.read_stdin()) is not None:
            await writer.write(data)
    if close_at_end:
        writer.close()


async def run_session(spawned: Spawned, session: ProcessSession, *, tty: bool) -> None:
    """Carry an exec's streams until it exits, then end the session with its exit code."""
    session.spawned = spawned
    stdin_task = None
    if spawned.stdin is not None:
        feed = feed_stdin(session, spawned.stdin, close_at_end=not tty)
        stdin_task = asyncio.get_running_loop().create_task(feed)
    loop = asyncio.get_running_loop()
    pumps = [
        loop.create_task(pump_to_session(spawned.out, StreamChannel.STDOUT, session)),
        loop.create_task(pump_to_session(spawned.err, StreamChannel.STDERR, session)),
    ]
    try:
        code = exit_code_of(await spawned.proc.wait())
        await drain(pumps)
        session.finish(code)
    except asyncio.CancelledError:
        spawned.signal_group(signal.SIGKILL)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(spawned.proc.wait())
        await drain(pumps)
        session.finish(137)
        raise
    finally:
        if stdin_task is not None:
            stdin_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stdin_task
        spawned.close()
