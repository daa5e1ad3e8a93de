"""The cloud-provider interface and the cloud controller manager that drives it.

Upstream ``k8s.io/cloud-provider``: a provider (:class:`CloudProvider`) registers by name
through the ``kframe_cloud_providers`` hook and is chosen with ``--cloud-provider NAME``
(``--cloud-config FILE`` is handed to its factory). The cloud controllers
(:mod:`kframe.cloud.controllers`) initialise Nodes from the cloud's instance metadata, delete
Nodes whose instance is gone, program routes for pod CIDRs and run load balancers for
Services of type LoadBalancer. See ``docs/cloud.md``.
"""

from kframe.cloud._errors import (
    CloudError,
    ImplementedElsewhere,
    InstanceNotFound,
    NotImplementedByProvider,
    RetryError,
)
from kframe.cloud._interface import (
    CloudProvider,
    InstanceMetadata,
    InstancesV2,
    LoadBalancer,
    Route,
    Routes,
    Zone,
    Zones,
)
from kframe.cloud._names import (
    ANNOTATION_PROVIDED_NODE_IP,
    LABEL_EXCLUDE_FROM_EXTERNAL_LB,
    LABEL_INSTANCE_TYPE,
    LABEL_INSTANCE_TYPE_BETA,
    LABEL_REGION,
    LABEL_REGION_BETA,
    LABEL_ZONE,
    LABEL_ZONE_BETA,
    LOAD_BALANCER_CLEANUP_FINALIZER,
    TAINT_SHUTDOWN,
    TAINT_TO_BE_DELETED,
    TAINT_UNINITIALIZED,
    default_load_balancer_name,
)
from kframe.cloud._providers import (
    CloudProviderFactory,
    CloudProviderSpec,
    CloudTestbed,
    TestbedFactory,
    as_provider_spec,
    open_cloud_provider,
    registered_cloud_providers,
)

__all__ = [
    # the interface
    "CloudProvider",
    "InstancesV2",
    "LoadBalancer",
    "Routes",
    "Zones",
    "InstanceMetadata",
    "Route",
    "Zone",
    # errors
    "CloudError",
    "ImplementedElsewhere",
    "InstanceNotFound",
    "NotImplementedByProvider",
    "RetryError",
    # registration
    "CloudProviderFactory",
    "CloudProviderSpec",
    "CloudTestbed",
    "TestbedFactory",
    "as_provider_spec",
    "open_cloud_provider",
    "registered_cloud_providers",
    # well-known names
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
    "TAINT_TO_BE_DELETED",
    "TAINT_UNINITIALIZED",
    "default_load_balancer_name",
]
