"""What exec does in a container that is not there: a handful of built-in commands.

``echo ARGS`` prints ARGS, ``true`` and ``false`` exit 0 and 1, ``cat`` copies its stdin. Any
other command prints the pod's ``fake.kframe.io/exec-output`` (default: the command line) and
exits with ``fake.kframe.io/exec-exit-code`` (default 0), so an exec probe passes unless a test
says otherwise. Streams (exec, attach) echo stdin back on stdout, as ``cat`` would.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from kframe.runtime import ExecSyncResponse, PipeSession, StreamChannel

from ._config import Knobs

__all__ = ["echo_stdin", "run_command"]


def run_command(cmd: Sequence[str], knobs: Knobs, stdin: bytes = b"") -> ExecSyncResponse:
    """The output and exit code of ``cmd`` in a fake container."""
    program = os.path.basename(cmd[0]) if cmd else ""
    if program == "echo":
        return ExecSyncResponse(stdout=(" ".join(cmd[1:]) + "\n").encode())
    if program == "true":
        return ExecSyncResponse()
    if program == "false":
        return ExecSyncResponse(exit_code=1)
    if program == "cat" and len(cmd) == 1:
        return ExecSyncResponse(stdout=stdin)
    output = knobs.exec_output if knobs.exec_output is not None else " ".join(cmd) + "\n"
    return ExecSyncResponse(stdout=output.encode(), exit_code=knobs.exec_exit_code)


async def echo_stdin(session: PipeSession, result: ExecSyncResponse | None) -> None:
    """Play a process: print ``result``'s output, echo stdin until EOF, exit with its code.

    With ``result`` None (attach) the session ends only when the runtime finishes it.
    """
    if result is not None:
        session.send(StreamChannel.STDOUT, result.stdout)
        session.send(StreamChannel.STDERR, result.stderr)
    try:
        while (data := await session.read_stdin()) is not None:
            session.send(StreamChannel.STDOUT, data)
    except asyncio.CancelledError:
        session.finish(137)
        raise
    if result is not None:
        session.finish(result.exit_code)
