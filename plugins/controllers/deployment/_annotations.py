"""The annotations a Deployment keeps on its ReplicaSets and on itself (upstream deployment util
``SetNewReplicaSetAnnotations``, ``SetReplicasAnnotations``, ``MaxRevision``).

``deployment.kubernetes.io/revision`` orders a Deployment's ReplicaSets (``kubectl rollout
history`` and ``undo`` read it); ``desired-replicas`` and ``max-replicas`` record the size of the
Deployment each ReplicaSet was last scaled for, which tells a scaling event from a rollout and
gives the proportions of a proportional scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ANNOTATIONS_TO_SKIP",
    "DESIRED_REPLICAS_ANNOTATION",
    "LAST_APPLIED_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "MAX_REV_HISTORY_LENGTH_IN_CHARS",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "ROLLBACK_TO_ANNOTATION",
    "int_annotation",
    "max_revision",
    "new_replica_set_annotations",
    "replicas_annotations",
    "replicas_annotations_need_update",
    "revision",
]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
#: apps.DeprecatedRollbackTo (extensions/v1beta1's rollbackTo, kept as an annotation).
ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
#: sync.go maxRevHistoryLengthInChars: the revision-history keeps about the last 100.
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000

#: Never copied from the Deployment to its ReplicaSets (annotationsToSkip).
ANNOTATIONS_TO_SKIP = frozenset(
    {
        LAST_APPLIED_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        ROLLBACK_TO_ANNOTATION,
    }
)


def _annotations(obj: Any) -> Mapping[str, str]:
    meta = getattr(obj, "metadata", None)
    return (meta.annotations if meta is not None else None) or {}


def revision(obj: Any) -> int:
    """The revision annotation as a number; 0 when missing. A value that does not parse
    raises ValueError (upstream's ``Revision`` returns the parse error)."""
    raw = _annotations(obj).get(REVISION_ANNOTATION)
    return 0 if raw is None else int(raw)


def max_revision(replica_sets: Iterable[Any]) -> int:
    """MaxRevision: the highest revision; unparsable ones are skipped."""
    best = 0
    for rs in replica_sets:
        try:
            best = max(best, revision(rs))
        except ValueError:
            continue
    return best


def int_annotation(obj: Any, key: str) -> int | None:
    """getIntFromAnnotation: the annotation as an int, None when missing or not a number."""
    raw = _annotations(obj).get(key)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def replicas_annotations(
    annotations: Mapping[str, str], desired: int, max_replicas: int
) -> dict[str, str]:
    """SetReplicasAnnotations: ``annotations`` with desired-replicas and max-replicas set."""
    return {
        **annotations,
        DESIRED_REPLICAS_ANNOTATION: str(desired),
        MAX_REPLICAS_ANNOTATION: str(max_replicas),
    }


def replicas_annotations_need_update(rs: Any, desired: int, max_replicas: int) -> bool:
    have = _annotations(rs)
    return have.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or have.get(
        MAX_REPLICAS_ANNOTATION
    ) != str(max_replicas)


def new_replica_set_annotations(
    deployment_annotations: Mapping[str, str],
    rs_annotations: Mapping[str, str],
    new_revision: int,
    *,
    exists: bool,
    desired: int,
    max_replicas: int,
    history_limit: int = MAX_REV_HISTORY_LENGTH_IN_CHARS,
) -> tuple[dict[str, str], bool]:
    """SetNewReplicaSetAnnotations: the new ReplicaSet's annotations and whether they changed.

    The Deployment's annotations are copied (but those in :data:`ANNOTATIONS_TO_SKIP`); the
    revision goes up to ``new_revision`` if lower, and a ReplicaSet that had a revision (an old
    one that is new again, a rollback) records the one it gives up in the revision-history.
    A ReplicaSet about to be created gets desired-replicas and max-replicas too.
    """
    out = dict(rs_annotations)
    changed = False
    for key, value in deployment_annotations.items():
        if key in ANNOTATIONS_TO_SKIP or out.get(key) == value:
            continue
        out[key] = value
        changed = True
    old_raw = out.get(REVISION_ANNOTATION)
    if old_raw is None:
        old = 0
    else:
        try:
            old = int(old_raw)
        except ValueError:
            # Upstream: "Updating replica set revision OldRevision not int": leave it.
            return dict(rs_annotations), False
    if old < new_revision:
        out[REVISION_ANNOTATION] = str(new_revision)
        changed = True
        if old_raw is not None:
            history = out.get(REVISION_HISTORY_ANNOTATION, "")
            if not history:
                out[REVISION_HISTORY_ANNOTATION] = old_raw
            else:
                revisions = history.split(",")
                total = len(history) + len(old_raw) + 1
                start = 0
                while total > history_limit and start < len(revisions):
                    total -= len(revisions[start]) + 1
                    start += 1
                if total <= history_limit:
                    out[REVISION_HISTORY_ANNOTATION] = ",".join([*revisions[start:], old_raw])
    if not exists:
        before = dict(out)
        out = replicas_annotations(out, desired, max_replicas)
        changed = changed or out != before
    return out, changed
