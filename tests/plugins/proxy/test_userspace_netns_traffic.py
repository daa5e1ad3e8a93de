"""The same traffic tests for the userspace and the iptables backend, each in a network
namespace of its own (as root, ``unshare -n``), so the iptables rules can be linked from the
built-in chains without touching the host's tables.

In the namespace: ``lo`` is up with the pod IP 10.244.0.1, the node IP 192.0.2.10 and the
cluster IPs as local addresses; asyncio echo servers on 10.244.0.1 are the pods; clients
connect to ``clusterIP:port`` and ``nodeIP:nodePort`` exactly as they would in a cluster. The
iptables backend DNATs them; the userspace backend listens on them (the cluster IPs are local).
Run as a script (``python THIS MODE``) inside the namespace; the pytest tests start it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kframe.api.models import EndpointSlice
from kframe.proxy import ProxyBackend
from kframe.testing import require
from kframe.testing.proxy import endpoint_slice, proxy_state, service
from tests.plugins.proxy.test_userspace_traffic import TcpPod, UdpClient, UdpPod, refused, request

POD_IP = "10.244.0.1"
NODE_IP = "192.0.2.10"
WEB, STICKY, NODEPORT, DNS = "10.96.0.10", "10.96.0.11", "10.96.0.12", "10.96.0.53"
NODE_PORT = 30080
ROOT = Path(__file__).resolve().parents[3]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


async def _backend(mode: str) -> ProxyBackend:
    if mode == "iptables":
        from kframe_plugins.proxy.iptables import IptablesBackend, IptablesConfig

        return IptablesBackend(IptablesConfig(), dry_run=False)
    from kframe_plugins.proxy.userspace import UserspaceBackend

    return UserspaceBackend()


def _slices(
    name: str, port_name: str, pods: list[int], protocol: str = "TCP"
) -> list[EndpointSlice]:
    return [
        endpoint_slice(
            name, [(POD_IP, True, "node-a")], [(port_name, p, protocol)], name=f"{name}-{i}"
        )
        for i, p in enumerate(pods)
    ]


async def scenarios(mode: str) -> None:
    backend = await _backend(mode)
    async with TcpPod("a", POD_IP) as a, TcpPod("b", POD_IP) as b, UdpPod("u", POD_IP) as u:
        services = [
            service("web", WEB, [("http", 80)]),
            service("sticky", STICKY, [("", 80)], session_affinity="ClientIP"),
            service("np", NODEPORT, [("", 80, "TCP", NODE_PORT)], type="NodePort"),
            service("dns", DNS, [("dns", 53, "UDP")]),
        ]
        web_eps = _slices("web", "http", [a.port, b.port])
        others = (
            _slices("sticky", "", [a.port, b.port])
            + _slices("np", "", [a.port])
            + _slices("dns", "dns", [u.port], "UDP")
        )
        await backend.sync(proxy_state(services, web_eps + others, node_name="node-a"))

        # cluster IP: both pods answer; the userspace backend alternates strictly
        names = [(await request((WEB, 80))).split(b":")[0] for _ in range(20)]
        assert set(names) == {b"a", b"b"}, names
        if mode == "userspace":
            assert names[2:] == names[:-2], names
        # ClientIP affinity: one client, one pod
        sticky = {(await request((STICKY, 80))).split(b":")[0] for _ in range(10)}
        assert len(sticky) == 1, sticky
        # a node port on the node's address
        assert await request((NODE_IP, NODE_PORT)) == b"a:hello"
        # UDP round trip
        loop = asyncio.get_running_loop()
        _, client = await loop.create_datagram_endpoint(UdpClient, remote_addr=(DNS, 53))
        assert await client.ask(b"q") == b"u:q"
        assert client.transport is not None
        client.transport.close()

        # scaled to zero: refused; scaled back to one: that one
        await backend.sync(proxy_state(services, others, node_name="node-a"))
        assert await refused((WEB, 80))
        web_b = _slices("web", "http", [b.port])
        await backend.sync(proxy_state(services, web_b + others, node_name="node-a"))
        assert [await request((WEB, 80)) for _ in range(4)] == [b"b:hello"] * 4

        # the Service removed: nothing answers on its cluster IP any more
        await backend.sync(proxy_state(services[1:], others, node_name="node-a"))
        assert await refused((WEB, 80))
        await backend.cleanup()
        await backend.close()


def main(mode: str) -> None:
    _ip("link", "set", "lo", "up")
    for ip in (POD_IP, NODE_IP, WEB, STICKY, NODEPORT, DNS):
        _ip("addr", "add", f"{ip}/32", "dev", "lo")
    asyncio.run(scenarios(mode))
    print(f"{mode}: ok")


def _run_in_netns(mode: str) -> None:
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    tools = ["unshare", "ip"] + (["iptables", "iptables-restore"] if mode == "iptables" else [])
    require(root and all(shutil.which(t) for t in tools), f"needs root and {', '.join(tools)}")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    require(probe.returncode == 0, "needs network namespaces (unshare -n)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        ["unshare", "-n", sys.executable, __file__, mode],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{mode}: ok" in result.stdout


@pytest.mark.parametrize("mode", ["userspace", "iptables"])
def test_the_same_traffic_reaches_the_pods_through_either_backend(mode: str) -> None:
    _run_in_netns(mode)


if __name__ == "__main__":
    main(sys.argv[1])
