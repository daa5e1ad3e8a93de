"""Exec and attach over WebSocket: Kubernetes' remotecommand channel protocols.

:mod:`kframe.kubelet._server` upgrades ``/exec`` and ``/attach`` requests and hands the
WebSocket and the runtime's :class:`~kframe.runtime.StreamSession` to :func:`bridge`. The framing
is upstream's (``apimachinery/pkg/util/httpstream/wsstream``, ``kubelet/cri/streaming/
remotecommand/websocket.go``):

- every message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize;
  binary messages for ``channel.k8s.io`` (and no subprotocol), ``v4.channel.k8s.io`` and
  ``v5.channel.k8s.io``; text messages with the channel as an ASCII digit and base64 data for
  ``base64.channel.k8s.io`` and ``v4.base64.channel.k8s.io``;
- once upgraded, an empty message on the lowest channel the client reads tells it the
  connection is established;
- the error channel carries the result once: from v4 on a JSON ``metav1.Status`` (Success, or
  Failure with reason ``NonZeroExitCode`` and an ``ExitCode`` cause), before v4 the message of
  a failure only;
- resize messages are JSON ``{"Width": w, "Height": h}``; v5 adds ``[255, channel]``, the
  client closing a channel (its stdin).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import attrs
from aiohttp import WSCloseCode, WSMsgType, web

from kframe.runtime import CRIError, StreamChannel, StreamSession, TerminalSize

__all__ = [
    "PROTOCOLS",
    "StreamOptions",
    "bridge",
    "exit_status",
    "fail",
    "internal_error_status",
    "success_status",
]

log = logging.getLogger("kframe.kubelet")

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
V1_BASE64 = "base64.channel.k8s.io"
#: The subprotocols served; the client's order of preference decides among them.
PROTOCOLS = (V5, V4, V4_BASE64, V1, V1_BASE64)
_BASE64 = (V4_BASE64, V1_BASE64)
#: v5's close signal: ``[255, channel]``.
CLOSE_SIGNAL = 255


@attrs.frozen(kw_only=True)
class StreamOptions:
    """What the client asked for (``remotecommand.NewOptions``)."""

    stdin: bool = False
    stdout: bool = False
    stderr: bool = False
    tty: bool = False
    command: tuple[str, ...] = ()


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(command: Sequence[str], code: int) -> dict[str, Any]:
    """A non-zero exit, worded as the kubelet and containerd word it."""
    listed = "[" + " ".join(command) + "]"
    err = f"error executing command {listed}, exit code {code}"
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: {err}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_error_status(message: str) -> dict[str, Any]:
    """``apierrors.NewInternalError``."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


class _Channels:
    """Encodes and decodes the channel framing of one negotiated subprotocol."""

    def __init__(self, ws: web.WebSocketResponse, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.base64 = protocol in _BASE64
        self.v5 = protocol == V5
        self.json_status = protocol in (V5, V4, V4_BASE64)

    async def send(self, channel: int, data: bytes) -> None:
        if self.base64:
            await self.ws.send_str(chr(ord("0") + channel) + base64.b64encode(data).decode())
        else:
            await self.ws.send_bytes(bytes((channel,)) + data)

    def decode(self, message: Any) -> tuple[int, bytes] | None:
        if message.type == WSMsgType.BINARY and not self.base64:
            data: bytes = message.data
            return (data[0], data[1:]) if data else None
        if message.type == WSMsgType.TEXT and self.base64:
            text: str = message.data
            if not text:
                return None
            try:
                return ord(text[0]) - ord("0"), base64.b64decode(text[1:])
            except ValueError:
                return None
        return None

    async def send_status(self, status: dict[str, Any]) -> None:
        if self.json_status:
            await self.send(StreamChannel.ERROR, json.dumps(status).encode())
        elif status.get("status") != "Success":
            await self.send(StreamChannel.ERROR, str(status.get("message", "")).encode())


async def _read_client(channels: _Channels, session: StreamSession, options: StreamOptions) -> None:
    """The client's stdin, resizes and close signals, until it closes the connection."""
    async for message in channels.ws:
        frame = channels.decode(message)
        if frame is None:
            continue
        channel, data = frame
        try:
            if channel == StreamChannel.STDIN and options.stdin:
                if data:
                    await session.write_stdin(data)
            elif channel == StreamChannel.RESIZE and options.tty:
                size = json.loads(data)
                await session.resize(
                    TerminalSize(width=int(size["Width"]), height=int(size["Height"]))
                )
            elif channel == CLOSE_SIGNAL and channels.v5 and data[:1] == b"\x00":
                await session.close_stdin()
        except (CRIError, ValueError, KeyError, TypeError) as exc:
            log.debug("stream: dropped a client frame on channel %d: %s", channel, exc)
    # Pre-v5 clients end their input by closing the connection.


async def _pump_output(channels: _Channels, session: StreamSession, options: StreamOptions) -> None:
    async for chunk in session.output():
        if chunk.channel == StreamChannel.STDERR and options.tty:
            channel = StreamChannel.STDOUT  # a tty has one output stream
        else:
            channel = chunk.channel
        wanted = options.stdout if channel == StreamChannel.STDOUT else options.stderr
        if wanted and chunk.data:
            await channels.send(channel, chunk.data)


async def bridge(
    ws: web.WebSocketResponse,
    session: StreamSession,
    options: StreamOptions,
    *,
    attach: bool = False,
) -> None:
    """Connect ``session`` to the upgraded ``ws`` until the process exits or the client goes.

    The exit becomes the error channel's status, then the connection is closed (1000). When
    the client goes first, the session is closed: an exec's process is killed, an attach
    detaches.
    """
    channels = _Channels(ws, ws.ws_protocol or "")
    if options.stdout:
        first = StreamChannel.STDOUT
    elif options.stderr:
        first = StreamChannel.STDERR
    else:
        first = StreamChannel.ERROR
    await channels.send(first, b"")
    reader = asyncio.ensure_future(_read_client(channels, session, options))
    output = asyncio.ensure_future(_pump_output(channels, session, options))
    try:
        await asyncio.wait((reader, output), return_when=asyncio.FIRST_COMPLETED)
        if output.done() and not output.cancelled() and output.exception() is None:
            code = await session.wait()
            # An attach ends with the container's streams, and upstream reports no exit code.
            if attach or code is None or code == 0:
                status = success_status()
            else:
                status = exit_status(options.command, code)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await channels.send_status(status)
            await ws.close(code=WSCloseCode.OK)
        elif output.done() and not output.cancelled():
            exc = output.exception()
            with contextlib.suppress(ConnectionError, RuntimeError):
                await channels.send_status(internal_error_status(str(exc)))
            await ws.close(code=WSCloseCode.OK)
    finally:
        for task in (reader, output):
            task.cancel()
        await asyncio.gather(reader, output, return_exceptions=True)
        await session.close()


async def fail(ws: web.WebSocketResponse, message: str) -> None:
    """An error after the upgrade (the runtime refused the session): an InternalError status
    on the error channel, then close."""
    channels = _Channels(ws, ws.ws_protocol or "")
    with contextlib.suppress(ConnectionError, RuntimeError):
        await channels.send_status(internal_error_status(message))
    await ws.close()
