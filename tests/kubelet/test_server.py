"""KubeletServer over real HTTP with the fake runtime: logs, exec and attach WebSockets."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest

from kframe.kubelet._server import KubeletServer
from kframe.runtime import ContainerState, SystemClock
from kframe.testing.runtime import container_config, sandbox_config
from kframe_plugins.runtime.fake import FakeRuntime, FakeRuntimeConfig

SUCCESS = {"metadata": {}, "status": "Success"}


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


@attrs.define
class Node:
    runtime: FakeRuntime
    server: KubeletServer
    base: str
    container_id: str
    log_path: str
    previous: str | None = None
    waiting: bool = False
    sessions: list[Any] = attrs.field(factory=list)

    @property
    def ws_base(self) -> str:
        return self.base.replace("http://", "ws://")


class RecordingService:
    """The fake runtime's RuntimeService, remembering the sessions it handed out."""

    def __init__(self, inner: Any, sessions: list[Any]) -> None:
        self._inner = inner
        self._sessions = sessions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def exec(self, request: Any) -> Any:
        session = await self._inner.exec(request)
        self._sessions.append(session)
        return session

    async def attach(self, request: Any) -> Any:
        session = await self._inner.attach(request)
        self._sessions.append(session)
        return session


@asynccontextmanager
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    runtime = FakeRuntime(FakeRuntimeConfig(), SystemClock())
    service = runtime.runtime_service
    sandbox_cfg = sandbox_config("web", namespace="default", log_directory=str(tmp_path))
    sandbox = await service.run_pod_sandbox(sandbox_cfg)
    config = container_config("app", log_path="app/0.log")
    ident = await service.create_container(sandbox, config, sandbox_cfg)
    await service.start_container(ident)
    sessions: list[Any] = []
    recording = RecordingService(service, sessions)
    holder: dict[str, Node] = {}

    def lookup(namespace: str, pod: str, container: str) -> Any:
        n = holder["node"]
        if (namespace, pod) != ("default", "web"):
            raise KeyError(f'pod "{pod}" does not exist')
        if container != "app":
            raise KeyError(f'container "{container}" not found in pod "{pod}"')
        if n.waiting:
            raise LookupError(
                f'container "{container}" in pod "{pod}" is waiting to start: ContainerCreating'
            )
        return recording, n.container_id, n.log_path, n.previous

    server = KubeletServer("127.0.0.1", 0, lookup)
    await server.start()
    n = Node(
        runtime=runtime,
        server=server,
        base=f"http://127.0.0.1:{server.port}",
        container_id=ident,
        log_path=str(tmp_path / "app" / "0.log"),
        sessions=sessions,
    )
    holder["node"] = n
    try:
        yield n
    finally:
        await server.stop()
        await runtime.close()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def test_healthz_and_unknown_paths(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n:
            assert await get(f"{n.base}/healthz") == (200, "ok")
            assert (await get(f"{n.base}/nothing"))[0] == 404

    run(main)


def test_container_logs_and_options(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n:
            with open(n.log_path, "a") as f:
                f.write("2000-01-01T00:00:05.120000000Z stderr F second line\n")
            url = f"{n.base}/containerLogs/default/web/app"
            status, text = await get(url)
            assert status == 200
            assert text == "fake container app started\nsecond line\n"
            assert (await get(f"{url}?tailLines=1"))[1] == "second line\n"
            assert (await get(f"{url}?tailLines=1&timestamps=true"))[1] == (
                "2000-01-01T00:00:05.12Z second line\n"
            )
            assert (await get(f"{url}?limitBytes=4"))[1] == "fake"
            started = "fake container app started\n"
            assert (await get(f"{url}?sinceTime=2000-01-01T00:00:05Z"))[1] == text
            assert (await get(f"{url}?sinceTime=2000-01-01T00:00:06Z"))[1] == started
            assert (await get(f"{url}?sinceSeconds=3600"))[1] == "fake container app started\n"

    run(main)


def test_log_errors_are_upstreams(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n:
            assert await get(f"{n.base}/containerLogs/default/other/app") == (
                404,
                'pod "other" does not exist\n',
            )
            assert await get(f"{n.base}/containerLogs/default/web/app?previous=true") == (
                400,
                'previous terminated container "app" in pod "web" not found\n',
            )
            assert (await get(f"{n.base}/containerLogs/default/web/app?tailLines=x"))[0] == 400
            n.waiting = True
            assert await get(f"{n.base}/containerLogs/default/web/app") == (
                400,
                'container "app" in pod "web" is waiting to start: ContainerCreating\n',
            )

    run(main)


def test_previous_log(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n:
            old = tmp_path / "old.log"
            old.write_text("2024-01-01T00:00:00Z stdout F before the restart\n")
            n.previous = str(old)
            url = f"{n.base}/containerLogs/default/web/app?previous=true&follow=true"
            assert await get(url) == (200, "before the restart\n")

    run(main)


def test_follow_streams_until_the_container_exits(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n, aiohttp.ClientSession() as session:
            url = f"{n.base}/containerLogs/default/web/app?follow=true"
            async with session.get(url) as response:
                first = await response.content.readline()
                assert first == b"fake container app started\n"
                with open(n.log_path, "a") as f:
                    f.write("2024-01-01T00:00:06Z stdout F more\n")
                assert await response.content.readline() == b"more\n"
                await n.runtime.runtime_service.stop_container(n.container_id, 0)
                rest = await asyncio.wait_for(response.content.read(), 30)
            assert rest == b"fake container app exited with code 0\n"

    run(main)


async def frames(ws: aiohttp.ClientWebSocketResponse) -> list[tuple[int, bytes]]:
    """Every binary message until the server closes, as (channel, data)."""
    out = []
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            out.append((message.data[0], message.data[1:]))
    return out


def test_exec_v5_echo_and_exit_codes(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n, aiohttp.ClientSession() as session:
            url = f"{n.ws_base}/exec/default/web/app?command=echo&command=hello&output=1&error=1"
            async with session.ws_connect(
                url, protocols=("v5.channel.k8s.io", "v4.channel.k8s.io")
            ) as ws:
                assert ws.protocol == "v5.channel.k8s.io"
                got = await frames(ws)
            assert got[0] == (1, b"")  # the connection is established
            assert got[1:] == [(1, b"hello\n"), (3, json.dumps(SUCCESS).encode())]

            url = f"{n.ws_base}/exec/default/web/app?command=false&output=1&error=1"
            async with session.ws_connect(url, protocols=("v4.channel.k8s.io",)) as ws:
                got = await frames(ws)
            status = json.loads(got[-1][1])
            assert got[-1][0] == 3
            assert status == {
                "metadata": {},
                "status": "Failure",
                "message": "command terminated with non-zero exit code: error executing command "
                "[false], exit code 1",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": "1"}]},
            }

    run(main)


def test_exec_stdin_and_v5_close_signal(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n, aiohttp.ClientSession() as session:
            url = f"{n.ws_base}/exec/default/web/app?command=cat&input=1&output=1&error=1"
            async with session.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
                assert (await ws.receive_bytes()) == b"\x01"
                await ws.send_bytes(b"\x00abc")
                assert (await ws.receive_bytes()) == b"\x01abc"
                await ws.send_bytes(b"\xff\x00")  # stdin closed: cat exits
                got = await frames(ws)
            assert got == [(3, json.dumps(SUCCESS).encode())]

    run(main)


def test_exec_client_going_away_closes_the_session(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n, aiohttp.ClientSession() as session:
            url = f"{n.ws_base}/exec/default/web/app?command=cat&input=1&output=1"
            async with session.ws_connect(url, protocols=("v4.channel.k8s.io",)) as ws:
                await ws.receive_bytes()
            for _ in range(200):
                if n.sessions and n.sessions[0].done:
                    break
                await asyncio.sleep(0.01)
            assert n.sessions[0].done

    run(main)


def test_exec_tty_resize_and_base64_protocol(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n, aiohttp.ClientSession() as session:
            url = f"{n.ws_base}/exec/default/web/app?command=cat&input=1&output=1&tty=1"
            async with session.ws_connect(url, protocols=("v4.base64.channel.k8s.io",)) as ws:
                assert (await ws.receive_str()) == "1"
                await ws.send_str("4" + base64.b64encode(b'{"Width":80,"Height":24}').decode())
                await ws.send_str("0" + base64.b64encode(b"hi").decode())
                assert (await ws.receive_str()) == "1" + base64.b64encode(b"hi").decode()
            assert [(s.width, s.height) for s in n.sessions[0].sizes] == [(80, 24)]

    run(main)


def test_attach_ends_when_the_container_exits(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n, aiohttp.ClientSession() as session:
            url = f"{n.ws_base}/attach/default/web/app?input=1&output=1&error=1"
            async with session.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
                assert (await ws.receive_bytes()) == b"\x01"
                await ws.send_bytes(b"\x00ping")
                assert (await ws.receive_bytes()) == b"\x01ping"
                await n.runtime.runtime_service.stop_container(n.container_id, 0)
                got = await frames(ws)
            assert got == [(3, json.dumps(SUCCESS).encode())]

    run(main)


def test_stream_errors(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n, aiohttp.ClientSession() as session:
            base = f"{n.base}/exec/default/web/app"
            status, text = await get(f"{base}?command=ls&output=1")
            assert status == 400 and text.startswith("Upgrade request required")
            assert await get(f"{base}?command=ls") == (
                400,
                "you must specify at least 1 of stdin, stdout, stderr\n",
            )
            assert (await get(f"{n.base}/exec/default/nope/app?command=ls&output=1"))[0] == 404
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"{base}?command=ls&output=1", protocols=("v9.x",))
            assert refused.value.status == 400
            # The container stops: the runtime refuses, after the upgrade.
            await n.runtime.runtime_service.stop_container(n.container_id, 0)
            state = (await n.runtime.runtime_service.container_status(n.container_id)).state
            assert state == ContainerState.EXITED
            url = f"{n.ws_base}/exec/default/web/app?command=ls&output=1"
            async with session.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
                got = await frames(ws)
            status_body = json.loads(got[-1][1])
            assert got[-1][0] == 3 and status_body["reason"] == "InternalError"
            assert status_body["message"].startswith(
                "Internal error occurred: error executing command in container: "
            )

    run(main)


def test_stop_closes_open_sessions_with_going_away(tmp_path: Path) -> None:
    async def main() -> None:
        async with node(tmp_path) as n, aiohttp.ClientSession() as session:
            url = f"{n.ws_base}/exec/default/web/app?command=cat&input=1&output=1"
            async with session.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
                await ws.receive_bytes()
                stopping = asyncio.ensure_future(n.server.stop())
                await frames(ws)
                assert ws.close_code == 1001
                await stopping

    run(main)
