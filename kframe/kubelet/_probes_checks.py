"""One probe attempt: exec, httpGet, tcpSocket or grpc, with upstream's outcomes and wording.

:class:`kframe.kubelet._probes.ProbeManager`'s workers call :func:`run_probe` once per period.
It answers a :class:`Outcome` - SUCCESS, WARNING (a success that is reported, such as a redirect
to another host), FAILURE with the output the ``Unhealthy`` event quotes - or raises
:class:`ProbeError` when the probe could not be run at all (upstream's ``probe errored``; the
result is thrown away). The rules follow ``pkg/probe/{exec,http,tcp,grpc}`` and ``runProbe`` in
``pkg/kubelet/prober/prober.go``; Go's error strings are kept where users grep for them
(``connect: connection refused``, ``context deadline exceeded``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import errno
import ipaddress
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import attrs
from yarl import URL

from kframe.api import go_quote
from kframe.api.models import Container, HTTPGetAction, Probe
from kframe.kubelet._backoff import go_duration
from kframe.kubelet._env import expand
from kframe.runtime import CRIError, RuntimeService

if TYPE_CHECKING:
    from kframe.client import Clock

__all__ = ["Outcome", "ProbeError", "ProbeTarget", "Result", "resolve_port", "run_probe"]

#: What a probe reads of an HTTP body, and of an exec probe's output (upstream: 10 KiB).
MAX_OUTPUT = 10 * 1024
#: Go's http.Client stops after this many redirects.
MAX_REDIRECTS = 10
#: ``kube-probe/<major>.<minor>``, the User-Agent upstream's probes send.
USER_AGENT = "kube-probe/1.33"

T = TypeVar("T")


class Result(enum.Enum):
    SUCCESS = "Success"
    WARNING = "Warning"
    FAILURE = "Failure"


@attrs.frozen
class Outcome:
    result: Result
    output: str = ""


class ProbeError(Exception):
    """The probe could not be run (a bad port name, a runtime error): upstream's ``errored``."""


@attrs.frozen(kw_only=True)
class ProbeTarget:
    """What a probe runs against: the container, its CRI id and the pod's IP."""

    container: Container
    container_id: str
    pod_ip: str


class _Timeout(Exception):
    pass


async def _within(clock: Clock, seconds: float, work: Awaitable[T]) -> T:
    """``work``, or :class:`_Timeout` once ``seconds`` have passed on ``clock``.

    As ``asyncio.timeout`` on the clock: a timer cancels the current task, so an attempt costs
    one timer rather than a task per guard.
    """
    task = asyncio.current_task()
    assert task is not None
    fired = False

    def expire() -> None:
        nonlocal fired
        fired = True
        task.cancel()

    timer = clock.call_at(clock.now() + seconds, expire)
    try:
        return await work
    except asyncio.CancelledError:
        if fired and task.uncancel() == 0:
            raise _Timeout from None
        raise
    finally:
        timer.cancel()


def resolve_port(port: int | str | None, container: Container) -> int:
    """``probe.ResolveContainerPort``: a number, or the named port of the container."""
    if isinstance(port, str) and not port.isdigit():
        for p in container.ports:
            if p.name == port and p.container_port is not None:
                return p.container_port
        ports = " ".join(f"{{{p.name} {p.container_port}}}" for p in container.ports)
        raise ProbeError(f"couldn't find port: {port} in [{ports}]")
    number = int(port) if port is not None else 0
    if not 0 < number < 65536:
        raise ProbeError(f"invalid port number: {number}")
    return number


def _host_port(host: str, port: int) -> str:
    # net.JoinHostPort: brackets around an IPv6 address.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _dial_error(exc: BaseException, address: str) -> str:
    """Go's ``dial tcp ADDR: ...`` for the usual failures."""
    os_error = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    code = getattr(os_error, "errno", None)
    if code == errno.ECONNREFUSED:
        return f"dial tcp {address}: connect: connection refused"
    if code == errno.EHOSTUNREACH:
        return f"dial tcp {address}: connect: no route to host"
    if code == errno.ENETUNREACH:
        return f"dial tcp {address}: connect: network is unreachable"
    why = getattr(os_error, "strerror", None) or str(os_error) or type(os_error).__name__
    return f"dial tcp {address}: {why.lower()}"


