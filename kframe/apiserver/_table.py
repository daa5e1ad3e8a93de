"""Server-side Table output (``meta.k8s.io/v1 Table``), which ``kubectl get`` asks for."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable
from typing import Any

from kframe.api import parse_time
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
    if seconds < 0:
        return "<invalid>"
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


def _cell(obj: dict[str, Any], column: str) -> Any:
    meta = obj.get("metadata") or {}
    if column == "Name":
        return meta.get("name", "")
    if column == "Age":
        return age(meta.get("creationTimestamp"))
    if column == "Created At":
        return meta.get("creationTimestamp", "")
    cell = _CELLS.get(column)
    return cell(obj) if cell is not None else "<unknown>"


def _pod_ready(pod: dict[str, Any]) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(pod: dict[str, Any]) -> str:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "Terminating"
    for s in status.get("containerStatuses") or []:
        waiting = (s.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return str(waiting["reason"])
    return str(status.get("reason") or status.get("phase") or "Pending")


_CELLS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Ready": _pod_ready,
    "Status": _pod_status,
    "Restarts": lambda p: sum(
        s.get("restartCount", 0) for s in (p.get("status") or {}).get("containerStatuses") or []
    ),
    "IP": lambda p: (p.get("status") or {}).get("podIP") or "<none>",
    "Node": lambda p: (p.get("spec") or {}).get("nodeName") or "<none>",
    "Nominated Node": lambda p: (p.get("status") or {}).get("nominatedNodeName") or "<none>",
    "Readiness Gates": lambda p: "<none>",
    "Type": lambda o: (o.get("spec") or {}).get("type") or o.get("type") or "<none>",
    "Cluster-IP": lambda s: (s.get("spec") or {}).get("clusterIP") or "<none>",
    "Data": lambda c: len(c.get("data") or {}) + len(c.get("binaryData") or {}),
}


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
    for obj in objects:
        row: dict[str, Any] = {"cells": [_cell(obj, n) for n in names]}
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
