"""Helpers the cloud controllers share: option parsing, node facts, API error codes."""

from __future__ import annotations

from collections.abc import Iterable

from kframe.api.models import Node, NodeCondition, Taint
from kframe.controller import ControllerContext, parse_duration

__all__ = [
    "CLUSTER_NAME",
    "api_code",
    "duration_option",
    "has_taint",
    "node_name",
    "ready_condition",
    "without_taint",
]

#: Upstream's ``--cluster-name`` default.
CLUSTER_NAME = "kubernetes"


def duration_option(ctx: ControllerContext, name: str, default: float) -> float:
    """``--option name=10s`` (a Go duration or seconds) as seconds, else ``default``."""
    value = ctx.option(name, default, parse_duration)
    if value <= 0:
        raise ValueError(f"--option {name}: must be greater than zero")
    return value


def api_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def node_name(node: Node) -> str:
    return (node.metadata.name or "") if node.metadata is not None else ""


def taints(node: Node) -> tuple[Taint, ...]:
    return tuple(node.spec.taints or ()) if node.spec is not None else ()


def has_taint(node: Node, key: str) -> bool:
    return any(t.key == key for t in taints(node))


def without_taint(items: Iterable[Taint], key: str) -> list[Taint]:
    return [t for t in items if t.key != key]


def ready_condition(node: Node) -> NodeCondition | None:
    for cond in (node.status.conditions if node.status is not None else ()) or ():
        if cond.type == "Ready":
            return cond
    return None
