"""The in-tree scheduler plugins: kube-scheduler's default plugins, one folder each.

Registered through the ``kframe`` entry point ``scheduler-intree`` exactly as a third-party
package registers its own (see docs/scheduler.md); :func:`in_tree_registry` lists them.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl
from kframe.scheduler import PluginFactory

__all__ = ["in_tree_registry", "kframe_scheduler_plugins"]


def in_tree_registry() -> dict[str, PluginFactory]:
    """Every in-tree plugin by name (upstream plugins/registry.go NewInTreeRegistry)."""
    from . import (
        defaultbinder,
        defaultpreemption,
        imagelocality,
        interpodaffinity,
        nodeaffinity,
        nodename,
        nodeports,
        noderesources,
        nodeunschedulable,
        podtopologyspread,
        queuesort,
        schedulinggates,
        tainttoleration,
    )

    registry: dict[str, PluginFactory] = {}
    for folder in (
        schedulinggates,
        queuesort,
        nodeunschedulable,
        nodename,
        tainttoleration,
        nodeaffinity,
        nodeports,
        noderesources,
        podtopologyspread,
        interpodaffinity,
        defaultpreemption,
        imagelocality,
        defaultbinder,
    ):
        for name, factory in folder.FACTORIES.items():
            assert name not in registry, f"{name} is registered twice"
            registry[name] = factory
    return registry


@hookimpl
def kframe_scheduler_plugins() -> Mapping[str, object]:
    return in_tree_registry()
