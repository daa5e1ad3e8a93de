"""The simulated cloud provider: InstancesV2, LoadBalancer, Routes and Zones over the SQLite
state of :mod:`._state`, with load balancers that really listen (:mod:`._listeners`).

Instances are named after their nodes; provider IDs are ``simulated://<zone>/<instance id>``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from kframe.api import from_dict
from kframe.api.models import LoadBalancerStatus, Node, NodeAddress, Service
from kframe.client import Client
from kframe.cloud import (
    CloudProvider,
    InstanceMetadata,
    InstanceNotFound,
    InstancesV2,
    LoadBalancer,
    Route,
    Routes,
    Zone,
    Zones,
    default_load_balancer_name,
)

from ._listeners import Listeners
from ._state import STOPPED, Backend, Instance, LoadBalancerRecord, RouteRecord, State

__all__ = ["PROVIDER_NAME", "SimulatedCloud", "SimulatedConfig", "load_config"]

PROVIDER_NAME = "simulated"
DEFAULT_DB = Path(".kframe/simulated-cloud.db")


@attrs.frozen(kw_only=True)
class SimulatedConfig:
    """The ``--cloud-config`` file (YAML): ``db`` (relative to the file), ``region``,
    ``zone`` (where new instances go by default), ``instanceType`` and
    ``loadBalancerCIDR``, the loopback range load balancer addresses come from."""

    db: Path = DEFAULT_DB
    region: str = "sim-region-1"
    zone: str = "sim-region-1a"
    instance_type: str = "sim.small"
    load_balancer_cidr: str = "127.0.100.0/24"


_KEYS = {
    "db": "db",
    "region": "region",
    "zone": "zone",
    "instanceType": "instance_type",
    "loadBalancerCIDR": "load_balancer_cidr",
}


def load_config(path: Path | None) -> SimulatedConfig:
    """The config at ``path`` (None: the defaults). Unknown keys are a ValueError."""
    if path is None:
        return SimulatedConfig()
    raw: Any = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown keys {', '.join(unknown)} (known: {', '.join(_KEYS)})")
    values: dict[str, Any] = {_KEYS[k]: str(v) for k, v in raw.items()}
    if "db" in values:
        db = Path(values["db"])
        values["db"] = db if db.is_absolute() else path.parent / db
    config = SimulatedConfig(**values)
    network = ipaddress.ip_network(config.load_balancer_cidr)
    if not network.is_loopback:
        raise ValueError(f"{path}: loadBalancerCIDR {network} is not a loopback range")
    return config


def _meta(obj: Node | Service) -> tuple[str, str]:
    meta = obj.metadata
    return ((meta.namespace or "") if meta else "", (meta.name or "") if meta else "")


class SimulatedCloud:
    """All four capabilities in one object (the accessors return ``self``)."""

    def __init__(self, config: SimulatedConfig | None = None) -> None:
        self.config = config or SimulatedConfig()
        self.state = State(self.config.db)
        self.listeners = Listeners()
        self._initialized = False

    # -- the provider --------------------------------------------------------------------------

    async def initialize(self, client: Client) -> None:
        # Load balancers outlive a restarted manager: listen again where the state says.
        self._initialized = True
        for lb in self.state.load_balancers():
            await self.listeners.ensure(f"{lb.cluster}/{lb.name}", lb.address, lb.ports)

    async def close(self) -> None:
        await self.listeners.close()

    def provider_name(self) -> str:
        return PROVIDER_NAME

    def has_cluster_id(self) -> bool:
        return True

    def instances_v2(self) -> InstancesV2 | None:
        return self

    def load_balancer(self) -> LoadBalancer | None:
        return self

    def routes(self) -> Routes | None:
        return self

    def zones(self) -> Zones | None:
        return self

    # -- instances -----------------------------------------------------------------------------

    def provider_id(self, instance: Instance) -> str:
        return f"{PROVIDER_NAME}://{instance.zone}/{instance.id}"

    def _find(self, node: Node) -> Instance | None:
        provider_id = node.spec.provider_id if node.spec is not None else None
        if provider_id:
            prefix = f"{PROVIDER_NAME}://"
            if not provider_id.startswith(prefix):
                return None  # another cloud's node
            return self.state.instance_by_id(provider_id.rsplit("/", 1)[-1])
        return self.state.instance(_meta(node)[1])

    async def instance_exists(self, node: Node) -> bool:
        return self._find(node) is not None

    async def instance_shutdown(self, node: Node) -> bool:
        instance = self._find(node)
        if instance is None:
            raise InstanceNotFound()
        return instance.state == STOPPED

    async def instance_metadata(self, node: Node) -> InstanceMetadata:
        instance = self._find(node)
        if instance is None:
            raise InstanceNotFound()
        addresses = [NodeAddress(type="InternalIP", address=instance.internal_ip)]
        if instance.external_ip:
            addresses.append(NodeAddress(type="ExternalIP", address=instance.external_ip))
        addresses.append(NodeAddress(type="Hostname", address=instance.name))
        return InstanceMetadata(
            provider_id=self.provider_id(instance),
            instance_type=instance.type,
            node_addresses=tuple(addresses),
            zone=instance.zone,
            region=instance.region,
            additional_labels={"cloud.kframe.dev/instance-id": instance.id},
        )

    # -- zones ---------------------------------------------------------------------------------

    async def get_zone(self) -> Zone:
        return Zone(failure_domain=self.config.zone, region=self.config.region)

    async def get_zone_by_provider_id(self, provider_id: str) -> Zone:
        instance = self.state.instance_by_id(provider_id.rsplit("/", 1)[-1])
        if instance is None:
            raise InstanceNotFound()
        return Zone(failure_domain=instance.zone, region=instance.region)

    async def get_zone_by_node_name(self, node_name: str) -> Zone:
        instance = self.state.instance(node_name)
        if instance is None:
            raise InstanceNotFound()
        return Zone(failure_domain=instance.zone, region=instance.region)

    # -- load balancers ------------------------------------------------------------------------

    def get_load_balancer_name(self, cluster_name: str, service: Service) -> str:
        return default_load_balancer_name(service)

    async def get_load_balancer(
        self, cluster_name: str, service: Service
    ) -> LoadBalancerStatus | None:
        lb = self.state.load_balancer(
            cluster_name, self.get_load_balancer_name(cluster_name, service)
        )
        return None if lb is None else _status(lb.address)

    async def ensure_load_balancer(
        self, cluster_name: str, service: Service, nodes: Sequence[Node]
    ) -> LoadBalancerStatus:
        name = self.get_load_balancer_name(cluster_name, service)
        existing = self.state.load_balancer(cluster_name, name)
        address = existing.address if existing is not None else self._free_address()
        namespace, svc_name = _meta(service)
        record = LoadBalancerRecord(
            cluster=cluster_name,
            name=name,
            service=f"{namespace}/{svc_name}",
            address=address,
            ports=_ports(service, nodes),
        )
        # Listen first: an address or port that cannot be bound leaves no record behind.
        await self.listeners.ensure(f"{cluster_name}/{name}", address, record.ports)
        self.state.put_load_balancer(record)
        return _status(address)

    async def update_load_balancer(
        self, cluster_name: str, service: Service, nodes: Sequence[Node]
    ) -> None:
        name = self.get_load_balancer_name(cluster_name, service)
        existing = self.state.load_balancer(cluster_name, name)
        if existing is None:
            raise InstanceNotFound(f"load balancer {name} not found")
        record = attrs.evolve(existing, ports=_ports(service, nodes))
        await self.listeners.ensure(f"{cluster_name}/{name}", existing.address, record.ports)
        self.state.put_load_balancer(record)

    async def ensure_load_balancer_deleted(self, cluster_name: str, service: Service) -> None:
        name = self.get_load_balancer_name(cluster_name, service)
        await self.listeners.remove(f"{cluster_name}/{name}")
        self.state.delete_load_balancer(cluster_name, name)

    def _free_address(self) -> str:
        used = self.state.used_addresses()
        for host in ipaddress.ip_network(self.config.load_balancer_cidr).hosts():
            if str(host) not in used:
                return str(host)
        raise RuntimeError(f"no free load balancer address in {self.config.load_balancer_cidr}")

    # -- routes --------------------------------------------------------------------------------

    async def list_routes(self, cluster_name: str) -> Sequence[Route]:
        return [
            Route(name=r.name, target_node=r.target_node, destination_cidr=r.cidr)
            for r in self.state.routes(cluster_name)
        ]

    async def create_route(self, cluster_name: str, name_hint: str, route: Route) -> None:
        name = f"{cluster_name}-{name_hint or route.target_node}-{_cidr_slug(route)}"
        self.state.put_route(
            RouteRecord(
                cluster=cluster_name,
                name=name,
                target_node=route.target_node,
                cidr=route.destination_cidr,
            )
        )

    async def delete_route(self, cluster_name: str, route: Route) -> None:
        self.state.delete_route(cluster_name, route.name)


def _cidr_slug(route: Route) -> str:
    return route.destination_cidr.replace("/", "-").replace(":", "-").replace(".", "-")


def _status(address: str) -> LoadBalancerStatus:
    return from_dict({"ingress": [{"ip": address, "ipMode": "VIP"}]}, LoadBalancerStatus)


def _node_address(node: Node) -> str | None:
    addresses = node.status.addresses if node.status is not None else ()
    for kind in ("InternalIP", "ExternalIP"):
        for addr in addresses or ():
            if addr.type == kind and addr.address:
                return addr.address
    return None


def _ports(service: Service, nodes: Sequence[Node]) -> dict[int, tuple[Backend, ...]]:
    """Service port -> (node address, nodePort) of every node, for the TCP ports."""
    ports: dict[int, tuple[Backend, ...]] = {}
    addresses = [a for a in (_node_address(n) for n in nodes) if a]
    for port in (service.spec.ports if service.spec is not None else ()) or ():
        if (port.protocol or "TCP") != "TCP" or not port.port:
            continue  # the simulated cloud balances TCP only
        if not port.node_port:
            ports[port.port] = ()
            continue
        ports[port.port] = tuple(Backend(address=a, port=port.node_port) for a in addresses)
    return ports


_: type[CloudProvider] = SimulatedCloud
