"""The process runtime with real processes: commands, env, exit codes and reasons, stop grace,
logs in CRI's format, exec and attach streams, stats, cgroup limits, close(), config errors.

Most cases run in either network mode (they use ``network: host`` unless they test the pod
network, which is tests/plugins/runtime/test_process_network.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import pytest

from kframe.runtime import (
    NETWORK_READY,
    AttachRequest,
    ContainerConfig,
    ContainerMetadata,
    ContainerStartError,
    ContainerState,
    DNSConfig,
    ExecRequest,
    FailedPreconditionError,
    ImageSpec,
    InvalidArgumentError,
    KeyValue,
    LinuxContainerConfig,
    LinuxContainerResources,
    LinuxContainerSecurityContext,
    Mount,
    NotFoundError,
    PodSandboxConfig,
    Runtime,
    RuntimeOptions,
    StreamChannel,
    open_runtime,
)
from kframe.testing import require
from kframe.testing.runtime import sandbox_config
from kframe_plugins.runtime.process import (
    CGROUP_CONDITION,
    NO_COMMAND,
    Cgroups,
    ExecTimeoutError,
    ProcessRuntime,
)

IMAGE = "busybox:1.36"
LOG_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (stdout|stderr) ([PF]) (.*)$")


class Pod:
    """A runtime and one sandbox with a log directory, with shortcuts for containers."""

    def __init__(self, rt: Runtime, sandbox_id: str, config: PodSandboxConfig) -> None:
        self.rt = rt
        self.rs = rt.runtime_service
        self.sid = sandbox_id
        self.config = config
        self.logs = config.log_directory

    async def create(
        self,
        *command: str,
        name: str = "c",
        env: Mapping[str, str] = {},
        working_dir: str = "",
        stdin: bool = False,
        stdin_once: bool = False,
        resources: LinuxContainerResources | None = None,
    ) -> str:
        config = ContainerConfig(
            metadata=ContainerMetadata(name=name),
            image=ImageSpec(image=IMAGE),
            command=command,
            envs=tuple(KeyValue(key=k, value=v) for k, v in env.items()),
            working_dir=working_dir,
            log_path=f"{name}/0.log",
            stdin=stdin,
            stdin_once=stdin_once,
            linux=LinuxContainerConfig(resources=resources) if resources else None,
        )
        return await self.rs.create_container(self.sid, config, self.config)

    async def start(self, *command: str, **kwargs: Any) -> str:
        cid = await self.create(*command, **kwargs)
        await self.rs.start_container(cid)
        return cid

    async def wait_exit(self, cid: str) -> None:
        runtime = self.rt
        assert isinstance(runtime, ProcessRuntime)
        await runtime._containers[cid].done.wait()

    async def wait_log(self, text: bytes, name: str = "c") -> None:
        """Until the container has logged a line ``text`` (it is past its setup)."""
        path = os.path.join(self.logs, name, "0.log")
        while not (os.path.exists(path) and text in [line for _, _, line in self.log(name)]):
            await asyncio.sleep(0.01)

    def log(self, name: str = "c") -> list[tuple[bytes, bytes, bytes]]:
        with open(os.path.join(self.logs, name, "0.log"), "rb") as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            match = LOG_LINE.match(line)
            assert match, f"not a CRI log line: {line!r}"
            out.append((match[2], match[3], match[4]))
        return out


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (orphans wait for init to reap them)."""
    out = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            out.append(int(name))
    return out


def run(body: Callable[[Pod], Awaitable[None]], config: Mapping[str, Any] | None = None) -> None:
    async def main() -> None:
        with tempfile.TemporaryDirectory() as root:
            options = RuntimeOptions(
                root_dir=os.path.join(root, "state"),
                config=dict(config if config is not None else {"network": "host"}),
            )
            rt = await open_runtime("process", options)
            try:
                await rt.image_service.pull_image(ImageSpec(image=IMAGE))
                sc = sandbox_config(log_directory=os.path.join(root, "logs"))
                sid = await rt.runtime_service.run_pod_sandbox(sc)
                await asyncio.wait_for(body(Pod(rt, sid, sc)), 30)
            finally:
                await rt.close()

    asyncio.run(main())


