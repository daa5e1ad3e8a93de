"""The inventory provider: InstancesV2 and Zones over a YAML file re-read on every call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import yaml

from kframe.api.models import Node, NodeAddress
from kframe.client import Client
from kframe.cloud import (
    CloudProvider,
    InstanceMetadata,
    InstanceNotFound,
    InstancesV2,
    LoadBalancer,
    Routes,
    Zone,
    Zones,
)

__all__ = ["PROVIDER_NAME", "InventoryCloud", "Machine", "read_inventory"]

PROVIDER_NAME = "inventory"


@attrs.frozen(kw_only=True)
class Machine:
    name: str
    id: str
    zone: str = ""
    type: str = ""
    internal_ip: str = ""
    external_ip: str = ""
    state: str = "running"


def read_inventory(path: Path) -> tuple[str, list[Machine]]:
    """``(region, machines)`` of the file; a missing file is an empty inventory."""
    if not path.exists():
        return "", []
    raw: Any = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping with 'machines'")
    machines = []
    for i, item in enumerate(raw.get("machines") or ()):
        if not isinstance(item, dict) or not item.get("name"):
            raise ValueError(f"{path}: machines[{i}] needs a name")
        machines.append(
            Machine(
                name=str(item["name"]),
                id=str(item.get("id") or item["name"]),
                zone=str(item.get("zone") or ""),
                type=str(item.get("type") or ""),
                internal_ip=str(item.get("internalIP") or ""),
                external_ip=str(item.get("externalIP") or ""),
                state=str(item.get("state") or "running"),
            )
        )
    return str(raw.get("region") or ""), machines


class InventoryCloud:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def initialize(self, client: Client) -> None:
        read_inventory(self.path)  # a broken file fails the start, not every call

    async def close(self) -> None:
        return None

    def provider_name(self) -> str:
        return PROVIDER_NAME

    def has_cluster_id(self) -> bool:
        return False

    def instances_v2(self) -> InstancesV2 | None:
        return self

    def load_balancer(self) -> LoadBalancer | None:
        return None

    def routes(self) -> Routes | None:
        return None

    def zones(self) -> Zones | None:
        return self

    # -- instances -----------------------------------------------------------------------------

    def _find(self, node: Node) -> tuple[str, Machine] | None:
        region, machines = read_inventory(self.path)
        provider_id = (node.spec.provider_id or "") if node.spec is not None else ""
        name = (node.metadata.name or "") if node.metadata is not None else ""
        for machine in machines:
            if provider_id:
                if provider_id == self.provider_id(machine):
                    return region, machine
            elif machine.name == name:
                return region, machine
        return None

    def provider_id(self, machine: Machine) -> str:
        return f"{PROVIDER_NAME}://{machine.zone}/{machine.id}"

    async def instance_exists(self, node: Node) -> bool:
        return self._find(node) is not None

    async def instance_shutdown(self, node: Node) -> bool:
        found = self._find(node)
        if found is None:
            raise InstanceNotFound()
        return found[1].state == "stopped"

    async def instance_metadata(self, node: Node) -> InstanceMetadata:
        found = self._find(node)
        if found is None:
            raise InstanceNotFound()
        region, machine = found
        addresses = []
        if machine.internal_ip:
            addresses.append(NodeAddress(type="InternalIP", address=machine.internal_ip))
        if machine.external_ip:
            addresses.append(NodeAddress(type="ExternalIP", address=machine.external_ip))
        addresses.append(NodeAddress(type="Hostname", address=machine.name))
        return InstanceMetadata(
            provider_id=self.provider_id(machine),
            instance_type=machine.type,
            node_addresses=tuple(addresses),
            zone=machine.zone,
            region=region,
        )

    # -- zones ---------------------------------------------------------------------------------

    async def get_zone(self) -> Zone:
        region, _ = read_inventory(self.path)
        return Zone(region=region)

    async def _zone_of(self, match: str, by_id: bool) -> Zone:
        region, machines = read_inventory(self.path)
        for machine in machines:
            if (self.provider_id(machine) if by_id else machine.name) == match:
                return Zone(failure_domain=machine.zone, region=region)
        raise InstanceNotFound()

    async def get_zone_by_provider_id(self, provider_id: str) -> Zone:
        return await self._zone_of(provider_id, True)

    async def get_zone_by_node_name(self, node_name: str) -> Zone:
        return await self._zone_of(node_name, False)


_: type[CloudProvider] = InventoryCloud
