"""A StatefulSet pod's identity and storage (upstream stateful_set_utils.go): ordinal names,
the pod-name and pod-index labels, hostname and subdomain, and the claims of its
volumeClaimTemplates."""

from __future__ import annotations

import re
from typing import Any

import attrs

from kframe.api.models import (
    ObjectMeta,
    PersistentVolumeClaim,
    PersistentVolumeClaimVolumeSource,
    Pod,
    StatefulSet,
    Volume,
)
from kframe.controller import CONTROLLER_REVISION_HASH_LABEL, is_pod_ready, pod_from_template

__all__ = [
    "POD_INDEX_LABEL",
    "POD_NAME_LABEL",
    "claim_name",
    "claims_for",
    "identity_matches",
    "is_healthy",
    "is_running_and_ready",
    "new_pod",
    "ordinal",
    "parent_name",
    "pod_revision",
    "start_ordinal",
    "storage_matches",
]

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"

_NAME = re.compile(r"^(.*)-([0-9]+)$")


def _parse(pod: Pod) -> tuple[str, int]:
    match = _NAME.match((pod.metadata.name if pod.metadata else None) or "")
    if match is None:
        return "", -1
    return match.group(1), int(match.group(2))


def parent_name(pod: Pod) -> str:
    return _parse(pod)[0]


def ordinal(pod: Pod) -> int:
    """The ordinal in the pod's name, -1 when it has none."""
    return _parse(pod)[1]


def start_ordinal(sts: StatefulSet) -> int:
    ordinals = sts.spec.ordinals if sts.spec is not None else None
    return (ordinals.start or 0) if ordinals is not None else 0


def pod_revision(pod: Pod) -> str:
    labels = (pod.metadata.labels if pod.metadata else None) or {}
    return str(labels.get(CONTROLLER_REVISION_HASH_LABEL, ""))


def claim_name(template: PersistentVolumeClaim, sts: StatefulSet, ordinal_: int) -> str:
    return f"{template.metadata.name if template.metadata else ''}-{_name(sts)}-{ordinal_}"


def _name(obj: Any) -> str:
    return str(obj.metadata.name)


def claims_for(sts: StatefulSet, ordinal_: int) -> list[tuple[str, PersistentVolumeClaim]]:
    """getPersistentVolumeClaims: (template name, claim) for each volumeClaimTemplate, the
    claim labelled with the set's matchLabels."""
    spec = sts.spec
    assert spec is not None and sts.metadata is not None
    match_labels = (spec.selector.match_labels if spec.selector else None) or {}
    out = []
    for template in spec.volume_claim_templates or ():
        tmeta = template.metadata or ObjectMeta()
        meta = attrs.evolve(
            tmeta,
            name=claim_name(template, sts, ordinal_),
            namespace=sts.metadata.namespace,
            labels={**(tmeta.labels or {}), **match_labels},
        )
        out.append((tmeta.name or "", attrs.evolve(template, metadata=meta, status=None)))
    return out


def _with_storage(sts: StatefulSet, pod: Pod, ordinal_: int) -> Pod:
    """updateStorage: a PVC volume per claim template, replacing the template's same-named
    volume."""
    claims = claims_for(sts, ordinal_)
    names = {n for n, _ in claims}
    volumes = [
        Volume(
            name=n,
            persistent_volume_claim=PersistentVolumeClaimVolumeSource(claim_name=_name(c)),
        )
        for n, c in claims
    ]
    assert pod.spec is not None
    volumes += [v for v in pod.spec.volumes or () if v.name not in names]
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, volumes=tuple(volumes)))


def new_pod(sts: StatefulSet, ordinal_: int, revision: str) -> Pod:
    """newStatefulSetPod at ``revision``: ``<set>-<ordinal>``, its identity labels, hostname
    and subdomain, and storage."""
    name = f"{_name(sts)}-{ordinal_}"
    assert sts.spec is not None
    pod = pod_from_template(
        sts.spec.template,
        sts,
        name=name,
        extra_labels={
            POD_NAME_LABEL: name,
            POD_INDEX_LABEL: str(ordinal_),
            CONTROLLER_REVISION_HASH_LABEL: revision,
        },
    )
    assert pod.spec is not None
    pod = attrs.evolve(
        pod,
        spec=attrs.evolve(pod.spec, hostname=name, subdomain=sts.spec.service_name or None),
    )
    return _with_storage(sts, pod, ordinal_)


def identity_matches(sts: StatefulSet, pod: Pod) -> bool:
    parent, ord_ = _parse(pod)
    labels = (pod.metadata.labels if pod.metadata else None) or {}
    return (
        ord_ >= 0
        and parent == _name(sts)
        and pod.metadata is not None
        and pod.metadata.namespace == sts.metadata.namespace  # type: ignore[union-attr]
        and labels.get(POD_NAME_LABEL) == pod.metadata.name
        and labels.get(POD_INDEX_LABEL) == str(ord_)
    )


def storage_matches(sts: StatefulSet, pod: Pod) -> bool:
    ord_ = ordinal(pod)
    if ord_ < 0 or pod.spec is None:
        return False
    volumes = {v.name: v for v in pod.spec.volumes or ()}
    for template in sts.spec.volume_claim_templates or ():  # type: ignore[union-attr]
        volume = volumes.get(template.metadata.name if template.metadata else None)
        source = volume.persistent_volume_claim if volume is not None else None
        if source is None or source.claim_name != claim_name(template, sts, ord_):
            return False
    return True


def fix_identity(sts: StatefulSet, pod: Pod) -> Pod:
    """updateIdentity plus updateStorage for a pod whose labels or volumes drifted."""
    ord_ = ordinal(pod)
    assert pod.metadata is not None
    labels = {
        **(pod.metadata.labels or {}),
        POD_NAME_LABEL: _name(pod),
        POD_INDEX_LABEL: str(ord_),
    }
    pod = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, labels=labels))
    return _with_storage(sts, pod, ord_) if not storage_matches(sts, pod) else pod


def phase(pod: Pod) -> str:
    return str((pod.status.phase if pod.status is not None else None) or "")


def is_running_and_ready(pod: Pod) -> bool:
    return phase(pod) == "Running" and is_pod_ready(pod)


def terminating(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def is_healthy(pod: Pod) -> bool:
    return is_running_and_ready(pod) and not terminating(pod)
