"""Per-container cgroups: CPU and memory limits, usage, OOM kills, killing everything inside.

cgroup v2 (``/sys/fs/cgroup`` is the unified hierarchy with the ``cpu`` and ``memory``
controllers) is used when present, else the v1 ``cpu``, ``cpuacct`` and ``memory``
hierarchies. Each container gets ``<parent>/<runtime>/<container id>``; its first process
joins it before it execs the container's command, so every process it starts is counted and
killed with it. Where cgroups cannot be created (not root, a read-only ``/sys/fs/cgroup``, v2
controllers that cannot be enabled), :attr:`Cgroups.reason` says why and containers run
without limits: the runtime reports it and never fails a container for it.

Limits follow the kubelet's and runc's conversions: ``cpu.max`` is ``<quota> <period>``,
``cpu.weight`` is ``1 + (shares - 2) * 9999 / 262142``, ``memory.max`` the memory limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from kframe.runtime import LinuxContainerResources

__all__ = ["Cgroups", "ContainerCgroup"]

ROOT = "/sys/fs/cgroup"
_V1_CONTROLLERS = ("cpu", "cpuacct", "memory")


def _read(path: str) -> str:
    with open(path, encoding="ascii") as f:
        return f.read()


def _write(path: str, value: str) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(value)


def _keyed(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = int(value)
    return out


def _v1_mounts() -> dict[str, str]:
    """Controller -> mount point of the v1 hierarchies holding cpu, cpuacct and memory."""
    found: dict[str, str] = {}
    try:
        lines = _read("/proc/self/mounts").splitlines()
    except OSError:
        return found
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or parts[2] != "cgroup":
            continue
        for option in parts[3].split(","):
            if option in _V1_CONTROLLERS:
                found.setdefault(option, parts[1])
    return found


class ContainerCgroup:
    """One container's cgroup (a directory per hierarchy, the same relative path in each)."""

    def __init__(self, version: int, dirs: dict[str, str]) -> None:
        self.version = version
        self.dirs = dirs  # controller ("unified" for v2) -> directory

    @property
    def procs_files(self) -> list[str]:
        """The files the container's first process writes its pid to, once in each directory."""
        return [os.path.join(d, "cgroup.procs") for d in dict.fromkeys(self.dirs.values())]

    def _file(self, controller: str, name: str) -> str:
        return os.path.join(self.dirs["unified" if self.version == 2 else controller], name)

    def apply(self, res: LinuxContainerResources) -> list[str]:
        """Write the limits; the settings that could not be written, each with the error."""
        failed: list[str] = []

        def put(controller: str, name: str, value: str) -> None:
            try:
                _write(self._file(controller, name), value)
            except OSError as e:
                failed.append(f"{name}={value}: {e.strerror or e}")

        if self.version == 2:
            period = res.cpu_period or 100_000
            put("cpu", "cpu.max", f"{res.cpu_quota if res.cpu_quota > 0 else 'max'} {period}")
            if res.cpu_shares >= 2:
                shares = min(res.cpu_shares, 262144)
                put("cpu", "cpu.weight", str(1 + (shares - 2) * 9999 // 262142))
            limit = res.memory_limit_in_bytes
            put("memory", "memory.max", str(limit) if limit > 0 else "max")
            for key, value in res.unified.items():
                put("unified", key, value)
        else:
            if res.cpu_period > 0:
                put("cpu", "cpu.cfs_period_us", str(res.cpu_period))
            put("cpu", "cpu.cfs_quota_us", str(res.cpu_quota if res.cpu_quota > 0 else -1))
            if res.cpu_shares >= 2:
                put("cpu", "cpu.shares", str(res.cpu_shares))
            limit = res.memory_limit_in_bytes
            put("memory", "memory.limit_in_bytes", str(limit) if limit > 0 else "-1")
        return failed

    def pids(self) -> list[int]:
        out: set[int] = set()
        for path in self.procs_files:
            with contextlib.suppress(OSError, ValueError):
                out.update(int(p) for p in _read(path).split())
        return sorted(out)

    def cpu_usage_ns(self) -> int | None:
        try:
            if self.version == 2:
                return _keyed(_read(self._file("cpu", "cpu.stat"))).get("usage_usec", 0) * 1000
            return int(_read(self._file("cpuacct", "cpuacct.usage")))
        except (OSError, KeyError, ValueError):
            return None

    def memory(self) -> tuple[int, int, int] | None:
        """Usage, working set (usage less inactive file pages, as cAdvisor) and RSS, in bytes."""
        try:
            if self.version == 2:
                usage = int(_read(self._file("memory", "memory.current")))
                stat = _keyed(_read(self._file("memory", "memory.stat")))
                inactive, rss = stat.get("inactive_file", 0), stat.get("anon", 0)
            else:
                usage = int(_read(self._file("memory", "memory.usage_in_bytes")))
                stat = _keyed(_read(self._file("memory", "memory.stat")))
                inactive, rss = stat.get("total_inactive_file", 0), stat.get("total_rss", 0)
        except (OSError, KeyError, ValueError):
            return None
        return usage, max(0, usage - inactive), rss

    def oom_kills(self) -> int:
        try:
            if self.version == 2:
                return _keyed(_read(self._file("memory", "memory.events"))).get("oom_kill", 0)
            return _keyed(_read(self._file("memory", "memory.oom_control"))).get("oom_kill", 0)
        except (OSError, KeyError):
            return 0

    def kill(self) -> None:
        """SIGKILL every process in the cgroup (``cgroup.kill`` where the kernel has it)."""
        if self.version == 2:
            with contextlib.suppress(OSError):
                _write(self._file("unified", "cgroup.kill"), "1")
                return
        for pid in self.pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    async def remove(self) -> None:
        """Remove the directories once the processes are gone (killed ones take a moment)."""
        for attempt in range(50):
            left = [d for d in dict.fromkeys(self.dirs.values()) if os.path.isdir(d)]
            for d in left:
                with contextlib.suppress(OSError):
                    os.rmdir(d)
            if not any(os.path.isdir(d) for d in left):
                return
            if attempt == 0:
                self.kill()
            await asyncio.sleep(0.02)


class Cgroups:
    """The cgroups of one runtime: ``<hierarchy>/<parent>/<runtime_id>/<container id>``."""

    def __init__(self, *, enabled: bool, parent: str, runtime_id: str) -> None:
        self.version = 0
        self.reason = ""  #: why containers get no cgroup ("" when they do)
        self._bases: dict[str, str] = {}
        if not enabled:
            self.reason = "cgroups are off in the runtime config (cgroups: false)"
            return
        relative = os.path.join(parent, runtime_id)
        try:
            if os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
                self._setup_v2(parent, relative)
            else:
                self._setup_v1(relative)
        except OSError as e:
            self.reason = f"cannot create cgroups: {e.filename or ROOT}: {e.strerror or e}"
            self._bases = {}
            self.version = 0

    def _setup_v2(self, parent: str, relative: str) -> None:
        controllers = _read(os.path.join(ROOT, "cgroup.controllers")).split()
        missing = [c for c in ("cpu", "memory") if c not in controllers]
        if missing:
            self.reason = f"cgroup v2 at {ROOT} lacks the {', '.join(missing)} controller"
            return
        path = ROOT
        # Controllers must be enabled at every level above the containers' cgroups.
        for part in [*parent.split("/"), os.path.basename(relative)]:
            _write(os.path.join(path, "cgroup.subtree_control"), "+cpu +memory")
            path = os.path.join(path, part)
            os.makedirs(path, exist_ok=True)
        _write(os.path.join(path, "cgroup.subtree_control"), "+cpu +memory")
        self.version, self._bases = 2, {"unified": path}

    def _setup_v1(self, relative: str) -> None:
        mounts = _v1_mounts()
        missing = [c for c in ("cpu", "memory") if c not in mounts]
        if missing:
            self.reason = f"no cgroup v2 at {ROOT} and no v1 {', '.join(missing)} hierarchy"
            return
        bases = {c: os.path.join(m, relative) for c, m in mounts.items()}
        for base in bases.values():
            os.makedirs(base, exist_ok=True)
        self.version, self._bases = 1, bases

    @property
    def enabled(self) -> bool:
        return self.version != 0

    def describe(self) -> str:
        if not self.enabled:
            return f"no cgroup limits: {self.reason}"
        return f"cgroup v{self.version} under {', '.join(sorted(set(self._bases.values())))}"

    def create(self, container_id: str) -> ContainerCgroup | None:
        """A new cgroup for the container, or None (and :attr:`reason` says why)."""
        if not self.enabled:
            return None
        dirs = {c: os.path.join(b, container_id) for c, b in self._bases.items()}
        try:
            for d in dict.fromkeys(dirs.values()):
                os.makedirs(d, exist_ok=True)
        except OSError as e:
            self.reason = f"cannot create cgroup {e.filename}: {e.strerror or e}"
            return None
        return ContainerCgroup(self.version, dirs)

    def close(self) -> None:
        for base in dict.fromkeys(self._bases.values()):
            with contextlib.suppress(OSError):
                os.rmdir(base)