# -- exec ---------------------------------------------------------------------------------------


async def _exec(
    probe_cmd: Sequence[str],
    target: ProbeTarget,
    service: RuntimeService,
    timeout: int,
    clock: Clock,
) -> Outcome:
    # ExpandContainerCommandOnlyStatic: only the container's literal env values.
    env = {e.name or "": e.value or "" for e in target.container.env if e.value_from is None}
    cmd = [expand(arg, env) for arg in probe_cmd]
    try:
        # The runtime enforces the timeout; our own guard, a second later, catches one that
        # does not.
        response = await _within(
            clock, timeout + 1, service.exec_sync(target.container_id, cmd, timeout)
        )
    except _Timeout:
        return Outcome(Result.FAILURE, f"command {go_quote(' '.join(cmd))} timed out")
    except CRIError as exc:
        if exc.code == "DeadlineExceeded":
            return Outcome(Result.FAILURE, f"command {go_quote(' '.join(cmd))} timed out")
        raise ProbeError(str(exc)) from None
    output = (response.stdout + response.stderr)[:MAX_OUTPUT].decode("utf-8", errors="replace")
    return Outcome(Result.SUCCESS if response.exit_code == 0 else Result.FAILURE, output)


# -- httpGet ------------------------------------------------------------------------------------


def http_url(action: HTTPGetAction, target: ProbeTarget) -> URL:
    """``NewRequestForHTTPGetAction``'s URL: scheme, host (the pod IP), port, path."""
    scheme = (action.scheme or "HTTP").lower()
    host = action.host or target.pod_ip
    port = resolve_port(action.port, target.container)
    path = action.path or ""
    if path and not path.startswith("/"):
        path = "/" + path
    try:
        ipaddress.IPv6Address(host)
        host = f"[{host}]"
    except ValueError:
        pass
    return URL(f"{scheme}://{host}:{port}{path}", encoded=True)


def http_headers(action: HTTPGetAction) -> dict[str, str]:
    headers = {h.name or "": h.value or "" for h in action.http_headers if h.name}
    lowered = {k.lower() for k in headers}
    if "user-agent" not in lowered:
        headers["User-Agent"] = USER_AGENT
    if "accept" not in lowered:
        headers["Accept"] = "*/*"
    return headers


async def _http_get(
    session: aiohttp.ClientSession, url: URL, headers: dict[str, str]
) -> tuple[int, str]:
    """GET ``url``, following redirects to the same host only (upstream's redirectChecker)."""
    first_host = url.host
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        async with session.get(
            current, headers=headers, allow_redirects=False, ssl=False
        ) as response:
            body = (await response.content.read(MAX_OUTPUT)).decode("utf-8", errors="replace")
            location = response.headers.get("Location")
            if not (300 <= response.status < 400 and location):
                return response.status, body
            target = current.join(URL(location))
            if target.host != first_host:
                return response.status, body  # http.ErrUseLastResponse: the 3xx is the answer
            current = target
    raise ProbeError(f'Get "{current}": stopped after {MAX_REDIRECTS} redirects')


async def _http(
    action: HTTPGetAction,
    target: ProbeTarget,
    session: aiohttp.ClientSession,
    timeout: int,
    clock: Clock,
) -> Outcome:
    url = http_url(action, target)
    headers = http_headers(action)
    try:
        status, body = await _within(clock, timeout, _http_get(session, url, headers))
    except _Timeout:
        return Outcome(
            Result.FAILURE,
            f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting '
            "headers)",
        )
    except ProbeError as exc:  # too many redirects: a failure, as Go's client error is
        return Outcome(Result.FAILURE, str(exc))
    except (aiohttp.ClientError, OSError) as exc:
        address = _host_port(url.host or "", url.port or 0)
        if isinstance(exc, aiohttp.ClientConnectorError | ConnectionError):
            return Outcome(Result.FAILURE, f'Get "{url}": {_dial_error(exc, address)}')
        return Outcome(Result.FAILURE, f'Get "{url}": {exc}')
    if 200 <= status < 400:
        if status >= 300:
            return Outcome(Result.WARNING, f"Probe terminated redirects, Response body: {body}")
        return Outcome(Result.SUCCESS, body)
    return Outcome(Result.FAILURE, f"HTTP probe failed with statuscode: {status}")


