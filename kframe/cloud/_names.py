"""Well-known taints, labels and finalizers of the cloud controllers (upstream
``k8s.io/cloud-provider/api`` and ``k8s.io/api/core/v1`` well_known_labels.go)."""

from __future__ import annotations

from kframe.api.models import Service

__all__ = [
    "ANNOTATION_PROVIDED_NODE_IP",
    "LABEL_EXCLUDE_FROM_EXTERNAL_LB",
    "LABEL_INSTANCE_TYPE",
    "LABEL_INSTANCE_TYPE_BETA",
    "LABEL_REGION",
    "LABEL_REGION_BETA",
    "LABEL_ZONE",
    "LABEL_ZONE_BETA",
    "LOAD_BALANCER_CLEANUP_FINALIZER",
    "TAINT_SHUTDOWN",
    "TAINT_UNINITIALIZED",
    "TAINT_TO_BE_DELETED",
    "default_load_balancer_name",
]

#: The kubelet registers with this NoSchedule taint when an external cloud provider is used;
#: the cloud node controller removes it once the node carries its cloud metadata.
TAINT_UNINITIALIZED = "node.cloudprovider.kubernetes.io/uninitialized"
#: The cloud node lifecycle controller's NoSchedule taint on a node whose instance is shut down.
TAINT_SHUTDOWN = "node.cloudprovider.kubernetes.io/shutdown"
#: The cluster autoscaler's taint on a node it is about to remove (left out of load balancers).
TAINT_TO_BE_DELETED = "ToBeDeletedByClusterAutoscaler"

LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type"
LABEL_INSTANCE_TYPE_BETA = "beta.kubernetes.io/instance-type"
LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_ZONE_BETA = "failure-domain.beta.kubernetes.io/zone"
LABEL_REGION = "topology.kubernetes.io/region"
LABEL_REGION_BETA = "failure-domain.beta.kubernetes.io/region"
#: A node with this label is never a load balancer backend (any value).
LABEL_EXCLUDE_FROM_EXTERNAL_LB = "node.kubernetes.io/exclude-from-external-load-balancers"
#: The kubelet's ``--node-ip``, for the node controller to pick that address from the cloud's.
ANNOTATION_PROVIDED_NODE_IP = "alpha.kubernetes.io/provided-node-ip"

#: The service controller's finalizer: a LoadBalancer Service is not removed until its cloud
#: load balancer is deleted.
LOAD_BALANCER_CLEANUP_FINALIZER = "service.kubernetes.io/load-balancer-cleanup"


def default_load_balancer_name(service: Service) -> str:
    """``"a"`` + the Service's UID without dashes, at most 32 characters (upstream's
    ``cloudprovider.DefaultLoadBalancerName``: GCE wants a leading letter, AWS 32 bytes)."""
    uid = service.metadata.uid if service.metadata is not None else None
    return ("a" + (uid or "")).replace("-", "")[:32]
