"""The EndpointSlice controller (upstream pkg/controller/endpointslice and the staging
k8s.io/endpointslice reconciler).

Registered as ``endpointslice-controller`` (``--controllers`` also accepts ``endpointslice``):
every Service with a selector gets ``discovery.k8s.io/v1`` EndpointSlices of its pods, at most
``--option max-endpoints-per-slice`` (100) endpoints each. See
docs/controllers-networking-and-nodes.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._controller import EndpointSliceController
from ._reconciler import (
    CONTROLLER_NAME,
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    MAX_ENDPOINTS_PER_SLICE,
    Plan,
    plan,
)

__all__ = [
    "CONTROLLER_NAME",
    "LABEL_MANAGED_BY",
    "LABEL_SERVICE_NAME",
    "MAX_ENDPOINTS_PER_SLICE",
    "NAME",
    "EndpointSliceController",
    "Plan",
    "build",
    "plan",
    "spec",
]

NAME = "endpointslice-controller"


def build(ctx: ControllerContext) -> EndpointSliceController:
    return EndpointSliceController(ctx)


def spec() -> ControllerSpec:
    # upstream --concurrent-service-endpoint-syncs defaults to 5.
    return ControllerSpec(build, workers=5, aliases=("endpointslice",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
