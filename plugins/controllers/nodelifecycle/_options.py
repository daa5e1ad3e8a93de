"""The node lifecycle controller's options (kube-controller-manager's ``--node-monitor-*``
flags), read from the manager's ``--option name=value`` settings as Go durations."""

from __future__ import annotations

import attrs

from kframe.controller import ControllerContext, parse_duration

__all__ = [
    "NODE_MONITOR_GRACE_PERIOD",
    "NODE_MONITOR_PERIOD",
    "NODE_STARTUP_GRACE_PERIOD",
    "Options",
    "options_from",
    "parse_go_duration",
]

#: --node-monitor-period.
NODE_MONITOR_PERIOD = 5.0
#: --node-monitor-grace-period: 50 s since 1.32 (kubernetes#126287; 40 s before).
NODE_MONITOR_GRACE_PERIOD = 50.0
#: --node-startup-grace-period.
NODE_STARTUP_GRACE_PERIOD = 60.0

parse_go_duration = parse_duration  # (the name this module always exported)


@attrs.frozen
class Options:
    monitor_period: float = NODE_MONITOR_PERIOD
    monitor_grace_period: float = NODE_MONITOR_GRACE_PERIOD
    startup_grace_period: float = NODE_STARTUP_GRACE_PERIOD


def options_from(ctx: ControllerContext) -> Options:
    """The options ``ctx`` was given; a bad or non-positive value is a ValueError naming it."""

    def duration(name: str, default: float) -> float:
        value = ctx.option(name, default, parse_go_duration)
        if not value > 0:
            raise ValueError(f"--option {name}={ctx.options.get(name)}: must be positive")
        return value

    return Options(
        monitor_period=duration("node-monitor-period", NODE_MONITOR_PERIOD),
        monitor_grace_period=duration("node-monitor-grace-period", NODE_MONITOR_GRACE_PERIOD),
        startup_grace_period=duration("node-startup-grace-period", NODE_STARTUP_GRACE_PERIOD),
    )
