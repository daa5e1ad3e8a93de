"""The process runtime's state: one record per sandbox and per container, and their CRI views.

A container record keeps everything ContainerStatus reports after the process is gone (exit
code, reason, the three timestamps), and while it runs, its process, cgroup, log file, the
attached sessions and the exec processes that die with it.
"""

from __future__ import annotations

import asyncio

from kframe.runtime import (
    Container,
    ContainerConfig,
    ContainerResources,
    ContainerState,
    ContainerStatus,
    LinuxContainerResources,
    Mount,
    PipeSession,
    PodSandbox,
    PodSandboxConfig,
    PodSandboxNetworkStatus,
    PodSandboxState,
    PodSandboxStatus,
)

from ._cgroups import ContainerCgroup
from ._logs import LogFile
from ._network import SandboxNet
from ._process import Spawned

__all__ = ["ContainerRecord", "SandboxRecord"]


class SandboxRecord:
    def __init__(
        self, ident: str, config: PodSandboxConfig, created_at: int, net: SandboxNet, handler: str
    ) -> None:
        self.id = ident
        self.config = config
        self.created_at = created_at
        self.net = net
        self.runtime_handler = handler
        self.state = PodSandboxState.READY
        self.containers: dict[str, None] = {}  # ids, in creation order
        self.lock = asyncio.Lock()  # stop and remove, one at a time
        self.etc_mounts: tuple[Mount, ...] = ()  # the pod's /etc/hosts (and resolv.conf)

    def item(self) -> PodSandbox:
        c = self.config
        return PodSandbox(
            id=self.id,
            metadata=c.metadata,
            state=self.state,
            created_at=self.created_at,
            labels=c.labels,
            annotations=c.annotations,
            runtime_handler=self.runtime_handler,
        )

    def status(self) -> PodSandboxStatus:
        c = self.config
        return PodSandboxStatus(
            id=self.id,
            metadata=c.metadata,
            state=self.state,
            created_at=self.created_at,
            network=PodSandboxNetworkStatus(ip=self.net.ip),
            labels=c.labels,
            annotations=c.annotations,
            runtime_handler=self.runtime_handler,
        )


class ContainerRecord:
    def __init__(
        self,
        ident: str,
        sandbox_id: str,
        config: ContainerConfig,
        image_ref: str,
        created_at: int,
        log_path: str,
        env: dict[str, str],
    ) -> None:
        self.id = ident
        self.sandbox_id = sandbox_id
        self.config = config
        self.image_ref = image_ref
        self.created_at = created_at
        self.log_path = log_path
        self.argv = (*config.command, *config.args)
        self.env = env
        self.state = ContainerState.CREATED
        self.started_at = 0
        self.finished_at = 0
        self.exit_code = 0
        self.reason = ""
        self.message = ""
        linux = config.linux
        self.resources: LinuxContainerResources | None = linux.resources if linux else None
        ctx = linux.security_context if linux else None
        self.uid = ctx.run_as_user if ctx else None
        self.gid = ctx.run_as_group if ctx else None
        # While it runs:
        self.spawned: Spawned | None = None
        self.own_mounts = False  # in a mount namespace of its own, with the bind mounts
        self.own_uts = False  # in a UTS namespace of its own, with the pod's hostname
        self.cgroup: ContainerCgroup | None = None
        self.log: LogFile | None = None
        self.attached: list[PipeSession] = []
        self.execs: set[Spawned] = set()
        self.supervisor: asyncio.Task[None] | None = None
        self.starting = asyncio.Event()  # StartContainer has begun
        self.started = asyncio.Event()  # ... and has finished (RUNNING or failed)
        self.done = asyncio.Event()  # set once EXITED and its output is drained
        self.cpu_sample: tuple[int, int] | None = None  # (wall ns, cpu ns) of the last stats

    def exit(self, finished_at: int, code: int, reason: str, message: str = "") -> None:
        self.state = ContainerState.EXITED
        self.finished_at = max(finished_at, self.started_at, self.created_at)
        self.exit_code = code
        self.reason = reason
        self.message = message
        self.done.set()

    def item(self) -> Container:
        c = self.config
        return Container(
            id=self.id,
            pod_sandbox_id=self.sandbox_id,
            metadata=c.metadata,
            image=c.image,
            image_ref=self.image_ref,
            state=self.state,
            created_at=self.created_at,
            labels=c.labels,
            annotations=c.annotations,
        )

    def status(self) -> ContainerStatus:
        c = self.config
        return ContainerStatus(
            id=self.id,
            metadata=c.metadata,
            state=self.state,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            exit_code=self.exit_code,
            image=c.image,
            image_ref=self.image_ref,
            reason=self.reason,
            message=self.message,
            labels=c.labels,
            annotations=c.annotations,
            mounts=c.mounts,
            log_path=self.log_path,
            resources=ContainerResources(linux=self.resources) if self.resources else None,
        )
