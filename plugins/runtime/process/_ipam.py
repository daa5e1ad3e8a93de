"""Host-wide pod IP allocation: one file per address taken, as CNI's host-local IPAM keeps them.

Every process runtime on the host (one per node ``kframe up`` hosts, one per test) allocates
from ``<ipam_dir>/<cidr>/``: an address is taken by creating the file named after it
(``O_EXCL``), holding the name of the network namespace it was given to. An entry whose
namespace no longer exists (a runtime that crashed) is free again. The directory lock
(``flock``) makes a take and a reclaim one step. The gateway (the CIDR's first address), the
network and the broadcast address are never handed out.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
from collections.abc import Iterator

from kframe.runtime import FailedPreconditionError

__all__ = ["IPAllocator", "gateway_of"]

NETNS_DIR = "/run/netns"


def gateway_of(net: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    """The bridge's address and the pods' default route: the CIDR's first host address."""
    return net.network_address + 1


class IPAllocator:
    """Addresses of one pod CIDR, shared through the files under ``ipam_dir``."""

    def __init__(
        self, ipam_dir: str, net: ipaddress.IPv4Network, *, netns_dir: str = NETNS_DIR
    ) -> None:
        self.net = net
        self.netns_dir = netns_dir
        self.dir = os.path.join(ipam_dir, str(net).replace("/", "_"))
        self._next = 2

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        os.makedirs(self.dir, exist_ok=True)
        fd = os.open(os.path.join(self.dir, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _stale(self, path: str) -> bool:
        try:
            with open(path, encoding="utf-8") as f:
                owner = f.read().strip()
        except FileNotFoundError:
            return True
        return not owner or not os.path.exists(os.path.join(self.netns_dir, owner))

    def take(self, owner: str) -> str:
        """An address for network namespace ``owner`` (which must already exist)."""
        size = self.net.num_addresses
        with self._locked():
            for _ in range(size):
                offset = self._next
                self._next = offset + 1 if offset + 1 < size - 1 else 2
                if not 2 <= offset < size - 1:
                    continue
                ip = str(self.net.network_address + offset)
                path = os.path.join(self.dir, ip)
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    if not self._stale(path):
                        continue
                    fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o644)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(owner + "\n")
                return ip
        raise FailedPreconditionError(f"process runtime: pod CIDR {self.net} has no free address")

    def give_back(self, ip: str, owner: str) -> None:
        """Free ``ip`` if ``owner`` still holds it; idempotent."""
        path = os.path.join(self.dir, ip)
        with self._locked():
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read().strip() != owner:
                        return
                os.unlink(path)
            except FileNotFoundError:
                return

    def in_use(self) -> bool:
        """Whether any live namespace holds an address of this CIDR."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return False
        return any(
            not n.startswith(".") and not self._stale(os.path.join(self.dir, n)) for n in names
        )
