"""Replica arithmetic of a Deployment over its ReplicaSets (upstream deployment util:
``ResolveFenceposts``, ``MaxSurge``, ``MaxUnavailable``, ``NewRSNewReplicas``, ``GetProportion``,
``IsSaturated``, ``FindActiveOrLatest`` and the replica counts; controller_utils' orderings).

Pure functions over the models; the rollout planner and the controller call them.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Sequence

from kframe.api.models import Deployment, ReplicaSet

from ._annotations import DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, int_annotation

__all__ = [
    "MAX_INT32",
    "actual_count",
    "available_count",
    "by_creation",
    "by_size_newer",
    "by_size_older",
    "deployment_replicas",
    "filter_active",
    "find_active_or_latest",
    "is_rolling_update",
    "is_saturated",
    "max_surge",
    "max_unavailable",
    "min_available",
    "new_rs_new_replicas",
    "ready_count",
    "replica_count",
    "replica_set_fraction",
    "replica_set_proportion",
    "resolve_fenceposts",
    "round_half_away",
    "rs_replicas",
    "scaled_value",
    "status_replicas",
    "strategy_type",
]

MAX_INT32 = 2**31 - 1
_EPOCH = _dt.datetime.min.replace(tzinfo=_dt.UTC)


def scaled_value(value: int | str, total: int, *, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent. A bad value raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%"):
        raise ValueError(f"invalid type: string is not a percentage: {value!r}")
    percent = int(text[:-1])
    scaled = percent * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def resolve_fenceposts(
    max_surge_value: int | str | None, max_unavailable_value: int | str | None, desired: int
) -> tuple[int, int]:
    """ResolveFenceposts: (surge rounded up, unavailable rounded down); missing values are 0,
    and both 0 makes unavailable 1 (a surge may be blocked by quota, unavailability is not)."""
    surge = scaled_value(0 if max_surge_value is None else max_surge_value, desired, round_up=True)
    unavailable = scaled_value(
        0 if max_unavailable_value is None else max_unavailable_value, desired, round_up=False
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def strategy_type(d: Deployment) -> str:
    strategy = d.spec.strategy if d.spec is not None else None
    return (strategy.type if strategy is not None else None) or "RollingUpdate"


def is_rolling_update(d: Deployment) -> bool:
    return strategy_type(d) == "RollingUpdate"


def deployment_replicas(d: Deployment) -> int:
    """spec.replicas (the API server defaults it to 1)."""
    replicas = d.spec.replicas if d.spec is not None else None
    return 1 if replicas is None else replicas


def rs_replicas(rs: ReplicaSet | None) -> int:
    if rs is None or rs.spec is None:
        return 0
    return 1 if rs.spec.replicas is None else rs.spec.replicas


def status_replicas(rs: ReplicaSet | None) -> int:
    return (rs.status.replicas or 0) if rs is not None and rs.status is not None else 0


def _fenceposts(d: Deployment) -> tuple[int, int]:
    strategy = d.spec.strategy if d.spec is not None else None
    rolling = strategy.rolling_update if strategy is not None else None
    # The API server defaults both to 25%; an object that skipped defaulting gets the same.
    surge = "25%" if rolling is None or rolling.max_surge is None else rolling.max_surge
    unavailable = (
        "25%" if rolling is None or rolling.max_unavailable is None else rolling.max_unavailable
    )
    return resolve_fenceposts(surge, unavailable, deployment_replicas(d))


def max_surge(d: Deployment) -> int:
    """MaxSurge: 0 unless RollingUpdate."""
    return _fenceposts(d)[0] if is_rolling_update(d) else 0


def max_unavailable(d: Deployment) -> int:
    """MaxUnavailable: 0 unless RollingUpdate or with 0 replicas; at most spec.replicas."""
    replicas = deployment_replicas(d)
    if not is_rolling_update(d) or replicas == 0:
        return 0
    return min(_fenceposts(d)[1], replicas)


def min_available(d: Deployment) -> int:
    return deployment_replicas(d) - max_unavailable(d) if is_rolling_update(d) else 0


def replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetReplicaCountForReplicaSets: the sum of spec.replicas."""
    return sum(rs_replicas(rs) for rs in rss if rs is not None)


