"""The Endpoints controller (upstream pkg/controller/endpoint).

Registered as ``endpoints-controller`` (``--controllers`` also accepts ``endpoint``): every
Service with a selector gets a v1 Endpoints of the same name, its pods' addresses (ready and
not ready) grouped by port. See docs/controllers-networking-and-nodes.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._controller import CONTROLLER_NAME, LABEL_MANAGED_BY, OVER_CAPACITY, EndpointsController
from ._subsets import MAX_CAPACITY, repack, service_subsets

__all__ = [
    "CONTROLLER_NAME",
    "LABEL_MANAGED_BY",
    "MAX_CAPACITY",
    "NAME",
    "OVER_CAPACITY",
    "EndpointsController",
    "build",
    "repack",
    "service_subsets",
    "spec",
]

NAME = "endpoints-controller"


def build(ctx: ControllerContext) -> EndpointsController:
    return EndpointsController(ctx)


def spec() -> ControllerSpec:
    # upstream --concurrent-endpoint-syncs defaults to 5.
    return ControllerSpec(build, workers=5, aliases=("endpoint",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
