"""EchoRuntime: CRI's RuntimeService and ImageService replaying each container's script.

No process runs. A container's command (see :mod:`._program`) becomes a timeline: its ``echo``
lines appear in its CRI log as the clock passes them, and it exits when its ``sleep`` steps are
over, with the script's status. The state is settled lazily, whenever it is read, so a container
costs no task or timer. What the runtime lacks it declares in :attr:`EchoRuntime.capabilities`
and answers with UnimplementedError: exec and attach streams, stats, resource updates, and pod
networking (sandboxes report the host's IP).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from kframe.runtime import (
    NETWORK_READY,
    RUNTIME_READY,
    AlreadyExistsError,
    AttachRequest,
    AuthConfig,
    Capabilities,
    Clock,
    Container,
    ContainerConfig,
    ContainerFilter,
    ContainerState,
    ContainerStats,
    ContainerStatsFilter,
    ContainerStatus,
    CRIError,
    ExecRequest,
    ExecSyncResponse,
    FailedPreconditionError,
    FilesystemIdentifier,
    FilesystemUsage,
    Image,
    ImageFilter,
    ImageFsInfo,
    ImageSpec,
    InvalidArgumentError,
    LinuxContainerResources,
    NotFoundError,
    PodSandbox,
    PodSandboxConfig,
    PodSandboxFilter,
    PodSandboxNetworkStatus,
    PodSandboxState,
    PodSandboxStatus,
    RuntimeCondition,
    RuntimeConfig,
    RuntimeStatus,
    StreamSession,
    UnimplementedError,
    VersionResponse,
    exit_reason,
    wall_nanos,
)

from ._program import Program, parse_program

__all__ = ["NAME", "EchoRuntime", "ExecTimeoutError"]

NAME = "echo"
VERSION = "0.1.0"
SIGTERM_EXIT, SIGKILL_EXIT = 143, 137  # 128 + the signal, as containerd reports a kill


class ExecTimeoutError(CRIError):
    """ExecSync's command ran past its timeout (the kubelet fails the exec probe)."""

    code = "DeadlineExceeded"


