"""httpGet, tcpSocket and grpc probes against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import grpc
import grpc.aio
import pytest
from aiohttp import web

from kframe.api import from_dict
from kframe.api.models import Container, Probe
from kframe.client import FakeClock
from kframe.kubelet._probes_checks import (
    Outcome,
    ProbeError,
    ProbeTarget,
    Result,
    resolve_port,
    run_probe,
)
from tests.kubelet.test_probes import Harness, pod


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


@asynccontextmanager
async def http_server(handler: Any) -> AsyncIterator[tuple[int, list[web.Request]]]:
    seen: list[web.Request] = []

    async def record(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        result: web.StreamResponse = await handler(request)
        return result

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield port, seen
    finally:
        await runner.cleanup()


def container(**extra: Any) -> Container:
    return from_dict({"name": "app", **extra}, Container)


async def probe_http(port: int | str, path: str = "/", **extra: Any) -> Outcome:
    probe = from_dict({"httpGet": {"port": port, "path": path, **extra}}, Probe)
    ports = [{"name": "http", "containerPort": port if isinstance(port, int) else 1}]
    target = ProbeTarget(container=container(ports=ports), container_id="c1", pod_ip="127.0.0.1")
    async with aiohttp.ClientSession() as session:
        return await run_probe(probe, target, None, session, FakeClock())  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_2xx_and_3xx_succeed_4xx_and_5xx_fail() -> None:
    async def main() -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(status=int(request.path.strip("/")), text="body")

        async with http_server(handler) as (port, _):
            assert await probe_http(port, "/200") == Outcome(Result.SUCCESS, "body")
            assert (await probe_http(port, "/204")).result == Result.SUCCESS
            assert (await probe_http(port, "/399")).result == Result.WARNING  # counts as success
            assert await probe_http(port, "/500") == Outcome(
                Result.FAILURE, "HTTP probe failed with statuscode: 500"
            )
            assert (await probe_http(port, "/404")).output.endswith("statuscode: 404")

    run(main)


def test_http_headers_host_and_user_agent() -> None:
    async def main() -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        async with http_server(handler) as (port, seen):
            headers = [{"name": "Host", "value": "example.test"}, {"name": "X-A", "value": "b"}]
            assert (await probe_http(port, "healthz", httpHeaders=headers)).result == Result.SUCCESS
            request = seen[-1]
            assert request.path == "/healthz"
            assert request.headers["Host"] == "example.test"
            assert request.headers["X-A"] == "b"
            assert request.headers["User-Agent"].startswith("kube-probe/1.")
            assert request.headers["Accept"] == "*/*"

    run(main)


def test_http_follows_same_host_redirects_only() -> None:
    async def main() -> None:
        async def handler(request: web.Request) -> web.Response:
            if request.path == "/moved":
                raise web.HTTPFound("/ok")
            if request.path == "/away":
                raise web.HTTPFound("http://localhost.invalid/elsewhere")
            if request.path == "/loop":
                raise web.HTTPFound("/loop")
            if request.path == "/ok":
                return web.Response(text="fine")
            return web.Response(status=500)

        async with http_server(handler) as (port, _):
            assert await probe_http(port, "/moved") == Outcome(Result.SUCCESS, "fine")
            away = await probe_http(port, "/away")
            assert away.result == Result.WARNING
            assert away.output.startswith("Probe terminated redirects, Response body: ")
            loop = await probe_http(port, "/loop")
            assert loop.result == Result.FAILURE and "stopped after 10 redirects" in loop.output

    run(main)


def test_http_connection_refused_reads_as_go_does() -> None:
    async def main() -> None:
        port = free_port()
        outcome = await probe_http(port, "/healthz")
        assert outcome == Outcome(
            Result.FAILURE,
            f'Get "http://127.0.0.1:{port}/healthz": dial tcp 127.0.0.1:{port}: connect: '
            "connection refused",
        )

    run(main)


def test_http_named_port_and_timeout() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def handler(request: web.Request) -> web.Response:
            await release.wait()
            return web.Response(text="late")

        async with http_server(handler) as (port, _):
            probe = from_dict({"httpGet": {"port": "web"}, "timeoutSeconds": 2}, Probe)
            c = container(ports=[{"name": "web", "containerPort": port}])
            target = ProbeTarget(container=c, container_id="c1", pod_ip="127.0.0.1")
            clock = FakeClock()
            async with aiohttp.ClientSession() as session:
                task = asyncio.ensure_future(
                    run_probe(probe, target, None, session, clock)  # type: ignore[arg-type]
                )
                while not task.done():
                    await asyncio.sleep(0.01)
                    clock.advance(0.5)
                outcome = task.result()
            release.set()
            assert outcome.result == Result.FAILURE
            assert outcome.output == (
                f'Get "http://127.0.0.1:{port}": context deadline exceeded '
                "(Client.Timeout exceeded while awaiting headers)"
            )

    run(main)


def test_port_resolution() -> None:
    c = container(ports=[{"name": "http", "containerPort": 8080}])
    assert resolve_port("http", c) == 8080
    assert resolve_port(81, c) == 81
    assert resolve_port("82", c) == 82
    with pytest.raises(ProbeError, match="couldn't find port: nope in"):
        resolve_port("nope", c)
    with pytest.raises(ProbeError, match="invalid port number: 70000"):
        resolve_port(70000, c)


def test_tcp_socket_probe() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        c = container()
        target = ProbeTarget(container=c, container_id="c1", pod_ip="127.0.0.1")
        ok = from_dict({"tcpSocket": {"port": port}}, Probe)
        assert (await run_probe(ok, target, None, None, FakeClock())).result == Result.SUCCESS  # type: ignore[arg-type]
        server.close()
        await server.wait_closed()
        closed = free_port()
        bad = from_dict({"tcpSocket": {"port": closed}}, Probe)
        outcome = await run_probe(bad, target, None, None, FakeClock())  # type: ignore[arg-type]
        assert outcome == Outcome(
            Result.FAILURE, f"dial tcp 127.0.0.1:{closed}: connect: connection refused"
        )

    run(main)


def test_network_probes_off_succeed_without_connecting() -> None:
    async def main() -> None:
        target = ProbeTarget(container=container(), container_id="c1", pod_ip="10.244.0.9")
        for spec in (
            {"httpGet": {"port": 80}},
            {"tcpSocket": {"port": 80}},
            {"grpc": {"port": 80}},
        ):
            probe = from_dict(spec, Probe)
            outcome = await run_probe(probe, target, None, None, FakeClock(), network=False)  # type: ignore[arg-type]
            assert outcome.result == Result.SUCCESS

    run(main)


def test_grpc_health_probe() -> None:
    async def main() -> None:
        statuses = {"": 1, "sick": 2}

        def check(request: bytes, context: Any) -> bytes:
            service = request[2:].decode() if request else ""
            if service not in statuses:
                context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
            return bytes((0x08, statuses[service]))

        handler = grpc.method_handlers_generic_handler(
            "grpc.health.v1.Health",
            {"Check": grpc.unary_unary_rpc_method_handler(check)},
        )
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((handler,))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            target = ProbeTarget(container=container(), container_id="c1", pod_ip="127.0.0.1")

            async def probe(service: str | None) -> Outcome:
                spec: dict[str, Any] = {"port": port}
                if service is not None:
                    spec["service"] = service
                p = from_dict({"grpc": spec}, Probe)
                return await run_probe(p, target, None, None, FakeClock())  # type: ignore[arg-type]

            assert await probe(None) == Outcome(Result.SUCCESS, "service healthy")
            assert await probe("sick") == Outcome(
                Result.FAILURE, 'service unhealthy (responded with "NOT_SERVING")'
            )
            missing = await probe("nope")
            assert missing.result == Result.FAILURE
            assert missing.output.startswith("error: health rpc probe failed: rpc error: code = ")
        finally:
            await server.stop(None)

    run(main)


def test_manager_http_readiness_and_redirect_warning_event() -> None:
    async def main() -> None:
        async def handler(request: web.Request) -> web.Response:
            if request.path == "/away":
                raise web.HTTPFound("http://elsewhere.invalid/")
            return web.Response(text="ok")

        async with http_server(handler) as (port, _):
            h = Harness(None)
            p = pod(
                readiness={"httpGet": {"port": port, "path": "/ready"}},
                liveness={"httpGet": {"port": port, "path": "/away"}},
            )
            h.manager.add_pod(p, {"app": "c1"})
            h.clock.advance(0)
            for _ in range(500):
                if h.manager.readiness("u1", "app") and h.events:
                    break
                await asyncio.sleep(0.01)
            assert h.manager.readiness("u1", "app")
            assert h.events[0][:2] == ("Warning", "ProbeWarning")
            assert h.events[0][2].startswith(
                "Liveness probe warning: Probe terminated redirects, Response body: "
            )
            assert h.killed == []
            await h.manager.close()

    run(main)
