"""The statefulset controller: pods with stable names, hostnames and claims, created and
updated in ordinal order (upstream pkg/controller/statefulset). See
``docs/controllers-daemonset-statefulset.md``."""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerSpec
from kframe.registry import hookimpl

from ._controller import StatefulSetController

__all__ = ["StatefulSetController"]


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {
        "statefulset-controller": ControllerSpec(
            StatefulSetController, workers=5, aliases=("statefulset",)
        )
    }
