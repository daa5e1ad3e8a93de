"""kframe-cpuload: a scheduler plugin that keeps pods off nodes with a high CPU load.

``NodeCPULoad`` filters out nodes whose CPU load is above a threshold (50% by default) and
scores the rest by how idle they are. The load comes from a metrics source when one is plugged
in (:func:`plugin_factory`), otherwise from a node annotation (``kframe.io/cpu-load: "0.73"``
or ``"73%"``) that an agent on the node keeps up to date.

kframe finds this module through the ``kframe`` entry-point group of this distribution
(``cpuload = "kframe_cpuload"``) and calls :func:`kframe_scheduler_plugins`. The package uses
kframe's public API only: it is the worked example of docs/tutorial-scheduler-plugin.md.
"""

from __future__ import annotations

from kframe.registry import hookimpl
from kframe.scheduler import PluginFactory

from ._load import (
    DEFAULT_ANNOTATION,
    AnnotationLoadSource,
    LoadSource,
    StaticLoadSource,
    parse_cpu_load,
)
from ._plugin import (
    NAME,
    UNKNOWN_LOAD_SCORE,
    MetricsHook,
    NodeCPULoad,
    NodeCPULoadArgs,
    plugin_factory,
    validate_args,
)

__all__ = [
    "DEFAULT_ANNOTATION",
    "NAME",
    "UNKNOWN_LOAD_SCORE",
    "AnnotationLoadSource",
    "LoadSource",
    "MetricsHook",
    "NodeCPULoad",
    "NodeCPULoadArgs",
    "StaticLoadSource",
    "kframe_scheduler_plugins",
    "parse_cpu_load",
    "plugin_factory",
    "validate_args",
]


@hookimpl
def kframe_scheduler_plugins() -> dict[str, PluginFactory]:
    """Register NodeCPULoad (annotation source only) under its name."""
    return {NAME: plugin_factory()}
