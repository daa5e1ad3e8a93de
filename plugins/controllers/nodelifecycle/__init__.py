"""The node lifecycle controller (upstream pkg/controller/nodelifecycle, with the taint
eviction of pkg/controller/tainteviction).

Registered as ``node-lifecycle-controller`` (``--controllers`` also accepts ``nodelifecycle``):
watches node heartbeats (the Ready condition and the node Lease), marks silent nodes Unknown
after ``--option node-monitor-grace-period`` (50s), taints nodes by their conditions, and
evicts the pods that do not tolerate a node's NoExecute taints. See
docs/controllers-networking-and-nodes.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._controller import NodeLifecycleController, min_toleration_seconds
from ._options import (
    NODE_MONITOR_GRACE_PERIOD,
    NODE_MONITOR_PERIOD,
    NODE_STARTUP_GRACE_PERIOD,
    parse_go_duration,
)
from ._taints import NOT_READY, UNREACHABLE

__all__ = [
    "NAME",
    "NODE_MONITOR_GRACE_PERIOD",
    "NODE_MONITOR_PERIOD",
    "NODE_STARTUP_GRACE_PERIOD",
    "NOT_READY",
    "UNREACHABLE",
    "NodeLifecycleController",
    "build",
    "min_toleration_seconds",
    "parse_go_duration",
    "spec",
]

NAME = "node-lifecycle-controller"


def build(ctx: ControllerContext) -> NodeLifecycleController:
    return NodeLifecycleController(ctx)


def spec() -> ControllerSpec:
    # upstream: one health loop and a handful of taint workers; the queue here carries node
    # taint syncs and pod evictions.
    return ControllerSpec(build, workers=4, aliases=("nodelifecycle",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
