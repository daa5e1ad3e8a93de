"""pods/log, pods/exec and pods/attach, proxied to the node's kubelet as upstream does."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp import web

from kframe.apiserver._errors import APIError
from kframe.apiserver._pod_streams import resolve_container

if TYPE_CHECKING:  # the fixtures' types; pytest imports conftest itself
    from tests.apiserver.conftest import Api, Scenario

PODS = "/api/v1/namespaces/default/pods"
SUCCESS = b'\x03{"metadata":{},"status":"Success"}'


class Kubelet:
    """A test double for the node's kubelet endpoint, which kframe does not build yet.

    It serves the paths the API server proxies to (``/containerLogs``, ``/exec``, ``/attach``),
    records each request's path and query, and answers per container name: ``broken`` is
    refused with a 400, ``gone`` with a 404; a followed log writes one line, then waits for
    :attr:`release` before the second.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, list[tuple[str, str]]]] = []
        self.release = asyncio.Event()
        self.session_ended = asyncio.Event()
        self.close_codes: list[int | None] = []
        self.app = web.Application()
        self.app.router.add_get("/containerLogs/{ns}/{pod}/{container}", self.logs)
        self.app.router.add_get("/exec/{ns}/{pod}/{container}", self.exec)
        self.app.router.add_get("/attach/{ns}/{pod}/{container}", self.exec)
        self.runner = web.AppRunner(self.app)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]

    async def __aenter__(self) -> Kubelet:
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()

    def _record(self, request: web.Request) -> str:
        self.requests.append((request.path, list(request.query.items())))
        return request.match_info["container"]

    async def logs(self, request: web.Request) -> web.StreamResponse:
        container = self._record(request)
        if container == "broken":
            return web.Response(status=400, text="container broken is waiting to start")
        if container == "gone":
            return web.Response(status=404, text="no such container")
        if request.query.get("follow") != "true":
            return web.Response(text=f"{container} says hello\n")
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first\n")
        await self.release.wait()
        await response.write(b"second\n")
        return response

    async def exec(self, request: web.Request) -> web.StreamResponse:
        """Echoes stdin (stream 0) on stdout (stream 1) and text frames as ``echo:<text>``;
        stdin ``exit`` ends the session with a Success status on stream 3."""
        if self._record(request) == "broken":
            return web.Response(status=400, text='container "broken" is not running')
        ws = web.WebSocketResponse(protocols=("v4.channel.k8s.io",))  # the kubelet's choice
        await ws.prepare(request)
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                await ws.send_str(f"echo:{message.data}")
            elif message.data == b"\x00exit":
                await ws.send_bytes(SUCCESS)
                await ws.close()
            else:
                await ws.send_bytes(b"\x01" + message.data[1:])
        self.close_codes.append(ws.close_code)
        self.session_ended.set()
        return ws


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def add_node(api: Api, name: str, addresses: list[dict[str, str]], port: int = 0) -> None:
    code, node = await api.call("POST", "/api/v1/nodes", {"metadata": {"name": name}})
    assert code == 201
    node["status"] = {"addresses": addresses}
    if port:
        node["status"]["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    code, _ = await api.call("PUT", f"/api/v1/nodes/{name}/status", node)
    assert code == 200


async def add_pod(
    api: Api, name: str, containers: list[str], node: str = "", init: tuple[str, ...] = ()
) -> None:
    spec: dict[str, Any] = {"containers": [{"name": c, "image": "i"} for c in containers]}
    if init:
        spec["initContainers"] = [{"name": c, "image": "i"} for c in init]
    code, _ = await api.call("POST", PODS, {"metadata": {"name": name}, "spec": spec})
    assert code == 201
    if node:
        binding = {"metadata": {"name": name}, "target": {"kind": "Node", "name": node}}
        code, _ = await api.call("POST", f"{PODS}/{name}/binding", binding)
        assert code == 201


async def cluster(api: Api, kubelet: Kubelet) -> None:
    """Node n1 runs the stub; n2's kubelet port is closed; n3 reports no address."""
    # InternalIP is preferred to ExternalIP (--kubelet-preferred-address-types).
    external = {"type": "ExternalIP", "address": "192.0.2.1"}
    internal = {"type": "InternalIP", "address": "127.0.0.1"}
    await add_node(api, "n1", [external, internal], kubelet.port)
    await add_node(api, "n2", [{"type": "Hostname", "address": "127.0.0.1"}], free_port())
    await add_node(api, "n3", [])
    await add_pod(api, "p", ["c"], node="n1")
    await add_pod(api, "multi", ["broken", "gone"], node="n1", init=("setup",))
    await add_pod(api, "loose", ["c"])
    await add_pod(api, "away", ["c"], node="n2")
    await add_pod(api, "lost", ["c"], node="ghost")
    await add_pod(api, "nowhere", ["c"], node="n3")


def with_kubelet(run_api: Callable[[Scenario], None], body: Any) -> None:
    async def scenario(api: Api) -> None:
        async with Kubelet() as kubelet:
            await cluster(api, kubelet)
            await body(api, kubelet)

    run_api(scenario)


def test_log_is_proxied_with_the_options_re_encoded(run_api: Callable[[Scenario], None]) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        params = {
            "tailLines": "2",
            "timestamps": "true",
            "sinceSeconds": "10",
            "limitBytes": "100",
            "previous": "false",
            "insecureSkipTLSVerifyBackend": "true",
        }
        async with api.session.get(f"{api.server.url}{PODS}/p/log", params=params) as resp:
            assert resp.status == 200
            assert resp.content_type == "text/plain"
            assert await resp.text() == "c says hello\n"
        # Upstream's url.Values.Encode: keys sorted, unset and false options left out.
        assert kubelet.requests[-1] == (
            "/containerLogs/default/p/c",
            [
                ("limitBytes", "100"),
                ("sinceSeconds", "10"),
                ("tailLines", "2"),
                ("timestamps", "true"),
            ],
        )
        since = {"sinceTime": "2024-05-01T10:00:00.5+02:00", "container": "c"}
        assert (await api.call("GET", f"{PODS}/p/log", params=since))[0] == 200
        assert kubelet.requests[-1][1] == [("sinceTime", "2024-05-01T08:00:00Z")]
        # An init container is a valid name, as upstream's VisitContainers has it.
        code, text = await api.call("GET", f"{PODS}/multi/log", params={"container": "setup"})
        assert (code, text) == (200, "setup says hello\n")
        assert kubelet.requests[-1][0] == "/containerLogs/default/multi/setup"

    with_kubelet(run_api, body)


def test_follow_streams_chunks_as_they_arrive(run_api: Callable[[Scenario], None]) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        url = f"{api.server.url}{PODS}/p/log"
        async with api.session.get(url, params={"follow": "true"}) as resp:
            assert resp.status == 200
            # The kubelet holds the second line until released: the first must arrive alone.
            assert await resp.content.readline() == b"first\n"
            kubelet.release.set()
            assert await resp.content.read() == b"second\n"
        assert kubelet.requests[-1][1] == [("follow", "true")]

    with_kubelet(run_api, body)


def test_kubelet_errors_become_statuses(run_api: Callable[[Scenario], None]) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        log = f"{PODS}/multi/log"
        code, status = await api.call("GET", log, params={"container": "broken"})
        assert (code, status["reason"]) == (400, "BadRequest")
        assert status["message"] == "container broken is waiting to start"
        code, status = await api.call("GET", log, params={"container": "gone"})
        assert (code, status["reason"]) == (404, "NotFound")
        # NewGenericServerResponse with the empty verb: upstream's double space included.
        assert (
            status["message"]
            == "the server could not find the requested resource ( pods/log multi)"
        )
        assert status["details"] == {"name": "multi", "kind": "pods/log"}
        code, status = await api.call("GET", f"{PODS}/away/log")
        assert (code, status["reason"]) == (503, "ServiceUnavailable")
        assert (
            "127.0.0.1:" in status["message"]
            and "/containerLogs/default/away/c" in status["message"]
        )
        code, status = await api.call("GET", f"{PODS}/lost/log")
        assert (code, status["message"]) == (404, 'nodes "ghost" not found')
        code, status = await api.call("GET", f"{PODS}/nowhere/log")
        assert (code, status["reason"]) == (503, "ServiceUnavailable")
        assert status["message"] == "no preferred addresses found; known addresses: []"

    with_kubelet(run_api, body)


def invalid(name: str, summary: str, *causes: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'PodLogOptions "{name}" is invalid: {summary}',
        "reason": "Invalid",
        "code": 422,
        "details": {
            "name": name,
            "kind": "PodLogOptions",
            "causes": [{"field": f, "reason": r, "message": m} for f, r, m in causes],
        },
    }


NEGATIVE = "Invalid value: -1: must be greater than or equal to 0"
POSITIVE = "Invalid value: 0: must be greater than 0"
FORBIDDEN = "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"


def one(field: str, message: str, reason: str = "FieldValueInvalid") -> dict[str, Any]:
    return invalid("p", f"{field}: {message}", (field, reason, message))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tailLines": "-1"}, one("tailLines", NEGATIVE)),
        ({"limitBytes": "0"}, one("limitBytes", POSITIVE)),
        ({"sinceSeconds": "0"}, one("sinceSeconds", POSITIVE)),
        (
            {"sinceSeconds": "5", "sinceTime": "2024-05-01T10:00:00Z"},
            one("[]", FORBIDDEN, "FieldValueForbidden"),  # field.NewPath("") prints as "[]"
        ),
        (
            {"tailLines": "-1", "limitBytes": "0"},
            invalid(
                "p",
                f"[tailLines: {NEGATIVE}, limitBytes: {POSITIVE}]",
                ("tailLines", "FieldValueInvalid", NEGATIVE),
                ("limitBytes", "FieldValueInvalid", POSITIVE),
            ),
        ),
    ],
)
def test_log_options_are_validated_as_upstream(
    run_api: Callable[[Scenario], None], params: dict[str, str], expected: dict[str, Any]
) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        assert await api.call("GET", f"{PODS}/p/log", params=params) == (422, expected)
        assert kubelet.requests == []

    with_kubelet(run_api, body)


