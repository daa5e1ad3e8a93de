"""Where a node's CPU load comes from: the :class:`LoadSource` protocol and its sources.

The plugin asks its sources in order and takes the first answer that is not ``None``. The
default is the node annotation alone (:class:`AnnotationLoadSource`); a metrics source goes in
front of it through :func:`kframe_cpuload.plugin_factory`'s ``metrics`` hook once a cluster has
one (kframe has no ``metrics.k8s.io`` API yet).

A load is a percentage of the node's CPUs: 0 is idle, 100 is every CPU busy, more than 100 is
an overcommitted node (a load average above the CPU count).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Protocol, runtime_checkable

from kframe.scheduler import NodeInfo

__all__ = [
    "DEFAULT_ANNOTATION",
    "AnnotationLoadSource",
    "LoadSource",
    "StaticLoadSource",
    "parse_cpu_load",
]

DEFAULT_ANNOTATION = "kframe.io/cpu-load"

log = logging.getLogger("kframe_cpuload")

_HUNDRED = Decimal(100)


@runtime_checkable
class LoadSource(Protocol):
    """Something that knows nodes' CPU load."""

    def cpu_load(self, node_info: NodeInfo) -> float | None:
        """The node's CPU load in percent, or ``None`` when this source does not know it.

        Called on the scheduling hot path, at most once per node and cycle: answer from memory
        (a cache that a background task or an informer keeps fresh), never block or do I/O.
        """


def parse_cpu_load(value: str) -> float | None:
    """A load annotation's value in percent: ``"0.73"`` and ``"73%"`` are both 73.0.

    A bare number is a fraction of the node's CPUs and must lie in [0, 1]; a number with ``%``
    may exceed 100 (``"150%"``: overcommitted). Anything else is malformed and gives ``None``:
    a bare ``"73"`` is refused rather than guessed (73%? 7300%?), as are negative, infinite
    and NaN values. Decimal arithmetic keeps ``"0.07"`` exactly 7.0, not 7.000000000000001.
    """
    text = value.strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].rstrip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or (not percent and number > 1):
        return None
    load = float(number if percent else number * _HUNDRED)
    return load if math.isfinite(load) else None


class AnnotationLoadSource:
    """The load an agent on the node writes into an annotation (default ``kframe.io/cpu-load``).

    A node without the annotation has an unknown load. A malformed value is unknown too (it
    must not keep pods off a node, nor attract them): it is logged as a warning once per node
    and value, and the plugin treats the node as one without the annotation.
    """

    def __init__(self, annotation: str = DEFAULT_ANNOTATION) -> None:
        self.annotation = annotation
        # The malformed value last reported per node, so that each is logged once.
        self._reported: dict[str, str] = {}

    def cpu_load(self, node_info: NodeInfo) -> float | None:
        node = node_info.node
        meta = node.metadata if node is not None else None
        value = meta.annotations.get(self.annotation) if meta is not None else None
        if value is None:
            return None
        load = parse_cpu_load(value)
        if load is None and self._reported.get(node_info.name) != value:
            self._reported[node_info.name] = value
            log.warning(
                "node %s: ignoring annotation %s=%r: expected a fraction in [0, 1] (0.73) or a "
                "percentage (73%%); the node's CPU load is unknown",
                node_info.name,
                self.annotation,
                value,
            )
        return load

    def __repr__(self) -> str:
        return f"AnnotationLoadSource({self.annotation!r})"


class StaticLoadSource:
    """Fixed loads by node name (tests, and a model for a metrics source's cache)."""

    def __init__(self, loads: Mapping[str, float]) -> None:
        self.loads = dict(loads)

    def cpu_load(self, node_info: NodeInfo) -> float | None:
        return self.loads.get(node_info.name)

    def __repr__(self) -> str:
        return f"StaticLoadSource({self.loads!r})"


_: type[LoadSource] = AnnotationLoadSource
_static: type[LoadSource] = StaticLoadSource
