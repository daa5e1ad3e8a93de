"""The pod-template-hash: how a Deployment names its ReplicaSets and tells them apart (upstream
controller_utils.go ``ComputeHash``, apimachinery ``rand.SafeEncodeString``, deployment util
``EqualIgnoreHash``).

Upstream hashes ``spew``'s dump of the Go struct; kframe hashes the canonical JSON of the
template instead (sorted keys, no spaces), so names differ from a real cluster's for the same
template but are as stable: the same template and collision count always give the same name.
"""

from __future__ import annotations

import json
import struct
import weakref
from typing import Any

from kframe.api import to_dict
from kframe.api.models import PodTemplateSpec

__all__ = [
    "POD_TEMPLATE_HASH_LABEL",
    "SAFE_ALPHANUMS",
    "compute_hash",
    "equal_ignore_hash",
    "fnv32a",
    "safe_encode_string",
    "template_json",
]

#: apps.DefaultDeploymentUniqueLabelKey
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
#: rand.alphanums: no vowels, no 0/1/3 (nothing spells a word, nothing looks alike).
SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def fnv32a(data: bytes, seed: int = _FNV32_OFFSET) -> int:
    """FNV-1a, 32 bits (Go's ``hash/fnv.New32a``); ``seed`` continues an earlier sum."""
    h = seed
    for byte in data:
        h = ((h ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode_string(text: str) -> str:
    """rand.SafeEncodeString: each character mapped into the safe alphabet by its code."""
    return "".join(SAFE_ALPHANUMS[ord(ch) % len(SAFE_ALPHANUMS)] for ch in text)


def template_json(template: PodTemplateSpec | None) -> bytes:
    """The bytes hashed for a template: its JSON with sorted keys and no spaces."""
    data = to_dict(template) if template is not None else {}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(template: PodTemplateSpec | None, collision_count: int | None) -> str:
    """controller.ComputeHash: FNV-32a of the template, then of the collision count (written
    as 8 bytes, the low 4 little-endian, as upstream), its decimal sum safely encoded."""
    h = fnv32a(template_json(template))
    if collision_count is not None:
        h = fnv32a(struct.pack("<I", collision_count & 0xFFFFFFFF) + b"\0\0\0\0", h)
    return safe_encode_string(str(h))


def _prune(value: Any) -> Any:
    """Empty maps and lists dropped: Semantic.DeepEqual holds nil and empty equal."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in ({}, [], None)}
    if isinstance(value, list | tuple):
        return [_prune(v) for v in value]
    return value


#: id(template) -> (a weak reference to it, its comparable form). Templates come from the
#: informers' caches, where the same object stays until its owner changes, and every sync
#: compares the Deployment's template with each of its ReplicaSets'.
_COMPARABLE: dict[int, tuple[weakref.ref[PodTemplateSpec], Any]] = {}
_COMPARABLE_MAX = 4096


def _without_hash(template: PodTemplateSpec | None) -> Any:
    if template is None:
        return {}
    cached = _COMPARABLE.get(id(template))
    if cached is not None and cached[0]() is template:
        return cached[1]
    data = to_dict(template)
    labels = (data.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    comparable = _prune(data)
    if len(_COMPARABLE) >= _COMPARABLE_MAX:
        _COMPARABLE.clear()
    _COMPARABLE[id(template)] = (weakref.ref(template), comparable)
    return comparable


def equal_ignore_hash(a: PodTemplateSpec | None, b: PodTemplateSpec | None) -> bool:
    """EqualIgnoreHash: the templates are equal but for the pod-template-hash label."""
    return bool(_without_hash(a) == _without_hash(b))
