"""``pods/log``, ``pods/exec`` and ``pods/attach``: the API server's proxy to the node's kubelet.

:class:`kframe.apiserver._http.Handlers` routes these subresources here. A log is streamed from
the kubelet chunk by chunk, as upstream's ``LocationStreamer`` does, and a kubelet answer outside
200-206 becomes a ``Status`` worded as ``GenericHttpResponseChecker`` words it. Exec and attach
are relayed frame by frame at the WebSocket level (upstream splices the upgraded connection),
with the subprotocol the kubelet chose. SPDY is not supported: a request that is not a WebSocket
upgrade is a 400. Locations come from :mod:`kframe.apiserver._pod_streams`; the kubelet's side
of the contract is in ``docs/api.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web
from yarl import URL

from kframe.apiserver import _errors as errors
from kframe.apiserver._pod_streams import LogOptions, StreamOptions, kubelet_url, resolve_container
from kframe.apiserver._storage import ObjectStorage
from kframe.apiserver._validate_field import go_quote

__all__ = ["NodeProxy", "kubelet_error"]

log = logging.getLogger("kframe.apiserver")

#: How much of a kubelet's error body becomes the Status message (upstream's maxReadLength).
MAX_ERROR_BODY = 50000
#: The largest WebSocket message relayed either way.
MAX_MESSAGE = 16 * 1024 * 1024
#: Connecting to a kubelet gives up after this long (upstream's kubelet client dials for 30 s).
#: Reads have no timeout: a followed log or an exec session may be idle for hours.
_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30.0)
_CLIENT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)
UPGRADE_REQUIRED = (
    "Upgrade request required: pods/{sub} is served over WebSocket only (subprotocols "
    "v5.channel.k8s.io, v4.channel.k8s.io, ...); SPDY is not supported"
)

# NewGenericServerResponse's reason and message per code.
_GENERIC = {
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    403: ("Forbidden", ""),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    406: ("NotAcceptable", "the server was unable to respond with a content type that the client "
                           "supports"),
    409: ("Conflict", "the server reported a conflict"),
    415: ("UnsupportedMediaType", ""),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests", "the server has received too many requests and has asked us to try "
                            "again later"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may "
                     "still be processing the request"),
}  # fmt: skip


def kubelet_error(code: int, body: str, resource: str, name: str) -> errors.APIError:
    """``GenericHttpResponseChecker``: the Status for a kubelet answer outside 200-206."""
    if code == 500:
        return errors.internal_error(body)
    if code == 400:
        return errors.bad_request(body)
    reason, message = _GENERIC.get(code, ("", ""))
    if code in (403, 415) or (code == 406 and body not in ("", "unknown")):
        message = body  # the kubelet's own words
    elif not reason and code >= 500:
        reason = "InternalError"
        message = f"an error on the server ({go_quote(body)}) has prevented the request from "
        message += "succeeding"
    elif not reason:  # reason Unknown
        message = f"the server responded with the status code {code} but did not return more "
        message += "information"
    # strings.ToLower of the empty verb leaves the double space upstream shows.
    return errors.APIError(
        code, reason, f"{message} ( {resource} {name})", name=name, kind=resource
    )


def _unavailable(url: URL, why: str) -> errors.APIError:
    # Upstream answers 500 with reason Unknown (a plain Go error). kframe keeps 500 for its own
    # bugs, and reports a kubelet it cannot talk to as 503 ServiceUnavailable.
    return errors.APIError(
        503, "ServiceUnavailable", f"error trying to reach the kubelet at {url}: {why}"
    )


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


async def _read_error_body(content: aiohttp.StreamReader) -> str:
    data = b""
    while len(data) < MAX_ERROR_BODY and (chunk := await content.read(MAX_ERROR_BODY - len(data))):
        data += chunk
    return data.decode("utf-8", errors="replace")


class NodeProxy:
    """Serves the node-proxied pod subresources over the pods and nodes storages."""

    def __init__(self, pods: ObjectStorage, nodes: ObjectStorage) -> None:
        self._pods = pods
        self._nodes = nodes
        self._session: aiohttp.ClientSession | None = None
        #: Set by :meth:`close`: followed logs end, exec sessions are closed with 1001.
        self._stopping = asyncio.Event()

    async def close(self) -> None:
        """End open log streams and exec sessions, and close the kubelet connections."""
        self._stopping.set()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _locate(
        self, pod: dict[str, Any], path: str, query: list[tuple[str, str]]
    ) -> URL | None:
        spec = pod.get("spec")
        node_name = spec.get("nodeName") if isinstance(spec, dict) else None
        if not node_name:
            return None
        return await kubelet_url(self._nodes, str(node_name), path, query)

    async def log(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        """``GET pods/{name}/log``: the container's log, streamed from the kubelet."""
        if request.method != "GET":
            raise errors.method_not_allowed()
        options = LogOptions.from_query(request.query)  # 400 on a bad value
        options.validate(name)  # 422, before the pod is read, as upstream
        pod = await self._pods.get(namespace, name)
        container = resolve_container(pod, options.container)
        path = f"/containerLogs/{namespace}/{name}/{container}"
        url = await self._locate(pod, path, options.kubelet_query())
        if url is None:
            # Not scheduled: upstream's empty location, a nil stream answered 204 No Content.
            return web.Response(status=204)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT, auto_decompress=False)
        try:
            upstream = await self._session.get(url, allow_redirects=False)
        except _CLIENT_ERRORS as exc:
            raise _unavailable(url, _why(exc)) from None
        async with upstream:
            if not 200 <= upstream.status <= 206:
                body = await _read_error_body(upstream.content)
                raise kubelet_error(upstream.status, body, "pods/log", name)
            response = web.StreamResponse(headers={"Content-Type": "text/plain"})
            await response.prepare(request)
            stopping = asyncio.ensure_future(self._stopping.wait())
            try:
                while chunk := await _next_chunk(stopping, upstream.content.readany(), url):
                    await response.write(chunk)  # as it arrives, so that follow streams
            except (ConnectionResetError, asyncio.CancelledError):
                raise
            except Exception:  # the stream has started: log, and end it rather than answer twice
                log.exception("log stream from %s ended by an internal error", url)
            finally:
                stopping.cancel()
            return response

    async def stream(
        self, request: web.Request, namespace: str, name: str, subresource: str
    ) -> web.StreamResponse:
        """``pods/{name}/exec`` or ``/attach`` (GET or POST): a WebSocket relayed to the kubelet."""
        if request.method not in ("GET", "POST"):
            raise errors.method_not_allowed()
        options = StreamOptions.from_query(request.query, exec_=subresource == "exec")
        pod = await self._pods.get(namespace, name)
        container = resolve_container(pod, options.container)
        path = f"/{subresource}/{namespace}/{name}/{container}"
        url = await self._locate(pod, path, options.kubelet_query())
        if url is None:
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        offered = request.headers.get("Sec-WebSocket-Protocol", "")
        protocols = [p.strip() for p in offered.split(",") if p.strip()]
        # Probe with the client's own protocols: a probe knowing none makes aiohttp warn that
        # they "don't overlap" on every exec.
        if not web.WebSocketResponse(protocols=protocols).can_prepare(request).ok:
            raise errors.bad_request(UPGRADE_REQUIRED.format(sub=subresource))
        refused: list[str] = []

        async def keep_refusal(
            _: aiohttp.ClientSession, __: SimpleNamespace, end: aiohttp.TraceRequestEndParams
        ) -> None:
            # ws_connect drops the body of a refused handshake; keep it for the Status.
            if end.response.status != 101:
                refused.append(await _read_error_body(end.response.content))

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(keep_refusal)
        session = aiohttp.ClientSession(timeout=_TIMEOUT, trace_configs=[trace])
        try:
            try:
                kubelet = await session.ws_connect(
                    url, protocols=protocols, max_msg_size=MAX_MESSAGE
                )
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status < 400:  # answered, but not with a WebSocket
                    why = f"no WebSocket upgrade: {exc.status} {exc.message}"
                    raise _unavailable(url, why) from None
                body = refused[0] if refused else exc.message
                raise kubelet_error(exc.status, body, f"pods/{subresource}", name) from None
            except _CLIENT_ERRORS as exc:
                raise _unavailable(url, _why(exc)) from None
            async with kubelet:
                chosen = (kubelet.protocol,) if kubelet.protocol else ()
                client = web.WebSocketResponse(
                    protocols=chosen, max_msg_size=MAX_MESSAGE, compress=False
                )
                await client.prepare(request)
                try:
                    await _relay(client, kubelet, self._stopping)
                except (ConnectionResetError, asyncio.CancelledError):
                    raise
                except Exception:  # upgraded: log, and end it rather than answer twice
                    log.exception("%s session with %s ended by an internal error", subresource, url)
                return client
        finally:
            await session.close()


