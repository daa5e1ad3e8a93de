"""The DaemonSet's rolling update and status arithmetic (upstream daemon/update.go,
daemon/util), pure functions over the pods grouped by node."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from kframe.api.models import DaemonSet, Pod
from kframe.controller import CONTROLLER_REVISION_HASH_LABEL, is_pod_available


def _name(obj: Any) -> str:
    return str(obj.metadata.name)


__all__ = [
    "TEMPLATE_GENERATION_LABEL",
    "find_updated_pods",
    "is_pod_updated",
    "no_surge_deletions",
    "rolling_counts",
    "scaled_value",
    "surge_plan",
]

#: extensions.DaemonSetTemplateGenerationKey
TEMPLATE_GENERATION_LABEL = "pod-template-generation"


def scaled_value(value: int | str | None, total: int, default: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent, rounding up."""
    if value is None:
        return default
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%"):
        return int(text)
    return math.ceil(int(text[:-1]) * total / 100)


def rolling_counts(ds: DaemonSet, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) of updatedDesiredNodeCounts: an impossible 0/0 is 0/1."""
    strategy = ds.spec.update_strategy if ds.spec is not None else None
    rolling = strategy.rolling_update if strategy is not None else None
    surge = scaled_value(rolling.max_surge if rolling else None, desired, 0)
    unavailable = scaled_value(rolling.max_unavailable if rolling else None, desired, 1)
    if desired > 0 and surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def is_pod_updated(pod: Pod, hash_: str, generation: int | None) -> bool:
    """util.IsPodUpdated: the revision hash or the template generation matches."""
    labels = (pod.metadata.labels if pod.metadata is not None else None) or {}
    template = generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == str(generation)
    return template or (bool(hash_) and labels.get(CONTROLLER_REVISION_HASH_LABEL) == hash_)


def find_updated_pods(
    pods: Sequence[Pod], hash_: str, generation: int | None
) -> tuple[Pod | None, Pod | None, bool]:
    """findUpdatedPodsOnNode: (new, old, ok); not ok when a node has two of either."""
    new: Pod | None = None
    old: Pod | None = None
    for pod in pods:
        if pod.metadata is not None and pod.metadata.deletion_timestamp is not None:
            continue
        if is_pod_updated(pod, hash_, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def no_surge_deletions(
    by_node: Mapping[str, Sequence[Pod]],
    hash_: str,
    generation: int | None,
    max_unavailable: int,
    min_ready: int,
    now: _dt.datetime,
) -> list[str]:
    """The old pods to delete with maxSurge 0: every unavailable old pod, and available ones
    while fewer than maxUnavailable pods are unavailable (the manage loop recreates them)."""
    unavailable = 0
    replacements: list[str] = []
    candidates: list[str] = []
    for node in sorted(by_node):
        new, old, ok = find_updated_pods(by_node[node], hash_, generation)
        if not ok or (old is None) == (new is None):
            unavailable += 1
        elif new is not None:
            if not is_pod_available(new, min_ready, now):
                unavailable += 1
        elif old is not None:
            if not is_pod_available(old, min_ready, now):
                replacements.append(_name(old))
                unavailable += 1
            elif unavailable < max_unavailable:
                candidates.append(_name(old))
    remaining = min(max(0, max_unavailable - unavailable), len(candidates))
    return replacements + candidates[:remaining]


def surge_plan(
    by_node: Mapping[str, Sequence[Pod]],
    hash_: str,
    generation: int | None,
    max_surge: int,
    min_ready: int,
    now: _dt.datetime,
    should_run: Mapping[str, bool],
) -> tuple[list[str], list[str]]:
    """(old pods to delete, nodes to create a new pod on) with maxSurge > 0: a new pod beside
    each unavailable old one, up to maxSurge beside available ones, and an old pod deleted once
    the new pod on its node is available."""
    to_delete: list[str] = []
    allowed: list[str] = []
    candidates: list[str] = []
    surge = 0
    for node in sorted(by_node):
        new, old, ok = find_updated_pods(by_node[node], hash_, generation)
        if not ok:
            surge += 1
            continue
        if old is None:
            continue
        old_name = _name(old)
        if new is None:
            if not is_pod_available(old, min_ready, now):
                if not should_run.get(node, False):
                    to_delete.append(old_name)
                    continue
                allowed.append(node)
            elif surge < max_surge:
                candidates.append(node)
            continue
        if not is_pod_available(new, min_ready, now):
            surge += 1
            continue
        to_delete.append(old_name)
    remaining = min(max(0, max_surge - surge), len(candidates))
    return to_delete, allowed + candidates[:remaining]
