"""The disruption controller (upstream pkg/controller/disruption): PodDisruptionBudget status.

Registered as ``disruption-controller`` (``--controllers`` also accepts ``disruption``). See
docs/controllers-autoscaling-and-disruption.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._controller import DisruptionController

__all__ = ["NAME", "DisruptionController", "build"]

NAME = "disruption-controller"


def build(ctx: ControllerContext) -> DisruptionController:
    return DisruptionController(ctx)


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    # upstream runs a single disruption worker.
    return {NAME: ControllerSpec(build, workers=1, aliases=("disruption",))}
