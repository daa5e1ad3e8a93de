"""Change trackers: Services and EndpointSlices in, service ports and endpoints out.

The counterparts of upstream's ``ServiceChangeTracker`` and ``EndpointsChangeTracker``
(``pkg/proxy/servicechangetracker.go``, ``endpointschangetracker.go``, ``endpointslicecache.go``).
Informer handlers call :meth:`ServiceChangeTracker.update` and
:meth:`EndpointsChangeTracker.endpoint_slice_update`; each returns whether anything is pending,
so the caller asks for a sync only when the proxied state really moved. :class:`kframe.proxy.Proxy`
drives them; a test can drive them directly.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.api.models import EndpointSlice, Service
from kframe.proxy._types import (
    DEFAULT_STICKY_MAX_AGE_SECONDS,
    EndpointInfo,
    IPFamily,
    ServicePortInfo,
    ServicePortName,
    ip_family_of,
)

__all__ = [
    "SERVICE_NAME_LABEL",
    "EndpointsChangeTracker",
    "ServiceChangeTracker",
    "endpoints_from_slices",
    "service_port_infos",
]

#: The label that ties an EndpointSlice to its Service (``discovery.LabelServiceName``).
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

PortMap = dict[ServicePortName, ServicePortInfo]
EndpointsMap = dict[ServicePortName, tuple[EndpointInfo, ...]]


def _key(namespace: str | None, name: str | None) -> str:
    return f"{namespace or ''}/{name or ''}"


def _cluster_ip(service: Service, family: IPFamily) -> str:
    """The Service's cluster IP of ``family`` (upstream's ``GetClusterIPByFamily``)."""
    spec = service.spec
    assert spec is not None
    for ip in spec.cluster_ips:
        if ip and ip != "None" and ip_family_of(ip) == family:
            return ip
    ip = spec.cluster_ip or ""
    if ip and ip != "None" and not spec.cluster_ips and ip_family_of(ip) == family:
        return ip
    return ""


def service_port_infos(service: Service, ip_family: IPFamily = "IPv4") -> PortMap:
    """The proxied ports of ``service`` for ``ip_family``; empty for a Service the proxy skips.

    Skipped, as upstream's ``ShouldSkipService``: headless Services (``clusterIP: None``), those
    without a cluster IP (of this family), and ``ExternalName`` Services.
    """
    spec = service.spec
    meta = service.metadata
    if spec is None or meta is None or spec.type == "ExternalName":
        return {}
    cluster_ip = _cluster_ip(service, ip_family)
    if not cluster_ip:
        return {}
    sticky = DEFAULT_STICKY_MAX_AGE_SECONDS
    affinity = spec.session_affinity or "None"
    if affinity == "ClientIP":
        config = spec.session_affinity_config
        timeout = config.client_ip.timeout_seconds if config and config.client_ip else None
        if timeout:
            sticky = timeout
    external = spec.type in ("NodePort", "LoadBalancer") or bool(spec.external_ips)
    lb_ips: list[str] = []
    status = service.status
    if status is not None and status.load_balancer is not None:
        for ingress in status.load_balancer.ingress:
            # ipMode Proxy: the load balancer delivers to the node; kube-proxy leaves it be.
            if ingress.ip and ingress.ip_mode != "Proxy" and ip_family_of(ingress.ip) == ip_family:
                lb_ips.append(ingress.ip)
    result: PortMap = {}
    for port in spec.ports:
        if port.port is None:
            continue
        protocol = port.protocol or "TCP"
        name = ServicePortName(meta.namespace or "", meta.name or "", port.name or "", protocol)
        result[name] = ServicePortInfo(
            name=name,
            cluster_ip=cluster_ip,
            port=port.port,
            protocol=protocol,
            node_port=port.node_port or 0,
            session_affinity=affinity,
            sticky_max_age_seconds=sticky,
            external_ips=tuple(ip for ip in spec.external_ips if ip_family_of(ip) == ip_family),
            load_balancer_ips=tuple(lb_ips),
            load_balancer_source_ranges=tuple(
                cidr for cidr in spec.load_balancer_source_ranges if ip_family_of(cidr) == ip_family
            ),
            health_check_node_port=spec.health_check_node_port or 0,
            internal_policy_local=spec.internal_traffic_policy == "Local",
            external_policy_local=external and spec.external_traffic_policy == "Local",
        )
    return result


class ServiceChangeTracker:
    """The current service ports, by Service, and which Services changed since the last sync."""

    def __init__(self, ip_family: IPFamily = "IPv4") -> None:
        self.ip_family: IPFamily = ip_family
        self._current: dict[str, PortMap] = {}
        # Service key -> its ports as of the last checkpoint, for Services changed since.
        self._before: dict[str, PortMap] = {}

    def update(self, old: Service | None, new: Service | None) -> bool:
        """Record an add (``old`` None), update, or delete (``new`` None); True if any Service
        has changes pending. An update that leaves the proxied ports as they were is no change.
        """
        obj = new if new is not None else old
        if obj is None or obj.metadata is None:
            return bool(self._before)
        key = _key(obj.metadata.namespace, obj.metadata.name)
        ports = service_port_infos(new, self.ip_family) if new is not None else {}
        previous = self._current.get(key, {})
        self._before.setdefault(key, previous)
        if ports:
            self._current[key] = ports
        else:
            self._current.pop(key, None)
        if self._before[key] == ports:
            del self._before[key]  # back where the last sync left it
        return bool(self._before)

    @property
    def pending(self) -> frozenset[str]:
        """``namespace/name`` of every Service changed since the last :meth:`checkpoint`."""
        return frozenset(self._before)

    def checkpoint(self) -> frozenset[str]:
        """Mark the current state synced; returns the Services that had changed."""
        changed = frozenset(self._before)
        self._before.clear()
        return changed

    def service_ports(self) -> PortMap:
        """Every proxied service port (upstream's ``ServicePortMap``)."""
        result: PortMap = {}
        for ports in self._current.values():
            result.update(ports)
        return result

    def __len__(self) -> int:
        return len(self._current)


def endpoints_from_slices(
    slices: Mapping[str, EndpointSlice] | list[EndpointSlice],
    node_name: str = "",
    ip_family: IPFamily = "IPv4",
) -> EndpointsMap:
    """Merge one Service's EndpointSlices into endpoints per service port.

    As upstream's ``EndpointSliceCache``: slices of another address type are ignored; an
    endpoint without addresses is skipped and only its first address is used; the same
    ``ip:port`` in two slices is one endpoint (the local one, if they disagree); endpoints are
    sorted by ``ip:port``. A slice port without a number is skipped; a missing name or protocol
    reads as the API server's defaults (``""``, ``TCP``).
    """
    items = list(slices.values()) if isinstance(slices, Mapping) else list(slices)
    by_port: dict[ServicePortName, dict[str, EndpointInfo]] = {}
    for eps in sorted(items, key=lambda s: (s.metadata.name or "") if s.metadata else ""):
        if eps.address_type != ip_family or eps.metadata is None:
            continue
        service = (eps.metadata.labels or {}).get(SERVICE_NAME_LABEL, "")
        if not service:
            continue
        for port in eps.ports:
            if port.port is None:
                continue
            name = ServicePortName(
                eps.metadata.namespace or "", service, port.name or "", port.protocol or "TCP"
            )
            table = by_port.setdefault(name, {})
            for endpoint in eps.endpoints:
                if not endpoint.addresses:
                    continue
                cond = endpoint.conditions
                is_local = bool(node_name) and endpoint.node_name == node_name
                info = EndpointInfo(
                    ip=endpoint.addresses[0],
                    port=port.port,
                    ready=cond is None or cond.ready is None or cond.ready,
                    serving=cond is None or cond.serving is None or cond.serving,
                    terminating=bool(cond is not None and cond.terminating),
                    is_local=is_local,
                    node_name=endpoint.node_name or "",
                    zone=endpoint.zone or "",
                )
                text = str(info)
                if text not in table or is_local:
                    table[text] = info
    return {
        name: tuple(table[k] for k in sorted(table)) for name, table in by_port.items() if table
    }


class EndpointsChangeTracker:
    """The current EndpointSlices, by Service, merged into endpoints per service port."""

    def __init__(self, node_name: str = "", ip_family: IPFamily = "IPv4") -> None:
        self.node_name = node_name
        self.ip_family: IPFamily = ip_family
        self._slices: dict[str, dict[str, EndpointSlice]] = {}
        # namespace/slice name -> the Service key it is counted under.
        self._owner: dict[str, str] = {}
        self._current: dict[str, EndpointsMap] = {}
        self._before: dict[str, EndpointsMap] = {}

    def endpoint_slice_update(self, eps: EndpointSlice, removed: bool = False) -> bool:
        """Record a slice added or updated, or ``removed``; True if any Service has endpoint
        changes pending. Slices without the ``kubernetes.io/service-name`` label, or of another
        address type, are ignored (False unless something else is pending); a slice relabelled
        to another Service leaves the one it was counted for."""
        meta = eps.metadata
        if meta is None:
            return bool(self._before)
        slice_key = _key(meta.namespace, meta.name)
        service = (meta.labels or {}).get(SERVICE_NAME_LABEL, "")
        wanted = bool(service) and eps.address_type == self.ip_family and not removed
        key = _key(meta.namespace, service) if service else ""
        owner = self._owner.get(slice_key)
        if owner is not None and (owner != key or not wanted):
            self._set(owner, meta.name or "", None)
            del self._owner[slice_key]
        if wanted:
            self._set(key, meta.name or "", eps)
            self._owner[slice_key] = key
        return bool(self._before)

    def _set(self, key: str, name: str, eps: EndpointSlice | None) -> None:
        """Put (or, with None, drop) one slice of Service ``key`` and re-merge its endpoints."""
        slices = self._slices.setdefault(key, {})
        if eps is None:
            slices.pop(name, None)
        else:
            slices[name] = eps
        if not slices:
            del self._slices[key]
        merged = endpoints_from_slices(slices, self.node_name, self.ip_family) if slices else {}
        self._before.setdefault(key, self._current.get(key, {}))
        if merged:
            self._current[key] = merged
        else:
            self._current.pop(key, None)
        if self._before[key] == merged:
            del self._before[key]

    @property
    def pending(self) -> frozenset[str]:
        return frozenset(self._before)

    def checkpoint(self) -> frozenset[str]:
        changed = frozenset(self._before)
        self._before.clear()
        return changed

    def endpoints_map(self) -> EndpointsMap:
        """Endpoints of every service port that has some (upstream's ``EndpointsMap``)."""
        result: EndpointsMap = {}
        for ports in self._current.values():
            result.update(ports)
        return result

    def slices(self, service: str) -> list[EndpointSlice]:
        """The slices held for ``namespace/name``."""
        return list(self._slices.get(service, {}).values())
