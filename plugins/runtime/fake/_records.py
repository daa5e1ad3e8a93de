"""The fake runtime's state: one small mutable record per sandbox and per container.

Records are cheap on purpose (slots, shared knobs, no tasks or timers per container): a
container that exits by itself is settled lazily, when it is next read, from the clock. That
is what lets one process hold 1,000 nodes of 30 pods.
"""

from __future__ import annotations

import datetime as _dt
import os

from kframe.runtime import (
    REASON_OOM_KILLED,
    Container,
    ContainerConfig,
    ContainerResources,
    ContainerState,
    ContainerStatus,
    LinuxContainerResources,
    PodSandbox,
    PodSandboxConfig,
    PodSandboxNetworkStatus,
    PodSandboxState,
    PodSandboxStatus,
    exit_reason,
)

from ._config import Knobs

__all__ = ["ContainerRecord", "SandboxRecord", "log_line"]


def log_line(wall: _dt.datetime, stream: str, text: str) -> str:
    """One line of CRI's log format: ``<RFC 3339 nano time> <stream> F <text>``."""
    stamp = wall.strftime("%Y-%m-%dT%H:%M:%S.") + f"{wall.microsecond:06d}000Z"
    return f"{stamp} {stream} F {text}\n"


class SandboxRecord:
    __slots__ = ("config", "containers", "created_at", "id", "ip", "runtime_handler", "state")

    def __init__(
        self, ident: str, config: PodSandboxConfig, created_at: int, ip: str, handler: str
    ) -> None:
        self.id = ident
        self.config = config
        self.created_at = created_at
        self.ip = ip
        self.runtime_handler = handler
        self.state = PodSandboxState.READY
        self.containers: dict[str, None] = {}  # ids, in creation order

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
            network=PodSandboxNetworkStatus(ip=self.ip),
            labels=c.labels,
            annotations=c.annotations,
            runtime_handler=self.runtime_handler,
        )


class ContainerRecord:
    __slots__ = (
        "config",
        "created_at",
        "exit_code",
        "finished_at",
        "id",
        "image_ref",
        "knobs",
        "log_path",
        "message",
        "reason",
        "resources",
        "sandbox_id",
        "started_at",
        "started_mono",
        "state",
    )

    def __init__(
        self,
        ident: str,
        sandbox_id: str,
        config: ContainerConfig,
        image_ref: str,
        created_at: int,
        knobs: Knobs,
        log_path: str,
    ) -> None:
        self.id = ident
        self.sandbox_id = sandbox_id
        self.config = config
        self.image_ref = image_ref
        self.created_at = created_at
        self.knobs = knobs
        self.log_path = log_path
        self.state = ContainerState.CREATED
        self.started_at = 0
        self.started_mono = 0.0
        self.finished_at = 0
        self.exit_code = 0
        self.reason = ""
        self.message = ""
        linux = config.linux
        self.resources: LinuxContainerResources | None = linux.resources if linux else None

    def created(self) -> bool:
        return self.state == ContainerState.CREATED

    def due(self, now: float) -> bool:
        """Running, and past the moment its knobs say it exits by itself."""
        after = self.knobs.exit_after
        return (
            self.state == ContainerState.RUNNING
            and after is not None
            and now >= self.started_mono + after
        )

    def exit(self, finished_at: int, code: int, reason: str = "", message: str = "") -> None:
        self.state = ContainerState.EXITED
        self.finished_at = max(finished_at, self.started_at, self.created_at)
        self.exit_code = code
        self.reason = reason or exit_reason(code)
        self.message = message

    def exit_by_itself(self) -> None:
        after = self.knobs.exit_after or 0.0
        reason = self.knobs.exit_reason
        code = self.knobs.exit_code
        message = "killed by the fake OOM killer" if reason == REASON_OOM_KILLED else ""
        self.exit(self.started_at + int(after * 1e9), code, reason, message)

    def write_log(self, line: str) -> None:
        if not self.log_path:
            return
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line)

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
