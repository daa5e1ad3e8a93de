"""The field values field selectors match, per resource (upstream's ``*ToSelectableFields``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kframe.apiserver._resources import Resource

__all__ = ["object_fields"]


def _first_pod_ip(pod: dict[str, Any]) -> Any:
    ips = (pod.get("status") or {}).get("podIPs") or []
    return ips[0].get("ip") if ips and isinstance(ips[0], dict) else None


# Selectable fields whose value is not simply the object's value at that path (upstream's
# ToSelectableFields functions format these specially).
_SPECIAL: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
    ("events", "source"): lambda o: _at(o, ("source", "component")),
    ("jobs", "status.successful"): lambda o: _at(o, ("status", "succeeded")) or 0,
    ("replicasets", "status.replicas"): lambda o: _at(o, ("status", "replicas")) or 0,
    ("pods", "spec.hostNetwork"): lambda o: bool(_at(o, ("spec", "hostNetwork"))),
    ("nodes", "spec.unschedulable"): lambda o: bool(_at(o, ("spec", "unschedulable"))),
    ("pods", "status.podIP"): _first_pod_ip,
    ("pods", "status.podIPs"): lambda o: None,  # selectable upstream, but never has a value
}


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _text(value: Any) -> str:
    # Go formats these with strconv/fmt: booleans as true/false, missing values as "".
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def object_fields(resource: Resource, obj: dict[str, Any]) -> dict[str, str]:
    """``{"metadata.name": ..., "metadata.namespace": ..., "spec.nodeName": ...}``."""
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": _text(meta.get("name"))}
    if resource.namespaced:
        fields["metadata.namespace"] = _text(meta.get("namespace"))
    for field in resource.field_selectors:
        special = _SPECIAL.get((resource.plural, field))
        value = special(obj) if special else _at(obj, tuple(field.split(".")))
        fields[field] = _text(value)
    return fields
