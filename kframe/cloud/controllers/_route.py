"""The route controller (upstream cloud-provider controllers/route route_controller.go).

Keeps the cloud's routes equal to the nodes' pod CIDRs: every Node's ``spec.podCIDRs`` gets a
route to that node (named by the provider, from the node's UID as a hint), and a route whose
node or CIDR is gone, or that is a blackhole, is deleted. A node whose routes all exist gets
the condition ``NetworkUnavailable=False`` (reason ``RouteCreated``). One work-queue key,
``routes``, reconciled on every node change and every ``route-reconciliation-period`` (10s).
With ``--option cluster-cidr=CIDR`` only routes inside it are ever deleted.
"""

from __future__ import annotations

import ipaddress
import logging

from kframe.api import format_time, time_now
from kframe.api.models import Node
from kframe.cloud._interface import CloudProvider, Route, Routes
from kframe.cloud.controllers._common import (
    CLUSTER_NAME,
    api_code,
    duration_option,
    node_name,
)
from kframe.controller import ControllerContext, Result, requeue_after

__all__ = ["RouteController", "pod_cidrs"]

log = logging.getLogger("kframe.cloud.route")

#: Upstream's ``--route-reconciliation-period``.
ROUTE_RECONCILIATION_PERIOD = 10.0
KEY = "routes"


def pod_cidrs(node: Node) -> tuple[str, ...]:
    spec = node.spec
    if spec is None:
        return ()
    if spec.pod_cidrs:
        return tuple(spec.pod_cidrs)
    return (spec.pod_cidr,) if spec.pod_cidr else ()


class RouteController:
    def __init__(self, ctx: ControllerContext, cloud: CloudProvider) -> None:
        routes = cloud.routes()
        assert routes is not None, "the route controller needs Routes"
        self.ctx = ctx
        self.routes: Routes = routes
        self.cluster_name = ctx.option("cluster-name", CLUSTER_NAME)
        self.period = duration_option(
            ctx, "route-reconciliation-period", ROUTE_RECONCILIATION_PERIOD
        )
        raw_cidr = ctx.option("cluster-cidr", "")
        self.cluster_cidrs = [
            ipaddress.ip_network(c.strip()) for c in raw_cidr.split(",") if c.strip()
        ]
        self.nodes = ctx.watch(Node, lambda _node: (KEY,))
        ctx.queue.add(KEY)

    def _ours(self, cidr: str) -> bool:
        if not self.cluster_cidrs:
            return True
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return False
        return any(
            net.version == c.version and net.subnet_of(c)  # type: ignore[arg-type]
            for c in self.cluster_cidrs
        )

    async def reconcile(self, key: str) -> Result | None:
        existing = list(await self.routes.list_routes(self.cluster_name))
        nodes = {node_name(n): n for n in self.nodes.store.list()}
        wanted = {(name, cidr) for name, n in nodes.items() for cidr in pod_cidrs(n)}
        have = {(r.target_node, r.destination_cidr) for r in existing if not r.blackhole}
        failed = False
        kept: set[tuple[str, str]] = set()
        for route in existing:
            pair = (route.target_node, route.destination_cidr)
            # A second route for a pair is a leftover too (a create that was retried).
            stale = route.blackhole or pair not in wanted or pair in kept
            if stale and self._ours(route.destination_cidr):
                log.info("deleting route %s %s", route.name, route.destination_cidr)
                await self.routes.delete_route(self.cluster_name, route)
            elif not route.blackhole:
                kept.add(pair)
        for name, node in sorted(nodes.items()):
            cidrs = pod_cidrs(node)
            for cidr in cidrs:
                if (name, cidr) in have:
                    continue
                uid = (node.metadata.uid or "") if node.metadata is not None else ""
                route = Route(
                    target_node=name,
                    destination_cidr=cidr,
                    target_node_addresses=tuple(node.status.addresses or ())
                    if node.status is not None
                    else (),
                )
                try:
                    await self.routes.create_route(self.cluster_name, uid, route)
                    have.add((name, cidr))
                    log.info("created route for node %s %s", name, cidr)
                except Exception as exc:
                    failed = True
                    log.warning("could not create route for node %s %s: %s", name, cidr, exc)
                    self.ctx.event(
                        node,
                        "Warning",
                        "FailedToCreateRoute",
                        f"Could not create route {uid} {cidr} for node {name}: {exc}",
                    )
            if cidrs:
                await self._network_condition(node, all((name, c) in have for c in cidrs))
        return requeue_after(1.0 if failed else self.period)

    async def _network_condition(self, node: Node, created: bool) -> None:
        """``NetworkUnavailable`` as upstream's updateNetworkingCondition writes it."""
        current = next(
            (
                c
                for c in (node.status.conditions or () if node.status else ())
                if c.type == "NetworkUnavailable"
            ),
            None,
        )
        status = "False" if created else "True"
        if current is not None and current.status == status:
            return
        now = format_time(time_now())
        condition = {
            "type": "NetworkUnavailable",
            "status": status,
            "reason": "RouteCreated" if created else "NoRouteCreated",
            "message": "RouteController created a route"
            if created
            else "RouteController failed to create a route",
            "lastTransitionTime": now,
            "lastHeartbeatTime": now,
        }
        try:
            await self.ctx.client.patch(
                Node,
                node_name(node),
                {"status": {"conditions": [condition]}},
                patch_type="strategic",
                subresource="status",
            )
        except Exception as exc:
            if api_code(exc) != 404:
                raise
