"""ControllerRevisions: the template snapshots the DaemonSet and StatefulSet controllers keep
(upstream pkg/controller/history and the controllers' getPatch).

A revision's ``data`` is ``{"spec": {"template": {..., "$patch": "replace"}}}``; its name is
``<owner>-<hash>``, the hash being fnv32 of the data's JSON (map keys sorted, as Go's
``json.Marshal`` of a map writes them) plus the collision count, encoded with upstream's
``rand.SafeEncodeString`` alphabet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from kframe.api import from_dict, to_dict
from kframe.api.models import ControllerRevision, ObjectMeta, PodTemplateSpec
from kframe.client import Client
from kframe.controller._owners import new_controller_ref

__all__ = [
    "CONTROLLER_REVISION_HASH_LABEL",
    "create_controller_revision",
    "equal_revision",
    "hash_revision_data",
    "new_controller_revision",
    "next_revision",
    "revision_template",
    "sort_revisions",
    "template_patch",
]

#: apps.ControllerRevisionHashLabelKey (also DefaultDaemonSetUniqueLabelKey).
CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash"

# k8s.io/apimachinery/pkg/util/rand: no vowels, no look-alike characters.
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def _safe_encode(s: str) -> str:
    return "".join(_ALPHANUMS[b % len(_ALPHANUMS)] for b in s.encode())


def _fnv32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = (h * 0x01000193) & 0xFFFFFFFF
        h ^= b
    return h


def _go_json(data: Any) -> bytes:
    # Go's encoder escapes <, > and & (HTML-safe) and sorts map keys.
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return text.encode()


def template_patch(template: PodTemplateSpec | None) -> dict[str, Any]:
    """The revision data of a template (getPatch): a patch replacing ``spec.template``."""
    body = to_dict(template) if template is not None else {}
    return {"spec": {"template": {**body, "$patch": "replace"}}}


def hash_revision_data(data: Mapping[str, Any] | None, collision_count: int | None) -> str:
    """HashControllerRevision: fnv32 of the data, then of the collision count if set."""
    raw = _go_json(data) if data else b""
    if collision_count is not None:
        raw += str(collision_count).encode()
    return _safe_encode(str(_fnv32(raw)))


def new_controller_revision(
    owner: Any,
    template_labels: Mapping[str, str] | None,
    data: Mapping[str, Any],
    revision: int,
    collision_count: int | None,
) -> ControllerRevision:
    """NewControllerRevision: named ``<owner>-<hash>``, labelled with the hash."""
    hash_ = hash_revision_data(data, collision_count)
    meta = owner.metadata
    return ControllerRevision(
        metadata=ObjectMeta(
            name=f"{meta.name[:223]}-{hash_}",
            namespace=meta.namespace,
            labels={**(template_labels or {}), CONTROLLER_REVISION_HASH_LABEL: hash_},
            annotations=dict(meta.annotations or {}),
            owner_references=(new_controller_ref(owner),),
        ),
        data=dict(data),
        revision=revision,
    )


def equal_revision(a: ControllerRevision | None, b: ControllerRevision | None) -> bool:
    """Same data (history.EqualRevision)."""
    if a is None or b is None:
        return a is b
    return _go_json(a.data or {}) == _go_json(b.data or {})


def sort_revisions(revisions: Iterable[ControllerRevision]) -> list[ControllerRevision]:
    """By revision, then creation time, then name (history.SortControllerRevisions)."""

    def key(r: ControllerRevision) -> tuple[int, str, str]:
        meta = r.metadata
        created = meta.creation_timestamp if meta is not None else None
        return (r.revision or 0, str(created or ""), (meta.name if meta else "") or "")

    return sorted(revisions, key=key)


def next_revision(revisions: Iterable[ControllerRevision]) -> int:
    return max((r.revision or 0 for r in revisions), default=0) + 1


def revision_template(revision: ControllerRevision) -> PodTemplateSpec:
    """The template a revision holds (ApplyRevision of the replace patch)."""
    spec = (revision.data or {}).get("spec") or {}
    body = {k: v for k, v in (spec.get("template") or {}).items() if k != "$patch"}
    return from_dict(body, PodTemplateSpec)


async def create_controller_revision(
    client: Client, owner: Any, revision: ControllerRevision, collision_count: int
) -> tuple[ControllerRevision, int]:
    """CreateControllerRevision: create, renaming with a bumped collision count while another
    revision of different data holds the name; an existing equal one is returned."""
    while True:
        hash_ = hash_revision_data(revision.data, collision_count)
        meta = revision.metadata
        assert meta is not None
        name = f"{owner.metadata.name[:223]}-{hash_}"
        clone = ControllerRevision(
            metadata=ObjectMeta(
                name=name,
                namespace=meta.namespace,
                labels=meta.labels,
                annotations=meta.annotations,
                owner_references=meta.owner_references,
            ),
            data=revision.data,
            revision=revision.revision,
        )
        try:
            created = await client.create(clone, namespace=meta.namespace)
        except Exception as exc:
            if getattr(exc, "code", None) != 409:
                raise
            existing = await client.get(ControllerRevision, name, namespace=meta.namespace)
            if equal_revision(existing, clone):
                return existing, collision_count
            collision_count += 1
            continue
        return created, collision_count
