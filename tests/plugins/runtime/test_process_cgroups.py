"""The process runtime's cgroup handling on a fake cgroupfs: v2 limits, and the stated reason
when neither v2 nor v1 controllers are there (the runtime then runs containers unlimited)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kframe.runtime import LinuxContainerResources
from kframe_plugins.runtime.process import _cgroups
from kframe_plugins.runtime.process._cgroups import Cgroups


def test_v2_limits_are_written_as_runc_converts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    monkeypatch.setattr(_cgroups, "ROOT", str(tmp_path))
    cgroups = Cgroups(enabled=True, parent="kframe", runtime_id="rt")
    assert cgroups.version == 2 and not cgroups.reason
    # Controllers are enabled at each level above the containers.
    for level in (tmp_path, tmp_path / "kframe", tmp_path / "kframe" / "rt"):
        assert (level / "cgroup.subtree_control").read_text() == "+cpu +memory"
    cgroup = cgroups.create("c1")
    assert cgroup is not None
    assert cgroup.procs_files == [str(tmp_path / "kframe" / "rt" / "c1" / "cgroup.procs")]
    res = LinuxContainerResources(
        cpu_period=100_000, cpu_quota=25_000, cpu_shares=1024, memory_limit_in_bytes=2**27
    )
    assert cgroup.apply(res) == []
    d = tmp_path / "kframe" / "rt" / "c1"
    assert (d / "cpu.max").read_text() == "25000 100000"
    assert (d / "cpu.weight").read_text() == str(1 + (1024 - 2) * 9999 // 262142)  # 39
    assert (d / "memory.max").read_text() == str(2**27)
    assert cgroup.apply(LinuxContainerResources()) == []
    assert (d / "cpu.max").read_text() == "max 100000"
    assert (d / "memory.max").read_text() == "max"
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert cgroup.oom_kills() == 1


def test_no_controllers_means_no_limits_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cgroups, "ROOT", str(tmp_path))
    monkeypatch.setattr(_cgroups, "_v1_mounts", dict)
    cgroups = Cgroups(enabled=True, parent="kframe", runtime_id="rt")
    assert not cgroups.enabled and cgroups.create("c1") is None
    assert "no v1 cpu, memory hierarchy" in cgroups.reason
    (tmp_path / "cgroup.controllers").write_text("pids\n")
    v2 = Cgroups(enabled=True, parent="kframe", runtime_id="rt")
    assert not v2.enabled and "lacks the cpu, memory controller" in v2.reason
    assert "no cgroup limits" in v2.describe()


def test_an_unwritable_hierarchy_is_a_reason_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    (tmp_path / "cgroup.subtree_control").mkdir()  # writing to it fails
    monkeypatch.setattr(_cgroups, "ROOT", str(tmp_path))
    cgroups = Cgroups(enabled=True, parent="kframe", runtime_id="rt")
    assert not cgroups.enabled and cgroups.reason.startswith("cannot create cgroups: ")
