"""The pod garbage collector controller (upstream pkg/controller/podgc, gc_controller.go).

Registered as ``pod-garbage-collector-controller`` (``--controllers`` also accepts ``podgc``):
every ``pod-gc-check-period`` (20 s) it deletes terminated pods beyond
``--option terminated-pod-gc-threshold`` (12500), and force-deletes pods whose node is gone,
terminating pods on out-of-service nodes and terminating pods never scheduled. See
docs/controllers-lifecycle.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._controller import (
    DELETION_BY_POD_GC,
    OUT_OF_SERVICE_TAINT,
    PodGCController,
    deletion_order,
    is_terminated,
    terminated_to_delete,
)
from ._options import (
    GC_CHECK_PERIOD,
    QUARANTINE_TIME,
    TERMINATED_POD_GC_THRESHOLD,
    Options,
    options_from,
    parse_duration,
)

__all__ = [
    "DELETION_BY_POD_GC",
    "GC_CHECK_PERIOD",
    "NAME",
    "OUT_OF_SERVICE_TAINT",
    "Options",
    "PodGCController",
    "QUARANTINE_TIME",
    "TERMINATED_POD_GC_THRESHOLD",
    "build",
    "deletion_order",
    "is_terminated",
    "options_from",
    "parse_duration",
    "spec",
    "terminated_to_delete",
]

NAME = "pod-garbage-collector-controller"


def build(ctx: ControllerContext) -> PodGCController:
    return PodGCController(ctx)


def spec() -> ControllerSpec:
    # upstream runs one loop; the work queue stays empty.
    return ControllerSpec(build, workers=1, aliases=("podgc",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
