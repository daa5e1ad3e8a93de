"""Service cluster IP and node port allocators: upstream's ``pkg/registry/core/service/ipallocator``
and ``portallocator``, held in memory and rebuilt from the stored Services.

Upstream keeps the allocations in the store (a bitmap, or since 1.33 one IPAddress object per
IP) and repairs them with a controller. Here the stored Services are the only record: the
:class:`ServiceAllocator` reads them all on first use (so a restarted API server starts from what
is stored, and never hands out a value a stored Service holds) and then follows the writes of
its own API server. One API server per store allocates; two over one store could collide.

Every value records its owner (``namespace/name``), and a release frees a value only for its
owner, so a stored conflict (two Services written with the same IP before allocation existed)
cannot free a value another Service still holds. :class:`Transaction` groups one write's
allocations: a failed write reverts them, and releases an update asks for happen only once the
write succeeded ("better to leak than to double-allocate", as upstream's port operation says).
The service REST storage (``_service_registry``) drives all this.
"""

from __future__ import annotations

import ipaddress
import json
import random
import threading
from collections.abc import Iterable
from typing import Any

from kframe.store import Store

__all__ = [
    "DEFAULT_NODE_PORT_RANGE",
    "DEFAULT_SERVICE_CIDR",
    "AllocationError",
    "IPRange",
    "PortRange",
    "ServiceAllocator",
    "Transaction",
    "parse_port_range",
]

#: kube-apiserver's ``--service-cluster-ip-range`` and ``--service-node-port-range`` defaults.
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
DEFAULT_NODE_PORT_RANGE = "30000-32767"

# Upstream's error texts (ipallocator and portallocator ErrAllocated, ErrFull, ErrNotInRange).
IP_ALLOCATED = "provided IP is already allocated"
PORT_ALLOCATED = "provided port is already allocated"
FULL = "range is full"
# kube-apiserver refuses a service CIDR of more than 2^20 addresses (a /12 for IPv4).
_MAX_CIDR_BITS = 20


class AllocationError(Exception):
    """A value could not be had: ``message`` is upstream's error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _band(size: int, low: int, high: int, step: int) -> int:
    """``calculateRangeOffset``: ``min(max(low, size/step), high)``, 0 for ranges of ``low`` or
    fewer values. Dynamic allocation prefers the values above the band (KEP-3070, KEP-3668), so
    the band stays free longest for values users ask for."""
    if size <= low:
        return 0
    return min(max(low, size // step), high)


class _Values:
    """Offsets ``0 .. size-1`` with owners; ``next`` takes a random free one above ``offset``
    first, then one below it, as upstream's random scan with offset."""

    def __init__(self, size: int, offset: int, rng: random.Random) -> None:
        self.size = size
        self.offset = offset
        self.owners: dict[int, str] = {}
        self._rng = rng

    def next(self, taken: set[int]) -> int | None:
        for first, count in ((self.offset, self.size - self.offset), (0, self.offset)):
            if count <= 0:
                continue
            start = self._rng.randrange(count)
            for i in range(count):
                at = first + (start + i) % count
                if at not in self.owners and at not in taken:
                    return at
        return None


class IPRange:
    """The service CIDR: every address but the network's (and, for IPv4, the broadcast)."""

    def __init__(self, cidr: str, rng: random.Random | None = None) -> None:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
        self.network = network
        self.cidr = str(network)
        self.family = "IPv4" if network.version == 4 else "IPv6"
        self.base = int(network.network_address) + 1
        usable = network.num_addresses - (2 if network.version == 4 else 1)
        offset = _band(network.num_addresses, 16, 256, 16)
        self.values = _Values(max(usable, 0), offset, rng or random.Random())

    def offset_of(self, ip: str) -> int | None:
        """The offset of ``ip`` in the range, or None when it is outside (or not an IP)."""
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if addr.version != self.network.version:
            return None
        at = int(addr) - self.base
        return at if 0 <= at < self.values.size else None

    def ip_at(self, offset: int) -> str:
        return str(ipaddress.ip_address(self.base + offset))

    def not_in_range(self, ip: str) -> str:
        return (
            f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is "
            f"{self.cidr}"
        )