# -- processes, env, exit codes -----------------------------------------------------------------


def test_command_args_env_and_working_dir_reach_the_process() -> None:
    async def body(pod: Pod) -> None:
        cid = await pod.start(
            "sh",
            "-c",
            'echo "$GREETING from $(pwd)"; echo oops >&2',
            env={"GREETING": "hello"},
            working_dir="/tmp",
        )
        await pod.wait_exit(cid)
        status = await pod.rs.container_status(cid)
        assert status.state == ContainerState.EXITED
        assert (status.exit_code, status.reason) == (0, "Completed")
        assert 0 < status.created_at <= status.started_at <= status.finished_at
        assert sorted(pod.log()) == [
            (b"stderr", b"F", b"oops"),
            (b"stdout", b"F", b"hello from /tmp"),
        ]

    run(body)


def test_exit_codes_and_reasons() -> None:
    async def body(pod: Pod) -> None:
        failed = await pod.start("python3", "-c", "raise SystemExit(3)", name="failed")
        killed = await pod.start("sh", "-c", "kill -9 $$", name="killed")
        for cid in (failed, killed):
            await pod.wait_exit(cid)
        f = await pod.rs.container_status(failed)
        k = await pod.rs.container_status(killed)
        assert (f.exit_code, f.reason) == (3, "Error")
        assert (k.exit_code, k.reason) == (137, "Error")

    run(body)


def test_a_container_without_a_command_is_refused_at_create() -> None:
    async def body(pod: Pod) -> None:
        with pytest.raises(InvalidArgumentError, match=re.escape(NO_COMMAND)):
            await pod.create()
        assert await pod.rs.list_containers() == []

    run(body)


def test_a_missing_executable_fails_start_with_start_error() -> None:
    async def body(pod: Pod) -> None:
        cid = await pod.create("no-such-program-kframe")
        with pytest.raises(ContainerStartError, match="executable file not found"):
            await pod.rs.start_container(cid)
        status = await pod.rs.container_status(cid)
        assert (status.state, status.exit_code, status.reason) == (
            ContainerState.EXITED,
            128,
            "StartError",
        )
        bad_dir = await pod.create("true", name="d", working_dir="/no/such/dir")
        with pytest.raises(ContainerStartError, match="working directory"):
            await pod.rs.start_container(bad_dir)

    run(body)


def test_stop_sends_sigterm_then_sigkill_after_the_grace_period() -> None:
    async def body(pod: Pod) -> None:
        polite = await pod.start("sleep", "3600", name="polite")
        # A process that ignores SIGTERM, with a child in its process group.
        stubborn = await pod.start(
            "sh", "-c", "trap '' TERM; sleep 3600 & echo ready; wait", name="stubborn"
        )
        await pod.wait_log(b"ready", "stubborn")
        await pod.rs.stop_container(polite, timeout=5)
        p = await pod.rs.container_status(polite)
        assert (p.exit_code, p.reason) == (143, "Error")  # SIGTERM
        runtime = pod.rt
        assert isinstance(runtime, ProcessRuntime)
        spawned = runtime._containers[stubborn].spawned
        assert spawned is not None
        pgid = spawned.pid
        await pod.rs.stop_container(stubborn, timeout=1)
        s = await pod.rs.container_status(stubborn)
        assert s.exit_code == 137  # SIGKILL once the grace period was over
        assert s.finished_at - s.started_at >= 1_000_000_000
        assert _live_members(pgid) == []  # the whole group is gone

    run(body)


def test_close_kills_every_process() -> None:
    pids: list[int] = []

    async def body(pod: Pod) -> None:
        for name in ("a", "b"):
            cid = await pod.start("sleep", "3600", name=name)
            runtime = pod.rt
            assert isinstance(runtime, ProcessRuntime)
            spawned = runtime._containers[cid].spawned
            assert spawned is not None
            pids.append(spawned.pid)

    run(body)
    for pid in pids:
        assert _live_members(pid) == []


# -- logs -----------------------------------------------------------------------------------