def test_log_requests_rejected_before_the_kubelet(run_api: Callable[[Scenario], None]) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        async def bad(path: str, params: dict[str, str] | None = None) -> tuple[int, str, str]:
            code, status = await api.call("GET", path, params=params)
            return code, status["reason"], status["message"]

        log = f"{PODS}/p/log"
        assert await bad(log, {"tailLines": "abc"}) == (
            400,
            "BadRequest",
            'invalid value "abc" for query parameter tailLines: expected a 64-bit integer',
        )
        assert await bad(log, {"limitBytes": "9223372036854775808"}) == (
            400,
            "BadRequest",
            'invalid value "9223372036854775808" for query parameter limitBytes: expected a '
            "64-bit integer",
        )
        assert await bad(log, {"follow": "yes"}) == (
            400,
            "BadRequest",
            'invalid value "yes" for query parameter follow: expected true or false',
        )
        assert (await bad(log, {"sinceTime": "yesterday"}))[:2] == (400, "BadRequest")
        # Options are validated before the pod is read, as upstream.
        assert (await bad(f"{PODS}/nope/log", {"tailLines": "-1"}))[0] == 422
        assert await bad(f"{PODS}/nope/log") == (404, "NotFound", 'pods "nope" not found')
        assert await bad(log, {"container": "x"}) == (
            400,
            "BadRequest",
            "container x is not valid for pod p",
        )
        assert await bad(f"{PODS}/multi/log") == (
            400,
            "BadRequest",
            "a container name must be specified for pod multi, choose one of: [setup broken gone]",
        )
        code, status = await api.call("POST", log)
        assert (code, status["reason"]) == (405, "MethodNotAllowed")
        code, status = await api.call("GET", f"{PODS}/p/portforward")
        assert (code, status["reason"]) == (501, "NotImplemented")
        assert kubelet.requests == []

    with_kubelet(run_api, body)