# -- tcpSocket ----------------------------------------------------------------------------------


async def _tcp(host: str, port: int, timeout: int, clock: Clock) -> Outcome:
    address = _host_port(host, port)
    try:
        _, writer = await _within(clock, timeout, asyncio.open_connection(host, port))
    except _Timeout:
        return Outcome(Result.FAILURE, f"dial tcp {address}: i/o timeout")
    except OSError as exc:
        return Outcome(Result.FAILURE, _dial_error(exc, address))
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Outcome(Result.SUCCESS)


# -- grpc ---------------------------------------------------------------------------------------

# grpc.health.v1.HealthCheckResponse.ServingStatus
_SERVING_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def _health_request(service: str) -> bytes:
    """HealthCheckRequest{service}: field 1, a length-delimited string."""
    data = service.encode()
    if not data:
        return b""
    length = bytearray()
    n = len(data)
    while True:
        byte, n = n & 0x7F, n >> 7
        length.append(byte | (0x80 if n else 0))
        if not n:
            break
    return b"\x0a" + bytes(length) + data


def _health_status(data: bytes) -> int:
    """HealthCheckResponse.status (field 1, a varint); 0 when absent."""
    if len(data) >= 2 and data[0] == 0x08:
        return data[1] & 0x7F
    return 0


async def _grpc(host: str, port: int, service: str, timeout: int, clock: Clock) -> Outcome:
    import grpc  # grpcio comes with the etcd client kframe depends on
    import grpc.aio

    address = _host_port(host, port)
    channel = grpc.aio.insecure_channel(address, options=[("grpc.primary_user_agent", USER_AGENT)])
    check: Any = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=None,
        response_deserializer=None,
    )
    try:
        try:
            await _within(clock, timeout, channel.channel_ready())
        except _Timeout:
            return Outcome(
                Result.FAILURE,
                f"timeout: failed to connect service {go_quote(address)} within "
                f"{go_duration(timeout)}: context deadline exceeded",
            )
        try:
            reply = await _within(clock, timeout, check(_health_request(service)))
        except _Timeout:
            return Outcome(
                Result.FAILURE,
                f"timeout: health rpc did not complete within {go_duration(timeout)}",
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                return Outcome(
                    Result.FAILURE,
                    "this server does not implement the grpc health protocol "
                    f"(grpc.health.v1.Health): {exc.details()}",
                )
            return Outcome(
                Result.FAILURE,
                f"error: health rpc probe failed: rpc error: code = {exc.code().name.title()}"
                f" desc = {exc.details()}",
            )
    finally:
        await channel.close()
    status = _health_status(bytes(reply))
    if status != 1:
        name = _SERVING_STATUS.get(status, str(status))
        return Outcome(Result.FAILURE, f"service unhealthy (responded with {go_quote(name)})")
    return Outcome(Result.SUCCESS, "service healthy")


# -- dispatch -----------------------------------------------------------------------------------


async def run_probe(
    probe: Probe,
    target: ProbeTarget,
    service: RuntimeService,
    session: aiohttp.ClientSession | None,
    clock: Clock,
    *,
    network: bool = True,
) -> Outcome:
    """One attempt of ``probe`` (``runProbe``). ``network`` False: HTTP, TCP and gRPC probes
    succeed without connecting, for runtimes whose pod IPs are not reachable (fake)."""
    timeout = probe.timeout_seconds or 1
    if probe.exec is not None:
        return await _exec(probe.exec.command, target, service, timeout, clock)
    if not network and (probe.http_get or probe.tcp_socket or probe.grpc):
        return Outcome(Result.SUCCESS)
    if probe.http_get is not None:
        if session is None:
            raise ProbeError("no HTTP client for httpGet probes")
        return await _http(probe.http_get, target, session, timeout, clock)
    if probe.tcp_socket is not None:
        port = resolve_port(probe.tcp_socket.port, target.container)
        return await _tcp(probe.tcp_socket.host or target.pod_ip, port, timeout, clock)
    if probe.grpc is not None:
        port = resolve_port(probe.grpc.port, target.container)
        return await _grpc(target.pod_ip, port, probe.grpc.service or "", timeout, clock)
    raise ProbeError(f"missing probe handler for container {target.container.name}")