def test_long_lines_are_partial_entries_and_a_last_line_without_newline_is_partial() -> None:
    async def body(pod: Pod) -> None:
        script = "import sys; sys.stdout.write('x' * 40 + '\\n' + 'tail'); sys.stdout.flush()"
        cid = await pod.start("python3", "-c", script)
        await pod.wait_exit(cid)
        assert pod.log() == [
            (b"stdout", b"P", b"x" * 16),
            (b"stdout", b"P", b"x" * 16),
            (b"stdout", b"F", b"x" * 8),
            (b"stdout", b"P", b"tail"),
        ]

    run(body, {"network": "host", "max_log_line": 16})


def test_reopen_container_log_writes_to_the_new_file() -> None:
    async def body(pod: Pod) -> None:
        cid = await pod.start("sh", "-c", "read x; echo one; read y; echo two", stdin=True)
        runtime = pod.rt
        assert isinstance(runtime, ProcessRuntime)
        session = await pod.rs.attach(AttachRequest(container_id=cid, stdin=True))
        out = session.output()
        await session.write_stdin(b"go\n")
        assert (await anext(out)).data == b"one\n"
        path = os.path.join(pod.logs, "c", "0.log")
        os.rename(path, path + ".1")  # the kubelet's rotation
        await pod.rs.reopen_container_log(cid)
        await session.write_stdin(b"go\n")
        assert (await anext(out)).data == b"two\n"
        await pod.wait_exit(cid)
        assert [line for _, _, line in pod.log()] == [b"two"]
        with open(path + ".1", "rb") as f:
            assert f.read().endswith(b" stdout F one\n")
        assert await session.wait() == 0
        with pytest.raises(FailedPreconditionError):
            await pod.rs.reopen_container_log(cid)

    run(body)


# -- exec and attach ------------------------------------------------------------------------


def test_exec_sync_output_exit_code_env_and_timeout() -> None:
    async def body(pod: Pod) -> None:
        cid = await pod.start("sleep", "3600", env={"WHO": "pod"}, working_dir="/tmp")
        ok = await pod.rs.exec_sync(cid, ["sh", "-c", "echo $WHO $(pwd); echo e >&2; exit 4"], 10)
        assert (ok.stdout, ok.stderr, ok.exit_code) == (b"pod /tmp\n", b"e\n", 4)
        with pytest.raises(ExecTimeoutError, match="timed out after 1s"):
            await pod.rs.exec_sync(cid, ["sleep", "30"], timeout=1)
        with pytest.raises(FailedPreconditionError, match="executable file not found"):
            await pod.rs.exec_sync(cid, ["no-such-program-kframe"], timeout=1)
        with pytest.raises(NotFoundError):
            await pod.rs.exec_sync("no-such", ["true"])

    run(body)


def test_exec_stream_with_stdin_and_close_kills_it() -> None:
    async def body(pod: Pod) -> None:
        cid = await pod.start("sleep", "3600")
        session = await pod.rs.exec(ExecRequest(container_id=cid, cmd=("cat",), stdin=True))
        await session.write_stdin(b"ping\n")
        out = session.output()
        assert (await anext(out)).data == b"ping\n"
        await session.close_stdin()
        assert [c async for c in out] == []
        assert await session.wait() == 0
        # A session closed by the client kills the exec's process.
        hung = await pod.rs.exec(ExecRequest(container_id=cid, cmd=("sleep", "3600")))
        await hung.close()
        assert await hung.wait() is None
        assert (await pod.rs.container_status(cid)).state == ContainerState.RUNNING

    run(body)


def test_exec_with_a_tty_merges_output_on_the_pty() -> None:
    async def body(pod: Pod) -> None:
        cid = await pod.start("sleep", "3600")
        req = ExecRequest(container_id=cid, cmd=("sh", "-c", "test -t 1 && echo tty; echo e >&2"))
        session = await pod.rs.exec(
            ExecRequest(container_id=cid, cmd=req.cmd, tty=True, stdin=False)
        )
        chunks = [c async for c in session.output()]
        assert {c.channel for c in chunks} == {StreamChannel.STDOUT}
        assert b"".join(c.data for c in chunks).replace(b"\r", b"") == b"tty\ne\n"
        assert await session.wait() == 0

    run(body)


