"""Sandbox networking: a network namespace per pod on a bridge, or the host's network.

In bridge mode (root with iproute2) each sandbox gets a namespace ``kframe-<id>`` with a veth
pair: ``eth0`` inside, holding the pod IP, and ``kfv<id>`` on the host, plugged into the
bridge. The bridge holds the CIDR's first address, which is the pods' default route, and the
host reaches every pod IP through it (the way the CNI ``bridge`` plugin wires ``cni0``). The
bridge and its address are left in place when the runtime closes, as CNI leaves ``cni0``;
namespaces and veth pairs go. In host mode every sandbox uses the host's network and reports
the host IP. The runtime calls :class:`BridgeNetwork` or :class:`HostNetwork` through
:class:`Network`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import shutil
import socket
from typing import Protocol

import attrs

from kframe.runtime import CRIError

from ._ipam import NETNS_DIR, IPAllocator, gateway_of

__all__ = [
    "BridgeNetwork",
    "HostNetwork",
    "Network",
    "SandboxNet",
    "bridge_unavailable",
    "detect_host_ip",
]


class NetworkError(CRIError):
    """An ``ip`` command failed while wiring or unwiring a sandbox."""


@attrs.frozen
class SandboxNet:
    """What a sandbox got: its IP, and the namespace its processes enter ("" for the host's)."""

    ip: str
    netns: str = ""

    @property
    def path(self) -> str:
        return os.path.join(NETNS_DIR, self.netns) if self.netns else ""


def bridge_unavailable() -> str:
    """Why sandboxes cannot get namespaces of their own here ("" if they can)."""
    if os.geteuid() != 0:
        return "not running as root"
    if shutil.which("ip") is None:
        return "iproute2's ip command is not installed"
    return ""


def detect_host_ip() -> str:
    """The address the host's default route leaves from (127.0.0.1 without one).

    Connecting a UDP socket sends nothing; it only asks the kernel which source address it
    would use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never a real destination
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


async def run_ip(*args: str, batch: str | None = None) -> None:
    """Run ``ip args`` (with ``batch`` on stdin for ``-batch -``); NetworkError on failure."""
    proc = await asyncio.create_subprocess_exec(
        "ip",
        *args,
        stdin=asyncio.subprocess.PIPE if batch is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate(batch.encode() if batch is not None else None)
    if proc.returncode != 0:
        text = " ".join(err.decode(errors="replace").split())
        raise NetworkError(f"process runtime: ip {' '.join(args)} failed: {text}")


class Network(Protocol):
    """How the runtime wires sandboxes; one object per runtime."""

    @property
    def pod_network(self) -> bool:
        """Whether sandboxes get IPs of their own."""
        ...

    def describe(self) -> str: ...

    async def set_cidr(self, net: ipaddress.IPv4Network) -> None: ...

    async def create(self, sandbox_id: str) -> SandboxNet: ...

    async def destroy(self, sandbox: SandboxNet) -> None:
        """Undo :meth:`create`; idempotent."""
        ...

    def enter(self, sandbox: SandboxNet) -> list[str]:
        """The command prefix that runs a program in the sandbox's network."""
        ...


class HostNetwork:
    """Every sandbox on the host's network, with the host's IP."""

    pod_network = False

    def __init__(self, host_ip: str, reason: str) -> None:
        self.host_ip = host_ip
        self.reason = reason

    def describe(self) -> str:
        return f"sandboxes use the host network ({self.reason}); pod IP = host IP {self.host_ip}"

    async def set_cidr(self, net: ipaddress.IPv4Network) -> None:
        return None

    async def create(self, sandbox_id: str) -> SandboxNet:
        return SandboxNet(self.host_ip)

    async def destroy(self, sandbox: SandboxNet) -> None:
        return None

    def enter(self, sandbox: SandboxNet) -> list[str]:
        return []


class BridgeNetwork:
    """A namespace and a veth pair per sandbox, on ``bridge``, IPs from the pod CIDR."""

    pod_network = True

    def __init__(self, bridge: str, ipam_dir: str, net: ipaddress.IPv4Network) -> None:
        self.bridge = bridge
        self.ipam_dir = ipam_dir
        self.ips = IPAllocator(ipam_dir, net)
        self._old: list[IPAllocator] = []  # earlier CIDRs' allocators, for give_back
        self._nsenter = shutil.which("nsenter")

    def describe(self) -> str:
        gw = gateway_of(self.ips.net)
        return f"bridge {self.bridge} ({gw}/{self.ips.net.prefixlen}), pod CIDR {self.ips.net}"

    async def set_cidr(self, net: ipaddress.IPv4Network) -> None:
        if net != self.ips.net:
            self._old.append(self.ips)
            self.ips = IPAllocator(self.ipam_dir, net)

    async def _ensure_bridge(self) -> None:
        if not os.path.exists(f"/sys/class/net/{self.bridge}"):
            with contextlib.suppress(NetworkError):  # another runtime may win the race
                await run_ip("link", "add", self.bridge, "type", "bridge")

    async def create(self, sandbox_id: str) -> SandboxNet:
        netns = f"kframe-{sandbox_id[:24]}"
        veth = f"kfv{sandbox_id[:12]}"
        net = self.ips.net
        gw = gateway_of(net)
        await self._ensure_bridge()
        await run_ip("netns", "add", netns)
        made = SandboxNet("", netns)
        try:
            ip = self.ips.take(netns)
            made = SandboxNet(ip, netns)
            await run_ip(
                "-batch",
                "-",
                batch=(
                    f"addr replace {gw}/{net.prefixlen} dev {self.bridge}\n"
                    f"link set dev {self.bridge} up\n"
                    f"link add {veth} type veth peer name eth0 netns {netns}\n"
                    f"link set dev {veth} master {self.bridge} up\n"
                ),
            )
            await run_ip(
                "-n",
                netns,
                "-batch",
                "-",
                batch=(
                    "link set dev lo up\n"
                    f"addr add {ip}/{net.prefixlen} dev eth0\n"
                    "link set dev eth0 up\n"
                    f"route add default via {gw}\n"
                ),
            )
        except BaseException:
            await self.destroy(made)
            raise
        return made

    async def destroy(self, sandbox: SandboxNet) -> None:
        if not sandbox.netns:
            return
        if os.path.exists(sandbox.path):
            # Deleting the namespace destroys its end of the veth pair, and with it ours.
            with contextlib.suppress(NetworkError):
                await run_ip("netns", "delete", sandbox.netns)
        if sandbox.ip:
            ip = ipaddress.ip_address(sandbox.ip)
            for alloc in [self.ips, *self._old]:
                if ip in alloc.net:
                    alloc.give_back(sandbox.ip, sandbox.netns)
                    break

    def enter(self, sandbox: SandboxNet) -> list[str]:
        if not sandbox.netns:
            return []
        if self._nsenter is not None:
            return [self._nsenter, f"--net={sandbox.path}", "--"]
        return ["ip", "netns", "exec", sandbox.netns]
