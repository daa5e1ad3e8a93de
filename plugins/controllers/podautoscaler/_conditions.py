"""The HPA's status conditions as one reconcile sets them (upstream setConditionInList)."""

from __future__ import annotations

import datetime as _dt

import attrs

from kframe.api import Time
from kframe.api.models import HorizontalPodAutoscalerCondition

__all__ = ["Conditions"]


@attrs.define
class Conditions:
    """The conditions being built, from the HPA's current ones; ``now`` stamps transitions."""

    conditions: list[HorizontalPodAutoscalerCondition]
    now: _dt.datetime

    def set(self, type_: str, status: str, reason: str, message: str) -> None:
        """setCondition: a changed status moves lastTransitionTime."""
        for i, cond in enumerate(self.conditions):
            if cond.type == type_:
                moved = cond.status != status or cond.last_transition_time is None
                self.conditions[i] = attrs.evolve(
                    cond,
                    status=status,
                    reason=reason,
                    message=message,
                    last_transition_time=Time(self.now) if moved else cond.last_transition_time,
                )
                return
        self.conditions.append(
            HorizontalPodAutoscalerCondition(
                type=type_,
                status=status,
                reason=reason,
                message=message,
                last_transition_time=Time(self.now),
            )
        )