def test_log_of_an_unscheduled_pod_is_empty(run_api: Callable[[Scenario], None]) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        async with api.session.get(f"{api.server.url}{PODS}/loose/log") as resp:
            # Upstream's empty location: a nil stream, answered 204 No Content.
            assert resp.status == 204
            assert await resp.read() == b""
        assert kubelet.requests == []

    with_kubelet(run_api, body)


def test_a_pod_without_containers_needs_a_container_name() -> None:
    with pytest.raises(APIError) as raised:
        resolve_container({"metadata": {"name": "empty"}, "spec": {}}, "")
    assert raised.value.code == 400
    assert raised.value.message == "a container name must be specified for pod empty"


def test_exec_relays_websocket_frames_both_ways(run_api: Callable[[Scenario], None]) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        query = "command=sh&command=-c&command=echo%20hi&stdin=true&stdout=true&tty=false"
        url = f"{api.server.url}{PODS}/p/exec?{query}"
        async with api.session.ws_connect(
            url, protocols=["v5.channel.k8s.io", "v4.channel.k8s.io"]
        ) as ws:
            assert ws.protocol == "v4.channel.k8s.io"  # what the kubelet chose
            await ws.send_bytes(b"\x00hello")
            assert await ws.receive_bytes() == b"\x01hello"
            await ws.send_str("ping")
            assert await ws.receive_str() == "echo:ping"
            await ws.send_bytes(b"\x00exit")
            assert await ws.receive_bytes() == SUCCESS
            closing = await ws.receive()
            assert closing.type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 1000
        assert kubelet.requests[-1] == (
            "/exec/default/p/c",
            [
                ("command", "sh"),
                ("command", "-c"),
                ("command", "echo hi"),
                ("input", "1"),
                ("output", "1"),
            ],
        )

    with_kubelet(run_api, body)


