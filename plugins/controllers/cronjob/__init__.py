"""The CronJob controller (upstream pkg/controller/cronjob, cronjob_controllerv2.go).

Registered as ``cronjob-controller`` (``--controllers`` also accepts ``cronjob``), 5 workers as
upstream's ``--concurrent-cron-job-syncs``. Schedules are parsed by :mod:`._cron` (robfig/cron
``ParseStandard`` rules, ``timeZone`` through zoneinfo); Jobs are named
``<cronjob>-<scheduled minutes since the epoch>`` and annotated with
``batch.kubernetes.io/cronjob-scheduled-timestamp``. :func:`spec` with ``now`` builds the
controller over another wall clock (tests start a minute's schedule at once). See
docs/controllers-batch.md.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._controller import (
    NEXT_SCHEDULE_DELTA,
    SCHEDULED_TIMESTAMP,
    CronJobController,
    job_name,
    most_recent_schedule_time,
    next_schedule_delay,
)
from ._cron import CronError, EverySchedule, Schedule, SpecSchedule, parse_schedule

__all__ = [
    "NAME",
    "NEXT_SCHEDULE_DELTA",
    "SCHEDULED_TIMESTAMP",
    "CronError",
    "CronJobController",
    "EverySchedule",
    "Schedule",
    "SpecSchedule",
    "build",
    "job_name",
    "most_recent_schedule_time",
    "next_schedule_delay",
    "parse_schedule",
    "spec",
]

NAME = "cronjob-controller"


def build(ctx: ControllerContext) -> CronJobController:
    return CronJobController(ctx)


def spec(now: Callable[[], _dt.datetime] | None = None) -> ControllerSpec:
    """The registered spec; with ``now``, a controller reading that wall clock."""
    factory = build if now is None else (lambda ctx: CronJobController(ctx, now))
    # upstream --concurrent-cron-job-syncs defaults to 5.
    return ControllerSpec(factory, workers=5, aliases=("cronjob",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
