"""The cloud controllers and the cloud controller manager that runs them.

Core machinery, as upstream's ``k8s.io/cloud-provider/controllers``: they drive whichever
provider ``--cloud-provider`` names. :func:`cloud_controller_specs` builds them for a provider
(for :class:`~kframe.controller.ControllerManager`, or a test's ``control_plane(specs=...)``);
:class:`CloudControllerManager` runs them behind the Lease
``kube-system/cloud-controller-manager``. Settings are ``--option`` values: ``cluster-name``
(kubernetes), ``node-monitor-period`` (5s), ``node-status-update-frequency`` (5m),
``route-reconciliation-period`` (10s), ``node-sync-period`` (100s), ``cluster-cidr``.
"""

from kframe.cloud.controllers._lifecycle import CloudNodeLifecycleController
from kframe.cloud.controllers._manager import (
    CLOUD_NODE,
    CLOUD_NODE_LIFECYCLE,
    LEASE_NAME,
    NODE_ROUTE,
    SERVICE_LB,
    CloudControllerManager,
    cloud_controller_specs,
)
from kframe.cloud.controllers._node import CloudNodeController, node_addresses, node_labels
from kframe.cloud.controllers._route import RouteController, pod_cidrs
from kframe.cloud.controllers._service import (
    ServiceController,
    is_backend,
    needs_cleanup,
    wants_load_balancer,
)

__all__ = [
    "CLOUD_NODE",
    "CLOUD_NODE_LIFECYCLE",
    "LEASE_NAME",
    "NODE_ROUTE",
    "SERVICE_LB",
    "CloudControllerManager",
    "cloud_controller_specs",
    "CloudNodeController",
    "CloudNodeLifecycleController",
    "RouteController",
    "ServiceController",
    "is_backend",
    "needs_cleanup",
    "node_addresses",
    "node_labels",
    "pod_cidrs",
    "wants_load_balancer",
]
