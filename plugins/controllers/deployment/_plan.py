"""What a sync of a Deployment does to its ReplicaSets, as plans of scale steps (upstream
rolling.go ``reconcileNewReplicaSet``/``reconcileOldReplicaSets``, sync.go ``scale``,
``isScalingEvent``, ``cleanupDeployment``, recreate.go ``oldPodsRunning``).

Pure: each function takes the ReplicaSets as the informer shows them and returns the steps;
the controller applies them in order (``_controller.DeploymentController._apply``). The
property tests drive the same functions against a simulated ReplicaSet controller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from kframe.api.models import Deployment, Pod, ReplicaSet, ReplicaSetSpec

from ._annotations import DESIRED_REPLICAS_ANNOTATION, int_annotation
from ._replicas import (
    MAX_INT32,
    by_creation,
    by_size_newer,
    by_size_older,
    deployment_replicas,
    filter_active,
    find_active_or_latest,
    is_rolling_update,
    is_saturated,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    replica_count,
    replica_set_proportion,
    rs_replicas,
    status_replicas,
)

__all__ = [
    "ScaleStep",
    "cleanup_candidates",
    "is_scaling_event",
    "old_pods_running",
    "plan_new_replica_set",
    "plan_old_replica_sets",
    "plan_proportional_scale",
    "plan_rolling",
    "with_replicas",
]


@attrs.frozen
class ScaleStep:
    """Scale ``rs`` to ``replicas``. ``operation`` None: skip when the size is already right
    (scaleReplicaSetAndRecordEvent); ``"up"``/``"down"``/``""``: write also when only the
    replicas annotations are stale (scaleReplicaSet in a proportional scale)."""

    rs: ReplicaSet
    replicas: int
    operation: str | None = None


def with_replicas(rs: ReplicaSet, replicas: int) -> ReplicaSet:
    spec = rs.spec if rs.spec is not None else ReplicaSetSpec()
    return attrs.evolve(rs, spec=attrs.evolve(spec, replicas=replicas))


def _available(rs: ReplicaSet) -> int:
    """status.availableReplicas, but never more than spec.replicas. Not upstream, which reads
    the status as is: right after a scale-down the status still counts the pods about to go,
    and a sync in between would scale down again for them (past maxUnavailable). The
    ReplicaSet controller deletes unavailable pods first, so this is what stays available."""
    available = (rs.status.available_replicas or 0) if rs.status is not None else 0
    return min(available, rs_replicas(rs))


def plan_new_replica_set(
    d: Deployment, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet
) -> ScaleStep | None:
    """reconcileNewReplicaSet: scale the new ReplicaSet down to spec.replicas if above, else
    up as far as NewRSNewReplicas allows. None: nothing to do."""
    replicas = deployment_replicas(d)
    current = rs_replicas(new_rs)
    if current == replicas:
        return None
    target = replicas if current > replicas else new_rs_new_replicas(d, all_rss, new_rs)
    return None if target == current else ScaleStep(new_rs, target)


def plan_old_replica_sets(
    d: Deployment, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], new_rs: ReplicaSet
) -> list[ScaleStep]:
    """reconcileOldReplicaSets over the active old ReplicaSets: first their unhealthy replicas
    (cleanupUnhealthyReplicas), then down to what availability allows
    (scaleDownOldReplicaSetsForRollingUpdate)."""
    if replica_count(old_rss) == 0:
        return []
    all_pods = replica_count(all_rss)
    min_avail = deployment_replicas(d) - max_unavailable(d)
    new_unavailable = rs_replicas(new_rs) - _available(new_rs)
    # Unavailable pods of the new ReplicaSet count against the budget too, so that a
    # crash-looping new template never makes the old ones shrink further.
    max_scaled_down = all_pods - min_avail - new_unavailable
    if max_scaled_down <= 0:
        return []
    steps: list[ScaleStep] = []
    olds = by_creation(old_rss)
    cleaned = 0
    for i, rs in enumerate(olds):
        if cleaned >= max_scaled_down:
            break
        size = rs_replicas(rs)
        if size == 0 or size == _available(rs):
            continue
        count = min(max_scaled_down - cleaned, size - _available(rs))
        steps.append(ScaleStep(rs, size - count))
        olds[i] = with_replicas(rs, size - count)
        cleaned += count
    available = sum(_available(rs) for rs in [*olds, new_rs])
    if available <= min_avail:
        return steps
    to_scale = available - min_avail
    scaled = 0
    for rs in by_creation(olds):
        if scaled >= to_scale:
            break
        size = rs_replicas(rs)
        if size == 0:
            continue
        count = min(size, to_scale - scaled)
        steps.append(ScaleStep(rs, size - count))
        scaled += count
    return steps


def plan_rolling(
    d: Deployment, new_rs: ReplicaSet, old_rss: Sequence[ReplicaSet]
) -> tuple[str, list[ScaleStep]]:
    """One step of rolloutRolling: ``("new", [step])`` when the new ReplicaSet is resized
    (grows, or shrinks to spec.replicas), ``("old", steps)`` when old ones shrink, ``("", [])``
    when nothing moves (the rollout waits for availability, or is complete)."""
    all_rss = [*old_rss, new_rs]
    step = plan_new_replica_set(d, all_rss, new_rs)
    if step is not None:
        return "new", [step]
    steps = plan_old_replica_sets(d, all_rss, filter_active(old_rss), new_rs)
    return ("old", steps) if steps else ("", [])


def plan_proportional_scale(
    d: Deployment, new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]
) -> list[ScaleStep]:
    """scale(): the sizes on a scaling event or while paused. One active ReplicaSet takes all
    of spec.replicas; a saturated new one means the old ones go to 0; otherwise (RollingUpdate)
    the replicas to add or remove are spread over the active ReplicaSets in proportion to their
    sizes, leftovers to the largest (scaling up: newer first among equals; down: older)."""
    replicas = deployment_replicas(d)
    only = find_active_or_latest(new_rs, old_rss)
    if only is not None:
        return [] if rs_replicas(only) == replicas else [ScaleStep(only, replicas)]
    if is_saturated(d, new_rs):
        return [ScaleStep(rs, 0) for rs in filter_active(old_rss)]
    if not is_rolling_update(d):
        return []
    active = filter_active([*old_rss, new_rs])
    allowed = replicas + max_surge(d) if replicas > 0 else 0
    to_add = allowed - replica_count(active)
    operation = ""
    if to_add > 0:
        active = by_size_newer(active)
        operation = "up"
    elif to_add < 0:
        active = by_size_older(active)
        operation = "down"
    added = 0
    sizes: list[int] = []
    for rs in active:
        if to_add != 0:
            proportion = replica_set_proportion(rs, d, to_add, added)
            sizes.append(rs_replicas(rs) + proportion)
            added += proportion
        else:
            sizes.append(rs_replicas(rs))
    if active and to_add != 0:
        sizes[0] = max(0, sizes[0] + to_add - added)
    return [ScaleStep(rs, size, operation) for rs, size in zip(active, sizes, strict=True)]


def is_scaling_event(
    d: Deployment, new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]
) -> bool:
    """isScalingEvent: an active ReplicaSet was last scaled for another spec.replicas."""
    replicas = deployment_replicas(d)
    for rs in filter_active([*old_rss, new_rs]):
        desired = int_annotation(rs, DESIRED_REPLICAS_ANNOTATION)
        if desired is not None and desired != replicas:
            return True
    return False


def cleanup_candidates(d: Deployment, old_rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """cleanupDeployment: the oldest old ReplicaSets past revisionHistoryLimit (by revision,
    then age) that are fully scaled down and observed so (never one with pods or a newer
    spec its controller has not seen, never one being deleted)."""
    limit = d.spec.revision_history_limit if d.spec is not None else None
    if limit is None or limit == MAX_INT32:
        return []
    alive = [rs for rs in old_rss if rs.metadata is None or rs.metadata.deletion_timestamp is None]
    diff = len(alive) - limit
    if diff <= 0:
        return []
    out = []
    for rs in _by_revision(alive)[:diff]:
        generation = (rs.metadata.generation if rs.metadata is not None else None) or 0
        observed = (rs.status.observed_generation if rs.status is not None else None) or 0
        if status_replicas(rs) != 0 or rs_replicas(rs) != 0 or generation > observed:
            continue
        out.append(rs)
    return out


def _by_revision(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """ReplicaSetsByRevision: by revision; equal (or unparsable) by creation."""
    from ._annotations import revision

    def key(rs: ReplicaSet) -> int:
        try:
            return revision(rs)
        except ValueError:
            return -1

    return sorted(by_creation(rss), key=key)


def old_pods_running(
    new_rs: ReplicaSet | None,
    old_rss: Sequence[ReplicaSet],
    pods_by_rs: Mapping[str, Sequence[Pod]],
) -> bool:
    """oldPodsRunning: an old ReplicaSet reports pods, or a pod of one is not finished
    (Pending, Running, Unknown: a Recreate waits for all of them)."""
    if sum(status_replicas(rs) for rs in old_rss) > 0:
        return True
    new_uid = new_rs.metadata.uid if new_rs is not None and new_rs.metadata is not None else None
    for uid, pods in pods_by_rs.items():
        if new_uid is not None and uid == new_uid:
            continue
        for pod in pods:
            phase = pod.status.phase if pod.status is not None else None
            if phase not in ("Failed", "Succeeded"):
                return True
    return False
