"""Finding and making a Deployment's new ReplicaSet (upstream sync.go ``getNewReplicaSet``,
deployment util ``FindNewReplicaSet``/``FindOldReplicaSets``).

The new ReplicaSet is the (oldest) one whose template equals the Deployment's but for the
pod-template-hash label; every other owned ReplicaSet is old. A ReplicaSet that is made is named
``<deployment>-<hash>`` and carries the hash in its labels, selector and template labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kframe.api.models import (
    Deployment,
    LabelSelector,
    ObjectMeta,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetSpec,
)
from kframe.controller import new_controller_ref

from ._annotations import new_replica_set_annotations
from ._hash import POD_TEMPLATE_HASH_LABEL, compute_hash, equal_ignore_hash
from ._replicas import by_creation, deployment_replicas, max_surge, new_rs_new_replicas

__all__ = ["find_new_replica_set", "find_old_replica_sets", "make_new_replica_set"]


def _uid(obj: object) -> str | None:
    meta = getattr(obj, "metadata", None)
    return meta.uid if meta is not None else None


def find_new_replica_set(d: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """FindNewReplicaSet: the oldest ReplicaSet with the Deployment's template (there can be
    more than one after an upgrade, kubernetes#40415)."""
    template = d.spec.template if d.spec is not None else None
    for rs in by_creation(rss):
        if equal_ignore_hash(rs.spec.template if rs.spec is not None else None, template):
            return rs
    return None


def find_old_replica_sets(d: Deployment, rss: Sequence[ReplicaSet]) -> list[ReplicaSet]:
    """FindOldReplicaSets' second list: every ReplicaSet but the new one."""
    new = find_new_replica_set(d, rss)
    new_uid = _uid(new) if new is not None else None
    return [rs for rs in rss if new is None or _uid(rs) != new_uid]


def make_new_replica_set(
    d: Deployment, old_rss: Sequence[ReplicaSet], new_revision: int
) -> ReplicaSet:
    """The ReplicaSet getNewReplicaSet creates: named by the template's hash (with the
    Deployment's collisionCount), owned by the Deployment, sized by NewRSNewReplicas, with
    the Deployment's annotations, the revision and the replicas annotations."""
    assert d.metadata is not None and d.spec is not None
    template = d.spec.template or PodTemplateSpec()
    collision = d.status.collision_count if d.status is not None else None
    hash_ = compute_hash(template, collision)
    tmeta = template.metadata or ObjectMeta()
    labels = {**(tmeta.labels or {}), POD_TEMPLATE_HASH_LABEL: hash_}
    selector = d.spec.selector or LabelSelector()
    rs = ReplicaSet(
        metadata=ObjectMeta(
            name=f"{d.metadata.name}-{hash_}",
            namespace=d.metadata.namespace,
            owner_references=(new_controller_ref(d),),
            labels=labels,
        ),
        spec=ReplicaSetSpec(
            replicas=0,
            min_ready_seconds=d.spec.min_ready_seconds,
            selector=attrs.evolve(
                selector,
                match_labels={**(selector.match_labels or {}), POD_TEMPLATE_HASH_LABEL: hash_},
            ),
            template=attrs.evolve(template, metadata=attrs.evolve(tmeta, labels=labels)),
        ),
    )
    replicas = new_rs_new_replicas(d, [*old_rss, rs], rs)
    desired = deployment_replicas(d)
    annotations, _ = new_replica_set_annotations(
        d.metadata.annotations or {},
        {},
        new_revision,
        exists=False,
        desired=desired,
        max_replicas=desired + max_surge(d),
    )
    assert rs.metadata is not None and rs.spec is not None
    return attrs.evolve(
        rs,
        metadata=attrs.evolve(rs.metadata, annotations=annotations),
        spec=attrs.evolve(rs.spec, replicas=replicas),
    )
