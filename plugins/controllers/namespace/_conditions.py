"""The conditions a terminating namespace reports (upstream pkg/controller/namespace/deletion,
status_condition_utils.go): each of the deleter's condition types is True with what went wrong,
or False with upstream's "ok" reason and message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from kframe.api import time_now
from kframe.api.models import NamespaceCondition, NamespaceStatus

__all__ = ["CONDITION_TYPES", "ConditionUpdater"]

#: The condition types the namespace deleter maintains, in upstream's order.
CONDITION_TYPES = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)

_OK = {
    "NamespaceDeletionDiscoveryFailure": (
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    "NamespaceDeletionGroupVersionParsingFailure": (
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    "NamespaceDeletionContentFailure": (
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentRemoved", "All content successfully removed"),
}


def _condition(type_: str, status: str, reason: str, message: str) -> NamespaceCondition:
    return NamespaceCondition(
        type=type_, status=status, reason=reason, message=message, last_transition_time=time_now()
    )


class ConditionUpdater:
    """Collects one deletion pass's failures and remainders, then folds them into a status."""

    def __init__(self) -> None:
        self._new: dict[str, NamespaceCondition] = {}
        self._content_errors: list[str] = []

    def discovery_failed(self, message: str) -> None:
        self._new["NamespaceDeletionDiscoveryFailure"] = _condition(
            "NamespaceDeletionDiscoveryFailure", "True", "DiscoveryFailed", message
        )

    def content_failed(self, error: Exception) -> None:
        self._content_errors.append(str(error))

    def content_totals(self, remaining: Mapping[str, int], finalizers: Mapping[str, int]) -> None:
        """``remaining``: ``resource.group`` -> instances left; ``finalizers``: finalizer ->
        instances it holds."""
        left = sorted(f"{r} has {n} resource instances" for r, n in remaining.items() if n)
        if left:
            self._new["NamespaceContentRemaining"] = _condition(
                "NamespaceContentRemaining",
                "True",
                "SomeResourcesRemain",
                f"Some resources are remaining: {', '.join(left)}",
            )
        held = sorted(f"{f} in {n} resource instances" for f, n in finalizers.items() if n)
        if held:
            self._new["NamespaceFinalizersRemaining"] = _condition(
                "NamespaceFinalizersRemaining",
                "True",
                "SomeFinalizerRemain",
                f"Some finalizers are remaining: {', '.join(held)}",
            )

    def update(self, status: NamespaceStatus | None) -> NamespaceStatus | None:
        """``status`` with every condition type set; None when nothing changed."""
        if "NamespaceDeletionContentFailure" not in self._new and self._content_errors:
            errors = sorted(self._content_errors)
            self._new["NamespaceDeletionContentFailure"] = _condition(
                "NamespaceDeletionContentFailure",
                "True",
                "ContentDeletionFailed",
                f"Failed to delete all resource types, {len(errors)} remaining: "
                + ", ".join(errors),
            )
        status = status if status is not None else NamespaceStatus()
        conditions = list(status.conditions)
        changed = False
        for type_ in CONDITION_TYPES:
            new = self._new.get(type_) or _condition(type_, "False", *_OK[type_])
            index = _find(conditions, type_)
            if index is None:
                conditions.append(new)
                changed = True
                continue
            old = conditions[index]
            if (old.status, old.reason, old.message) != (new.status, new.reason, new.message):
                # upstream: the transition time moves only when the status does.
                when = new.last_transition_time if old.status != new.status else None
                conditions[index] = attrs.evolve(
                    old,
                    status=new.status,
                    reason=new.reason,
                    message=new.message,
                    last_transition_time=when or old.last_transition_time,
                )
                changed = True
        return attrs.evolve(status, conditions=tuple(conditions)) if changed else None


def _find(conditions: Iterable[NamespaceCondition], type_: str) -> int | None:
    for i, condition in enumerate(conditions):
        if condition.type == type_:
            return i
    return None