class PortRange:
    """``--service-node-port-range``: ``base`` and the ``size`` ports from it."""

    def __init__(self, base: int, size: int, rng: random.Random | None = None) -> None:
        self.base = base
        self.size = size
        self.values = _Values(size, _band(size, 16, 128, 32), rng or random.Random())

    def __str__(self) -> str:  # upstream's PortRange.String: "30000-32767"
        return f"{self.base}-{self.base + self.size - 1}" if self.size else ""

    def offset_of(self, port: int) -> int | None:
        at = port - self.base
        return at if 0 <= at < self.size else None

    def not_in_range(self) -> str:
        return f"provided port is not in the valid range. The range of valid ports is {self}"


def parse_port_range(text: str, rng: random.Random | None = None) -> PortRange:
    """``utilnet.ParsePortRange``: ``30000-32767``, ``30000+2767`` or one port; ValueError."""
    text = text.strip()
    try:
        if "-" in text:
            low, high = (int(p) for p in text.split("-", 1))
        elif "+" in text:
            low, extra = (int(p) for p in text.split("+", 1))
            high = low + extra
        else:
            low = high = int(text)
    except ValueError:
        raise ValueError(f"unable to parse port range: {text}") from None
    if not (0 <= low <= 65535 and 0 <= high <= 65535) or high < low:
        raise ValueError(f"range {text} is out of bounds or inverted")
    return PortRange(low, high - low + 1, rng)


class ServiceAllocator:
    """Cluster IPs from one CIDR and node ports from one range, for every Service."""

    def __init__(
        self,
        cluster_ip_range: str = DEFAULT_SERVICE_CIDR,
        node_port_range: str = DEFAULT_NODE_PORT_RANGE,
        *,
        seed: int | None = None,
    ) -> None:
        rng = random.Random(seed)
        self.ips = IPRange(cluster_ip_range, rng)
        network = self.ips.network
        if network.max_prefixlen - network.prefixlen > _MAX_CIDR_BITS:  # validateMaxCIDRRange
            raise ValueError(
                f"specified --service-cluster-ip-range is too large; for {network.max_prefixlen}"
                f"-bit addresses, the mask must be >= {network.max_prefixlen - _MAX_CIDR_BITS}"
            )
        self.ports = parse_port_range(node_port_range, rng)
        self.family = self.ips.family
        self._lock = threading.Lock()
        self._loaded = False
        self._loading: Any = None  # an asyncio.Lock, made in the running loop

    # -- rebuilding from the store ----------------------------------------------------------------

    async def load(self, store: Store, prefix: str = "/registry/services/") -> None:
        """Take every stored Service's IPs and ports (once; later calls return at once)."""
        if self._loaded:
            return
        import asyncio

        if self._loading is None:
            self._loading = asyncio.Lock()
        async with self._loading:
            if self.loaded:  # another request loaded while this one waited
                return
            page = await store.list(prefix)
            with self._lock:
                for kv in page.items:
                    self.take_stored(json.loads(kv.value))
                self._loaded = True

    def take_stored(self, svc: dict[str, Any]) -> None:
        """Record a stored Service's values (a value already held stays its first owner's)."""
        owner = owner_of(svc)
        ips, ports = held(svc)
        for ip in ips:
            at = self.ips.offset_of(ip)
            if at is not None:
                self.ips.values.owners.setdefault(at, owner)
        for port in ports:
            at = self.ports.offset_of(port)
            if at is not None:
                self.ports.values.owners.setdefault(at, owner)

    def release_stored(self, svc: dict[str, Any]) -> None:
        """A Service is gone from the store: free what it held (``releaseAllocatedResources``)."""
        owner = owner_of(svc)
        ips, ports = held(svc)
        with self._lock:
            for ip in ips:
                self._free(self.ips.values, self.ips.offset_of(ip), owner)
            for port in ports:
                self._free(self.ports.values, self.ports.offset_of(port), owner)

    @staticmethod
    def _free(values: _Values, at: int | None, owner: str) -> None:
        if at is not None and values.owners.get(at) == owner:
            del values.owners[at]

    # -- inspection -------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._loaded

    def allocated_ips(self) -> dict[str, str]:
        """IP -> owner, for tests and debugging."""
        with self._lock:
            return {self.ips.ip_at(at): o for at, o in self.ips.values.owners.items()}

    def allocated_ports(self) -> dict[int, str]:
        with self._lock:
            return {self.ports.base + at: o for at, o in self.ports.values.owners.items()}

    def begin(self, owner: str, *, dry_run: bool = False) -> Transaction:
        return Transaction(self, owner, dry_run)


