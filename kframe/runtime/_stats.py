"""CRI's container stats (``ContainerStats``, ``CpuUsage``, ``MemoryUsage``) as attrs classes.

The kubelet's summary API (``/stats/summary``, read by metrics-server and the eviction manager)
calls ``RuntimeService.container_stats`` and ``list_container_stats``. CPU usage is cumulative
core-nanoseconds plus a rate in nano-cores; memory in bytes; timestamps in nanoseconds.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from kframe.runtime._container import ContainerMetadata
from kframe.runtime._image import FilesystemUsage
from kframe.runtime._sandbox import labels_match

__all__ = [
    "ContainerAttributes",
    "ContainerStats",
    "ContainerStatsFilter",
    "CpuUsage",
    "MemoryUsage",
]


@attrs.frozen(kw_only=True)
class ContainerAttributes:
    id: str
    metadata: ContainerMetadata
    labels: Mapping[str, str] = attrs.field(factory=dict)
    annotations: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class CpuUsage:
    """``usage_core_nano_seconds`` grows while the container runs; ``usage_nano_cores`` is the
    current rate (1e9 is one full core)."""

    timestamp: int
    usage_core_nano_seconds: int = 0
    usage_nano_cores: int = 0


@attrs.frozen(kw_only=True)
class MemoryUsage:
    """``working_set_bytes`` is what eviction and ``kubectl top`` read."""

    timestamp: int
    working_set_bytes: int = 0
    available_bytes: int = 0
    usage_bytes: int = 0
    rss_bytes: int = 0
    page_faults: int = 0
    major_page_faults: int = 0


@attrs.frozen(kw_only=True)
class ContainerStats:
    attributes: ContainerAttributes
    cpu: CpuUsage | None = None
    memory: MemoryUsage | None = None
    writable_layer: FilesystemUsage | None = None


@attrs.frozen(kw_only=True)
class ContainerStatsFilter:
    """ListContainerStats' filter; every set field must match."""

    id: str = ""
    pod_sandbox_id: str = ""
    label_selector: Mapping[str, str] = attrs.field(factory=dict)

    def matches(self, container_id: str, sandbox_id: str, labels: Mapping[str, str]) -> bool:
        if self.id and container_id != self.id:
            return False
        if self.pod_sandbox_id and sandbox_id != self.pod_sandbox_id:
            return False
        return labels_match(self.label_selector, labels)
