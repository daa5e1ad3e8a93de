"""The cloud-provider interface (upstream ``k8s.io/cloud-provider`` cloud.go), as Protocols.

A provider is one object (:class:`CloudProvider`) with a name, an ``initialize`` step and
optional capabilities: each accessor (``instances_v2``, ``load_balancer``, ``routes``,
``zones``) returns the capability's implementation, or None where upstream returns
``(nil, false)``. The cloud controllers use only what a provider offers: no InstancesV2, no node
controllers; no LoadBalancer, no service controller; no Routes, no route controller.

Everything that talks to the cloud is async (the architecture's rule for I/O). Nodes and
Services are handed over as kframe models; a provider must not mutate them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from kframe.api.models import LoadBalancerStatus, Node, NodeAddress, Service
from kframe.client import Client

__all__ = [
    "CloudProvider",
    "InstanceMetadata",
    "InstancesV2",
    "LoadBalancer",
    "Route",
    "Routes",
    "Zone",
    "Zones",
]


@attrs.frozen(kw_only=True)
class InstanceMetadata:
    """What the node controller copies onto a Node (upstream ``InstanceMetadata``).

    ``provider_id`` becomes ``spec.providerID`` (``<provider>://<provider-specific id>``);
    ``node_addresses`` replace ``status.addresses``; ``instance_type``, ``zone`` and ``region``
    become the well-known labels; ``additional_labels`` are added as given.
    """

    provider_id: str = ""
    instance_type: str = ""
    node_addresses: tuple[NodeAddress, ...] = ()
    zone: str = ""
    region: str = ""
    additional_labels: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Zone:
    """A failure domain and its region (upstream ``cloudprovider.Zone``)."""

    failure_domain: str = ""
    region: str = ""


@attrs.frozen(kw_only=True)
class Route:
    """A route in the cloud's network: traffic for ``destination_cidr`` goes to
    ``target_node`` (upstream ``cloudprovider.Route``). ``name`` is the provider's; a
    ``blackhole`` route's target is gone and the route controller deletes it."""

    name: str = ""
    target_node: str = ""
    destination_cidr: str = ""
    target_node_addresses: tuple[NodeAddress, ...] = ()
    blackhole: bool = False


@runtime_checkable
class InstancesV2(Protocol):
    """The node's instance, found by ``node.spec.providerID`` or, when that is empty, by the
    node's name (upstream ``InstancesV2``)."""

    async def instance_exists(self, node: Node) -> bool:
        """False only when the instance is known to be gone (the node is then deleted)."""
        ...

    async def instance_shutdown(self, node: Node) -> bool:
        """True when the instance exists but is stopped (the node is then tainted)."""
        ...

    async def instance_metadata(self, node: Node) -> InstanceMetadata:
        """The instance's metadata; :class:`~kframe.cloud.InstanceNotFound` if it is gone."""
        ...


@runtime_checkable
class LoadBalancer(Protocol):
    """External load balancers for Services of type LoadBalancer (upstream
    ``LoadBalancer``). ``cluster_name`` is the manager's ``--cluster-name``; ``nodes`` are
    the backends, whose ``nodePort`` of each service port receives the traffic.

    ``ensure_load_balancer`` and ``update_load_balancer`` may raise
    :class:`~kframe.cloud.RetryError` (come back later, not a failure) or
    :class:`~kframe.cloud.ImplementedElsewhere` (someone else owns it).
    """

    async def get_load_balancer(
        self, cluster_name: str, service: Service
    ) -> LoadBalancerStatus | None:
        """The load balancer's status, or None if it does not exist."""
        ...

    def get_load_balancer_name(self, cluster_name: str, service: Service) -> str:
        """The load balancer's name: a pure function of the Service (its UID)."""
        ...

    async def ensure_load_balancer(
        self, cluster_name: str, service: Service, nodes: Sequence[Node]
    ) -> LoadBalancerStatus:
        """Create or update the load balancer; return its status (the ingress addresses)."""
        ...

    async def update_load_balancer(
        self, cluster_name: str, service: Service, nodes: Sequence[Node]
    ) -> None:
        """Point the existing load balancer at ``nodes`` (the node set changed)."""
        ...

    async def ensure_load_balancer_deleted(self, cluster_name: str, service: Service) -> None:
        """Delete the load balancer; succeed when it does not exist."""
        ...


@runtime_checkable
class Routes(Protocol):
    """Routes for pod CIDRs in the cloud's network (upstream ``Routes``)."""

    async def list_routes(self, cluster_name: str) -> Sequence[Route]:
        """Every route of the cluster."""
        ...

    async def create_route(self, cluster_name: str, name_hint: str, route: Route) -> None:
        """Create ``route``; ``name_hint`` (the node's UID) may be used to name it."""
        ...

    async def delete_route(self, cluster_name: str, route: Route) -> None:
        """Delete ``route`` (as returned by :meth:`list_routes`); succeed when it is gone."""
        ...


@runtime_checkable
class Zones(Protocol):
    """Failure domains (upstream ``Zones``)."""

    async def get_zone(self) -> Zone:
        """The zone of the machine the caller runs on."""
        ...

    async def get_zone_by_provider_id(self, provider_id: str) -> Zone: ...

    async def get_zone_by_node_name(self, node_name: str) -> Zone: ...


@runtime_checkable
class CloudProvider(Protocol):
    """A cloud provider (upstream ``cloudprovider.Interface``).

    Built by the factory a plugin registers (see :class:`~kframe.cloud.CloudProviderSpec`);
    the cloud controller manager calls :meth:`initialize` once, before its controllers run,
    and :meth:`close` when it stops.
    """

    async def initialize(self, client: Client) -> None:
        """Start the provider's own loops; ``client`` reaches the API server."""
        ...

    async def close(self) -> None:
        """Stop what :meth:`initialize` started (idempotent)."""
        ...

    def provider_name(self) -> str:
        """The provider's name, as in its provider IDs (``<name>://...``)."""
        ...

    def has_cluster_id(self) -> bool:
        """Whether the provider tags its resources with a cluster ID (upstream's check that
        ``--allow-untagged-cloud`` guards)."""
        ...

    def instances_v2(self) -> InstancesV2 | None: ...

    def load_balancer(self) -> LoadBalancer | None: ...

    def routes(self) -> Routes | None: ...

    def zones(self) -> Zones | None: ...
