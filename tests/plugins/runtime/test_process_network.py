"""The process runtime's pod network: a namespace per sandbox, reachable from the host by IP.

These need root and iproute2 (they skip with the reason otherwise, and fail under
``KFRAME_REQUIRE_ALL=1``). Each test uses a CIDR of its own and a private IPAM directory.
The IP allocator's own cases (no root needed) are at the end.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import tempfile
from collections.abc import Awaitable, Callable

import pytest

from kframe.runtime import (
    ContainerConfig,
    ContainerMetadata,
    FailedPreconditionError,
    ImageSpec,
    LinuxPodSandboxConfig,
    LinuxSandboxSecurityContext,
    NamespaceMode,
    NamespaceOption,
    NetworkConfig,
    PodSandboxConfig,
    Runtime,
    RuntimeConfig,
    RuntimeOptions,
    open_runtime,
)
from kframe.testing import require
from kframe.testing.runtime import sandbox_config
from kframe_plugins.runtime.process import bridge_unavailable
from kframe_plugins.runtime.process._ipam import NETNS_DIR, IPAllocator
from kframe_plugins.runtime.process._network import run_ip

IMAGE = "python:3"
BRIDGE = f"kft{os.getpid() % 100000}"  # a bridge per test process, removed after each test


def needs_bridge() -> None:
    missing = bridge_unavailable()
    require(not missing, f"pod networks need root and iproute2: {missing}")


def run(body: Callable[[Runtime, str], Awaitable[None]], cidr: str) -> None:
    needs_bridge()

    async def main() -> None:
        with tempfile.TemporaryDirectory() as root:
            config = {
                "pod_cidr": cidr,
                "network": "bridge",
                "ipam_dir": f"{root}/ipam",
                "bridge": BRIDGE,
            }
            rt = await open_runtime("process", RuntimeOptions(root_dir=root, config=config))
            try:
                await rt.image_service.pull_image(ImageSpec(image=IMAGE))
                await asyncio.wait_for(body(rt, root), 30)
            finally:
                await rt.close()
                # The runtime leaves its bridge in place (as CNI leaves cni0); a test does not.
                if os.path.exists(f"/sys/class/net/{BRIDGE}"):
                    await run_ip("link", "delete", BRIDGE)

    asyncio.run(main())


async def start(rt: Runtime, sid: str, sc: PodSandboxConfig, name: str, *cmd: str) -> str:
    config = ContainerConfig(
        metadata=ContainerMetadata(name=name), image=ImageSpec(image=IMAGE), command=cmd
    )
    cid = await rt.runtime_service.create_container(sid, config, sc)
    await rt.runtime_service.start_container(cid)
    return cid


async def http_get(ip: str, port: int) -> bytes:
    """GET / from the host, retried until the server listens (the test's timeout bounds it)."""
    while True:
        try:
            reader, writer = await asyncio.open_connection(ip, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.write(b"GET / HTTP/1.0\r\nHost: pod\r\n\r\n")
        data = await reader.read()
        writer.close()
        await writer.wait_closed()
        return data


def test_the_host_reaches_an_http_server_in_the_pod_by_its_ip() -> None:
    async def body(rt: Runtime, root: str) -> None:
        rs = rt.runtime_service
        sc = sandbox_config("web")
        sid = await rs.run_pod_sandbox(sc)
        status = await rs.pod_sandbox_status(sid)
        assert status.network is not None
        ip = status.network.ip
        assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.251.7.0/24")
        assert ip != "10.251.7.1", "the first address is the bridge's"
        os.mkdir(f"{root}/site")
        with open(f"{root}/site/index.html", "w") as f:
            f.write("hello from the pod\n")
        await start(
            rt, sid, sc, "web", "python3", "-m", "http.server", "8000", "-d", f"{root}/site"
        )
        reply = await http_get(ip, 8000)
        assert reply.startswith(b"HTTP/1.0 200") and reply.endswith(b"hello from the pod\n")
        # The pod's other containers share its network: localhost is the same.
        cid = await start(rt, sid, sc, "side", "sleep", "3600")
        probe = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8000/').status)"
        out = await rs.exec_sync(cid, ["python3", "-c", probe], timeout=10)
        assert out.stdout == b"200\n"
        addr = await rs.exec_sync(cid, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"], 5)
        assert f" {ip}/24 ".encode() in addr.stdout

    run(body, "10.251.7.0/24")


def test_sandboxes_get_distinct_ips_and_stop_tears_the_namespace_down() -> None:
    async def body(rt: Runtime, root: str) -> None:
        rs = rt.runtime_service
        ids = [await rs.run_pod_sandbox(sandbox_config()) for _ in range(3)]
        nets = [(await rs.pod_sandbox_status(s)).network for s in ids]
        ips = [n.ip for n in nets if n is not None]
        assert len(set(ips)) == 3
        before = set(os.listdir(NETNS_DIR))
        await rs.stop_pod_sandbox(ids[0])
        await rs.stop_pod_sandbox(ids[0])  # idempotent
        gone = before - set(os.listdir(NETNS_DIR))
        assert len(gone) == 1 and next(iter(gone)).startswith("kframe-")
        await rs.remove_pod_sandbox(ids[0])
        again = await rs.run_pod_sandbox(sandbox_config())
        network = (await rs.pod_sandbox_status(again)).network
        assert network is not None and network.ip not in ips[1:]

    run(body, "10.251.8.0/24")


def test_a_host_network_sandbox_uses_the_host_network() -> None:
    async def body(rt: Runtime, root: str) -> None:
        rs = rt.runtime_service
        host = PodSandboxConfig(
            metadata=sandbox_config().metadata,
            linux=LinuxPodSandboxConfig(
                security_context=LinuxSandboxSecurityContext(
                    namespace_options=NamespaceOption(network=NamespaceMode.NODE)
                )
            ),
        )
        before = set(os.listdir(NETNS_DIR))
        sid = await rs.run_pod_sandbox(host)
        assert set(os.listdir(NETNS_DIR)) == before
        network = (await rs.pod_sandbox_status(sid)).network
        assert network is not None
        assert ipaddress.ip_address(network.ip) not in ipaddress.ip_network("10.251.9.0/24")

    run(body, "10.251.9.0/24")


def test_update_runtime_config_moves_new_sandboxes_to_the_node_cidr() -> None:
    async def body(rt: Runtime, root: str) -> None:
        rs = rt.runtime_service
        first = await rs.run_pod_sandbox(sandbox_config())
        cidr = RuntimeConfig(network_config=NetworkConfig(pod_cidr="10.251.11.0/24"))
        await rs.update_runtime_config(cidr)
        second = await rs.run_pod_sandbox(sandbox_config())
        a = (await rs.pod_sandbox_status(first)).network
        b = (await rs.pod_sandbox_status(second)).network
        assert a is not None and a.ip.startswith("10.251.10.")
        assert b is not None and b.ip.startswith("10.251.11.")
        reply = await rt.runtime_service.exec_sync(
            await start(rt, second, sandbox_config(), "c", "sleep", "3600"),
            ["ip", "route", "show", "default"],
            5,
        )
        assert reply.stdout.startswith(b"default via 10.251.11.1 ")

    run(body, "10.251.10.0/24")


# -- the allocator ------------------------------------------------------------------------------


def test_the_allocator_skips_gateway_and_broadcast_and_runs_out() -> None:
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(f"{d}/netns")
        open(f"{d}/netns/live", "w").close()
        alloc = IPAllocator(
            f"{d}/ipam", ipaddress.ip_network("10.1.0.0/29"), netns_dir=f"{d}/netns"
        )
        taken = [alloc.take("live") for _ in range(5)]
        assert taken == [f"10.1.0.{n}" for n in range(2, 7)]
        assert alloc.in_use()
        with pytest.raises(FailedPreconditionError, match="no free address"):
            alloc.take("live")
        alloc.give_back("10.1.0.4", "live")
        assert alloc.take("live") == "10.1.0.4"
        alloc.give_back("10.1.0.5", "someone-else")  # not theirs: kept
        with pytest.raises(FailedPreconditionError):
            alloc.take("live")


def test_addresses_of_namespaces_that_are_gone_are_reclaimed() -> None:
    with tempfile.TemporaryDirectory() as d:
        net = ipaddress.ip_network("10.1.0.0/30")
        alloc = IPAllocator(d, net, netns_dir=f"{d}/netns")
        assert alloc.take("kframe-crashed-long-ago") == "10.1.0.2"
        assert not alloc.in_use()
        other = IPAllocator(d, net, netns_dir=f"{d}/netns")  # another runtime
        assert other.take("kframe-crashed-too") == "10.1.0.2"
