"""Server-side Table output (``meta.k8s.io/v1 Table``), which ``kubectl get`` asks for."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable
from typing import Any

from kframe.api import parse_time
from kframe.apiserver import _cells
from kframe.apiserver._resources import PRINT_COLUMNS, Resource

__all__ = ["age", "table"]

Cells = Callable[[dict[str, Any]], dict[str, Any]]


def age(timestamp: str | None, now: _dt.datetime | None = None) -> str:
    """A duration as kubectl shows it (``45s``, ``3m12s``, ``5h``, ``12d``), from upstream's
    HumanDuration."""
    if not timestamp:
        return "<unknown>"
    try:
        then = parse_time(timestamp)
    except ValueError:
        return "<unknown>"
    seconds = int(((now or _dt.datetime.now(_dt.UTC)) - then).total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:  # up to 2s in the future is clock skew: "almost now"
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    years = days // 365
    if years < 8:
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{years}y"


def _cell(plural: str, obj: dict[str, Any], column: str, now: _dt.datetime) -> Any:
    if column == "Name":
        return (obj.get("metadata") or {}).get("name", "")
    return _cells.cell(plural, column, obj, now)


def table(
    resource: Resource,
    objects: Iterable[dict[str, Any]],
    *,
    resource_version: str = "",
    include_object: str = "PartialObjectMetadata",
    continue_token: str = "",
) -> dict[str, Any]:
    columns = PRINT_COLUMNS.get(resource.plural) or ()
    names = [c.name for c in columns] or ["Name", "Age"]
    definitions = [
        {
            "name": c.name,
            "type": c.type,
            "format": c.format,
            "description": c.description,
            "priority": c.priority,
        }
        for c in columns
    ] or [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name must be unique within a namespace.",
            "priority": 0,
        },
        {
            "name": "Age",
            "type": "string",
            "format": "",
            "description": "CreationTimestamp is a "
            "timestamp representing the server time when this object was created.",
            "priority": 0,
        },
    ]
    rows = []
    now = _dt.datetime.now(_dt.UTC)
    for obj in objects:
        row: dict[str, Any] = {"cells": [_cell(resource.plural, obj, n, now) for n in names]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata") or {},
            }
        rows.append(row)
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": definitions,
        "rows": rows,
    }