def test_attach_sees_output_and_ends_with_the_exit_code() -> None:
    async def body(pod: Pod) -> None:
        cid = await pod.start("sh", "-c", "read line; echo got $line; exit 7", stdin=True)
        session = await pod.rs.attach(AttachRequest(container_id=cid, stdin=True))
        await session.write_stdin(b"hi\n")
        data = b"".join([c.data async for c in session.output()])
        assert data == b"got hi\n"
        assert await session.wait() == 7

    run(body)


# -- stats and cgroups ----------------------------------------------------------------------


def test_stats_count_cpu_and_memory_of_the_process() -> None:
    async def body(pod: Pod) -> None:
        script = "x = bytearray(32 * 2**20)\nwhile True: pass"
        cid = await pod.start("python3", "-c", script)
        await asyncio.sleep(0.5)
        stats = await pod.rs.container_stats(cid)
        assert stats.cpu is not None and stats.memory is not None
        assert stats.cpu.usage_core_nano_seconds > 0
        assert stats.memory.working_set_bytes >= 32 * 2**20

    run(body)


def _cgroups_writable() -> bool:
    probe = Cgroups(enabled=True, parent="kframe-test", runtime_id=f"probe{os.getpid()}")
    try:
        return probe.enabled
    finally:
        probe.close()
        for c in ("", "cpu/", "cpuacct/", "memory/"):
            if os.path.isdir(f"/sys/fs/cgroup/{c}kframe-test"):
                os.rmdir(f"/sys/fs/cgroup/{c}kframe-test")


def test_cgroup_limits_are_written_and_oom_kills_say_oomkilled() -> None:
    require(_cgroups_writable(), "cgroups are not writable here (needs root and cgroupfs)")

    async def body(pod: Pod) -> None:
        limits = LinuxContainerResources(
            cpu_period=100_000, cpu_quota=50_000, cpu_shares=512, memory_limit_in_bytes=64 * 2**20
        )
        cid = await pod.start("sleep", "3600", resources=limits)
        runtime = pod.rt
        assert isinstance(runtime, ProcessRuntime)
        cgroup = runtime._containers[cid].cgroup
        assert cgroup is not None
        spawned = runtime._containers[cid].spawned
        assert spawned is not None
        while spawned.pid not in cgroup.pids():  # joined by the wrapper before the command runs
            await asyncio.sleep(0.01)
        if cgroup.version == 2:
            with open(os.path.join(cgroup.dirs["unified"], "cpu.max")) as f:
                assert f.read().split() == ["50000", "100000"]
        else:
            with open(os.path.join(cgroup.dirs["memory"], "memory.limit_in_bytes")) as f:
                assert int(f.read()) == 64 * 2**20
            with open(os.path.join(cgroup.dirs["cpu"], "cpu.cfs_quota_us")) as f:
                assert int(f.read()) == 50_000
        status = await pod.rs.status()
        cond = status.condition(CGROUP_CONDITION)
        assert cond is not None and cond.status, cond
        hog = await pod.start(
            "python3",
            "-c",
            "x = [bytearray(2**20) for _ in range(512)]",
            name="hog",
            resources=LinuxContainerResources(memory_limit_in_bytes=32 * 2**20),
        )
        await pod.wait_exit(hog)
        s = await pod.rs.container_status(hog)
        assert (s.exit_code, s.reason) == (137, "OOMKilled")

    run(body)


def test_without_cgroups_the_status_says_why() -> None:
    async def body(pod: Pod) -> None:
        cond = (await pod.rs.status()).condition(CGROUP_CONDITION)
        assert cond is not None and not cond.status and "cgroups: false" in cond.message
        ready = (await pod.rs.status()).condition(NETWORK_READY)
        assert ready is not None and ready.status
        cid = await pod.start("sleep", "3600", resources=LinuxContainerResources(cpu_quota=1))
        assert (await pod.rs.container_status(cid)).state == ContainerState.RUNNING

    run(body, {"network": "host", "cgroups": False})


