"""What the userspace backend listens on for a :class:`~kframe.proxy.ProxyState`: pure.

Each TCP or UDP service port gets a proxy port on ``bindAddress`` (always; 127.0.0.1 or ::1),
a listener on its cluster IP and on each external and load-balancer IP when that address is
local to the host (tried, skipped when it is not), and one on ``nodeAddress:nodePort`` for a
node port. Cluster-IP and proxy-port traffic is internal (``internalTrafficPolicy``), the rest
external (``externalTrafficPolicy``), with the endpoints
:func:`kframe.proxy.categorize_endpoints` picks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from kframe.proxy import (
    EndpointInfo,
    ProxyState,
    ServicePortName,
    categorize_endpoints,
    join_host_port,
)

from ._config import UserspaceConfig

__all__ = ["PROTOCOLS", "ListenerSpec", "Plan", "PoolKey", "PoolSpec", "plan"]

#: What the userspace backend proxies (as upstream's: no SCTP).
PROTOCOLS = ("TCP", "UDP")

ListenerKind = Literal["proxy", "cluster", "external", "node"]
Traffic = Literal["internal", "external"]
#: A balancer pool: a service port and the traffic it serves.
PoolKey = tuple[ServicePortName, Traffic]


@attrs.frozen(order=True)
class ListenerSpec:
    """One socket to listen on. ``port`` 0: a port the kernel allocates (the proxy port)."""

    name: ServicePortName
    kind: ListenerKind
    protocol: str
    ip: str
    port: int
    traffic: Traffic

    @property
    def pool(self) -> PoolKey:
        return (self.name, self.traffic)

    @property
    def optional(self) -> bool:
        """Bound only when ``ip`` is an address of this host (a cluster, external or
        load-balancer IP usually is not)."""
        return self.kind in ("cluster", "external")

    def __str__(self) -> str:
        return f"{join_host_port(self.ip, self.port)}/{self.protocol}"


@attrs.frozen
class PoolSpec:
    """The endpoints (``ip:port``, sorted) one pool balances over, and its affinity."""

    endpoints: tuple[str, ...]
    affinity_seconds: int = 0


@attrs.frozen
class Plan:
    listeners: tuple[ListenerSpec, ...]
    pools: Mapping[PoolKey, PoolSpec]
    #: Service ports of a protocol the backend does not proxy (SCTP).
    skipped: tuple[ServicePortName, ...] = ()


def _endpoints(eps: tuple[EndpointInfo, ...]) -> tuple[str, ...]:
    return tuple(str(ep) for ep in eps)


def plan(state: ProxyState, config: UserspaceConfig) -> Plan:
    """The listeners and balancer pools for ``state`` (sorted, deterministic)."""
    v6 = state.ip_family == "IPv6"
    bind_ip = config.bind_address or ("::1" if v6 else "127.0.0.1")
    node_ip = config.node_address or ("::" if v6 else "0.0.0.0")
    local_nodes = set(config.local_nodes)
    listeners: list[ListenerSpec] = []
    pools: dict[PoolKey, PoolSpec] = {}
    skipped: list[ServicePortName] = []
    for name in sorted(state.services):
        svc = state.services[name]
        if svc.protocol not in PROTOCOLS:
            skipped.append(name)
            continue
        eps = state.endpoints_of(name)
        if local_nodes:
            eps = tuple(
                attrs.evolve(ep, is_local=True) if ep.node_name in local_nodes else ep for ep in eps
            )
        cat = categorize_endpoints(eps, svc)
        affinity = svc.sticky_max_age_seconds if svc.session_affinity == "ClientIP" else 0
        internal = cat.local if svc.internal_policy_local else cat.cluster
        pools[(name, "internal")] = PoolSpec(_endpoints(internal), affinity)
        proto = svc.protocol
        listeners.append(ListenerSpec(name, "proxy", proto, bind_ip, 0, "internal"))
        if svc.cluster_ip:
            listeners.append(
                ListenerSpec(name, "cluster", proto, svc.cluster_ip, svc.port, "internal")
            )
        if svc.externally_accessible:
            external = cat.local if svc.external_policy_local else cat.cluster
            pools[(name, "external")] = PoolSpec(_endpoints(external), affinity)
            for ip in sorted(set(svc.external_ips) | set(svc.load_balancer_ips)):
                listeners.append(ListenerSpec(name, "external", proto, ip, svc.port, "external"))
            if svc.node_port:
                listeners.append(
                    ListenerSpec(name, "node", proto, node_ip, svc.node_port, "external")
                )
    return Plan(tuple(listeners), pools, tuple(skipped))
