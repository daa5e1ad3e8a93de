"""Object metadata rules shared by every resource: names, uids, timestamps, versions.

Objects travel through the API server as JSON-shaped dicts; these helpers apply Kubernetes'
metadata semantics (k8s.io/apiserver/pkg/registry/rest: BeforeCreate, BeforeUpdate).
"""

from __future__ import annotations

import copy as _copy
import datetime as _dt
import random
import uuid
from typing import Any

from kframe.api import format_time, is_dns1123_subdomain, time_now
from kframe.apiserver._errors import Cause

__all__ = [
    "deadline_rfc3339",
    "generate_name",
    "metadata",
    "name_causes",
    "now_rfc3339",
    "stamp_create",
]

# Upstream's generateName alphabet: no vowels (no words) and no easily confused characters.
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj["metadata"]``, created empty if missing."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


def now_rfc3339() -> str:
    """The current time as a metav1.Time string (UTC, whole seconds); ``format_time`` keeps
    its last answer, so the text is made once a second."""
    return format_time(time_now())


def deadline_rfc3339(seconds: int) -> str:
    """``now + seconds`` as a metav1.Time string (a graceful deletion's deadline)."""
    return format_time(time_now() + _dt.timedelta(seconds=seconds))


def generate_name(prefix: str) -> str:
    # Upstream trims the prefix so prefix + 5 characters fits 63.
    return prefix[: 63 - 5] + "".join(random.choices(_ALPHABET, k=5))


def name_causes(name: str, *, validator: Any = is_dns1123_subdomain) -> list[Cause]:
    return [Cause("metadata.name", f'Invalid value: "{name}": {m}') for m in validator(name)]


def stamp_create(obj: dict[str, Any], *, copy: bool = True) -> dict[str, Any]:
    """Set what the server owns on create: uid, creationTimestamp; clear what it ignores.
    On a deep copy of ``obj``, or with ``copy=False`` on ``obj`` itself."""
    if copy:
        obj = _copy.deepcopy(obj)
    meta = metadata(obj)
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now_rfc3339()
    for server_owned in (
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ):
        meta.pop(server_owned, None)
    return obj