def actual_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetActualReplicaCountForReplicaSets: the sum of status.replicas."""
    return sum(status_replicas(rs) for rs in rss if rs is not None)


def ready_count(rss: Iterable[ReplicaSet | None]) -> int:
    return sum(
        (rs.status.ready_replicas or 0) for rs in rss if rs is not None and rs.status is not None
    )


def available_count(rss: Iterable[ReplicaSet | None]) -> int:
    return sum(
        (rs.status.available_replicas or 0)
        for rs in rss
        if rs is not None and rs.status is not None
    )


def new_rs_new_replicas(
    d: Deployment, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet
) -> int:
    """NewRSNewReplicas: how far the new ReplicaSet may grow now. RollingUpdate: up to
    replicas + maxSurge pods in all, never past spec.replicas; Recreate: spec.replicas."""
    replicas = deployment_replicas(d)
    kind = strategy_type(d)
    if kind == "Recreate":
        return replicas
    if kind != "RollingUpdate":
        raise ValueError(f"deployment type {kind} isn't supported")
    max_total = replicas + _fenceposts(d)[0]
    current = replica_count(all_rss)
    if current >= max_total:
        return rs_replicas(new_rs)
    scale_up = min(max_total - current, replicas - rs_replicas(new_rs))
    return rs_replicas(new_rs) + scale_up


def is_saturated(d: Deployment, rs: ReplicaSet | None) -> bool:
    """IsSaturated: the ReplicaSet holds all of spec.replicas, was scaled for them, and all
    are available."""
    if rs is None:
        return False
    desired = int_annotation(rs, DESIRED_REPLICAS_ANNOTATION)
    if desired is None:
        return False
    replicas = deployment_replicas(d)
    available = (rs.status.available_replicas or 0) if rs.status is not None else 0
    return rs_replicas(rs) == replicas and desired == replicas and available == replicas


def filter_active(rss: Iterable[ReplicaSet | None]) -> list[ReplicaSet]:
    """FilterActiveReplicaSets: those with spec.replicas > 0."""
    return [rs for rs in rss if rs is not None and rs_replicas(rs) > 0]


def _created(rs: ReplicaSet) -> tuple[_dt.datetime, str]:
    meta = rs.metadata
    ts = meta.creation_timestamp if meta is not None else None
    return (ts or _EPOCH, (meta.name if meta is not None else None) or "")


def by_creation(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """ReplicaSetsByCreationTimestamp: oldest first, then by name."""
    return sorted(rss, key=_created)


def by_size_older(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """ReplicaSetsBySizeOlder: largest first; of equal size, the older first."""
    return sorted(by_creation(rss), key=lambda rs: -rs_replicas(rs))


def by_size_newer(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """ReplicaSetsBySizeNewer: largest first; of equal size, the newer first."""
    return sorted(list(reversed(by_creation(rss))), key=lambda rs: -rs_replicas(rs))


def find_active_or_latest(
    new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]
) -> ReplicaSet | None:
    """FindActiveOrLatest: the only active ReplicaSet; with none active, the new one (else
    the newest old one); None when several are active (they scale proportionally)."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(by_creation(old_rss)))
    active = filter_active([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    return active[0] if len(active) == 1 else None


def round_half_away(value: float) -> int:
    """integer.RoundToInt32 (math.Round: halves away from zero)."""
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def replica_set_fraction(rs: ReplicaSet, d: Deployment) -> int:
    """getReplicaSetFraction: how many replicas ``rs`` gains (or loses) when the Deployment's
    size changes, in proportion to the size it was last scaled for (max-replicas)."""
    replicas = deployment_replicas(d)
    if replicas == 0:
        return -rs_replicas(rs)
    deployment_total = replicas + max_surge(d)
    annotated = int_annotation(rs, MAX_REPLICAS_ANNOTATION)
    if not annotated:
        # Missing (or zeroed by a third party): the current size stands in; no size at all
        # is no basis for a proportion.
        annotated = (d.status.replicas or 0) if d.status is not None else 0
    if annotated <= 0:
        return 0
    return round_half_away(rs_replicas(rs) * deployment_total / annotated) - rs_replicas(rs)


def replica_set_proportion(rs: ReplicaSet | None, d: Deployment, to_add: int, added: int) -> int:
    """GetProportion: ``rs``'s share of ``to_add``, never past what is left of it."""
    if rs is None or rs_replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)
