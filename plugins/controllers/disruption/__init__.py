"""The disruption controller (not built yet: registers nothing)."""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {}
