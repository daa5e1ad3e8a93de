"""The horizontal pod autoscaler controller (upstream pkg/controller/podautoscaler).

Registered as ``horizontal-pod-autoscaler-controller`` (``--controllers`` also accepts
``horizontalpodautoscaling``). It reads pod usage from a :class:`kframe.controller.MetricsSource`:
by default :class:`kframe.controller.KubeletSummaryMetrics`, the kubelets' ``/stats/summary``;
:func:`spec` builds the controller over another (a :class:`kframe.controller.FixedMetrics` in
tests). Options (``--option name=value``): ``horizontal-pod-autoscaler-sync-period`` (15s),
``-tolerance`` (0.1), ``-cpu-initialization-period`` (5m), ``-initial-readiness-delay`` (30s),
``-downscale-stabilization`` (5m). See docs/controllers-autoscaling-and-disruption.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import (
    ControllerContext,
    ControllerSpec,
    KubeletSummaryMetrics,
    MetricsSource,
)
from kframe.registry import hookimpl

from ._controller import HorizontalController
from ._options import parse_duration

__all__ = ["NAME", "HorizontalController", "build", "parse_duration", "spec"]

NAME = "horizontal-pod-autoscaler-controller"


def build(ctx: ControllerContext) -> HorizontalController:
    """The controller over the kubelets' Summary API."""
    return HorizontalController(ctx, KubeletSummaryMetrics(ctx.client))


def spec(metrics: MetricsSource | None = None) -> ControllerSpec:
    """The registered spec; with ``metrics``, a controller that reads that source instead."""
    factory = build if metrics is None else (lambda ctx: HorizontalController(ctx, metrics))
    # upstream --concurrent-horizontal-pod-autoscaler-syncs defaults to 5.
    return ControllerSpec(factory, workers=5, aliases=("horizontalpodautoscaling",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
