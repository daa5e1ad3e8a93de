"""The daemonset controller: one pod of each DaemonSet on every eligible node (upstream
pkg/controller/daemon). See ``docs/controllers-daemonset-statefulset.md``."""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerSpec
from kframe.registry import hookimpl

from ._controller import DaemonSetController

__all__ = ["DaemonSetController"]


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {
        "daemonset-controller": ControllerSpec(
            DaemonSetController, workers=2, aliases=("daemonset",)
        )
    }
