"""FakeRuntime: CRI's RuntimeService over records, with no processes (as KWOK fakes nodes).

The kubelet drives it like any runtime. Sandboxes get IPs from the node's pod CIDR; containers
move CREATED -> RUNNING after the start delay, exit by themselves after ``exit-after`` and stop
with ``stop_exit_code`` (or, ignoring SIGTERM, after the whole timeout with 137). Stats follow
each container's resources. Time comes from the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
from collections.abc import Sequence

from kframe.runtime import (
    NETWORK_READY,
    RUNTIME_READY,
    AlreadyExistsError,
    AttachRequest,
    Capabilities,
    Clock,
    Container,
    ContainerAttributes,
    ContainerConfig,
    ContainerFilter,
    ContainerStartError,
    ContainerState,
    ContainerStats,
    ContainerStatsFilter,
    ContainerStatus,
    CpuUsage,
    ExecRequest,
    ExecSyncResponse,
    FailedPreconditionError,
    FilesystemIdentifier,
    FilesystemUsage,
    InvalidArgumentError,
    LinuxContainerResources,
    MemoryUsage,
    NotFoundError,
    PipeSession,
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
    wall_nanos,
)

from ._config import FakeRuntimeConfig, knobs_for
from ._exec import echo_stdin, run_command
from ._images import FakeImages
from ._records import ContainerRecord, SandboxRecord, log_line

__all__ = ["FakeRuntime"]

VERSION = "0.1.0"


class _IPs:
    """Sandbox IPs from a CIDR: the lowest free address after the gateway (.1)."""

    def __init__(self, cidr: str) -> None:
        try:
            self.net = ipaddress.ip_network(cidr, strict=False)
        except ValueError as e:
            raise InvalidArgumentError(f"fake runtime: bad pod CIDR {cidr!r}: {e}") from None
        self.used: set[int] = set()
        self.next = 2

    def take(self) -> str:
        size = self.net.num_addresses
        for _ in range(size):
            offset, self.next = self.next, self.next + 1
            if self.next >= size - 1:
                self.next = 2
            if offset not in self.used and 2 <= offset < size - 1:
                self.used.add(offset)
                return str(self.net.network_address + offset)
        raise FailedPreconditionError(f"fake runtime: pod CIDR {self.net} is exhausted")

    def give_back(self, ip: str) -> None:
        with contextlib.suppress(ValueError):
            self.used.discard(int(ipaddress.ip_address(ip)) - int(self.net.network_address))


class FakeRuntime:
    """A fake node's runtime: the :class:`~kframe.runtime.Runtime` bundle and its RuntimeService."""

    name = "fake"
    # Its pod IPs are drawn from the pod CIDR but nothing listens on them.
    capabilities = Capabilities(reachable_pod_ips=False)

    def __init__(self, config: FakeRuntimeConfig, clock: Clock) -> None:
        self.images = FakeImages(config, clock)
        self.config = config
        self.clock = clock
        self._ips = _IPs(config.pod_cidr)
        self._sandboxes: dict[str, SandboxRecord] = {}
        self._containers: dict[str, ContainerRecord] = {}
        self._keys: dict[tuple[str, ...], str] = {}  # live metadata -> id (AlreadyExists)
        self._tasks: set[asyncio.Task[None]] = set()
        self._attached: dict[str, list[PipeSession]] = {}
        self._serial = 0
        self._prefix = os.urandom(8).hex()

    @property
    def runtime_service(self) -> FakeRuntime:
        return self

    @property
    def image_service(self) -> FakeImages:
        return self.images

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _new_id(self) -> str:
        self._serial += 1
        return f"{self._prefix}{self._serial:016x}"

    # -- the runtime ----------------------------------------------------------------------------

    async def version(self) -> VersionResponse:
        return VersionResponse(runtime_name=self.name, runtime_version=VERSION)

    async def status(self) -> RuntimeStatus:
        def cond(type: str, ok: bool) -> RuntimeCondition:
            reason = "" if ok else "FakeRuntimeNotReady"
            return RuntimeCondition(type=type, status=ok, reason=reason)

        return RuntimeStatus(
            conditions=(
                cond(RUNTIME_READY, self.config.runtime_ready),
                cond(NETWORK_READY, self.config.network_ready),
            )
        )

    async def update_runtime_config(self, config: RuntimeConfig) -> None:
        cidr = config.network_config.pod_cidr if config.network_config else ""
        if cidr and cidr != str(self._ips.net):
            self._ips = _IPs(cidr)

    # -- sandboxes ------------------------------------------------------------------------------

    async def run_pod_sandbox(self, config: PodSandboxConfig, runtime_handler: str = "") -> str:
        m = config.metadata
        if not m.name:
            raise InvalidArgumentError("RunPodSandbox: metadata.name is empty")
        key = ("sandbox", m.namespace, m.name, m.uid, str(m.attempt))
        if (other := self._keys.get(key)) is not None:
            raise AlreadyExistsError("pod sandbox", f"{m.namespace}/{m.name}", other)
        if self.config.sandbox_delay:
            await self.clock.sleep(self.config.sandbox_delay)
        ident = self._new_id()
        ip = self.config.host_ip if config.host_network else self._ips.take()
        self._keys[key] = ident
        record = SandboxRecord(ident, config, wall_nanos(self.clock), ip, runtime_handler)
        self._sandboxes[ident] = record
        return ident

    async def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(pod_sandbox_id)
        if sandbox is None or sandbox.state == PodSandboxState.NOTREADY:
            return
        for cid in sandbox.containers:
            self._kill(self._containers[cid], 137)
        sandbox.state = PodSandboxState.NOTREADY
        if not sandbox.config.host_network:
            self._ips.give_back(sandbox.ip)

    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(pod_sandbox_id)
        if sandbox is None:
            return
        await self.stop_pod_sandbox(pod_sandbox_id)
        for cid in list(sandbox.containers):
            await self.remove_container(cid)
        m = sandbox.config.metadata
        self._keys.pop(("sandbox", m.namespace, m.name, m.uid, str(m.attempt)), None)
        del self._sandboxes[pod_sandbox_id]

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
        if filter is not None and filter.id:
            found = self._sandboxes.get(filter.id)
            items = [found.item()] if found else []
        else:
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
        knobs = knobs_for(self.config, sandbox.config.annotations, m.name)
        directory = sandbox.config.log_directory
        log_path = os.path.join(directory, config.log_path) if directory and config.log_path else ""
        ident = self._new_id()
        record = ContainerRecord(
            ident, pod_sandbox_id, config, image.id, wall_nanos(self.clock), knobs, log_path
        )
        self._keys[key] = ident
        self._containers[ident] = record
        sandbox.containers[ident] = None
        return ident

    def _container(self, container_id: str) -> ContainerRecord:
        try:
            record = self._containers[container_id]
        except KeyError:
            raise NotFoundError("container", container_id) from None
        self._settle(record)
        return record

    def _settle(self, record: ContainerRecord) -> None:
        """Apply a self-exit that is due (lazily: no timer per container)."""
        if record.due(self.clock.now()):
            record.exit_by_itself()
            self._exited(record)

    def _exited(self, record: ContainerRecord) -> None:
        if self.config.write_logs:
            text = f"fake container {record.config.metadata.name} exited with code"
            record.write_log(log_line(self.clock.wall(), "stdout", f"{text} {record.exit_code}"))
        for session in self._attached.pop(record.id, ()):
            session.finish(record.exit_code)

    def _kill(self, record: ContainerRecord, code: int) -> None:
        self._settle(record)
        if record.state in (ContainerState.CREATED, ContainerState.RUNNING):
            record.exit(wall_nanos(self.clock), code)
            self._exited(record)

    async def start_container(self, container_id: str) -> None:
        record = self._container(container_id)
        if record.state != ContainerState.CREATED:
            raise FailedPreconditionError(
                f"container {container_id!r} is {record.state.name}, not CREATED"
            )
        knobs = record.knobs
        if knobs.start_delay:
            await self.clock.sleep(knobs.start_delay)
            if not record.created():  # stopped or removed meanwhile
                return
        if knobs.fail_start:
            message = "start failed as fake.kframe.io/fail-start asks"
            record.exit(wall_nanos(self.clock), 128, knobs.fail_start, message)
            raise ContainerStartError(container_id, knobs.fail_start, message)
        record.state = ContainerState.RUNNING
        record.started_at = wall_nanos(self.clock)
        record.started_mono = self.clock.now()
        if self.config.write_logs:
            text = f"fake container {record.config.metadata.name} started"
            record.write_log(log_line(self.clock.wall(), "stdout", text))

    async def stop_container(self, container_id: str, timeout: int) -> None:
        record = self._containers.get(container_id)
        if record is None:
            return
        self._settle(record)
        if record.state == ContainerState.RUNNING and record.knobs.ignore_sigterm and timeout > 0:
            await self.clock.sleep(timeout)
            self._kill(record, 137)
        else:
            self._kill(record, self.config.stop_exit_code)

    async def remove_container(self, container_id: str) -> None:
        record = self._containers.pop(container_id, None)
        if record is None:
            return
        self._kill(record, 137)
        m = record.config.metadata
        self._keys.pop(("container", record.sandbox_id, m.name, str(m.attempt)), None)
        sandbox = self._sandboxes.get(record.sandbox_id)
        if sandbox is not None:
            sandbox.containers.pop(container_id, None)

    async def list_containers(self, filter: ContainerFilter | None = None) -> Sequence[Container]:
        if filter is not None and filter.id:
            found = self._containers.get(filter.id)
            records = [found] if found else []
        elif filter is not None and filter.pod_sandbox_id:
            sandbox = self._sandboxes.get(filter.pod_sandbox_id)
            records = [self._containers[c] for c in sandbox.containers] if sandbox else []
        else:
            records = list(self._containers.values())
        items = []
        for record in records:
            self._settle(record)
            item = record.item()
            if filter is None or filter.matches(item):
                items.append(item)
        return items

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._container(container_id).status()

    async def update_container_resources(
        self, container_id: str, linux: LinuxContainerResources
    ) -> None:
        record = self._container(container_id)
        if record.state == ContainerState.EXITED:
            raise FailedPreconditionError(f"container {container_id!r} has exited")
        record.resources = linux

    async def reopen_container_log(self, container_id: str) -> None:
        record = self._container(container_id)
        if record.state != ContainerState.RUNNING:
            raise FailedPreconditionError(f"container {container_id!r} is not running")

    # -- exec, attach ---------------------------------------------------------------------------

    def _running(self, container_id: str) -> ContainerRecord:
        record = self._container(container_id)
        if record.state != ContainerState.RUNNING:
            raise FailedPreconditionError(
                f"container {container_id!r} is {record.state.name}, not RUNNING"
            )
        return record

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: int = 0
    ) -> ExecSyncResponse:
        if not cmd:
            raise InvalidArgumentError("ExecSync: cmd is empty")
        return run_command(cmd, self._running(container_id).knobs)

    def _spawn(self, session: PipeSession, result: ExecSyncResponse | None) -> None:
        task = asyncio.get_running_loop().create_task(echo_stdin(session, result))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def exec(self, request: ExecRequest) -> StreamSession:
        if not request.cmd:
            raise InvalidArgumentError("Exec: cmd is empty")
        record = self._running(request.container_id)
        session = PipeSession()
        if not request.stdin:
            await session.close_stdin()
        self._spawn(session, run_command(request.cmd, record.knobs))
        return session

    async def attach(self, request: AttachRequest) -> StreamSession:
        record = self._running(request.container_id)
        sessions = self._attached.setdefault(record.id, [])
        session = PipeSession(on_close=lambda: sessions.remove(session))
        sessions.append(session)
        if request.stdin:
            self._spawn(session, None)
        if record.knobs.exit_after is not None:  # wake the attached client at the exit
            self._spawn_exit_watch(record)
        return session

    def _spawn_exit_watch(self, record: ContainerRecord) -> None:
        async def watch() -> None:
            left = record.started_mono + (record.knobs.exit_after or 0.0) - self.clock.now()
            await self.clock.sleep(left)
            self._settle(record)

        task = asyncio.get_running_loop().create_task(watch())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- stats ----------------------------------------------------------------------------------

    def _stats(self, record: ContainerRecord) -> ContainerStats:
        now = wall_nanos(self.clock)
        res = record.resources
        running = record.state == ContainerState.RUNNING
        cores = (res.cpu_cores if res else 0.0) * self.config.cpu_fraction
        cores = cores or self.config.idle_cpu_cores
        end = now if running else record.finished_at
        ran = max(0, end - record.started_at) if record.started_at else 0
        limit = res.memory_limit_in_bytes if res else 0
        memory = (
            int(limit * self.config.memory_fraction) if limit else self.config.idle_memory_bytes
        )
        memory = memory if running else 0
        m = record.config.metadata
        return ContainerStats(
            attributes=ContainerAttributes(
                id=record.id,
                metadata=m,
                labels=record.config.labels,
                annotations=record.config.annotations,
            ),
            cpu=CpuUsage(
                timestamp=now,
                usage_core_nano_seconds=int(ran * cores),
                usage_nano_cores=int(cores * 1e9) if running else 0,
            ),
            memory=MemoryUsage(
                timestamp=now,
                working_set_bytes=memory,
                usage_bytes=memory,
                rss_bytes=memory * 3 // 4,
                available_bytes=max(0, limit - memory) if limit else 0,
            ),
            writable_layer=FilesystemUsage(
                timestamp=now,
                fs_id=FilesystemIdentifier(mountpoint="/var/lib/kframe/fake/containers"),
                used_bytes=4096,
                inodes_used=1,
            ),
        )

    async def container_stats(self, container_id: str) -> ContainerStats:
        return self._stats(self._container(container_id))

    async def list_container_stats(
        self, filter: ContainerStatsFilter | None = None
    ) -> Sequence[ContainerStats]:
        out = []
        for record in list(self._containers.values()):
            self._settle(record)
            if record.state != ContainerState.RUNNING:
                continue
            if filter is None or filter.matches(record.id, record.sandbox_id, record.config.labels):
                out.append(self._stats(record))
        return out
