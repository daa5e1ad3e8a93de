"""The field values field selectors match, per resource (upstream's ``*ToSelectableFields``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


def object_fields(
    resource: Resource, obj: dict[str, Any], only: Iterable[str] | None = None
) -> dict[str, str]:
    """``{"metadata.name": ..., "metadata.namespace": ..., "spec.nodeName": ...}``; with
    ``only``, just those of these fields (what a selector's requirements name)."""
    if only is not None:
        fields: dict[str, str] = {}
        for field in only:
            getter = _getter(resource, field)
            if getter is not None:
                fields[field] = getter(obj)
        return fields
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": _text(meta.get("name"))}
    if resource.namespaced:
        fields["metadata.namespace"] = _text(meta.get("namespace"))
    for field in resource.field_selectors:
        special = _SPECIAL.get((resource.plural, field))
        value = special(obj) if special else _at(obj, tuple(field.split(".")))
        fields[field] = _text(value)
    return fields


# (plural, namespaced, field) -> how the field's text is read, None if it is not selectable.
_GETTERS: dict[tuple[str, bool, str], Callable[[dict[str, Any]], str] | None] = {}


def _getter(resource: Resource, field: str) -> Callable[[dict[str, Any]], str] | None:
    key = (resource.plural, resource.namespaced, field)
    try:
        return _GETTERS[key]
    except KeyError:
        pass
    getter: Callable[[dict[str, Any]], str] | None = None
    if field == "metadata.name" or (field == "metadata.namespace" and resource.namespaced):
        part = field.split(".")[1]

        def getter(obj: dict[str, Any]) -> str:
            return _text((obj.get("metadata") or {}).get(part))

    elif field in resource.field_selectors:
        special = _SPECIAL.get((resource.plural, field))
        path = tuple(field.split("."))

        def getter(obj: dict[str, Any]) -> str:
            return _text(special(obj) if special else _at(obj, path))

    _GETTERS[key] = getter
    return getter