async def _next_chunk(stopping: asyncio.Future[Any], read: Awaitable[bytes], url: URL) -> bytes:
    """The next chunk of a log; ``b""`` at its end, on a read error or when the server stops."""
    reading = asyncio.ensure_future(read)
    await asyncio.wait((reading, stopping), return_when=asyncio.FIRST_COMPLETED)
    if not reading.done():
        reading.cancel()
        return b""
    try:
        return reading.result()
    except _CLIENT_ERRORS as exc:  # the stream has started: log, and end it
        log.info("log stream from %s ended: %s", url, _why(exc))
        return b""


WebSocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


def _close_code(code: int | None) -> int:
    # 1005/1006/1015 report a close without a (valid) code and may not be sent on.
    if code is None or not 1000 <= code < 5000 or code in (1004, 1005, 1006, 1015):
        return 1000
    return code


async def _pump(source: WebSocket, sink: WebSocket) -> None:
    """Data frames from ``source`` to ``sink``; when ``source`` closes, close ``sink`` alike.

    aiohttp answers pings and a peer's close frame itself; a close of ``sink`` by the other pump
    ends this one with CLOSING.
    """
    reason = ""
    try:
        while True:
            message = await source.receive()
            if message.type == WSMsgType.BINARY:
                await sink.send_bytes(message.data)
            elif message.type == WSMsgType.TEXT:
                await sink.send_str(message.data)
            else:  # CLOSE, CLOSING, CLOSED or ERROR
                reason = str(message.extra or "") if message.type == WSMsgType.CLOSE else ""
                break
    except _CLIENT_ERRORS:
        pass  # the sink went away: closing is all that is left
    with contextlib.suppress(*_CLIENT_ERRORS):
        await sink.close(code=_close_code(source.close_code), message=reason.encode())


async def _relay(
    client: web.WebSocketResponse,
    kubelet: aiohttp.ClientWebSocketResponse,
    stopping: asyncio.Event,
) -> None:
    """Frames both ways until one side closes; the other is then closed with the same code.

    When the server stops, both sides are closed with 1001 (going away).
    """
    tasks = [
        asyncio.ensure_future(_pump(client, kubelet)),
        asyncio.ensure_future(_pump(kubelet, client)),
    ]
    both = asyncio.gather(*tasks)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait((both, stop), return_when=asyncio.FIRST_COMPLETED)
        if not both.done():
            for ws in (client, kubelet):
                with contextlib.suppress(*_CLIENT_ERRORS):
                    await ws.close(code=WSCloseCode.GOING_AWAY)
        await both
    finally:
        stop.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
