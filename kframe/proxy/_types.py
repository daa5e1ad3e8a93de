"""The desired state a proxy backend programs: service ports and their endpoints.

As upstream's ``pkg/proxy`` (``ServicePortName``, ``BaseServicePortInfo``, ``BaseEndpointInfo``
and ``CategorizeEndpoints``): the change trackers turn Services and EndpointSlices into these
models, and every backend receives them in a :class:`ProxyState` on each sync. Pure data, no
I/O; a backend needs nothing else from the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

__all__ = [
    "DEFAULT_STICKY_MAX_AGE_SECONDS",
    "Categorized",
    "EndpointInfo",
    "IPFamily",
    "ProxyState",
    "ServicePortInfo",
    "ServicePortName",
    "categorize_endpoints",
    "ip_family_of",
    "join_host_port",
]

IPFamily = Literal["IPv4", "IPv6"]

#: ``sessionAffinityConfig.clientIP.timeoutSeconds`` when unset (upstream's
#: ``DefaultClientIPServiceAffinitySeconds``, 3 hours).
DEFAULT_STICKY_MAX_AGE_SECONDS = 10800


def ip_family_of(ip: str) -> IPFamily:
    """``IPv6`` for an address with a colon, else ``IPv4`` (addresses are validated upstream)."""
    return "IPv6" if ":" in ip else "IPv4"


def join_host_port(ip: str, port: int) -> str:
    """Go's ``net.JoinHostPort``: ``10.0.0.1:80``, ``[fd00::1]:80``."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


@attrs.frozen(order=True)
class ServicePortName:
    """One port of one Service: the key of every map a backend reads.

    ``str()`` is upstream's ``ServicePortName.String()``: ``namespace/name:port`` (``:port``
    omitted for an unnamed port), the text hashed into chain names and written into comments.
    """

    namespace: str
    name: str
    port: str = ""
    protocol: str = "TCP"

    def __str__(self) -> str:
        suffix = f":{self.port}" if self.port else ""
        return f"{self.namespace}/{self.name}{suffix}"

    @property
    def service(self) -> str:
        """``namespace/name`` of the Service."""
        return f"{self.namespace}/{self.name}"


@attrs.frozen(kw_only=True)
class ServicePortInfo:
    """What the proxy needs of one service port, for the proxy's IP family."""

    name: ServicePortName
    cluster_ip: str
    port: int
    protocol: str = "TCP"
    node_port: int = 0
    #: ``ClientIP`` or ``None``, as ``spec.sessionAffinity``.
    session_affinity: str = "None"
    sticky_max_age_seconds: int = DEFAULT_STICKY_MAX_AGE_SECONDS
    external_ips: tuple[str, ...] = ()
    #: ``status.loadBalancer.ingress[].ip`` (not those with ``ipMode: Proxy``).
    load_balancer_ips: tuple[str, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    health_check_node_port: int = 0
    #: ``spec.internalTrafficPolicy: Local``.
    internal_policy_local: bool = False
    #: ``spec.externalTrafficPolicy: Local`` on an externally accessible service.
    external_policy_local: bool = False

    @property
    def externally_accessible(self) -> bool:
        """A node port, an external IP or a load-balancer IP (upstream's ExternallyAccessible)."""
        return bool(self.node_port or self.external_ips or self.load_balancer_ips)

    @property
    def uses_cluster_endpoints(self) -> bool:
        """Whether some traffic to this port goes to endpoints anywhere in the cluster."""
        return not self.internal_policy_local or (
            self.externally_accessible and not self.external_policy_local
        )

    @property
    def uses_local_endpoints(self) -> bool:
        """Whether some traffic to this port goes only to endpoints on this node."""
        return self.internal_policy_local or (
            self.externally_accessible and self.external_policy_local
        )


@attrs.frozen(kw_only=True, order=False)
class EndpointInfo:
    """One endpoint address and port of a service port, with its EndpointSlice conditions.

    ``ready`` and ``serving`` default to true when the slice leaves them unset, ``terminating``
    to false, as upstream reads them. ``is_local``: the endpoint is on this proxy's node.
    """

    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    is_local: bool = False
    node_name: str = ""
    zone: str = ""

    def __str__(self) -> str:
        return join_host_port(self.ip, self.port)


@attrs.frozen
class Categorized:
    """The endpoints each traffic policy uses (upstream's ``CategorizeEndpoints`` result)."""

    cluster: tuple[EndpointInfo, ...]
    local: tuple[EndpointInfo, ...]
    #: Every endpoint some rule may route to: the union of ``cluster`` and ``local`` in use.
    all_reachable: tuple[EndpointInfo, ...]
    #: Whether the service has usable endpoints anywhere in the cluster.
    has_any: bool


def _usable(ep: EndpointInfo) -> bool:
    return ep.ready or (ep.serving and ep.terminating)


def categorize_endpoints(endpoints: Iterable[EndpointInfo], svc: ServicePortInfo) -> Categorized:
    """Split a service port's endpoints by traffic policy, as upstream's ``CategorizeEndpoints``.

    Ready endpoints are used; only when a policy has no ready endpoint at all are serving,
    terminating ones used instead (KEP-1669, "ProxyTerminatingEndpoints"). Topology hints are
    not applied (documented in docs/proxy.md).
    """
    eps = tuple(endpoints)
    cluster: tuple[EndpointInfo, ...] = ()
    local: tuple[EndpointInfo, ...] = ()
    has_any = False
    if svc.uses_cluster_endpoints:
        cluster = tuple(ep for ep in eps if ep.ready)
        if not cluster:
            cluster = tuple(ep for ep in eps if ep.serving and ep.terminating)
        has_any = bool(cluster)
    if not svc.uses_local_endpoints:
        return Categorized(cluster, (), cluster, has_any)
    has_any = has_any or any(_usable(ep) for ep in eps)
    local = tuple(ep for ep in eps if ep.is_local and ep.ready)
    if not local:
        local = tuple(ep for ep in eps if ep.is_local and ep.serving and ep.terminating)
    if not svc.uses_cluster_endpoints:
        return Categorized((), local, local, has_any)
    # Both policies in use: every cluster endpoint, plus local ones the cluster set lacks
    # (a local serving-terminating endpoint when the cluster has ready ones elsewhere).
    seen = {str(ep) for ep in cluster}
    union = cluster + tuple(ep for ep in local if str(ep) not in seen)
    return Categorized(cluster, local, union, has_any)


@attrs.frozen(kw_only=True)
class ProxyState:
    """Everything a backend programs, handed over whole on every sync.

    ``services``: every service port to proxy. ``endpoints``: the endpoints of each service
    port, sorted by ``ip:port`` (a port with none is absent or empty; endpoints of ports no
    Service has are left out). ``changed``: ``namespace/name`` of the Services whose ports or
    endpoints changed since the previous sync, for a backend that syncs incrementally; a backend
    may ignore it and program everything. ``full`` is true on the first sync and on the periodic
    resync, when a backend should not trust its own idea of what is installed.
    """

    services: Mapping[ServicePortName, ServicePortInfo] = attrs.field(factory=dict)
    endpoints: Mapping[ServicePortName, tuple[EndpointInfo, ...]] = attrs.field(factory=dict)
    changed: frozenset[str] = frozenset()
    full: bool = True
    node_name: str = ""
    ip_family: IPFamily = "IPv4"

    def endpoints_of(self, name: ServicePortName) -> tuple[EndpointInfo, ...]:
        return self.endpoints.get(name, ())

    def categorized(self, name: ServicePortName) -> Categorized:
        return categorize_endpoints(self.endpoints_of(name), self.services[name])
