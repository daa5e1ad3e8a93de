"""The job controller (upstream pkg/controller/job) and the TTL-after-finished loop.

Registered as ``job-controller`` (``--controllers`` also accepts ``job``), 5 workers as
upstream's ``--concurrent-job-syncs``. It runs a Job's pods to ``completions`` (NonIndexed or
Indexed), ``parallelism`` at a time, with the 10 s doubling pod-failure backoff, the backoff
limit (global or per index), the active deadline, ``podFailurePolicy``, ``successPolicy`` and
suspend, counting finished pods through the ``batch.kubernetes.io/job-tracking`` finalizer and
``status.uncountedTerminatedPods``; it adopts matching orphan pods. Options
(``--option name=value``): ``job-pod-failure-backoff`` (10s), ``job-pod-failure-max-backoff``
(6m). Also registered: ``ttl-after-finished-controller`` (alias ``ttl-after-finished``), which
deletes finished Jobs ``ttlSecondsAfterFinished`` after they finished. See
docs/controllers-batch.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._controller import JobController, is_finished
from ._indexes import COMPLETION_INDEX, format_indexes, parse_indexes
from ._podfacts import TRACKING_FINALIZER
from ._template import (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from ._ttl import TTLAfterFinishedController, expire_time

__all__ = [
    "COMPLETION_INDEX",
    "CONTROLLER_UID_LABEL",
    "JOB_NAME_LABEL",
    "LEGACY_CONTROLLER_UID_LABEL",
    "LEGACY_JOB_NAME_LABEL",
    "NAME",
    "TRACKING_FINALIZER",
    "JobController",
    "TTL_NAME",
    "TTLAfterFinishedController",
    "expire_time",
    "build",
    "format_indexes",
    "is_finished",
    "parse_indexes",
    "spec",
    "ttl_spec",
]

NAME = "job-controller"
TTL_NAME = "ttl-after-finished-controller"


def build(ctx: ControllerContext) -> JobController:
    return JobController(ctx)


def spec() -> ControllerSpec:
    # upstream --concurrent-job-syncs defaults to 5.
    return ControllerSpec(build, workers=5, aliases=("job",))


def ttl_spec() -> ControllerSpec:
    # upstream --concurrent-ttl-after-finished-syncs defaults to 5.
    return ControllerSpec(TTLAfterFinishedController, workers=5, aliases=("ttl-after-finished",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec(), TTL_NAME: ttl_spec()}
