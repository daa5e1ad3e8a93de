"""The cloud node lifecycle controller (upstream cloud-provider controllers/nodelifecycle
node_lifecycle_controller.go).

Every ``node-monitor-period`` (5s) it looks at each Node whose Ready condition is not True:
if the provider says its instance is shut down, the Node gets the NoSchedule taint
``node.cloudprovider.kubernetes.io/shutdown``; if the instance no longer exists, the Node is
deleted (its pods then go, and their controllers make replacements elsewhere). A Ready node
loses the shutdown taint. Nodes with no Ready condition yet are left alone.
"""

from __future__ import annotations

import logging

import attrs

from kframe.api import time_now
from kframe.api.models import Node, Taint
from kframe.cloud._errors import InstanceNotFound
from kframe.cloud._interface import CloudProvider, InstancesV2
from kframe.cloud._names import TAINT_SHUTDOWN
from kframe.cloud.controllers._common import (
    api_code,
    duration_option,
    has_taint,
    node_name,
    ready_condition,
    taints,
    without_taint,
)
from kframe.controller import ControllerContext, Result, done

__all__ = ["CloudNodeLifecycleController"]

log = logging.getLogger("kframe.cloud.nodelifecycle")

#: Upstream's ``--node-monitor-period``.
NODE_MONITOR_PERIOD = 5.0


class CloudNodeLifecycleController:
    """The pass runs as a background loop; the queue carries one key per node to act on."""

    def __init__(self, ctx: ControllerContext, cloud: CloudProvider) -> None:
        instances = cloud.instances_v2()
        assert instances is not None, "the cloud node lifecycle controller needs InstancesV2"
        self.ctx = ctx
        self.instances: InstancesV2 = instances
        self.period = duration_option(ctx, "node-monitor-period", NODE_MONITOR_PERIOD)
        self.nodes = ctx.informer(Node)
        ctx.add_background(self._monitor_loop)

    async def _monitor_loop(self) -> None:
        while True:
            await self.ctx.clock.sleep(self.period)
            self.monitor()

    def monitor(self) -> None:
        """Enqueue every node (each reconcile asks the cloud about one)."""
        for node in self.nodes.store.list():
            self.ctx.enqueue(node)

    async def reconcile(self, key: str) -> Result | None:
        node = self.nodes.store.get(key)
        if node is None:
            return done()
        ready = ready_condition(node)
        if ready is None:
            return done()  # upstream: no Ready condition yet, nothing to judge by
        if ready.status == "True":
            if has_taint(node, TAINT_SHUTDOWN):
                await self._set_taints(key, add=False)
            return done()
        try:
            shutdown = await self.instances.instance_shutdown(node)
        except InstanceNotFound:
            shutdown = False
        if shutdown:
            if not has_taint(node, TAINT_SHUTDOWN):
                await self._set_taints(key, add=True)
            return done()
        if await self.instances.instance_exists(node):
            return done()
        log.info("deleting node %s: its instance is gone", key)
        self.ctx.event(
            node,
            "Normal",
            "DeletingNode",
            f"Deleting node {node_name(node)} because it does not exist in the cloud provider",
        )
        try:
            await self.ctx.client.delete(Node, key)
        except Exception as exc:
            if api_code(exc) != 404:
                raise
        return done()

    async def _set_taints(self, key: str, *, add: bool) -> None:
        node = await self.ctx.client.get(Node, key)
        assert node.spec is not None
        kept = without_taint(taints(node), TAINT_SHUTDOWN)
        if add:
            kept.append(Taint(key=TAINT_SHUTDOWN, effect="NoSchedule", time_added=time_now()))
        await self.ctx.client.update(
            attrs.evolve(node, spec=attrs.evolve(node.spec, taints=tuple(kept)))
        )