# -- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"pod-cidr": "10.0.0.0/33"}, "pod-cidr"),
        ({"pod_cidr": "fd00::/64"}, "pod_cidr"),
        ({"bridge": "a-name-that-is-too-long"}, "bridge"),
        ({"network": "overlay"}, "network"),
        ({"cgroups": "yes"}, "cgroups"),
        ({"host_ip": "not-an-ip"}, "host_ip"),
        ({"max_log_line": 0}, "max_log_line"),
        ({"no_such_knob": 1}, "no_such_knob"),
    ],
)
def test_bad_config_names_the_key(config: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(key.replace("-", "_"))):
        asyncio.run(open_runtime("process", RuntimeOptions(config=config)))


def test_host_network_sandboxes_report_the_host_ip() -> None:
    async def body(pod: Pod) -> None:
        status = await pod.rs.pod_sandbox_status(pod.sid)
        assert status.network is not None and status.network.ip == "192.0.2.7"
        assert not pod.rt.capabilities.pod_network

    run(body, {"network": "host", "host_ip": "192.0.2.7"})


def test_a_sandbox_stopped_while_a_container_starts_leaves_nothing_running() -> None:
    async def body(pod: Pod) -> None:
        cid = await pod.create("sleep", "3600")
        second = await pod.create("sleep", "3600", name="twice")
        results = await asyncio.gather(
            pod.rs.start_container(cid),
            pod.rs.start_container(second),
            pod.rs.start_container(second),
            pod.rs.stop_pod_sandbox(pod.sid),
            return_exceptions=True,
        )
        assert results[0] is None and results[1] is None and results[3] is None
        assert isinstance(results[2], FailedPreconditionError)  # already starting
        for c in (cid, second):
            assert (await pod.rs.container_status(c)).state == ContainerState.EXITED
        runtime = pod.rt
        assert isinstance(runtime, ProcessRuntime)
        spawned = runtime._containers[cid].spawned
        assert spawned is not None and _live_members(spawned.pid) == []

    run(body)


def test_without_root_or_iproute2_sandboxes_fall_back_to_the_host_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kframe_plugins.runtime.process as process

    monkeypatch.setattr(process, "bridge_unavailable", lambda: "not running as root")
    auto = process.make_network(process.ProcessRuntimeConfig(host_ip="192.0.2.9"))
    assert isinstance(auto, process.HostNetwork) and not auto.pod_network
    assert "not running as root" in auto.describe() and "192.0.2.9" in auto.describe()
    with pytest.raises(FailedPreconditionError, match="network: 'bridge' is not possible here"):
        process.make_network(process.ProcessRuntimeConfig(network="bridge"))


def test_run_as_user_and_group() -> None:
    require(os.geteuid() == 0, "changing the user needs root")

    async def body(pod: Pod) -> None:
        config = ContainerConfig(
            metadata=ContainerMetadata(name="c"),
            image=ImageSpec(image=IMAGE),
            command=("sh", "-c", "echo $(id -u) $(id -g)"),
            log_path="c/0.log",
            linux=LinuxContainerConfig(
                security_context=LinuxContainerSecurityContext(
                    run_as_user=65534, run_as_group=65533
                )
            ),
        )
        cid = await pod.rs.create_container(pod.sid, config, pod.config)
        await pod.rs.start_container(cid)
        await pod.wait_exit(cid)
        assert [line for _, _, line in pod.log()] == [b"65534 65533"]

    run(body)


