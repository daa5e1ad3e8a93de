"""Facts about the machine a kubelet reports in its Node: resources, OS, kernel, machine id.

Read once per process and cached, so a thousand hosted kubelets read ``/proc`` once.
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
from pathlib import Path

import attrs

__all__ = ["HostInfo", "host_info"]

_GOARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}


@attrs.frozen(kw_only=True)
class HostInfo:
    cpus: int
    memory_bytes: int
    disk_bytes: int
    kernel_version: str
    os_image: str
    operating_system: str
    architecture: str
    machine_id: str
    system_uuid: str
    boot_id: str


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _meminfo_bytes() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            # /proc/meminfo says "kB" but means KiB, as cAdvisor reads it.
            return int(parts[1]) * 1024
    return 0


def _disk_bytes() -> int:
    try:
        return shutil.disk_usage("/").total
    except OSError:
        return 0


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "Unknown"


@functools.cache
def host_info() -> HostInfo:
    """This machine's facts (cached for the process)."""
    machine = platform.machine()
    return HostInfo(
        cpus=os.cpu_count() or 1,
        memory_bytes=_meminfo_bytes(),
        disk_bytes=_disk_bytes(),
        kernel_version=platform.release(),
        os_image=_os_image(),
        operating_system=platform.system().lower() or "linux",
        architecture=_GOARCH.get(machine, machine),
        machine_id=_read("/etc/machine-id"),
        system_uuid=_read("/sys/class/dmi/id/product_uuid"),
        boot_id=_read("/proc/sys/kernel/random/boot_id"),
    )
