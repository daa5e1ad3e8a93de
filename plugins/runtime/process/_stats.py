"""Container CPU and memory usage: from the container's cgroup, else from ``/proc``.

Without a cgroup, a container's processes are those of its process group: CPU is the sum of
their ``utime + stime`` and of the children they have reaped (``cutime + cstime``), memory the
sum of their resident sets (``/proc/<pid>/stat``, proc(5)). ``usage_nano_cores`` is the rate
since the previous sample of the same container (since its start for the first one).
"""

from __future__ import annotations

import os

from kframe.runtime import (
    ContainerAttributes,
    ContainerState,
    ContainerStats,
    CpuUsage,
    FilesystemIdentifier,
    FilesystemUsage,
    MemoryUsage,
)

from ._records import ContainerRecord

__all__ = ["container_stats", "group_usage"]

_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def group_usage(pgid: int) -> tuple[int, int]:
    """CPU nanoseconds and resident bytes of the processes in process group ``pgid``."""
    cpu = rss = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                text = f.read()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ")".
        fields = text[text.rfind(b")") + 2 :].split()
        if len(fields) < 22 or int(fields[2]) != pgid:
            continue
        cpu += sum(int(v) for v in fields[11:15]) * _TICK_NS
        rss += int(fields[21]) * _PAGE
    return cpu, rss


def container_stats(record: ContainerRecord, now: int, root_dir: str) -> ContainerStats:
    """The stats of ``record`` at wall time ``now`` (ns); zero usage once it has exited."""
    cpu_ns = usage = working_set = rss = 0
    running = record.state == ContainerState.RUNNING and record.spawned is not None
    if running and record.spawned is not None:
        cgroup = record.cgroup
        from_cgroup = cgroup.cpu_usage_ns() if cgroup else None
        memory = cgroup.memory() if cgroup else None
        if from_cgroup is None or memory is None:
            cpu_proc, rss_proc = group_usage(record.spawned.pid)
            cpu_ns = from_cgroup if from_cgroup is not None else cpu_proc
            usage, working_set, rss = memory if memory is not None else (rss_proc,) * 3
        else:
            cpu_ns = from_cgroup
            usage, working_set, rss = memory
    before = record.cpu_sample or (record.started_at, 0)
    elapsed = now - before[0]
    nano_cores = max(0, (cpu_ns - before[1]) * 1_000_000_000 // elapsed) if elapsed > 0 else 0
    if running:
        record.cpu_sample = (now, cpu_ns)
    limit = record.resources.memory_limit_in_bytes if record.resources else 0
    c = record.config
    return ContainerStats(
        attributes=ContainerAttributes(
            id=record.id, metadata=c.metadata, labels=c.labels, annotations=c.annotations
        ),
        cpu=CpuUsage(
            timestamp=now,
            usage_core_nano_seconds=cpu_ns,
            usage_nano_cores=nano_cores if running else 0,
        ),
        memory=MemoryUsage(
            timestamp=now,
            working_set_bytes=working_set,
            usage_bytes=usage,
            rss_bytes=rss,
            available_bytes=max(0, limit - working_set) if limit else 0,
        ),
        # Containers write to the host's filesystem: there is no writable layer to measure.
        writable_layer=FilesystemUsage(
            timestamp=now, fs_id=FilesystemIdentifier(mountpoint=root_dir), used_bytes=0
        ),
    )