def test_volumes_are_bind_mounted_in_the_containers_own_mount_namespace() -> None:
    require(os.geteuid() == 0, "bind mounts need root")

    async def body(pod: Pod) -> None:
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(f"{d}/volume")
            with open(f"{d}/volume/settings", "w") as f:
                f.write("from the volume\n")
            target = f"{d}/mnt/config"  # missing: created as the mount point
            config = ContainerConfig(
                metadata=ContainerMetadata(name="c"),
                image=ImageSpec(image=IMAGE),
                command=(
                    "sh",
                    "-c",
                    f"cat {target}/settings; touch {target}/x || echo ro; sleep 3600",
                ),
                log_path="c/0.log",
                mounts=(Mount(container_path=target, host_path=f"{d}/volume", readonly=True),),
            )
            cid = await pod.rs.create_container(pod.sid, config, pod.config)
            await pod.rs.start_container(cid)
            await pod.wait_log(b"ro")
            assert b"from the volume" in [line for _, _, line in pod.log()]
            assert os.listdir(target) == []  # the host sees only the empty mount point
            out = await pod.rs.exec_sync(cid, ["cat", f"{target}/settings"], 5)
            assert out.stdout == b"from the volume\n"  # execs join the container's mounts
            missing = ContainerConfig(
                metadata=ContainerMetadata(name="m"),
                image=ImageSpec(image=IMAGE),
                command=("true",),
                mounts=(Mount(container_path="/x", host_path=f"{d}/no-such"),),
            )
            bad = await pod.rs.create_container(pod.sid, missing, pod.config)
            with pytest.raises(ContainerStartError, match="does not exist"):
                await pod.rs.start_container(bad)
            await pod.rs.stop_container(cid, 0)

    run(body)


def test_containers_and_their_execs_see_the_pods_hostname() -> None:
    require(os.geteuid() == 0, "a UTS namespace needs root")

    async def body(pod: Pod) -> None:
        with open("/proc/sys/kernel/hostname", "rb") as f:
            host = f.read().strip()
        cid = await pod.start("sh", "-c", "cat /proc/sys/kernel/hostname; sleep 3600")
        name = pod.config.hostname.encode()
        await pod.wait_log(name)
        out = await pod.rs.exec_sync(cid, ["cat", "/proc/sys/kernel/hostname"], 5)
        assert out.stdout.strip() == name != host
        with open("/proc/sys/kernel/hostname", "rb") as f:
            assert f.read().strip() == host  # the node's is untouched
        # ... and find it in the pod's hosts file, at the pod IP, without DNS.
        status = await pod.rs.pod_sandbox_status(pod.sid)
        assert status.network is not None
        lookup = f"import socket; print(socket.gethostbyname({name.decode()!r}))"
        found = await pod.rs.exec_sync(cid, ["python3", "-c", lookup], 10)
        assert found.stdout == f"{status.network.ip}\n".encode()

    run(body)


def test_the_sandbox_dns_config_is_the_pods_resolv_conf() -> None:
    require(os.geteuid() == 0, "mount namespaces need root")

    async def body(pod: Pod) -> None:
        sc = attrs.evolve(
            sandbox_config(log_directory=pod.logs),
            dns_config=DNSConfig(
                servers=("10.96.0.10",),
                searches=("default.svc.cluster.local",),
                options=("ndots:5",),
            ),
        )
        sid = await pod.rs.run_pod_sandbox(sc)
        config = ContainerConfig(
            metadata=ContainerMetadata(name="c"),
            image=ImageSpec(image=IMAGE),
            command=("sleep", "9"),
        )
        cid = await pod.rs.create_container(sid, config, sc)
        await pod.rs.start_container(cid)
        out = await pod.rs.exec_sync(cid, ["cat", "/etc/resolv.conf"], 5)
        assert out.stdout == (
            b"nameserver 10.96.0.10\nsearch default.svc.cluster.local\noptions ndots:5\n"
        )
        await pod.rs.remove_pod_sandbox(sid)

    run(body)


def test_public_api_and_registration() -> None:
    import kframe_plugins.runtime.process as process
    from kframe.registry import build_registry

    assert sorted(process.__all__) == sorted(
        [
            "CGROUP_CONDITION",
            "NETWORK_MODES",
            "NO_COMMAND",
            "BridgeNetwork",
            "Cgroups",
            "ExecTimeoutError",
            "HostNetwork",
            "LineSplitter",
            "ProcessImages",
            "ProcessRuntime",
            "ProcessRuntimeConfig",
            "bridge_unavailable",
            "detect_host_ip",
            "image_id",
            "kframe_container_runtimes",
            "make_network",
            "normalize_image",
            "open_process_runtime",
            "rfc3339_nano",
        ]
    )
    assert all(hasattr(process, name) for name in process.__all__)
    assert build_registry().get("runtime", "process").factory is process.open_process_runtime
