"""The kubelet's HTTP server: container logs, exec and attach, as the API server proxies them.

``kframe kubelet`` runs one :class:`KubeletServer` per node and ``kframe up --nodes N`` one for
all its in-process kubelets; the API server's node proxy (:mod:`kframe.apiserver._node_proxy`)
reaches it at the Node's ``daemonEndpoints.kubeletEndpoint.Port``. The contract is in
``docs/api.md`` ("the kubelet contract"):

- ``GET /containerLogs/{ns}/{pod}/{container}`` with ``follow``, ``limitBytes``, ``previous``,
  ``sinceSeconds``, ``sinceTime``, ``tailLines``, ``timestamps`` (:mod:`._logs`);
- ``/exec/{ns}/{pod}/{container}?command=...&input=1&output=1&error=1&tty=1`` and ``/attach/...``,
  WebSocket upgrades speaking the remotecommand channel protocols (:mod:`._streaming`);
- ``GET /stats/summary``: the Summary API JSON (:mod:`._summary`), when the server is given
  a ``summary``;
- ``GET /healthz``: ``ok``.

Which runtime, container and log file a request means is the ``lookup`` callable's answer
(:data:`Lookup`): a ``KeyError`` is a 404, another ``LookupError`` a 400, with its message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, web

from kframe.kubelet._logs import LogOptions, parse_time, stream_log
from kframe.kubelet._streaming import PROTOCOLS, StreamOptions, bridge, fail
from kframe.kubelet._summary import Summary
from kframe.runtime import (
    AttachRequest,
    ContainerState,
    CRIError,
    ExecRequest,
    NotFoundError,
    RuntimeService,
)

__all__ = ["KubeletServer", "Lookup"]

log = logging.getLogger("kframe.kubelet")

#: ``lookup(namespace, pod, container) -> (runtime service, container id, log path, previous
#: log path or None)``; KeyError: not on this node (404); LookupError: not available (400).
Lookup = Callable[[str, str, str], tuple[RuntimeService, str, str, str | None]]


class _Bad(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n" if message else "")


def _bool(query: Any, *names: str) -> bool:
    for name in names:
        value = query.get(name)
        if value is not None:
            # Upstream reads "1" and "true" (any case) as set.
            return str(value).lower() in ("1", "true")
    return False


def _int(query: Any, name: str, minimum: int) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise _Bad(400, f'invalid value "{value}" for query parameter {name}') from None
    if number < minimum:
        raise _Bad(422, f"invalid request: {name}: Invalid value: {number}")
    return number


class KubeletServer:
    """Serves the kubelet endpoints over ``lookup``; start with :meth:`start`."""

    def __init__(
        self, host: str, port: int, lookup: Lookup, *, summary: Summary | None = None
    ) -> None:
        self.host = host
        self._port = port
        self._lookup = lookup
        self._summary = summary
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the one chosen for port 0)."""
        return self._port

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/containerLogs/{ns}/{pod}/{container}", self._logs)
        if self._summary is not None:
            app.router.add_get("/stats/summary", self._stats_summary)
        for kind in ("exec", "attach"):
            for path in (
                f"/{kind}/{{ns}}/{{pod}}/{{container}}",
                f"/{kind}/{{ns}}/{{pod}}/{{uid}}/{{container}}",
            ):
                app.router.add_route("GET", path, self._stream)
                app.router.add_route("POST", path, self._stream)
        return app

    async def start(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        if sockets:
            self._port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """End followed logs, close exec and attach sessions (1001), stop listening."""
        self._stopping.set()
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- handlers ---------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _stats_summary(self, request: web.Request) -> web.Response:
        assert self._summary is not None
        try:
            body = await self._summary(request.query.get("node", ""))
        except KeyError as exc:
            return _text(404, str(exc.args[0]) if exc.args else "not found")
        except LookupError as exc:
            return _text(400, str(exc))
        return web.json_response(body)

    def _find(self, request: web.Request) -> tuple[RuntimeService, str, str, str | None]:
        info = request.match_info
        try:
            return self._lookup(info["ns"], info["pod"], info["container"])
        except KeyError as exc:
            raise _Bad(404, str(exc.args[0]) if exc.args else "not found") from None
        except LookupError as exc:
            raise _Bad(400, str(exc)) from None

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        try:
            options, previous = self._log_options(request)
            service, ident, path, previous_path = self._find(request)
        except _Bad as exc:
            return _text(exc.status, str(exc))
        info = request.match_info
        if previous:
            if previous_path is None:
                return _text(
                    400,
                    f'previous terminated container "{info["container"]}" in pod '
                    f'"{info["pod"]}" not found',
                )
            path = previous_path
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        await response.prepare(request)
        if not path:
            return response  # the runtime writes no log for this container

        async def running() -> bool:
            try:
                status = await service.container_status(ident)
            except NotFoundError:
                return False
            except CRIError:
                return True
            return status.state == ContainerState.RUNNING

        try:
            await stream_log(
                path,
                options,
                response.write,
                running=None if previous else running,
                stopping=self._stopping,
            )
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except OSError as exc:
            log.info("log %s: %s", path, exc)
        return response

    def _log_options(self, request: web.Request) -> tuple[LogOptions, bool]:
        query = request.query
        since_seconds = _int(query, "sinceSeconds", 1)
        since_time = query.get("sinceTime")
        since: int | None = None
        if since_seconds is not None:
            since = time.time_ns() - since_seconds * 1_000_000_000
        if since_time:
            parsed = parse_time(since_time.encode())
            if parsed is None:
                raise _Bad(400, f'invalid value "{since_time}" for query parameter sinceTime')
            # NewLogOptions: the later of the two.
            since = parsed if since is None else max(since, parsed)
        options = LogOptions(
            follow=_bool(query, "follow"),
            timestamps=_bool(query, "timestamps"),
            tail_lines=_int(query, "tailLines", 0),
            limit_bytes=_int(query, "limitBytes", 1),
            since_nanos=since,
        )
        return options, _bool(query, "previous")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        attach = request.path.startswith("/attach/")
        query = request.query
        tty = _bool(query, "tty")
        options = StreamOptions(
            stdin=_bool(query, "input", "stdin"),
            stdout=_bool(query, "output", "stdout"),
            # remotecommand.NewOptions: a tty has no separate stderr.
            stderr=_bool(query, "error", "stderr") and not tty,
            tty=tty,
            command=() if attach else tuple(query.getall("command", ())),
        )
        if not (options.stdin or options.stdout or options.stderr):
            return _text(400, "you must specify at least 1 of stdin, stdout, stderr")
        if not attach and not options.command:
            return _text(400, "you must specify at least one command for the container")
        try:
            service, ident, _, _ = self._find(request)
        except _Bad as exc:
            return _text(exc.status, str(exc))
        ws = web.WebSocketResponse(protocols=PROTOCOLS, compress=False, max_msg_size=16 << 20)
        if not ws.can_prepare(request).ok:
            return _text(400, "Upgrade request required: exec and attach are served over WebSocket")
        offered = request.headers.get("Sec-WebSocket-Protocol", "")
        wanted = [p.strip() for p in offered.split(",") if p.strip()]
        if wanted and not set(wanted) & set(PROTOCOLS):
            return _text(
                400,
                f"requested protocol(s) are not supported: [{' '.join(wanted)}]; "
                f"supports [{' '.join(PROTOCOLS)}]",
            )
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            try:
                if attach:
                    session = await service.attach(
                        AttachRequest(
                            container_id=ident,
                            stdin=options.stdin,
                            tty=options.tty,
                            stdout=options.stdout,
                            stderr=options.stderr,
                        )
                    )
                else:
                    session = await service.exec(
                        ExecRequest(
                            container_id=ident,
                            cmd=options.command,
                            tty=options.tty,
                            stdin=options.stdin,
                            stdout=options.stdout,
                            stderr=options.stderr,
                        )
                    )
            except CRIError as exc:
                what = "attaching to" if attach else "executing command in"
                await fail(ws, f"error {what} container: {exc}")
                return ws
            await bridge(ws, session, options, attach=attach)
        finally:
            self._sockets.discard(ws)
        return ws
