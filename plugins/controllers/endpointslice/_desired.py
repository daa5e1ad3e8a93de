"""The endpoints a service should have, grouped by their resolved ports (upstream
staging/src/k8s.io/endpointslice reconciler.go reconcileByAddressType, utils.go podToEndpoint
and getEndpointPorts).

Pure functions over API objects: the controller hands in the service, its pods and the nodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from kframe.api.models import Endpoint, EndpointConditions, Node, ObjectReference, Pod, Service
from kframe.api.models import discovery_v1 as discovery
from kframe.controller import (
    find_port,
    ip_family,
    is_headless,
    is_pod_ready,
    is_service_ip_set,
    pod_ips,
    should_pod_be_in_endpoints,
    should_set_hostname,
)

__all__ = [
    "LABEL_ZONE",
    "EndpointKey",
    "PortKey",
    "Desired",
    "address_types",
    "desired_endpoints",
    "endpoint_key",
    "port_key",
]

LABEL_ZONE = "topology.kubernetes.io/zone"

#: What identifies an endpoint across syncs (upstream hashEndpoint: addresses, hostname and
#: the pod it points to); the rest of it (conditions, node, zone) may change in place.
EndpointKey = tuple[tuple[str, ...], str, str, str]
#: One unique set of ports (upstream NewPortMapKey).
PortKey = tuple[tuple[str, int, str, str], ...]


def endpoint_key(endpoint: Endpoint) -> EndpointKey:
    ref = endpoint.target_ref
    return (
        tuple(sorted(endpoint.addresses)),
        endpoint.hostname or "",
        (ref.namespace or "") if ref is not None else "",
        (ref.name or "") if ref is not None else "",
    )


def port_key(ports: Sequence[discovery.EndpointPort]) -> PortKey:
    return tuple(
        sorted(
            (p.name or "", p.port or 0, p.protocol or "TCP", p.app_protocol or "") for p in ports
        )
    )


@attrs.frozen
class Desired:
    """The endpoints wanted for one address type: per port key, the ports and the endpoints
    (insertion ordered); ``missing_nodes`` names pods skipped because their node is unknown."""

    ports: dict[PortKey, tuple[discovery.EndpointPort, ...]]
    endpoints: dict[PortKey, dict[EndpointKey, Endpoint]]
    missing_nodes: tuple[str, ...] = ()


def address_types(service: Service) -> list[str]:
    """The slice address types a service gets (getAddressTypesForService): its IP families;
    without them its cluster IP's family; a headless service without families gets both."""
    spec = service.spec
    families = [f for f in (spec.ip_families if spec is not None else ()) or ()]
    if families:
        return [f for f in ("IPv4", "IPv6") if f in families]
    if is_service_ip_set(service):
        assert spec is not None and spec.cluster_ip is not None
        return [ip_family(spec.cluster_ip)]
    if not is_headless(service):
        return ["IPv4"]  # no cluster IP allocated: the single-stack default it would get
    return ["IPv4", "IPv6"]


def endpoint_ports(service: Service, pod: Pod) -> tuple[discovery.EndpointPort, ...]:
    """The service's ports as this pod resolves them; a port the pod has no match for is left
    out for this pod (getEndpointPorts)."""
    out = []
    for sp in (service.spec.ports if service.spec is not None else ()) or ():
        try:
            number = find_port(pod, sp)
        except ValueError:
            continue
        out.append(
            discovery.EndpointPort(
                name=sp.name or "",
                port=number,
                protocol=sp.protocol or "TCP",
                app_protocol=sp.app_protocol,
            )
        )
    return tuple(out)


def pod_to_endpoint(
    pod: Pod, node: Node | None, service: Service, address_type: str
) -> Endpoint | None:
    """The endpoint of ``pod`` (podToEndpoint), or None when it has no address of the type."""
    addresses = tuple(ip for ip in pod_ips(pod) if ip_family(ip) == address_type)[:1]
    if not addresses:
        return None
    spec = service.spec
    publish = bool(spec is not None and spec.publish_not_ready_addresses)
    meta = pod.metadata
    assert meta is not None
    serving = is_pod_ready(pod)
    terminating = meta.deletion_timestamp is not None
    # upstream: for compatibility, ready is never true for a terminating pod unless
    # publishNotReadyAddresses says to publish it anyway.
    ready = publish or (serving and not terminating)
    node_name = pod.spec.node_name if pod.spec is not None else None
    zone = None
    if node is not None and node.metadata is not None:
        zone = (node.metadata.labels or {}).get(LABEL_ZONE) or None
    return Endpoint(
        addresses=addresses,
        conditions=EndpointConditions(ready=ready, serving=serving, terminating=terminating),
        target_ref=ObjectReference(
            kind="Pod", namespace=meta.namespace, name=meta.name, uid=meta.uid
        ),
        node_name=node_name or None,
        zone=zone,
        hostname=pod.spec.hostname
        if pod.spec is not None and should_set_hostname(pod, service)
        else None,
    )


def desired_endpoints(
    service: Service, pods: Sequence[Pod], nodes: Mapping[str, Node], address_type: str
) -> Desired:
    """Every pod that belongs in the service's slices (terminating ones included, with their
    conditions saying so), grouped by port key. A pod whose node is unknown is skipped unless
    the service publishes not-ready addresses (upstream: the pod GC will remove it, but the
    slice must not wait for that)."""
    spec = service.spec
    publish = bool(spec is not None and spec.publish_not_ready_addresses)
    ports: dict[PortKey, tuple[discovery.EndpointPort, ...]] = {}
    endpoints: dict[PortKey, dict[EndpointKey, Endpoint]] = {}
    missing: list[str] = []
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, True):
            continue
        eps = endpoint_ports(service, pod)
        key = port_key(eps)
        node_name = (pod.spec.node_name if pod.spec is not None else None) or ""
        node = nodes.get(node_name)
        if node is None and not publish:
            missing.append(pod.metadata.name or "" if pod.metadata is not None else "")
            continue
        endpoint = pod_to_endpoint(pod, node, service, address_type)
        if endpoint is None:
            continue
        ports.setdefault(key, eps)
        endpoints.setdefault(key, {})[endpoint_key(endpoint)] = endpoint
    return Desired(ports=ports, endpoints=endpoints, missing_nodes=tuple(missing))
