"""The subsets of a service's v1 Endpoints (upstream endpoints_controller.go syncService,
addEndpointSubset, and pkg/api/v1/endpoints RepackSubsets).

Pure: :func:`service_subsets` takes the service and its pods and returns canonical subsets,
each unique port set once with its ready and not-ready addresses sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kframe.api.models import (
    EndpointAddress,
    EndpointSubset,
    ObjectReference,
    Pod,
    Service,
    core_v1,
)
from kframe.controller import (
    find_port,
    ip_family,
    is_headless,
    is_pod_ready,
    pod_ips,
    should_pod_be_in_endpoints,
    should_set_hostname,
)

__all__ = ["MAX_CAPACITY", "repack", "service_subsets", "truncate"]

#: upstream maxCapacity: addresses an Endpoints object holds at most.
MAX_CAPACITY = 1000

_Port = tuple[str, int, str, str]


def _service_family(service: Service) -> str | None:
    spec = service.spec
    if spec is not None and spec.ip_families:
        return spec.ip_families[0]
    if spec is not None and spec.cluster_ip and spec.cluster_ip != "None":
        return ip_family(spec.cluster_ip)
    return None


def _address(pod: Pod, service: Service) -> EndpointAddress | None:
    """podToEndpointAddressForService: the pod's IP of the service's family (the first IP
    when the service names none)."""
    ips = pod_ips(pod)
    family = _service_family(service)
    chosen = next((ip for ip in ips if family is None or ip_family(ip) == family), None)
    if chosen is None:
        return None
    meta = pod.metadata
    assert meta is not None
    spec = pod.spec
    return EndpointAddress(
        ip=chosen,
        node_name=(spec.node_name if spec is not None else None) or None,
        target_ref=ObjectReference(
            kind="Pod", namespace=meta.namespace, name=meta.name, uid=meta.uid
        ),
        hostname=spec.hostname if spec is not None and should_set_hostname(pod, service) else None,
    )


def _port_tuple(port: core_v1.EndpointPort) -> _Port:
    return (port.name or "", port.port or 0, port.protocol or "TCP", port.app_protocol or "")


def repack(
    entries: Sequence[tuple[EndpointAddress, core_v1.EndpointPort | None, bool]],
) -> tuple[EndpointSubset, ...]:
    """Canonical subsets (RepackSubsets) from (address, port, ready) entries: ports that
    share the same addresses share a subset; an address ready on a port is ready there even
    if also listed not ready; addresses sorted by IP then pod uid, ports by name and number."""
    by_port: dict[_Port | None, dict[tuple[str, str], tuple[EndpointAddress, bool]]] = {}
    ports: dict[_Port, core_v1.EndpointPort] = {}
    for address, port, ready in entries:
        pkey = _port_tuple(port) if port is not None else None
        if port is not None and pkey is not None:
            ports[pkey] = port
        ref = address.target_ref
        akey = (address.ip or "", (ref.uid or "") if ref is not None else "")
        seen = by_port.setdefault(pkey, {})
        before = seen.get(akey)
        seen[akey] = (address, ready or (before is not None and before[1]))
    groups: dict[tuple[tuple[tuple[str, str], bool], ...], list[_Port | None]] = {}
    members: dict[tuple[tuple[tuple[str, str], bool], ...], dict[tuple[str, str], Any]] = {}
    for pkey, addrs in by_port.items():
        sig = tuple(sorted((k, r) for k, (_, r) in addrs.items()))
        groups.setdefault(sig, []).append(pkey)
        members[sig] = addrs
    subsets = []
    for sig, pkeys in groups.items():
        addrs = members[sig]
        ready_addrs = [addrs[k][0] for k, r in sig if r]
        not_ready_addrs = [addrs[k][0] for k, r in sig if not r]
        subset_ports = tuple(ports[p] for p in sorted(p for p in pkeys if p is not None))
        subsets.append(
            EndpointSubset(
                addresses=tuple(ready_addrs),
                not_ready_addresses=tuple(not_ready_addrs),
                ports=subset_ports,
            )
        )
    subsets.sort(key=lambda s: [_port_tuple(p) for p in s.ports])
    return tuple(subsets)


def service_subsets(service: Service, pods: Sequence[Pod]) -> tuple[EndpointSubset, ...]:
    """The Endpoints subsets of ``service`` for the pods its selector picks."""
    spec = service.spec
    assert spec is not None
    publish = bool(spec.publish_not_ready_addresses)
    entries: list[tuple[EndpointAddress, core_v1.EndpointPort | None, bool]] = []
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, publish):
            continue
        address = _address(pod, service)
        if address is None:
            continue
        ready = publish or is_pod_ready(pod)
        if not spec.ports:
            # upstream: a port-less service publishes addresses only when headless
            if is_headless(service):
                entries.append((address, None, ready))
            continue
        for sp in spec.ports:
            try:
                number = find_port(pod, sp)
            except ValueError:
                continue
            port = core_v1.EndpointPort(
                name=sp.name or None,
                port=number,
                protocol=sp.protocol or "TCP",
                app_protocol=sp.app_protocol,
            )
            entries.append((address, port, ready))
    return repack(entries)


def truncate(subsets: tuple[EndpointSubset, ...]) -> tuple[tuple[EndpointSubset, ...], bool]:
    """At most :data:`MAX_CAPACITY` addresses, ready ones kept first, each subset cut in
    proportion to its size (truncateEndpoints); True when something was cut."""
    total = sum(len(s.addresses) + len(s.not_ready_addresses) for s in subsets)
    if total <= MAX_CAPACITY:
        return subsets, False
    out = []
    left = MAX_CAPACITY
    for i, subset in enumerate(subsets):
        size = len(subset.addresses) + len(subset.not_ready_addresses)
        share = left if i == len(subsets) - 1 else min(left, size * MAX_CAPACITY // total)
        ready = subset.addresses[:share]
        not_ready = subset.not_ready_addresses[: max(0, share - len(ready))]
        left -= len(ready) + len(not_ready)
        out.append(
            EndpointSubset(addresses=ready, not_ready_addresses=not_ready, ports=subset.ports)
        )
    return tuple(out), True
