"""PipeSession: the ready StreamSession runtimes feed, as a streaming server drives it."""

from __future__ import annotations

import asyncio

import pytest

from kframe.runtime import (
    FailedPreconditionError,
    PipeSession,
    StreamChannel,
    StreamChunk,
    StreamSession,
    TerminalSize,
)


async def _drain(session: StreamSession) -> list[StreamChunk]:
    return [chunk async for chunk in session.output()]


def test_output_in_order_then_the_exit_code() -> None:
    async def main() -> None:
        session = PipeSession()
        s: StreamSession = session
        session.send(StreamChannel.STDOUT, b"a")
        session.send(StreamChannel.STDERR, b"b")
        session.send(StreamChannel.STDOUT, b"")  # empty writes are dropped
        session.finish(3)
        session.send(StreamChannel.STDOUT, b"late")  # after the end: dropped
        assert await _drain(s) == [
            StreamChunk(StreamChannel.STDOUT, b"a"),
            StreamChunk(StreamChannel.STDERR, b"b"),
        ]
        assert await _drain(s) == []  # a second reader ends too
        assert await s.wait() == 3
        session.finish(4)  # only the first exit counts
        assert await s.wait() == 3

    asyncio.run(main())


def test_stdin_reaches_the_process_until_closed() -> None:
    async def main() -> None:
        session = PipeSession()
        await session.write_stdin(b"x")
        await session.close_stdin()
        await session.close_stdin()  # idempotent
        assert await session.read_stdin() == b"x"
        assert await session.read_stdin() is None
        with pytest.raises(FailedPreconditionError):
            await session.write_stdin(b"y")
        await session.resize(TerminalSize(width=80, height=24))
        assert session.sizes == [TerminalSize(width=80, height=24)]

    asyncio.run(main())


def test_close_before_the_end_calls_back_and_waits_none() -> None:
    async def main() -> None:
        closed: list[bool] = []
        session = PipeSession(on_close=lambda: closed.append(True))
        reader = asyncio.ensure_future(session.read_stdin())
        output = asyncio.ensure_future(_drain(session))
        await asyncio.sleep(0)
        await session.close()
        await session.close()
        assert closed == [True]
        assert await session.wait() is None
        assert await reader is None and await output == []
        assert session.done

    asyncio.run(main())
