"""The pod garbage collector's settings, from the manager's ``--option name=value``.

``terminated-pod-gc-threshold`` is kube-controller-manager's ``--terminated-pod-gc-threshold``
(12500; 0 or less turns collection of terminated pods off). Upstream fixes the check period
(``gcCheckPeriod``, 20 s) and the orphan quarantine (``quarantineTime``, 40 s) in code and
changes them only in integration tests (``NewPodGCInternal``); kframe takes them as
``pod-gc-check-period`` and ``pod-gc-quarantine-time`` (Go durations or seconds).
"""

from __future__ import annotations

import attrs

from kframe.controller import ControllerContext, parse_duration

__all__ = [
    "GC_CHECK_PERIOD",
    "QUARANTINE_TIME",
    "TERMINATED_POD_GC_THRESHOLD",
    "Options",
    "options_from",
    "parse_duration",
]

#: Upstream's gcCheckPeriod: how often the collector looks at every pod.
GC_CHECK_PERIOD = 20.0
#: Upstream's quarantineTime: how long a node missing from the informer is given to show up
#: before a live GET decides that it is gone.
QUARANTINE_TIME = 40.0
#: --terminated-pod-gc-threshold.
TERMINATED_POD_GC_THRESHOLD = 12500


@attrs.frozen
class Options:
    terminated_pod_gc_threshold: int = TERMINATED_POD_GC_THRESHOLD
    check_period: float = GC_CHECK_PERIOD
    quarantine_time: float = QUARANTINE_TIME


def options_from(ctx: ControllerContext) -> Options:
    """The options ``ctx`` was given; a bad value (or a period that is not positive, or a
    negative quarantine) is a ValueError naming the option."""
    threshold = ctx.option("terminated-pod-gc-threshold", TERMINATED_POD_GC_THRESHOLD)
    period = ctx.option("pod-gc-check-period", GC_CHECK_PERIOD, parse_duration)
    if not period > 0:
        raise ValueError(f"--option pod-gc-check-period={period:g}: must be positive")
    quarantine = ctx.option("pod-gc-quarantine-time", QUARANTINE_TIME, parse_duration)
    if quarantine < 0:
        raise ValueError(f"--option pod-gc-quarantine-time={quarantine:g}: must not be negative")
    return Options(
        terminated_pod_gc_threshold=threshold, check_period=period, quarantine_time=quarantine
    )
