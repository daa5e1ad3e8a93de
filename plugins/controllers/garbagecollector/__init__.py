"""The garbage collector (upstream pkg/controller/garbagecollector).

Registered as ``garbage-collector-controller`` (``--controllers`` also accepts
``garbagecollector``). It watches every listable kind but events, keeps a graph of owner
references, and deletes objects whose owners are all gone (background propagation unless the
object carries another), deletes the dependents of owners deleted in the foreground before
releasing them, and orphans the dependents of owners deleted with ``propagationPolicy: Orphan``.
See docs/controllers-lifecycle.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._collector import IGNORED_KINDS, GarbageCollector
from ._graph import FOREGROUND, ORPHAN, Graph, Identity, Node

__all__ = [
    "FOREGROUND",
    "IGNORED_KINDS",
    "NAME",
    "ORPHAN",
    "GarbageCollector",
    "Graph",
    "Identity",
    "Node",
    "build",
    "spec",
]

NAME = "garbage-collector-controller"


def build(ctx: ControllerContext) -> GarbageCollector:
    return GarbageCollector(ctx)


def spec() -> ControllerSpec:
    # upstream --concurrent-gc-syncs defaults to 20.
    return ControllerSpec(build, workers=20, aliases=("garbagecollector",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
