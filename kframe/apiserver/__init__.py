"""The API server: Kubernetes' REST API over the Store, as kubectl and the client libraries expect.

It serves the resources in ``kframe.apiserver._resources`` with upstream's discovery documents,
verbs, watch, field and label selectors, server-side tables and ``Status`` errors.
"""

from kframe.apiserver._admission import (
    DEFAULT_ADMISSION_PLUGINS,
    AdmissionChain,
    AdmissionContext,
    AdmissionRequest,
    MutatingAdmission,
    ValidatingAdmission,
)
from kframe.apiserver._errors import APIError, Cause
from kframe.apiserver._resources import RESOURCES, Resource, by_kind, by_plural
from kframe.apiserver._server import KUBERNETES_VERSION, APIServer
from kframe.apiserver._service_alloc import (
    DEFAULT_NODE_PORT_RANGE,
    DEFAULT_SERVICE_CIDR,
    ServiceAllocator,
)
from kframe.apiserver._storage import ListOptions, ObjectStorage, WatchEvent

__all__ = [
    "DEFAULT_ADMISSION_PLUGINS",
    "DEFAULT_NODE_PORT_RANGE",
    "DEFAULT_SERVICE_CIDR",
    "AdmissionChain",
    "AdmissionContext",
    "AdmissionRequest",
    "MutatingAdmission",
    "ValidatingAdmission",
    "KUBERNETES_VERSION",
    "RESOURCES",
    "APIError",
    "APIServer",
    "Cause",
    "ListOptions",
    "ObjectStorage",
    "Resource",
    "ServiceAllocator",
    "WatchEvent",
    "by_kind",
    "by_plural",
]
