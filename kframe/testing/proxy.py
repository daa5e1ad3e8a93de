"""Helpers for testing proxy backends: Services and EndpointSlices in a line, a recording
backend, and a Hypothesis strategy of desired states.

::

    state = proxy_state(
        [service("web", "10.96.0.10", [("http", 80)])],
        [endpoint_slice("web", [("10.244.1.1", True)], [("http", 8080)])],
        node_name="node-a",
    )
    rules = my_backend.render(state)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import strategies as st

from kframe.api.models import (
    ClientIPConfig,
    Endpoint,
    EndpointConditions,
    EndpointSlice,
    ObjectMeta,
    Service,
    ServicePort,
    ServiceSpec,
    SessionAffinityConfig,
)
from kframe.api.models.discovery_v1 import EndpointPort
from kframe.proxy import (
    SERVICE_NAME_LABEL,
    EndpointInfo,
    EndpointsChangeTracker,
    ProxyBackend,
    ProxyState,
    ServiceChangeTracker,
    ServicePortInfo,
    ServicePortName,
)

__all__ = [
    "RecordingBackend",
    "check_backend",
    "endpoint_slice",
    "proxy_state",
    "proxy_states",
    "service",
]

#: A service port: (name, port) or (name, port, protocol) or (name, port, protocol, nodePort).
PortSpec = tuple[Any, ...]


def service(
    name: str,
    cluster_ip: str,
    ports: Sequence[PortSpec],
    *,
    namespace: str = "default",
    type: str = "ClusterIP",
    session_affinity: str = "None",
    affinity_timeout: int | None = None,
    external_traffic_policy: str | None = None,
    internal_traffic_policy: str | None = None,
    external_ips: Sequence[str] = (),
) -> Service:
    """A Service with an explicit cluster IP (no allocator needed)."""
    service_ports = []
    for spec in ports:
        port_name, number = spec[0], spec[1]
        protocol = spec[2] if len(spec) > 2 else "TCP"
        node_port = spec[3] if len(spec) > 3 else None
        service_ports.append(
            ServicePort(
                name=port_name or None,
                port=number,
                protocol=protocol,  # type: ignore[arg-type]
                node_port=node_port,
            )
        )
    config = None
    if session_affinity == "ClientIP":
        config = SessionAffinityConfig(
            client_ip=ClientIPConfig(timeout_seconds=affinity_timeout or 10800)
        )
    return Service(
        metadata=ObjectMeta(name=name, namespace=namespace),
        spec=ServiceSpec(
            type=type,  # type: ignore[arg-type]
            cluster_ip=cluster_ip,
            cluster_ips=(cluster_ip,) if cluster_ip and cluster_ip != "None" else (),
            ports=tuple(service_ports),
            session_affinity=session_affinity,  # type: ignore[arg-type]
            session_affinity_config=config,
            external_traffic_policy=external_traffic_policy,  # type: ignore[arg-type]
            internal_traffic_policy=internal_traffic_policy,  # type: ignore[arg-type]
            external_ips=tuple(external_ips),
        ),
    )


#: An endpoint: (ip, ready) or (ip, ready, node) or (ip, ready, node, serving, terminating).
EndpointSpec = tuple[Any, ...]


def endpoint_slice(
    service_name: str,
    endpoints: Sequence[EndpointSpec],
    ports: Sequence[PortSpec],
    *,
    namespace: str = "default",
    name: str = "",
    address_type: str = "IPv4",
) -> EndpointSlice:
    """An EndpointSlice of ``service_name`` (labelled ``kubernetes.io/service-name``)."""
    eps = []
    for spec in endpoints:
        ip, ready = spec[0], spec[1]
        node = spec[2] if len(spec) > 2 else None
        serving = spec[3] if len(spec) > 3 else ready
        terminating = spec[4] if len(spec) > 4 else False
        eps.append(
            Endpoint(
                addresses=(ip,),
                conditions=EndpointConditions(
                    ready=ready, serving=serving, terminating=terminating
                ),
                node_name=node,
            )
        )
    return EndpointSlice(
        metadata=ObjectMeta(
            name=name or f"{service_name}-abc",
            namespace=namespace,
            labels={SERVICE_NAME_LABEL: service_name},
        ),
        address_type=address_type,  # type: ignore[arg-type]
        endpoints=tuple(eps),
        ports=tuple(
            EndpointPort(name=p[0], port=p[1], protocol=p[2] if len(p) > 2 else "TCP")
            for p in ports
        ),
    )


def proxy_state(
    services: Iterable[Service], slices: Iterable[EndpointSlice], *, node_name: str = ""
) -> ProxyState:
    """The state a proxy on ``node_name`` would hand its backend for these objects."""
    svc = ServiceChangeTracker()
    eps = EndpointsChangeTracker(node_name)
    for s in services:
        svc.update(None, s)
    for e in slices:
        eps.endpoint_slice_update(e)
    ports = svc.service_ports()
    endpoints = {k: v for k, v in eps.endpoints_map().items() if k in ports}
    changed = svc.checkpoint() | eps.checkpoint()
    return ProxyState(services=ports, endpoints=endpoints, changed=changed, node_name=node_name)


class RecordingBackend:
    """A backend that programs nothing and keeps every state it was handed (``states``).
    ``fail`` makes the next syncs raise, to exercise retries."""

    name = "recording"

    def __init__(self) -> None:
        self.states: list[ProxyState] = []
        self.fail = 0
        self.cleaned = False
        self.closed = False

    async def sync(self, state: ProxyState) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("injected sync failure")
        self.states.append(state)

    async def cleanup(self) -> None:
        self.cleaned = True

    async def close(self) -> None:
        self.closed = True


@st.composite
def proxy_states(
    draw: st.DrawFn,
    *,
    max_services: int = 6,
    max_endpoints: int = 8,
    node_name: str = "node-a",
) -> ProxyState:
    """Random desired states: services of every kind the proxy knows (cluster IP, node port,
    ClientIP affinity, Local policies), each port with a random mix of ready, not-ready and
    terminating endpoints, some on ``node_name``."""
    count = draw(st.integers(0, max_services))
    services: dict[ServicePortName, ServicePortInfo] = {}
    endpoints: dict[ServicePortName, tuple[EndpointInfo, ...]] = {}
    for i in range(count):
        protocol = draw(st.sampled_from(["TCP", "UDP", "SCTP"]))
        port_name = draw(st.sampled_from(["", "http", "dns"]))
        name = ServicePortName("ns", f"svc{i}", port_name, protocol)
        node_port = draw(st.sampled_from([0, 30000 + i]))
        services[name] = ServicePortInfo(
            name=name,
            cluster_ip=f"10.96.0.{i + 1}",
            port=draw(st.integers(1, 65535)),
            protocol=protocol,
            node_port=node_port,
            session_affinity=draw(st.sampled_from(["None", "ClientIP"])),
            sticky_max_age_seconds=draw(st.integers(1, 86400)),
            internal_policy_local=draw(st.booleans()),
            external_policy_local=bool(node_port) and draw(st.booleans()),
        )
        n = draw(st.integers(0, max_endpoints))
        eps: dict[str, EndpointInfo] = {}
        for j in range(n):
            ready = draw(st.booleans())
            terminating = not ready and draw(st.booleans())
            ep = EndpointInfo(
                ip=f"10.244.{i}.{j + 1}",
                port=draw(st.sampled_from([80, 8080])),
                ready=ready,
                serving=ready or draw(st.booleans()),
                terminating=terminating,
                is_local=draw(st.booleans()),
                node_name=node_name,
            )
            eps[str(ep)] = ep
        if eps:
            endpoints[name] = tuple(eps[k] for k in sorted(eps))
    return ProxyState(services=services, endpoints=endpoints, node_name=node_name)


async def check_backend(backend: ProxyBackend, *, node_name: str = "node-a") -> None:
    """Drive ``backend`` (in dry-run mode, or against a data plane the caller may change)
    through the calls a proxy makes: a first full sync of nothing, a full sync of every kind of
    service (ClusterIP with ready, not-ready and terminating endpoints, NodePort with a Local
    policy, ClientIP affinity, no endpoints), a partial sync after one Service changed, a sync
    of nothing again, then cleanup and close. Raises whatever the backend raises; a backend
    passes when this returns."""
    assert isinstance(backend, ProxyBackend), f"{type(backend).__name__} is not a ProxyBackend"
    assert isinstance(backend.name, str) and backend.name
    services = [
        service("web", "10.96.0.10", [("http", 80)]),
        service(
            "local",
            "10.96.0.11",
            [("", 80, "TCP", 30080)],
            type="NodePort",
            external_traffic_policy="Local",
        ),
        service("sticky", "10.96.0.12", [("", 6379)], session_affinity="ClientIP"),
        service("empty", "10.96.0.13", [("dns", 53, "UDP")]),
    ]
    slices = [
        endpoint_slice(
            "web",
            [
                ("10.244.1.1", True, node_name),
                ("10.244.2.1", False, "node-b"),
                ("10.244.2.2", False, "node-b", True, True),
            ],
            [("http", 8080)],
        ),
        endpoint_slice("local", [("10.244.1.2", True, node_name)], [("", 8080)]),
        endpoint_slice("sticky", [("10.244.2.3", True, "node-b")], [("", 6379)]),
    ]
    await backend.sync(ProxyState(node_name=node_name))
    state = proxy_state(services, slices, node_name=node_name)
    await backend.sync(state)
    smaller = {k: v for k, v in state.services.items() if k.name != "web"}
    await backend.sync(
        ProxyState(
            services=smaller,
            endpoints={k: v for k, v in state.endpoints.items() if k in smaller},
            changed=frozenset({"default/web"}),
            full=False,
            node_name=node_name,
        )
    )
    await backend.sync(ProxyState(node_name=node_name, full=False, changed=state.changed))
    await backend.cleanup()
    await backend.close()