def test_attach_relays_and_a_client_close_reaches_the_kubelet(
    run_api: Callable[[Scenario], None],
) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        url = f"{api.server.url}{PODS}/p/attach?stdin=true&stdout=true&stderr=true&tty=true"
        async with api.session.ws_connect(url, protocols=["v4.channel.k8s.io"]) as ws:
            await ws.send_bytes(b"\x00x")
            assert await ws.receive_bytes() == b"\x01x"
            await ws.close(code=4000)
        await kubelet.session_ended.wait()
        assert kubelet.close_codes == [4000]
        assert kubelet.requests[-1] == (
            "/attach/default/p/c",
            [("error", "1"), ("input", "1"), ("output", "1"), ("tty", "1")],
        )

    with_kubelet(run_api, body)


def test_exec_errors(run_api: Callable[[Scenario], None]) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        async def bad(path: str, **params: str) -> tuple[int, str, str]:
            code, status = await api.call("GET", path, params={"command": "ls", **params})
            return code, status["reason"], status["message"]

        code, reason, message = await bad(f"{PODS}/p/exec")  # no upgrade
        assert (code, reason) == (400, "BadRequest")
        assert message.startswith("Upgrade request required") and "SPDY is not supported" in message
        assert await bad(f"{PODS}/loose/exec") == (
            400,
            "BadRequest",
            "pod loose does not have a host assigned",
        )
        assert await bad(f"{PODS}/nope/exec") == (404, "NotFound", 'pods "nope" not found')
        assert await bad(f"{PODS}/p/exec", container="x") == (
            400,
            "BadRequest",
            "container x is not valid for pod p",
        )
        assert (await bad(f"{PODS}/p/exec", stdin="maybe"))[:2] == (400, "BadRequest")
        code, status = await api.call("PUT", f"{PODS}/p/exec", {})
        assert (code, status["reason"]) == (405, "MethodNotAllowed")
        assert kubelet.requests == []
        # A refused handshake keeps the kubelet's words; an unreachable kubelet is a 503.
        url = f"{api.server.url}{PODS}/multi/exec?command=ls&container=broken&stdout=true"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await api.session.ws_connect(url)
        assert refused.value.status == 400
        async with api.session.get(url, headers=websocket_headers()) as resp:
            status = json.loads(await resp.text())
        assert (resp.status, status["message"]) == (400, 'container "broken" is not running')
        async with api.session.get(
            f"{api.server.url}{PODS}/away/exec?command=ls&stdout=true", headers=websocket_headers()
        ) as resp:
            status = json.loads(await resp.text())
        assert (resp.status, status["reason"]) == (503, "ServiceUnavailable")
        assert "/exec/default/away/c?command=ls&output=1" in status["message"]

    with_kubelet(run_api, body)


def websocket_headers() -> dict[str, str]:
    """A WebSocket upgrade request, to read the Status of a refused one."""
    return {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }


def test_streams_end_when_the_server_stops(run_api: Callable[[Scenario], None]) -> None:
    async def body(api: Api, kubelet: Kubelet) -> None:
        exec_url = f"{api.server.url}{PODS}/p/exec?command=sh&stdin=true"
        async with (
            api.session.ws_connect(exec_url) as ws,
            api.session.get(f"{api.server.url}{PODS}/p/log", params={"follow": "true"}) as log,
        ):
            assert await log.content.readline() == b"first\n"
            await api.server.stop()
            assert await log.content.read() == b""  # the followed log ended cleanly
            closing = await ws.receive()
            assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1001)
        await kubelet.session_ended.wait()
        assert kubelet.close_codes == [1001]  # going away, on both sides
        kubelet.release.set()

    with_kubelet(run_api, body)
