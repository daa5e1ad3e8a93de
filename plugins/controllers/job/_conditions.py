"""Job conditions: reading, making and setting them (upstream newCondition,
ensureJobConditionStatus, util.IsJobFinished)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from kframe.api.models import Job, JobCondition

__all__ = ["condition", "ensure_condition", "is_finished", "new_condition"]


def condition(job: Job, type_: str) -> JobCondition | None:
    for cond in (job.status.conditions if job.status is not None else None) or ():
        if cond.type == type_:
            return cond
    return None


def is_finished(job: Job) -> bool:
    """Complete or Failed is True (util.IsJobFinished)."""
    return any(
        (c := condition(job, t)) is not None and c.status == "True" for t in ("Complete", "Failed")
    )


def new_condition(type_: str, reason: str, message: str, now: _dt.datetime) -> JobCondition:
    return JobCondition(
        type=type_,
        status="True",
        reason=reason,
        message=message,
        last_probe_time=now,  # type: ignore[arg-type]
        last_transition_time=now,  # type: ignore[arg-type]
    )


def ensure_condition(
    conds: list[JobCondition], type_: str, status: str, reason: str, message: str, now: Any
) -> bool:
    """Set or add the condition (ensureJobConditionStatus: never add one that is False)."""
    for i, cond in enumerate(conds):
        if cond.type == type_:
            if (cond.status, cond.reason, cond.message) == (status, reason, message):
                return False
            conds[i] = attrs.evolve(new_condition(type_, reason, message, now), status=status)
            return True
    if status == "False":
        return False
    conds.append(new_condition(type_, reason, message, now))
    return True
