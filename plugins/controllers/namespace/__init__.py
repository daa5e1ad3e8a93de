"""The namespace controller (upstream pkg/controller/namespace).

Registered as ``namespace-controller`` (``--controllers`` also accepts ``namespace``): a
namespace being deleted (the API server marks it ``Terminating``) is emptied of every namespaced
object, pods first, and then its ``kubernetes`` finalizer is cleared through
``namespaces/{name}/finalize``, so the API server removes it. Option (``--option name=value``):
``namespace-deletion-grace-period`` (seconds, 5). See docs/controllers-lifecycle.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._conditions import CONDITION_TYPES, ConditionUpdater
from ._controller import GRACE_PERIOD_OPTION, NamespaceController
from ._deleter import FINALIZER, NamespacedResourcesDeleter, ResourcesRemaining

__all__ = [
    "CONDITION_TYPES",
    "FINALIZER",
    "GRACE_PERIOD_OPTION",
    "NAME",
    "ConditionUpdater",
    "NamespaceController",
    "NamespacedResourcesDeleter",
    "ResourcesRemaining",
    "build",
    "spec",
]

NAME = "namespace-controller"


def build(ctx: ControllerContext) -> NamespaceController:
    return NamespaceController(ctx)


def spec() -> ControllerSpec:
    # upstream --concurrent-namespace-syncs defaults to 10.
    return ControllerSpec(build, workers=10, aliases=("namespace",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
