"""ProcessRuntime: CRI's RuntimeService over real processes on the host's filesystem.

Sandboxes are network namespaces (or the host's network, see :mod:`._network`); containers
are process groups started with the pod's command, environment and working directory, in a
cgroup with the container's limits where the host allows (:mod:`._cgroups`), their output in
CRI log files (:mod:`._logs`). A supervisor task per container waits for its process, reaps
it and records the exit code and reason. close() kills every process the runtime started and
removes its namespaces and cgroups.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Sequence

from kframe.runtime import (
    NETWORK_READY,
    RUNTIME_READY,
    AlreadyExistsError,
    AttachRequest,
    Capabilities,
    Clock,
    Container,
    ContainerConfig,
    ContainerFilter,
    ContainerStartError,
    ContainerState,
    ContainerStats,
    ContainerStatsFilter,
    ContainerStatus,
    ExecRequest,
    ExecSyncResponse,
    FailedPreconditionError,
    InvalidArgumentError,
    LinuxContainerResources,
    Mount,
    NotFoundError,
    PodSandbox,
    PodSandboxConfig,
    PodSandboxFilter,
    PodSandboxState,
    PodSandboxStatus,
    RuntimeCondition,
    RuntimeConfig,
    RuntimeStatus,
    StreamSession,
    VersionResponse,
    exit_reason,
    wall_nanos,
)

from ._cgroups import Cgroups
from ._config import ProcessRuntimeConfig
from ._etc import pod_etc_mounts
from ._exec import ProcessSession, collect, feed_stdin, run_session
from ._images import ProcessImages
from ._logs import LogFile
from ._network import HostNetwork, Network, SandboxNet, detect_host_ip
from ._process import (
    DEFAULT_PATH,
    NSENTER,
    UNSHARE,
    Spawned,
    command_line,
    prepare_mounts,
    resolve,
    spawn,
    wait_setup,
)
from ._records import ContainerRecord, SandboxRecord
from ._stats import container_stats
from ._supervise import supervise

__all__ = ["CGROUP_CONDITION", "NO_COMMAND", "ProcessRuntime"]

VERSION = "0.1.0"
#: The runtime's own condition in Status: whether containers get cgroup limits, and why not.
CGROUP_CONDITION = "ContainerResourceLimits"
NO_COMMAND = (
    "container has no command: the process runtime runs commands on the host filesystem "
    "and does not read image entrypoints"
)
#: Bind mounts and the pod's hostname need root, unshare (mount and UTS namespaces per
#: container) and nsenter (for execs to join them).
NAMESPACES_POSSIBLE = os.geteuid() == 0 and UNSHARE is not None and NSENTER is not None
START_ERROR = "StartError"  # containerd's reason for a container that could not start


class ProcessRuntime:
    """One node's process runtime: the Runtime bundle and its RuntimeService."""

    name = "process"

    def __init__(
        self,
        config: ProcessRuntimeConfig,
        clock: Clock,
        network: Network,
        *,
        root_dir: str = "",
    ) -> None:
        self.config = config
        self.clock = clock
        self.network = network
        self._own_root = not root_dir
        self.root_dir = root_dir or tempfile.mkdtemp(prefix="kframe-process-")
        os.makedirs(self.root_dir, exist_ok=True)
        self.images = ProcessImages(self.root_dir, config.images)
        self.capabilities = Capabilities(pod_network=network.pod_network)
        self.runtime_id = secrets.token_hex(6)
        self.cgroups = Cgroups(
            enabled=config.cgroups, parent=config.cgroup_parent, runtime_id=self.runtime_id
        )
        self.cgroup_warning = ""  # the last limit that could not be written
        self._sandboxes: dict[str, SandboxRecord] = {}
        self._containers: dict[str, ContainerRecord] = {}
        self._keys: dict[tuple[str, ...], str] = {}  # live metadata -> id (AlreadyExists)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def runtime_service(self) -> ProcessRuntime:
        return self

    @property
    def image_service(self) -> ProcessImages:
        return self.images

    def _spawn_task(self, coro: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Kill every container, remove every sandbox's network and cgroup; idempotent."""
        self._closed = True
        for sid in list(self._sandboxes):
            await self.remove_pod_sandbox(sid)
        for cid in list(self._containers):
            await self.remove_container(cid)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.cgroups.close()
        if self._own_root:
            shutil.rmtree(self.root_dir, ignore_errors=True)

    # -- the runtime ----------------------------------------------------------------------------

    async def version(self) -> VersionResponse:
        return VersionResponse(runtime_name=self.name, runtime_version=VERSION)

    async def status(self) -> RuntimeStatus:
        limits = self.cgroups.enabled and not self.cgroup_warning
        why = self.cgroups.reason or self.cgroup_warning
        return RuntimeStatus(
            conditions=(
                RuntimeCondition(type=RUNTIME_READY, status=not self._closed),
                RuntimeCondition(type=NETWORK_READY, status=True, message=self.network.describe()),
                RuntimeCondition(
                    type=CGROUP_CONDITION,
                    status=limits,
                    reason="" if limits else "CgroupsUnavailable",
                    message=self.cgroups.describe() if limits else f"not enforced: {why}",
                ),
            )
        )

    async def update_runtime_config(self, config: RuntimeConfig) -> None:
        cidr = config.network_config.pod_cidr if config.network_config else ""
        if cidr:
            await self.network.set_cidr(self.config.network_of(cidr, "network_config.pod_cidr"))

    # -- sandboxes ------------------------------------------------------------------------------

    async def run_pod_sandbox(self, config: PodSandboxConfig, runtime_handler: str = "") -> str:
        m = config.metadata
        if not m.name:
            raise InvalidArgumentError("RunPodSandbox: metadata.name is empty")
        if self._closed:
            raise FailedPreconditionError("process runtime is closed")
        key = ("sandbox", m.namespace, m.name, m.uid, str(m.attempt))
        if (other := self._keys.get(key)) is not None:
            raise AlreadyExistsError("pod sandbox", f"{m.namespace}/{m.name}", other)
        ident = secrets.token_hex(32)
        self._keys[key] = ident  # reserved while the network is wired
        try:
            if config.host_network:
                net = await self._host_net(ident)
            else:
                net = await self.network.create(ident)
        except BaseException:
            del self._keys[key]
            raise
        record = SandboxRecord(ident, config, wall_nanos(self.clock), net, runtime_handler)
        if NAMESPACES_POSSIBLE and not config.host_network:
            directory = os.path.join(self.root_dir, "sandboxes", ident)
            record.etc_mounts = pod_etc_mounts(directory, config, net.ip)
        self._sandboxes[ident] = record
        return ident

    async def _host_net(self, ident: str) -> SandboxNet:
        if isinstance(self.network, HostNetwork):
            return await self.network.create(ident)
        return SandboxNet(self.config.host_ip or detect_host_ip())

    async def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(pod_sandbox_id)
        if sandbox is None:
            return
        async with sandbox.lock:
            if sandbox.state == PodSandboxState.NOTREADY:
                return
            sandbox.state = PodSandboxState.NOTREADY  # no new containers from here on
            # CRI: StopPodSandbox forcibly terminates the containers (containerd: timeout 0).
            await asyncio.gather(*(self.stop_container(c, 0) for c in list(sandbox.containers)))
            await self.network.destroy(sandbox.net)

    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(pod_sandbox_id)
        if sandbox is None:
            return
        await self.stop_pod_sandbox(pod_sandbox_id)
        for cid in list(sandbox.containers):
            await self.remove_container(cid)
        shutil.rmtree(os.path.join(self.root_dir, "sandboxes", pod_sandbox_id), ignore_errors=True)
        if self._sandboxes.pop(pod_sandbox_id, None) is not None:
            m = sandbox.config.metadata
            self._keys.pop(("sandbox", m.namespace, m.name, m.uid, str(m.attempt)), None)

    def _sandbox(self, pod_sandbox_id: str) -> SandboxRecord:
        try:
            return self._sandboxes[pod_sandbox_id]
        except KeyError:
            raise NotFoundError("pod sandbox", pod_sandbox_id) from None

    async def pod_sandbox_status(self, pod_sandbox_id: str) -> PodSandboxStatus:
        return self._sandbox(pod_sandbox_id).status()

    async def list_pod_sandbox(
        self, filter: PodSandboxFilter | None = None
    ) -> Sequence[PodSandbox]:
        items = [s.item() for s in self._sandboxes.values()]
        return items if filter is None else [i for i in items if filter.matches(i)]

    # -- containers -----------------------------------------------------------------------------

    async def create_container(
        self, pod_sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str:
        sandbox = self._sandbox(pod_sandbox_id)
        m = config.metadata
        if not m.name:
            raise InvalidArgumentError("CreateContainer: metadata.name is empty")
        if sandbox.state != PodSandboxState.READY:
            raise FailedPreconditionError(f"pod sandbox {pod_sandbox_id!r} is not ready")
        image = self.images.find(config.image)
        if image is None:
            raise NotFoundError("image", config.image.image)
        key = ("container", pod_sandbox_id, m.name, str(m.attempt))
        if (other := self._keys.get(key)) is not None:
            raise AlreadyExistsError("container", m.name, other)
        if not config.command and not config.args:
            raise InvalidArgumentError(f"CreateContainer {m.name!r}: {NO_COMMAND}")
        directory = sandbox.config.log_directory
        log_path = os.path.join(directory, config.log_path) if directory and config.log_path else ""
        # containerd's defaults for what an image would have set: PATH and HOSTNAME.
        env = {"PATH": DEFAULT_PATH, "HOSTNAME": sandbox.config.hostname or m.name}
        env.update((kv.key, kv.value) for kv in config.envs)
        ident = secrets.token_hex(32)
        record = ContainerRecord(
            ident, pod_sandbox_id, config, image.id, wall_nanos(self.clock), log_path, env
        )
        self._keys[key] = ident
        self._containers[ident] = record
        sandbox.containers[ident] = None
        return ident

    def _container(self, container_id: str) -> ContainerRecord:
        try:
            return self._containers[container_id]
        except KeyError:
            raise NotFoundError("container", container_id) from None

    def _fail_start(self, record: ContainerRecord, message: str) -> ContainerStartError:
        record.exit(wall_nanos(self.clock), 128, START_ERROR, message)
        return ContainerStartError(record.id, START_ERROR, message)

    async def start_container(self, container_id: str) -> None:
        record = self._container(container_id)
        if record.state != ContainerState.CREATED or record.starting.is_set():
            state = "starting" if record.state == ContainerState.CREATED else record.state.name
            raise FailedPreconditionError(f"container {container_id!r} is {state}, not CREATED")
        sandbox = self._sandbox(record.sandbox_id)
        if sandbox.state != PodSandboxState.READY:
            raise FailedPreconditionError(f"pod sandbox {sandbox.id!r} is not ready")
        record.starting.set()  # a stop from here on waits for the start to finish
        try:
            await self._start(record, sandbox)
        finally:
            record.started.set()

    async def _start(self, record: ContainerRecord, sandbox: SandboxRecord) -> None:
        cwd = record.config.working_dir
        if cwd and not os.path.isdir(cwd):
            raise self._fail_start(record, f"working directory {cwd!r} does not exist on the host")
        program = record.argv[0]
        if resolve(program, record.env, cwd) is None:
            raise self._fail_start(
                record, f'exec: "{program}": executable file not found in $PATH on the host'
            )
        if record.uid is not None and shutil.which("setpriv") is None:
            raise self._fail_start(record, "runAsUser needs setpriv (util-linux) on the host")
        mounts: list[Mount] = []
        wanted = record.config.mounts
        if sandbox.etc_mounts:  # the pod's own, unless a volume is mounted there
            taken = {m.container_path for m in wanted}
            wanted = (*[m for m in sandbox.etc_mounts if m.container_path not in taken], *wanted)
        if wanted and NAMESPACES_POSSIBLE:
            try:
                mounts = prepare_mounts(wanted)
            except ValueError as e:
                raise self._fail_start(record, str(e)) from None
        record.own_mounts = bool(mounts)
        # The pod's hostname, in a UTS namespace per container (host-network pods keep the
        # node's, as in Kubernetes).
        hostname = ""
        if NAMESPACES_POSSIBLE and not sandbox.config.host_network:
            hostname = (sandbox.config.hostname or sandbox.config.metadata.name)[:64]
        record.own_uts = bool(hostname)
        record.cgroup = self.cgroups.create(record.id)
        if record.cgroup is not None and record.resources is not None:
            failed = record.cgroup.apply(record.resources)
            self.cgroup_warning = "; ".join(failed)
        argv = command_line(
            record.argv,
            enter=self.network.enter(sandbox.net),
            cgroup=record.cgroup,
            uid=record.uid,
            gid=record.gid,
            mounts=mounts,
            hostname=hostname,
        )
        try:
            record.log = LogFile(record.log_path)
            record.spawned = await spawn(
                argv,
                env=record.env,
                cwd=cwd or None,
                stdin=record.config.stdin,
                tty=record.config.tty,
            )
        except OSError as e:
            if record.log is not None:
                record.log.close()
            await self._drop_cgroup(record)
            raise self._fail_start(record, f"{e.strerror or e}: {e.filename or program}") from None
        # As runc's start returns once the container's namespaces are set up: the wrapper has
        # made its mounts and joined its cgroup (an exec right after then sees them too).
        await wait_setup(record.spawned)
        record.state = ContainerState.RUNNING
        record.started_at = wall_nanos(self.clock)
        record.supervisor = self._spawn_task(
            supervise(record, self.clock, self.config.max_log_line)
        )

    async def _drop_cgroup(self, record: ContainerRecord) -> None:
        if record.cgroup is not None:
            await record.cgroup.remove()
            record.cgroup = None

    async def stop_container(self, container_id: str, timeout: int) -> None:
        record = self._containers.get(container_id)
        if record is None:
            return
        if record.starting.is_set():
            await record.started.wait()  # then stop what the start made of it
        if record.state == ContainerState.CREATED:
            record.exit(wall_nanos(self.clock), 0, exit_reason(0), "stopped before it started")
            return
        spawned = record.spawned
        if record.state != ContainerState.RUNNING or spawned is None:
            await record.done.wait()
            return
        if timeout > 0:
            spawned.signal_group(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(record.done.wait()), timeout)
        if not record.done.is_set():
            spawned.signal_group(signal.SIGKILL)
            if record.cgroup is not None:
                record.cgroup.kill()
        await record.done.wait()

    async def remove_container(self, container_id: str) -> None:
        record = self._containers.get(container_id)
        if record is None:
            return
        await self.stop_container(container_id, 0)
        if self._containers.pop(container_id, None) is None:
            return  # removed meanwhile
        await self._drop_cgroup(record)
        m = record.config.metadata
        self._keys.pop(("container", record.sandbox_id, m.name, str(m.attempt)), None)
        sandbox = self._sandboxes.get(record.sandbox_id)
        if sandbox is not None:
            sandbox.containers.pop(container_id, None)

    async def list_containers(self, filter: ContainerFilter | None = None) -> Sequence[Container]:
        items = [r.item() for r in self._containers.values()]
        return items if filter is None else [i for i in items if filter.matches(i)]

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._container(container_id).status()

    async def update_container_resources(
        self, container_id: str, linux: LinuxContainerResources
    ) -> None:
        record = self._container(container_id)
        if record.state == ContainerState.EXITED:
            raise FailedPreconditionError(f"container {container_id!r} has exited")
        record.resources = linux
        if record.cgroup is not None:
            self.cgroup_warning = "; ".join(record.cgroup.apply(linux))

    async def reopen_container_log(self, container_id: str) -> None:
        record = self._container(container_id)
        if record.state != ContainerState.RUNNING or record.log is None:
            raise FailedPreconditionError(f"container {container_id!r} is not running")
        try:
            record.log.open()
        except OSError as e:
            raise FailedPreconditionError(
                f"cannot reopen the log of container {container_id!r}: {e.strerror or e}"
            ) from None

    # -- exec, attach ---------------------------------------------------------------------------

    def _running(self, container_id: str) -> ContainerRecord:
        record = self._container(container_id)
        if record.state != ContainerState.RUNNING or record.done.is_set():
            raise FailedPreconditionError(
                f"container {container_id!r} is {record.state.name}, not RUNNING"
            )
        return record

    async def _start_exec(
        self, record: ContainerRecord, cmd: Sequence[str], *, stdin: bool, tty: bool
    ) -> Spawned:
        sandbox = self._sandbox(record.sandbox_id)
        cwd = record.config.working_dir or None
        if resolve(cmd[0], record.env, cwd or "") is None:
            # As runc: the exec fails to start; the kubelet shows the message.
            raise FailedPreconditionError(
                f'exec: "{cmd[0]}": executable file not found in $PATH on the host'
            )
        enter = self.network.enter(sandbox.net)
        own = ["--mount"] * record.own_mounts + ["--uts"] * record.own_uts
        if own and record.spawned is not None and NSENTER is not None:
            # The container has namespaces of its own: join them (and its network).
            wd = [f"--wd={cwd}"] if cwd else []
            enter = [NSENTER, f"--target={record.spawned.pid}", *own, "--net", *wd, "--"]
        argv = command_line(
            cmd,
            enter=enter,
            cgroup=record.cgroup,
            uid=record.uid,
            gid=record.gid,
        )
        try:
            spawned = await spawn(argv, env=record.env, cwd=cwd, stdin=stdin, tty=tty)
        except OSError as e:
            raise FailedPreconditionError(f"exec {cmd[0]!r}: {e.strerror or e}") from None
        record.execs.add(spawned)
        return spawned

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: int = 0
    ) -> ExecSyncResponse:
        if not cmd:
            raise InvalidArgumentError("ExecSync: cmd is empty")
        if timeout < 0:
            raise InvalidArgumentError(f"ExecSync: negative timeout {timeout}")
        record = self._running(container_id)
        spawned = await self._start_exec(record, cmd, stdin=False, tty=False)
        try:
            return await collect(spawned, cmd, timeout)
        finally:
            record.execs.discard(spawned)

    async def exec(self, request: ExecRequest) -> StreamSession:
        if not request.cmd:
            raise InvalidArgumentError("Exec: cmd is empty")
        record = self._running(request.container_id)
        spawned = await self._start_exec(record, request.cmd, stdin=request.stdin, tty=request.tty)
        task: asyncio.Task[None] | None = None
        session = ProcessSession(on_close=lambda: task.cancel() if task else None)
        if not request.stdin:
            await session.close_stdin()

        async def run() -> None:
            try:
                await run_session(spawned, session, tty=request.tty)
            finally:
                record.execs.discard(spawned)

        task = self._spawn_task(run())
        return session

    async def attach(self, request: AttachRequest) -> StreamSession:
        record = self._running(request.container_id)
        spawned = record.spawned
        assert spawned is not None
        feeder: asyncio.Task[None] | None = None

        def detach() -> None:
            with contextlib.suppress(ValueError):
                record.attached.remove(session)
            if feeder is not None:
                feeder.cancel()

        session = ProcessSession(on_close=detach)
        session.spawned = spawned
        record.attached.append(session)
        if request.stdin and spawned.stdin is not None:
            # stdinOnce: the container's stdin closes when the first attached client ends it.
            once = record.config.stdin_once
            feeder = self._spawn_task(feed_stdin(session, spawned.stdin, close_at_end=once))
        elif not request.stdin:
            await session.close_stdin()
        return session

    # -- stats ----------------------------------------------------------------------------------

    async def container_stats(self, container_id: str) -> ContainerStats:
        record = self._container(container_id)
        return container_stats(record, wall_nanos(self.clock), self.root_dir)

    async def list_container_stats(
        self, filter: ContainerStatsFilter | None = None
    ) -> Sequence[ContainerStats]:
        now = wall_nanos(self.clock)
        return [
            container_stats(r, now, self.root_dir)
            for r in self._containers.values()
            if r.state == ContainerState.RUNNING
            and (filter is None or filter.matches(r.id, r.sandbox_id, r.config.labels))
        ]
