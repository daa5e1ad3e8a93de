"""The real ``kubectl logs`` and ``kubectl exec`` through ``kframe apiserver`` to a kubelet."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.e2e.conftest import Kubectl

pytestmark = pytest.mark.e2e

LOG = "one\ntwo\nthree\n"
SUCCESS = {"metadata": {}, "status": "Success"}
NODE = """
apiVersion: v1
kind: Node
metadata: {name: n1}
"""
POD = """
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: n1
  containers: [{name: app, image: busybox}]
"""


class KubeletStub:
    """A test double for the node's kubelet endpoint, which kframe does not build yet.

    It runs its own event loop in a thread, so that the blocking kubectl runs can reach it.
    ``/containerLogs`` serves :data:`LOG` and honours ``tailLines``; ``/exec`` speaks the
    ``v5.channel.k8s.io`` framing (first byte: 0 stdin, 1 stdout, 2 stderr, 3 error status,
    255 close) for three commands: ``echo ARGS``, ``cat`` (stdin to stdout until stdin closes)
    and ``fail CODE``.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, list[tuple[str, str]]]] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    def __enter__(self) -> KubeletStub:
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/containerLogs/{ns}/{pod}/{container}", self._logs)
        app.router.add_get("/exec/{ns}/{pod}/{container}", self._exec)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.SockSite(runner, self._sock).start()
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _logs(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, list(request.query.items())))
        lines = LOG.splitlines(keepends=True)
        tail = int(request.query.get("tailLines", len(lines)))
        return web.Response(text="".join(lines[len(lines) - tail :]))

    async def _exec(self, request: web.Request) -> web.WebSocketResponse:
        self.requests.append((request.path, list(request.query.items())))
        command = request.query.getall("command")
        ws = web.WebSocketResponse(protocols=("v5.channel.k8s.io",))
        await ws.prepare(request)
        status = SUCCESS
        if command[0] == "echo":
            await ws.send_bytes(b"\x01" + (" ".join(command[1:]) + "\n").encode())
        elif command[0] == "cat":
            async for message in ws:
                if message.type != WSMsgType.BINARY or message.data == b"\xff\x00":
                    break  # v5's CLOSE signal for stream 0: stdin ended
                if message.data[:1] == b"\x00":
                    await ws.send_bytes(b"\x01" + message.data[1:])
        elif command[0] == "fail":
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: exit code {command[1]}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": command[1]}]},
            }
        await ws.send_bytes(b"\x03" + json.dumps(status).encode())
        await ws.close()
        return ws


@pytest.fixture(scope="module")
def kubelet(kubectl: Kubectl) -> Iterator[KubeletStub]:
    with KubeletStub() as stub:
        kubectl.run("create", "-f", "-", stdin=NODE)
        status = {
            "status": {
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": stub.port}},
            }
        }
        kubectl.run(
            "patch", "node", "n1", "--subresource=status", "--type=merge", "-p", json.dumps(status)
        )
        kubectl.run("create", "-f", "-", stdin=POD)
        yield stub


def test_kubectl_logs_and_exec_reach_the_kubelet(kubectl: Kubectl, kubelet: KubeletStub) -> None:
    assert kubectl.run("logs", "web").stdout == LOG
    assert kubelet.requests[-1] == ("/containerLogs/default/web/app", [])
    assert kubectl.run("logs", "web", "--tail=2").stdout == "two\nthree\n"
    assert kubelet.requests[-1][1] == [("tailLines", "2")]

    assert kubectl.run("exec", "web", "--", "echo", "hello", "world").stdout == "hello world\n"
    assert kubelet.requests[-1] == (
        "/exec/default/web/app",
        [("command", "echo"), ("command", "hello"), ("command", "world"), ("error", "1"),
         ("output", "1")],
    )  # fmt: skip
    assert kubectl.run("exec", "-i", "web", "--", "cat", stdin="ping\npong\n").stdout == (
        "ping\npong\n"
    )
    failed = kubectl.run("exec", "web", "--", "fail", "3", check=False)
    assert failed.returncode == 3, failed.stderr
