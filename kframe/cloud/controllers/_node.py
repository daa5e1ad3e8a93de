"""The cloud node controller (upstream cloud-provider controllers/node node_controller.go).

A kubelet run with an external cloud provider registers its Node with the NoSchedule taint
``node.cloudprovider.kubernetes.io/uninitialized``. This controller asks the provider's
InstancesV2 for the instance's metadata, writes it onto the Node (``spec.providerID`` if unset,
``status.addresses``, the instance-type, zone and region labels, the provider's extra labels)
and removes the taint. Every ``node-status-update-frequency`` (5m) it refreshes the addresses
of initialised nodes.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from kframe.api import to_dict
from kframe.api.models import Node, NodeAddress
from kframe.cloud._errors import InstanceNotFound
from kframe.cloud._interface import CloudProvider, InstanceMetadata, InstancesV2
from kframe.cloud._names import (
    ANNOTATION_PROVIDED_NODE_IP,
    LABEL_INSTANCE_TYPE,
    LABEL_INSTANCE_TYPE_BETA,
    LABEL_REGION,
    LABEL_REGION_BETA,
    LABEL_ZONE,
    LABEL_ZONE_BETA,
    TAINT_UNINITIALIZED,
)
from kframe.cloud.controllers._common import (
    api_code,
    duration_option,
    has_taint,
    node_name,
    taints,
    without_taint,
)
from kframe.controller import ControllerContext, Result, done

__all__ = ["CloudNodeController", "node_addresses", "node_labels"]

log = logging.getLogger("kframe.cloud.node")

#: Upstream's ``--node-status-update-frequency`` of the cloud node controller.
NODE_STATUS_UPDATE_FREQUENCY = 300.0


def node_labels(meta: InstanceMetadata) -> dict[str, str]:
    """The labels the metadata calls for: the GA and the deprecated beta names, as upstream
    still writes both."""
    labels: dict[str, str] = {}
    if meta.instance_type:
        labels[LABEL_INSTANCE_TYPE] = meta.instance_type
        labels[LABEL_INSTANCE_TYPE_BETA] = meta.instance_type
    if meta.zone:
        labels[LABEL_ZONE] = meta.zone
        labels[LABEL_ZONE_BETA] = meta.zone
    if meta.region:
        labels[LABEL_REGION] = meta.region
        labels[LABEL_REGION_BETA] = meta.region
    labels.update(meta.additional_labels)
    return labels


def node_addresses(node: Node, cloud: tuple[NodeAddress, ...]) -> tuple[NodeAddress, ...]:
    """The addresses to publish. With the kubelet's ``--node-ip`` (the
    ``alpha.kubernetes.io/provided-node-ip`` annotation) only that IP's addresses and the
    hostnames are kept, and the IP must be one of the cloud's (upstream
    GetNodeAddressesFromNodeIP); a ValueError otherwise."""
    annotations = (node.metadata.annotations or {}) if node.metadata is not None else {}
    wanted = annotations.get(ANNOTATION_PROVIDED_NODE_IP)
    if not wanted:
        return cloud
    if not any(a.address == wanted for a in cloud):
        raise ValueError(
            f"failed to get node address from cloud provider that matches ip: {wanted}"
        )
    return tuple(a for a in cloud if a.address == wanted or a.type == "Hostname")


def _address_dicts(addresses: tuple[NodeAddress, ...]) -> list[dict[str, Any]]:
    return [to_dict(a) for a in addresses]


class CloudNodeController:
    def __init__(self, ctx: ControllerContext, cloud: CloudProvider) -> None:
        instances = cloud.instances_v2()
        assert instances is not None, "the cloud node controller needs InstancesV2"
        self.ctx = ctx
        self.cloud = cloud
        self.instances: InstancesV2 = instances
        self.update_frequency = duration_option(
            ctx, "node-status-update-frequency", NODE_STATUS_UPDATE_FREQUENCY
        )
        self.nodes = ctx.watch(Node)
        ctx.add_background(self._address_loop)

    async def reconcile(self, key: str) -> Result | None:
        node = self.nodes.store.get(key)
        if node is None or not has_taint(node, TAINT_UNINITIALIZED):
            return done()
        try:
            meta = await self.instances.instance_metadata(node)
        except InstanceNotFound:
            # Upstream logs and retries: the instance may not be visible yet.
            log.info("node %s: no instance in the cloud yet", key)
            raise
        await self._post_addresses(node, meta)
        await self._initialise(key, meta)
        log.info("node %s initialised from the cloud (%s)", key, meta.provider_id)
        return done()

    async def _post_addresses(self, node: Node, meta: InstanceMetadata) -> None:
        if not meta.node_addresses:
            return
        addresses = node_addresses(node, meta.node_addresses)
        current = tuple(node.status.addresses or ()) if node.status is not None else ()
        if current == addresses:
            return
        await self.ctx.client.patch(
            Node,
            node_name(node),
            {"status": {"addresses": _address_dicts(addresses)}},
            patch_type="merge",
            subresource="status",
        )

    async def _initialise(self, key: str, meta: InstanceMetadata) -> None:
        # Read the node afresh and update it whole, so a concurrent change is a conflict
        # (retried by the queue) rather than lost.
        node = await self.ctx.client.get(Node, key)
        assert node.metadata is not None
        spec = node.spec
        assert spec is not None
        labels = {**(node.metadata.labels or {}), **node_labels(meta)}
        spec = attrs.evolve(
            spec,
            provider_id=spec.provider_id or meta.provider_id or None,
            taints=tuple(without_taint(taints(node), TAINT_UNINITIALIZED)),
        )
        updated = attrs.evolve(node, metadata=attrs.evolve(node.metadata, labels=labels), spec=spec)
        await self.ctx.client.update(updated)

    # -- address refresh -------------------------------------------------------------------------

    async def _address_loop(self) -> None:
        while True:
            await self.ctx.clock.sleep(self.update_frequency)
            await self.update_addresses()

    async def update_addresses(self) -> None:
        """One pass of upstream's UpdateNodeStatus over the initialised nodes."""
        for node in self.nodes.store.list():
            if has_taint(node, TAINT_UNINITIALIZED):
                continue
            try:
                meta = await self.instances.instance_metadata(node)
                await self._post_addresses(node, meta)
            except InstanceNotFound:
                continue  # the lifecycle controller deletes it
            except Exception as exc:
                if api_code(exc) == 404:
                    continue
                log.warning("node %s: refreshing addresses failed: %s", node_name(node), exc)
