"""A PodDisruptionBudget's status arithmetic, as pure functions (upstream
pkg/controller/disruption/disruption.go: getExpectedPodCount, buildDisruptedPodMap,
countHealthyPods, updatePdbStatus; pkg/apis/policy/v1 helpers).

``expectedPods`` is the number of pods the budget covers: the selected pods for an integer
``minAvailable``, otherwise the sum of the scales of their controllers (a percentage needs a
denominator that does not shrink while pods are being replaced). ``desiredHealthy`` follows from
``minAvailable`` or ``maxUnavailable`` (percentages rounded up); ``currentHealthy`` counts the
Ready pods that are neither being deleted nor recently evicted (``disruptedPods``, which the API
server's eviction fills and this controller empties once the pod is gone or
``DELETION_TIMEOUT`` has passed).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence

from kframe.api import IntOrString, Time
from kframe.api.models import Condition, Pod, PodDisruptionBudget
from kframe.controller import is_pod_ready

__all__ = [
    "DELETION_TIMEOUT",
    "DISRUPTION_ALLOWED",
    "BudgetError",
    "allowed_condition",
    "count_healthy",
    "desired_healthy",
    "disrupted_pod_map",
    "disruptions_allowed",
    "needs_controller_scale",
    "scaled_value",
    "set_condition",
]

#: How long an evicted pod may take to be deleted before it counts again (DeletionTimeout).
DELETION_TIMEOUT = 2 * 60.0
DISRUPTION_ALLOWED = "DisruptionAllowed"


class BudgetError(Exception):
    """The budget's numbers cannot be computed (a bad percentage, a pod without a scale)."""


def scaled_value(value: IntOrString, total: int, *, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise BudgetError("invalid value for IntOrString: invalid type: string is not a percentage")
    try:
        percent = int(value[:-1])
    except ValueError:
        raise BudgetError(
            f'invalid value for IntOrString: invalid value "{value}": invalid syntax'
        ) from None
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def desired_healthy(
    min_available: IntOrString | None, max_unavailable: IntOrString | None, expected: int
) -> int:
    """The healthy pods the budget wants, given ``expected`` (getExpectedPodCount)."""
    if max_unavailable is not None:
        return max(0, expected - scaled_value(max_unavailable, expected, round_up=True))
    if min_available is not None:
        return scaled_value(min_available, expected, round_up=True)
    return 0


def needs_controller_scale(
    min_available: IntOrString | None, max_unavailable: IntOrString | None
) -> bool:
    """Whether ``expectedPods`` is the controllers' scale (else the count of selected pods)."""
    return max_unavailable is not None or isinstance(min_available, str)


def disrupted_pod_map(
    pods: Sequence[Pod], disrupted: Mapping[str, _dt.datetime], now: _dt.datetime
) -> tuple[dict[str, Time], _dt.datetime | None, list[Pod]]:
    """buildDisruptedPodMap: the evictions still pending (the pod exists, is not being deleted,
    and was evicted less than DELETION_TIMEOUT ago), when the earliest of them expires, and the
    pods whose eviction expired without their deletion (a NotDeleted event each)."""
    kept: dict[str, Time] = {}
    recheck: _dt.datetime | None = None
    expired: list[Pod] = []
    if not disrupted:
        return kept, recheck, expired
    for pod in pods:
        assert pod.metadata is not None
        if pod.metadata.deletion_timestamp is not None:
            continue  # being deleted: the eviction went through
        name = pod.metadata.name or ""
        when = disrupted.get(name)
        if when is None:
            continue
        deadline = when + _dt.timedelta(seconds=DELETION_TIMEOUT)
        if deadline < now:
            expired.append(pod)
        else:
            recheck = deadline if recheck is None or deadline < recheck else recheck
            kept[name] = Time(when)
    return kept, recheck, expired


def count_healthy(
    pods: Sequence[Pod], disrupted: Mapping[str, _dt.datetime], now: _dt.datetime
) -> int:
    """countHealthyPods: Ready pods neither being deleted nor evicted within the timeout."""
    healthy = 0
    for pod in pods:
        assert pod.metadata is not None
        if pod.metadata.deletion_timestamp is not None:
            continue
        when = disrupted.get(pod.metadata.name or "")
        if when is not None and when + _dt.timedelta(seconds=DELETION_TIMEOUT) > now:
            continue
        if is_pod_ready(pod):
            healthy += 1
    return healthy


def disruptions_allowed(current: int, desired: int, expected: int) -> int:
    """updatePdbStatus: none while the budget expects no pods, so that a budget whose first
    pods appear before its status is updated is safe."""
    allowed = current - desired
    return 0 if expected <= 0 or allowed <= 0 else allowed


def set_condition(
    conditions: Sequence[Condition], new: Condition, now: _dt.datetime
) -> tuple[Condition, ...]:
    """apimeta.SetStatusCondition: replace the condition of ``new.type``; the transition time
    moves only when the status changes."""
    out = list(conditions)
    for i, cond in enumerate(out):
        if cond.type == new.type:
            moved = cond.status != new.status or cond.last_transition_time is None
            out[i] = Condition(
                type=new.type,
                status=new.status,
                reason=new.reason,
                message=new.message,
                observed_generation=new.observed_generation,
                last_transition_time=Time(now) if moved else cond.last_transition_time,
            )
            return tuple(out)
    out.append(
        Condition(
            type=new.type,
            status=new.status,
            reason=new.reason,
            message=new.message,
            observed_generation=new.observed_generation,
            last_transition_time=Time(now),
        )
    )
    return tuple(out)


def allowed_condition(pdb: PodDisruptionBudget, allowed: int, generation: int | None) -> Condition:
    """UpdateDisruptionAllowedCondition's condition."""
    return Condition(
        type=DISRUPTION_ALLOWED,
        status="True" if allowed > 0 else "False",
        reason="SufficientPods" if allowed > 0 else "InsufficientPods",
        message="",
        observed_generation=generation,
    )
