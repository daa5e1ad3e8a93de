"""The HPA controller's options (kube-controller-manager's ``--horizontal-pod-autoscaler-*``
flags), read from the manager's ``--option name=value`` settings."""

from __future__ import annotations

import attrs

from kframe.controller import ControllerContext, parse_duration

from ._behavior import DOWNSCALE_STABILIZATION
from ._replicas import CPU_INITIALIZATION_PERIOD, INITIAL_READINESS_DELAY, TOLERANCE

__all__ = ["SYNC_PERIOD", "Options", "options_from", "parse_duration"]

#: ``--horizontal-pod-autoscaler-sync-period``.
SYNC_PERIOD = 15.0


@attrs.frozen
class Options:
    sync_period: float = SYNC_PERIOD
    tolerance: float = TOLERANCE
    cpu_initialization_period: float = CPU_INITIALIZATION_PERIOD
    initial_readiness_delay: float = INITIAL_READINESS_DELAY
    downscale_stabilization: float = DOWNSCALE_STABILIZATION


def options_from(ctx: ControllerContext) -> Options:
    """The options ``ctx`` was given; a bad value is a ValueError naming the option."""

    def duration(name: str, default: float, *, positive: bool = False) -> float:
        value = ctx.option(f"horizontal-pod-autoscaler-{name}", default, parse_duration)
        if value < 0 or (positive and value == 0):
            raise ValueError(_bad(ctx, name, "positive" if positive else "zero or more"))
        return value

    tolerance = ctx.option("horizontal-pod-autoscaler-tolerance", TOLERANCE)
    if tolerance < 0:
        raise ValueError(_bad(ctx, "tolerance", "zero or more"))
    return Options(
        sync_period=duration("sync-period", SYNC_PERIOD, positive=True),
        tolerance=tolerance,
        cpu_initialization_period=duration("cpu-initialization-period", CPU_INITIALIZATION_PERIOD),
        initial_readiness_delay=duration("initial-readiness-delay", INITIAL_READINESS_DELAY),
        downscale_stabilization=duration("downscale-stabilization", DOWNSCALE_STABILIZATION),
    )


def _bad(ctx: ControllerContext, name: str, must: str) -> str:
    option = f"horizontal-pod-autoscaler-{name}"
    return f"--option {option}={ctx.options.get(option)}: must be {must}"
