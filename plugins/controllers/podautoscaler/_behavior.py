"""Stabilization and scaling rates, as pure functions over a per-HPA history (upstream
horizontal.go: stabilizeRecommendation[WithBehaviors], convertDesiredReplicasWith{Rules,
BehaviorRate}, calculateScale{Up,Down}Limit*, storeScaleEvent).

Times are the controller clock's monotonic seconds. Recommendations are kept for the longer
stabilization window; scale events for the longest policy period.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kframe.api.models import HorizontalPodAutoscalerBehavior, HPAScalingRules

__all__ = [
    "DOWNSCALE_STABILIZATION",
    "Policy",
    "Rules",
    "ScaleEvent",
    "convert_with_behavior",
    "convert_with_rules",
    "replicas_changed_in_period",
    "rules_from",
    "scale_down_limit",
    "scale_up_limit",
    "stabilize",
    "stabilize_legacy",
]

#: ``--horizontal-pod-autoscaler-downscale-stabilization``: 5 minutes.
DOWNSCALE_STABILIZATION = 300.0
# Without a behavior, a scale-up goes to at most max(2 * current, 4) (calculateScaleUpLimit).
_SCALE_UP_LIMIT_FACTOR = 2.0
_SCALE_UP_LIMIT_MINIMUM = 4.0
_INT32_MAX = 2**31 - 1
_INT32_MIN = -(2**31)


@attrs.frozen
class Policy:
    type: str  #: Pods or Percent
    value: int
    period: float


@attrs.frozen
class Rules:
    """One direction's HPAScalingRules with upstream's defaults filled in."""

    stabilization_window: float
    select_policy: str  #: Max, Min or Disabled
    policies: tuple[Policy, ...]


_UP_POLICIES = (Policy("Pods", 4, 15), Policy("Percent", 100, 15))
_DOWN_POLICIES = (Policy("Percent", 100, 15),)


def rules_from(
    behavior: HorizontalPodAutoscalerBehavior, *, downscale_stabilization: float
) -> tuple[Rules, Rules]:
    """(scale up, scale down) rules: GenerateHPAScale{Up,Down}Rules, and the controller's
    downscale stabilization for a scaleDown without a window (maybeInitScaleDownStabilization)."""

    def one(rules: HPAScalingRules | None, window: float, defaults: tuple[Policy, ...]) -> Rules:
        if rules is None:
            return Rules(window, "Max", defaults)
        policies = tuple(
            Policy(p.type or "Pods", p.value or 0, float(p.period_seconds or 0))
            for p in rules.policies
        )
        seconds = rules.stabilization_window_seconds
        return Rules(
            float(seconds) if seconds is not None else window,
            rules.select_policy or "Max",
            policies or defaults,
        )

    return (
        one(behavior.scale_up, 0.0, _UP_POLICIES),
        one(behavior.scale_down, downscale_stabilization, _DOWN_POLICIES),
    )


@attrs.frozen
class ScaleEvent:
    change: int
    at: float


def stabilize_legacy(
    recommendations: Sequence[tuple[int, float]], desired: int, window: float, now: float
) -> int:
    """Without a behavior: the highest recommendation of the downscale window (and
    ``desired`` itself) is used (stabilizeRecommendation)."""
    cutoff = now - window
    return max([desired, *(r for r, at in recommendations if at >= cutoff)])


def stabilize(
    recommendations: Sequence[tuple[int, float]],
    desired: int,
    current: int,
    up: Rules,
    down: Rules,
    now: float,
) -> tuple[int, str, str]:
    """stabilizeRecommendationWithBehaviors: ``current`` brought within [the lowest
    recommendation of the scale-up window, the highest of the scale-down window], ``desired``
    being the newest of both; with the condition reason and message."""
    up_cutoff = now - up.stabilization_window
    down_cutoff = now - down.stabilization_window
    up_rec = down_rec = desired
    for rec, at in recommendations:
        if at > up_cutoff:
            up_rec = min(rec, up_rec)
        if at > down_cutoff:
            down_rec = max(rec, down_rec)
    recommendation = max(current, up_rec)
    recommendation = min(recommendation, down_rec)
    if desired >= current:
        return (
            recommendation,
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent "
            "recommendation",
        )
    return (
        recommendation,
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent "
        "recommendation",
    )


def replicas_changed_in_period(events: Sequence[ScaleEvent], period: float, now: float) -> int:
    """getReplicasChangePerPeriod: the replicas added (or removed) within the last ``period``."""
    cutoff = now - period
    return sum(e.change for e in events if e.at > cutoff)


def _period_start(
    current: int, ups: Sequence[ScaleEvent], downs: Sequence[ScaleEvent], period: float, now: float
) -> int:
    """The replicas at the start of the policy's period: both directions' events undone."""
    added = replicas_changed_in_period(ups, period, now)
    deleted = replicas_changed_in_period(downs, period, now)
    return current - added + deleted


def scale_up_limit(
    current: int,
    ups: Sequence[ScaleEvent],
    downs: Sequence[ScaleEvent],
    rules: Rules,
    now: float,
) -> int:
    """calculateScaleUpLimitWithScalingRules: the most replicas the policies allow now."""
    if rules.select_policy == "Disabled":
        return current
    pick = min if rules.select_policy == "Min" else max
    result = _INT32_MAX if rules.select_policy == "Min" else _INT32_MIN
    for policy in rules.policies:
        start = _period_start(current, ups, downs, policy.period, now)
        if policy.type == "Pods":
            proposed = start + policy.value
        else:
            # Rounded up, or a small target could never grow by a percentage.
            proposed = _ceil(start * (1 + policy.value / 100))
        result = pick(result, proposed)
    return result


def scale_down_limit(
    current: int,
    ups: Sequence[ScaleEvent],
    downs: Sequence[ScaleEvent],
    rules: Rules,
    now: float,
) -> int:
    """calculateScaleDownLimitWithBehaviors: the fewest replicas the policies allow now. Min
    (the smallest change) is the highest count."""
    if rules.select_policy == "Disabled":
        return current
    pick = max if rules.select_policy == "Min" else min
    result = _INT32_MIN if rules.select_policy == "Min" else _INT32_MAX
    for policy in rules.policies:
        start = _period_start(current, ups, downs, policy.period, now)
        if policy.type == "Pods":
            proposed = start - policy.value
        else:
            proposed = int(start * (1 - policy.value / 100))  # Go's int32() truncates
        result = pick(result, proposed)
    return result


def _ceil(value: float) -> int:
    whole = int(value)
    return whole + 1 if value > whole else whole


def convert_with_behavior(
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    up_limit: int,
    down_limit: int,
) -> tuple[int, str, str]:
    """convertDesiredReplicasWithBehaviorRate: ``desired`` held within the rate limits and
    [min, max]; with the ScalingLimited reason and message."""
    if desired > current:
        up_limit = max(up_limit, current)  # no further scale-up until old events expire
        if max_replicas > up_limit:
            allowed, reason = up_limit, "ScaleUpLimit"
            message = "the desired replica count is increasing faster than the maximum scale rate"
        else:
            allowed, reason = max_replicas, "TooManyReplicas"
            message = "the desired replica count is more than the maximum replica count"
        if desired > allowed:
            return allowed, reason, message
    elif desired < current:
        down_limit = min(down_limit, current)
        if min_replicas < down_limit:
            allowed, reason = down_limit, "ScaleDownLimit"
            message = "the desired replica count is decreasing faster than the maximum scale rate"
        else:
            allowed, reason = min_replicas, "TooFewReplicas"
            message = "the desired replica count is less than the minimum replica count"
        if desired < allowed:
            return allowed, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def convert_with_rules(
    current: int, desired: int, min_replicas: int, max_replicas: int
) -> tuple[int, str, str]:
    """convertDesiredReplicasWithRules (no behavior): [min, min(max, max(2*current, 4))]."""
    limit = int(max(_SCALE_UP_LIMIT_FACTOR * current, _SCALE_UP_LIMIT_MINIMUM))
    if max_replicas > limit:
        maximum, reason = limit, "ScaleUpLimit"
        message = "the desired replica count is increasing faster than the maximum scale rate"
    else:
        maximum, reason = max_replicas, "TooManyReplicas"
        message = "the desired replica count is more than the maximum replica count"
    if desired < min_replicas:
        return (
            min_replicas,
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
        )
    if desired > maximum:
        return maximum, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
