"""CRI's container messages (``ContainerConfig``, ``ContainerStatus``, ...) as attrs classes.

The kubelet builds a :class:`ContainerConfig` per container of a Pod for
``RuntimeService.create_container``; runtimes answer with :class:`ContainerStatus` and
:class:`Container` list items. Timestamps are nanoseconds since the Unix epoch (0: not yet).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from kframe.runtime._sandbox import labels_match

__all__ = [
    "REASON_COMPLETED",
    "REASON_ERROR",
    "REASON_OOM_KILLED",
    "Container",
    "ContainerConfig",
    "ContainerFilter",
    "ContainerMetadata",
    "ContainerResources",
    "ContainerState",
    "ContainerStatus",
    "ImageSpec",
    "KeyValue",
    "LinuxContainerConfig",
    "LinuxContainerResources",
    "LinuxContainerSecurityContext",
    "Mount",
    "MountPropagation",
    "exit_reason",
]

#: The ``reason`` of an EXITED container, as containerd and CRI-O report them.
REASON_COMPLETED = "Completed"
REASON_ERROR = "Error"
REASON_OOM_KILLED = "OOMKilled"


def exit_reason(exit_code: int) -> str:
    """``Completed`` for exit code 0, ``Error`` otherwise (OOM kills say ``OOMKilled``)."""
    return REASON_COMPLETED if exit_code == 0 else REASON_ERROR


class ContainerState(enum.IntEnum):
    """CRI's ``ContainerState``. A container only moves forward: CREATED, RUNNING, EXITED."""

    CREATED = 0
    RUNNING = 1
    EXITED = 2
    UNKNOWN = 3


class MountPropagation(enum.IntEnum):
    PRIVATE = 0
    HOST_TO_CONTAINER = 1
    BIDIRECTIONAL = 2


@attrs.frozen(kw_only=True)
class ContainerMetadata:
    """The container's name in its pod, and how many times the kubelet has created it."""

    name: str
    attempt: int = 0


@attrs.frozen(kw_only=True)
class ImageSpec:
    """An image reference (``nginx:1.27``, ``registry.k8s.io/pause:3.10``, or an image id)."""

    image: str
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    user_specified_image: str = ""
    runtime_handler: str = ""


@attrs.frozen(kw_only=True)
class KeyValue:
    """An environment variable."""

    key: str
    value: str = ""


@attrs.frozen(kw_only=True)
class Mount:
    container_path: str
    host_path: str = ""
    readonly: bool = False
    selinux_relabel: bool = False
    propagation: MountPropagation = MountPropagation.PRIVATE


@attrs.frozen(kw_only=True)
class LinuxContainerResources:
    """cgroup settings the kubelet derives from the container's requests and limits.

    ``cpu_shares`` comes from the CPU request (1024 per core, at least 2); ``cpu_quota`` over
    ``cpu_period`` from the CPU limit; ``memory_limit_in_bytes`` from the memory limit (0: none).
    """

    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_shares: int = 0
    memory_limit_in_bytes: int = 0
    oom_score_adj: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    unified: Mapping[str, str] = attrs.field(factory=dict)
    memory_swap_limit_in_bytes: int = 0

    @property
    def cpu_cores(self) -> float:
        """The CPU the settings allow: the limit if set, else the request (0 if neither)."""
        if self.cpu_quota > 0 and self.cpu_period > 0:
            return self.cpu_quota / self.cpu_period
        return self.cpu_shares / 1024 if self.cpu_shares > 2 else 0.0


@attrs.frozen(kw_only=True)
class LinuxContainerSecurityContext:
    privileged: bool = False
    run_as_user: int | None = None
    run_as_group: int | None = None
    readonly_rootfs: bool = False


@attrs.frozen(kw_only=True)
class LinuxContainerConfig:
    resources: LinuxContainerResources | None = None
    security_context: LinuxContainerSecurityContext | None = None


@attrs.frozen(kw_only=True)
class ContainerConfig:
    """What CreateContainer is asked to create in a sandbox.

    ``command`` is the pod's ``command`` (the image's entrypoint when empty), ``args`` its
    ``args``. ``log_path`` is relative to the sandbox's ``log_directory``
    (``<name>/<attempt>.log``); a runtime that writes logs writes them there in CRI's log format.
    """

    metadata: ContainerMetadata
    image: ImageSpec
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    working_dir: str = ""
    envs: tuple[KeyValue, ...] = ()
    mounts: tuple[Mount, ...] = ()
    labels: Mapping[str, str] = attrs.field(factory=dict)
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    log_path: str = ""
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False
    linux: LinuxContainerConfig | None = None


@attrs.frozen(kw_only=True)
class ContainerResources:
    """The resources a container runs with now (after UpdateContainerResources)."""

    linux: LinuxContainerResources | None = None


@attrs.frozen(kw_only=True)
class Container:
    """One item of ListContainers."""

    id: str
    pod_sandbox_id: str
    metadata: ContainerMetadata
    image: ImageSpec
    image_ref: str
    state: ContainerState
    created_at: int
    labels: Mapping[str, str] = attrs.field(factory=dict)
    annotations: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ContainerStatus:
    """ContainerStatus's answer.

    ``started_at`` is 0 until RUNNING, ``finished_at`` and ``exit_code`` meaningful once EXITED,
    with ``reason`` ``Completed``, ``Error``, ``OOMKilled`` or a start failure's reason.
    ``log_path`` is the absolute path of the log file (sandbox directory joined with the
    container's ``log_path``), "" when the container has none.
    """

    id: str
    metadata: ContainerMetadata
    state: ContainerState
    created_at: int
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    image: ImageSpec
    image_ref: str = ""
    reason: str = ""
    message: str = ""
    labels: Mapping[str, str] = attrs.field(factory=dict)
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    mounts: tuple[Mount, ...] = ()
    log_path: str = ""
    resources: ContainerResources | None = None


@attrs.frozen(kw_only=True)
class ContainerFilter:
    """ListContainers' (and ListContainerStats') filter; every set field must match."""

    id: str = ""
    state: ContainerState | None = None
    pod_sandbox_id: str = ""
    label_selector: Mapping[str, str] = attrs.field(factory=dict)

    def matches(self, item: Container) -> bool:
        if self.id and item.id != self.id:
            return False
        if self.state is not None and item.state != self.state:
            return False
        if self.pod_sandbox_id and item.pod_sandbox_id != self.pod_sandbox_id:
            return False
        return labels_match(self.label_selector, item.labels)