def owner_of(svc: dict[str, Any]) -> str:
    meta = svc.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


def held(svc: dict[str, Any]) -> tuple[list[str], list[int]]:
    """The cluster IPs and node ports a stored Service holds: its IPs unless it is headless or
    ExternalName, every port's nodePort, and the health check port when it needs one."""
    spec = svc.get("spec") or {}
    ips: list[str] = []
    if spec.get("type") != "ExternalName":
        listed = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
        ips = [ip for ip in listed if isinstance(ip, str) and ip and ip != "None"]
    ports = [
        p["nodePort"]
        for p in spec.get("ports") or ()
        if isinstance(p, dict) and isinstance(p.get("nodePort"), int) and p["nodePort"]
    ]
    health = spec.get("healthCheckNodePort")
    if needs_health_check(spec) and isinstance(health, int) and health > 0:
        ports.append(health)
    return ips, ports


def needs_health_check(spec: dict[str, Any]) -> bool:
    """``NeedsHealthCheck``: a LoadBalancer with ``externalTrafficPolicy: Local``."""
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


class Transaction:
    """One write's allocations: taken at once, reverted unless :meth:`commit` is called; the
    releases it defers happen on commit. A dry run checks against the live state and picks
    free values, but holds nothing: its picks are only remembered so that one request does not
    get the same value twice.
    """

    def __init__(self, allocator: ServiceAllocator, owner: str, dry_run: bool) -> None:
        self.allocator = allocator
        self.owner = owner
        self.dry_run = dry_run
        self._ips: list[int] = []
        self._ports: list[int] = []
        self._release_ips: list[str] = []
        self._release_ports: list[int] = []
        self.done = False

    def _take(self, values: _Values, at: int, mine: list[int], message: str) -> None:
        with self.allocator._lock:
            if at in values.owners or at in mine:
                raise AllocationError(message)
            if not self.dry_run:
                values.owners[at] = self.owner
            mine.append(at)

    def _next(self, values: _Values, mine: list[int]) -> int:
        with self.allocator._lock:
            at = values.next(set(mine))
            if at is None:
                raise AllocationError(FULL)
            if not self.dry_run:
                values.owners[at] = self.owner
            mine.append(at)
            return at

    def allocate_ip(self, ip: str) -> str:
        """``ip`` (or, for ``""``, a free one) for this write; AllocationError otherwise."""
        ips = self.allocator.ips
        if not ip:
            return ips.ip_at(self._next(ips.values, self._ips))
        at = ips.offset_of(ip)
        if at is None:
            raise AllocationError(ips.not_in_range(ip))
        self._take(ips.values, at, self._ips, IP_ALLOCATED)
        return ip

    def allocate_port(self, port: int = 0) -> int:
        ports = self.allocator.ports
        if not port:
            return ports.base + self._next(ports.values, self._ports)
        at = ports.offset_of(port)
        if at is None:
            raise AllocationError(ports.not_in_range())
        self._take(ports.values, at, self._ports, PORT_ALLOCATED)
        return port

    def release_ips_later(self, ips: Iterable[str]) -> None:
        self._release_ips.extend(ip for ip in ips if ip and ip != "None")

    def release_ports_later(self, ports: Iterable[int]) -> None:
        self._release_ports.extend(p for p in ports if p)

    def commit(self) -> None:
        """The write succeeded: the deferred releases happen (a dry run keeps nothing)."""
        if self.done:
            return
        self.done = True
        if self.dry_run:
            return
        allocator = self.allocator
        with allocator._lock:
            for ip in self._release_ips:
                allocator._free(allocator.ips.values, allocator.ips.offset_of(ip), self.owner)
            for port in self._release_ports:
                at = allocator.ports.offset_of(port)
                allocator._free(allocator.ports.values, at, self.owner)

    def revert(self) -> None:
        """The write failed: what this transaction took is free again."""
        if self.done:
            return
        self.done = True
        if self.dry_run:
            return
        allocator = self.allocator
        with allocator._lock:
            for at in self._ips:
                allocator._free(allocator.ips.values, at, self.owner)
            for at in self._ports:
                allocator._free(allocator.ports.values, at, self.owner)
