"""The cloud controller manager (upstream ``k8s.io/cloud-provider/app``): the cloud
controllers of one provider on the controller framework, behind their own Lease."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from kframe.client import Client, Clock
from kframe.cloud._interface import CloudProvider
from kframe.cloud.controllers._lifecycle import CloudNodeLifecycleController
from kframe.cloud.controllers._node import CloudNodeController
from kframe.cloud.controllers._route import RouteController
from kframe.cloud.controllers._service import ServiceController
from kframe.controller import (
    Controller,
    ControllerContext,
    ControllerFactory,
    ControllerManager,
    ControllerSpec,
    LeaderElection,
)

__all__ = [
    "CLOUD_NODE",
    "CLOUD_NODE_LIFECYCLE",
    "LEASE_NAME",
    "NODE_ROUTE",
    "SERVICE_LB",
    "CloudControllerManager",
    "cloud_controller_specs",
]

#: Upstream's ``--leader-elect-resource-name`` default for the cloud controller manager.
LEASE_NAME = "cloud-controller-manager"

# Upstream's controller names (cloud-provider app/controllermanager.go), with the older
# short names ``--controllers`` also accepts.
CLOUD_NODE = "cloud-node-controller"
CLOUD_NODE_LIFECYCLE = "cloud-node-lifecycle-controller"
SERVICE_LB = "service-lb-controller"
NODE_ROUTE = "node-route-controller"


def cloud_controller_specs(cloud: CloudProvider) -> dict[str, ControllerSpec]:
    """The controllers ``cloud`` supports: the node controllers need InstancesV2, the service
    controller LoadBalancer, the route controller Routes (upstream starts a controller only
    when the provider offers what it drives)."""

    def bind(
        cls: Callable[[ControllerContext, CloudProvider], Controller], component: str
    ) -> ControllerFactory:
        def build(ctx: ControllerContext) -> Controller:
            # Upstream's event source names (record.EventSource{Component: ...}).
            ctx.component = ctx.recorder.component = component
            return cls(ctx, cloud)

        return build

    specs: dict[str, ControllerSpec] = {}
    if cloud.instances_v2() is not None:
        specs[CLOUD_NODE] = ControllerSpec(
            bind(CloudNodeController, "cloud-node-controller"), aliases=("cloud-node",)
        )
        specs[CLOUD_NODE_LIFECYCLE] = ControllerSpec(
            bind(CloudNodeLifecycleController, "cloud-node-lifecycle-controller"),
            aliases=("cloud-node-lifecycle",),
        )
    if cloud.load_balancer() is not None:
        specs[SERVICE_LB] = ControllerSpec(
            bind(ServiceController, "service-controller"), aliases=("service",)
        )
    if cloud.routes() is not None:
        specs[NODE_ROUTE] = ControllerSpec(
            bind(RouteController, "route_controller"), aliases=("route",)
        )
    return specs


class CloudControllerManager(ControllerManager):
    """A :class:`~kframe.controller.ControllerManager` over :func:`cloud_controller_specs`.

    Leader election defaults to the Lease ``kube-system/cloud-controller-manager``. Each term
    of leadership calls the provider's ``initialize`` before the controllers start and its
    ``close`` after they stop (upstream initialises the cloud in startControllers, inside the
    leader-elected run), so only the leader holds the provider's resources.
    """

    def __init__(
        self,
        client: Client,
        cloud: CloudProvider,
        *,
        controllers: Sequence[str] = ("*",),
        options: Mapping[str, str] | None = None,
        workers: Mapping[str, int] | None = None,
        clock: Clock | None = None,
        leader_election: LeaderElection | None = None,
        election_clock: Clock | None = None,
    ) -> None:
        super().__init__(
            client,
            cloud_controller_specs(cloud),
            controllers=controllers,
            options=options,
            workers=workers,
            clock=clock,
            leader_election=leader_election,
            election_clock=election_clock,
        )
        self.cloud = cloud

    async def _run_controllers(self) -> None:
        await self.cloud.initialize(self.client)
        try:
            await super()._run_controllers()
        finally:
            await self.cloud.close()
