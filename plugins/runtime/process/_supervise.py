"""A running container's supervisor: its output to the log and to attached clients, its exit.

The runtime starts one :func:`supervise` task per started container. It copies stdout and
stderr (:func:`pump`), waits for the process, then kills what is left of the container, as the
kernel does when a pid namespace's init exits, and records the exit code and reason
(``OOMKilled`` when the container's cgroup counted an OOM kill). Attached sessions end with
the exit code.
"""

from __future__ import annotations

import asyncio
import signal

from kframe.runtime import REASON_OOM_KILLED, Clock, StreamChannel, exit_reason, wall_nanos

from ._exec import drain
from ._logs import FdReader, LineSplitter
from ._process import exit_code_of
from ._records import ContainerRecord

__all__ = ["pump", "supervise"]


async def pump(
    record: ContainerRecord, reader: FdReader | None, stream: str, max_line: int
) -> None:
    """Copy one stream to the log file and to every attached session."""
    if reader is None:
        return
    channel = StreamChannel.STDOUT if stream == "stdout" else StreamChannel.STDERR
    splitter = LineSplitter(max_line)
    try:
        while data := await reader.read():
            if record.log is not None:
                record.log.write(stream, splitter.feed(data))
            for session in list(record.attached):
                session.send(channel, data)
    finally:
        if record.log is not None:
            record.log.write(stream, splitter.end())


async def supervise(record: ContainerRecord, clock: Clock, max_line: int) -> None:
    """Wait for the container's process; when it exits, the rest of the container goes."""
    spawned = record.spawned
    assert spawned is not None
    loop = asyncio.get_running_loop()
    pumps = [
        loop.create_task(pump(record, spawned.out, "stdout", max_line)),
        loop.create_task(pump(record, spawned.err, "stderr", max_line)),
    ]
    try:
        returncode = await spawned.proc.wait()
    finally:
        finished = wall_nanos(clock)
        # As when a pid namespace's init exits: every other process of the container dies.
        spawned.signal_group(signal.SIGKILL)
        if record.cgroup is not None:
            record.cgroup.kill()
        for ex in list(record.execs):
            ex.signal_group(signal.SIGKILL)
        await asyncio.shield(drain(pumps))
        spawned.close()
        if record.log is not None:
            record.log.close()
    code = exit_code_of(returncode)
    reason, message = exit_reason(code), ""
    if record.cgroup is not None and record.cgroup.oom_kills() > 0:
        reason, message = REASON_OOM_KILLED, "the container's memory limit was reached"
    record.exit(finished, code, reason, message)
    for session in record.attached:
        session.finish(code)
    record.attached.clear()