def _rfc3339(nanos: int) -> str:
    seconds, frac = divmod(nanos, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{frac:09d}Z"


class _Sandbox:
    __slots__ = ("config", "containers", "created_at", "id", "state")

    def __init__(self, ident: str, config: PodSandboxConfig, created_at: int) -> None:
        self.id, self.config, self.created_at = ident, config, created_at
        self.state = PodSandboxState.READY
        self.containers: dict[str, None] = {}  # ids in creation order


class _Container:
    __slots__ = (
        "config",
        "created_at",
        "exit_code",
        "finished_at",
        "id",
        "image_ref",
        "log_path",
        "program",
        "sandbox_id",
        "started_at",
        "started_mono",
        "state",
        "written",
    )

    def __init__(
        self, ident: str, sandbox_id: str, config: ContainerConfig, image_ref: str, **kw: Any
    ) -> None:
        self.id, self.sandbox_id, self.config, self.image_ref = ident, sandbox_id, config, image_ref
        self.created_at: int = kw["created_at"]
        self.log_path: str = kw["log_path"]
        self.program: Program = kw["program"]
        self.state = ContainerState.CREATED
        self.started_at = self.finished_at = self.exit_code = self.written = 0
        self.started_mono = 0.0

    def log(self, lines: Sequence[tuple[int, str]]) -> None:
        if not self.log_path:
            return
        os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.writelines(f"{_rfc3339(at)} stdout F {text}\n" for at, text in lines)


class EchoRuntime:
    """One node's echo runtime: the Runtime bundle, its RuntimeService and its ImageService."""

    name = NAME
    capabilities = Capabilities(
        exec=False, attach=False, stats=False, update_resources=False, pod_network=False
    )

    def __init__(self, clock: Clock, *, host_ip: str = "127.0.0.1") -> None:
        self.clock = clock
        self.host_ip = host_ip
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        self._keys: dict[tuple[str, ...], str] = {}  # live metadata -> id, for AlreadyExists
        self._images: dict[str, Image] = {}  # id -> image
        self._serial = 0
        self._prefix = os.urandom(6).hex()  # ids stay unique across runtimes of one process

    @classmethod
    def from_config(cls, clock: Clock, config: Mapping[str, Any]) -> EchoRuntime:
        unknown = sorted(set(config) - {"host_ip"})
        if unknown:
            raise InvalidArgumentError(f"echo runtime: unknown config key {unknown[0]!r} (host_ip)")
        return cls(clock, host_ip=str(config.get("host_ip", "127.0.0.1")))

    @property
    def runtime_service(self) -> EchoRuntime:
        return self

    @property
    def image_service(self) -> EchoRuntime:
        return self

    async def close(self) -> None:
        """Nothing runs in the background: there is nothing to stop."""

    def _new_id(self) -> str:
        self._serial += 1
        return f"{self._prefix}{self._serial:08x}"

    # -- the runtime ----------------------------------------------------------------------------

    async def version(self) -> VersionResponse:
        return VersionResponse(runtime_name=NAME, runtime_version=VERSION)

    async def status(self) -> RuntimeStatus:
        return RuntimeStatus(
            conditions=(
                RuntimeCondition(type=RUNTIME_READY, status=True),
                RuntimeCondition(type=NETWORK_READY, status=True),
            )
        )

    async def update_runtime_config(self, config: RuntimeConfig) -> None:
        """Sandboxes use the host's network, so the pod CIDR changes nothing."""

    # -- sandboxes ------------------------------------------------------------------------------

    async def run_pod_sandbox(self, config: PodSandboxConfig, runtime_handler: str = "") -> str:
        m = config.metadata
        if not m.name:
            raise InvalidArgumentError("RunPodSandbox: metadata.name is empty")
        key = ("sandbox", m.namespace, m.name, m.uid, str(m.attempt))
        if (other := self._keys.get(key)) is not None:
            raise AlreadyExistsError("pod sandbox", f"{m.namespace}/{m.name}", other)
        ident = self._new_id()
        self._keys[key] = ident
        self._sandboxes[ident] = _Sandbox(ident, config, wall_nanos(self.clock))
        return ident

    async def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(pod_sandbox_id)
        if sandbox is None:
            return  # CRI: idempotent, and a removed sandbox has nothing left to reclaim
        for cid in sandbox.containers:
            self._kill(self._containers[cid], SIGKILL_EXIT)
        sandbox.state = PodSandboxState.NOTREADY

    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        sandbox = self._sandboxes.pop(pod_sandbox_id, None)
        if sandbox is None:
            return
        for cid in list(sandbox.containers):
            await self.remove_container(cid)
        m = sandbox.config.metadata
        self._keys.pop(("sandbox", m.namespace, m.name, m.uid, str(m.attempt)), None)

    def _sandbox(self, pod_sandbox_id: str) -> _Sandbox:
        try:
            return self._sandboxes[pod_sandbox_id]
        except KeyError:
            raise NotFoundError("pod sandbox", pod_sandbox_id) from None

    async def pod_sandbox_status(self, pod_sandbox_id: str) -> PodSandboxStatus:
        s = self._sandbox(pod_sandbox_id)
        c = s.config
        return PodSandboxStatus(
            id=s.id,
            metadata=c.metadata,
            state=s.state,
            created_at=s.created_at,
            network=PodSandboxNetworkStatus(ip=self.host_ip),
            labels=c.labels,
            annotations=c.annotations,
        )

    async def list_pod_sandbox(
        self, filter: PodSandboxFilter | None = None
    ) -> Sequence[PodSandbox]:
        items = [
            PodSandbox(
                id=s.id,
                metadata=s.config.metadata,
                state=s.state,
                created_at=s.created_at,
                labels=s.config.labels,
                annotations=s.config.annotations,
            )
            for s in self._sandboxes.values()
        ]
        return [i for i in items if filter is None or filter.matches(i)]

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
        image = self._find(config.image)
        if image is None:
            raise NotFoundError("image", config.image.image)
        key = ("container", pod_sandbox_id, m.name, str(m.attempt))
        if (other := self._keys.get(key)) is not None:
            raise AlreadyExistsError("container", m.name, other)
        program = parse_program((*config.command, *config.args))
        directory = sandbox.config.log_directory
        log_path = os.path.join(directory, config.log_path) if directory and config.log_path else ""
        ident = self._new_id()
        self._containers[ident] = _Container(
            ident,
            pod_sandbox_id,
            config,
            image.id,
            created_at=wall_nanos(self.clock),
            log_path=log_path,
            program=program,
        )
        self._keys[key] = ident
        sandbox.containers[ident] = None
        return ident

    def _settle(self, c: _Container) -> None:
        """Catch up with the clock: write the lines now due, and exit if the script is over."""
        if c.state != ContainerState.RUNNING:
            return
        elapsed = self.clock.now() - c.started_mono
        due = c.program.output_until(elapsed)
        if len(due) > c.written:
            c.log([(c.started_at + int(line.at * 1e9), line.text) for line in due[c.written :]])
            c.written = len(due)
        ends_at = c.program.ends_at
        if ends_at is not None and elapsed >= ends_at:
            self._exit(c, c.started_at + int(ends_at * 1e9), c.program.exit_code)

    def _exit(self, c: _Container, at: int, code: int) -> None:
        c.state = ContainerState.EXITED
        c.finished_at = max(at, c.started_at, c.created_at)
        c.exit_code = code

    def _kill(self, c: _Container, code: int) -> None:
        self._settle(c)
        if c.state in (ContainerState.CREATED, ContainerState.RUNNING):
            self._exit(c, wall_nanos(self.clock), code)

    def _container(self, container_id: str) -> _Container:
        try:
            c = self._containers[container_id]
        except KeyError:
            raise NotFoundError("container", container_id) from None
        self._settle(c)
        return c

    async def start_container(self, container_id: str) -> None:
        c = self._container(container_id)
        if c.state != ContainerState.CREATED:
            raise FailedPreconditionError(f"container {container_id!r} is {c.state.name}")
        c.state = ContainerState.RUNNING
        c.started_at = wall_nanos(self.clock)
        c.started_mono = self.clock.now()
        c.log(())  # the log file exists from the start, as a runtime's does
        self._settle(c)  # a script without sleeps is done at once

    async def stop_container(self, container_id: str, timeout: int) -> None:
        c = self._containers.get(container_id)
        if c is not None:  # every script dies on SIGTERM, so the grace period is never used
            self._kill(c, SIGTERM_EXIT if timeout > 0 else SIGKILL_EXIT)

    async def remove_container(self, container_id: str) -> None:
        c = self._containers.pop(container_id, None)
        if c is None:
            return
        self._kill(c, SIGKILL_EXIT)
        m = c.config.metadata
        self._keys.pop(("container", c.sandbox_id, m.name, str(m.attempt)), None)
        if (sandbox := self._sandboxes.get(c.sandbox_id)) is not None:
            sandbox.containers.pop(container_id, None)

    async def list_containers(self, filter: ContainerFilter | None = None) -> Sequence[Container]:
        items = []
        for c in self._containers.values():
            self._settle(c)
            item = Container(
                id=c.id,
                pod_sandbox_id=c.sandbox_id,
                metadata=c.config.metadata,
                image=c.config.image,
                image_ref=c.image_ref,
                state=c.state,
                created_at=c.created_at,
                labels=c.config.labels,
                annotations=c.config.annotations,
            )
            if filter is None or filter.matches(item):
                items.append(item)
        return items

    async def container_status(self, container_id: str) -> ContainerStatus:
        c = self._container(container_id)
        exited = c.state == ContainerState.EXITED
        return ContainerStatus(
            id=c.id,
            metadata=c.config.metadata,
            state=c.state,
            created_at=c.created_at,
            started_at=c.started_at,
            finished_at=c.finished_at,
            exit_code=c.exit_code,
            image=c.config.image,
            image_ref=c.image_ref,
            reason=exit_reason(c.exit_code) if exited else "",
            labels=c.config.labels,
            annotations=c.config.annotations,
            mounts=c.config.mounts,
            log_path=c.log_path,
        )

    async def update_container_resources(
        self, container_id: str, linux: LinuxContainerResources
    ) -> None:
        raise UnimplementedError(NAME, "UpdateContainerResources")

    async def reopen_container_log(self, container_id: str) -> None:
        # Every write opens the file afresh, so a rotated log is reopened by the next line.
        if self._container(container_id).state != ContainerState.RUNNING:
            raise FailedPreconditionError(f"container {container_id!r} is not running")

    # -- exec, attach, stats --------------------------------------------------------------------

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: int = 0
    ) -> ExecSyncResponse:
        if not cmd:
            raise InvalidArgumentError("ExecSync: cmd is empty")
        if self._container(container_id).state != ContainerState.RUNNING:
            raise FailedPreconditionError(f"container {container_id!r} is not running")
        program = parse_program(cmd)
        if program.ends_at is None:  # not a script the runtime can play
            return ExecSyncResponse(stderr=f"sh: {cmd[0]}: not found\n".encode(), exit_code=127)
        if timeout and program.ends_at > timeout:
            await self.clock.sleep(timeout)
            raise ExecTimeoutError(f"command {' '.join(cmd)!r} timed out after {timeout}s")
        await self.clock.sleep(program.ends_at)
        out = "".join(line.text + "\n" for line in program.lines)
        return ExecSyncResponse(stdout=out.encode(), exit_code=program.exit_code)

    async def exec(self, request: ExecRequest) -> StreamSession:
        raise UnimplementedError(NAME, "Exec")

    async def attach(self, request: AttachRequest) -> StreamSession:
        raise UnimplementedError(NAME, "Attach")

    async def container_stats(self, container_id: str) -> ContainerStats:
        raise UnimplementedError(NAME, "ContainerStats")

    async def list_container_stats(
        self, filter: ContainerStatsFilter | None = None
    ) -> Sequence[ContainerStats]:
        raise UnimplementedError(NAME, "ListContainerStats")

    # -- images: every name pulls at once; the id is a digest of the name -----------------------

    def _find(self, spec: ImageSpec) -> Image | None:
        found = self._images.get(spec.image)
        return found or next((i for i in self._images.values() if spec.image in i.repo_tags), None)

    async def list_images(self, filter: ImageFilter | None = None) -> Sequence[Image]:
        if filter is not None and filter.image is not None and filter.image.image:
            found = self._find(filter.image)
            return [found] if found else []
        return list(self._images.values())

    async def image_status(self, image: ImageSpec) -> Image | None:
        return self._find(image)

    async def pull_image(
        self,
        image: ImageSpec,
        auth: AuthConfig | None = None,
        sandbox_config: PodSandboxConfig | None = None,
    ) -> str:
        if not image.image:
            raise InvalidArgumentError("PullImage: image name is empty")
        if (found := self._find(image)) is not None:
            return found.id
        ident = "sha256:" + hashlib.sha256(image.image.encode()).hexdigest()
        self._images[ident] = Image(id=ident, repo_tags=(image.image,), size=4096)
        return ident

    async def remove_image(self, image: ImageSpec) -> None:
        found = self._find(image)
        if found is not None:
            del self._images[found.id]

    async def image_fs_info(self) -> ImageFsInfo:
        usage = FilesystemUsage(
            timestamp=wall_nanos(self.clock),
            fs_id=FilesystemIdentifier(mountpoint="/var/lib/kframe/echo"),
            used_bytes=sum(i.size for i in self._images.values()),
            inodes_used=len(self._images),
        )
        return ImageFsInfo(image_filesystems=(usage,))
