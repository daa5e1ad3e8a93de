"""The container runtime interface (CRI): what the kubelet drives, as typed async Protocols.

:class:`RuntimeService` and :class:`ImageService` mirror CRI v1's two gRPC services
(``k8s.io/cri-api/pkg/apis/runtime/v1/api.proto``) and its messages, as attrs classes with
CRI's snake_case field names. A runtime plugin registers a :data:`RuntimeFactory` by name
through the ``kframe_container_runtimes`` hook; the kubelet opens one per node with
:func:`open_runtime`. Exec and attach return a :class:`StreamSession` the kubelet's streaming
server bridges to ``kubectl exec``. The semantics are in ``docs/runtime.md`` and are checked by
the conformance suite, :mod:`kframe.testing.runtime`.
"""

from kframe.runtime._clock import Clock, SystemClock, wall_nanos
from kframe.runtime._container import (
    REASON_COMPLETED,
    REASON_ERROR,
    REASON_OOM_KILLED,
    Container,
    ContainerConfig,
    ContainerFilter,
    ContainerMetadata,
    ContainerResources,
    ContainerState,
    ContainerStatus,
    ImageSpec,
    KeyValue,
    LinuxContainerConfig,
    LinuxContainerResources,
    LinuxContainerSecurityContext,
    Mount,
    MountPropagation,
    exit_reason,
)
from kframe.runtime._errors import (
    AlreadyExistsError,
    ContainerStartError,
    CRIError,
    FailedPreconditionError,
    ImagePullError,
    InvalidArgumentError,
    NotFoundError,
    UnimplementedError,
)
from kframe.runtime._image import (
    AuthConfig,
    FilesystemIdentifier,
    FilesystemUsage,
    Image,
    ImageFilter,
    ImageFsInfo,
)
from kframe.runtime._runtime import (
    Capabilities,
    Runtime,
    RuntimeFactory,
    RuntimeOptions,
    open_runtime,
)
from kframe.runtime._sandbox import (
    DNSConfig,
    LinuxPodSandboxConfig,
    LinuxSandboxSecurityContext,
    NamespaceMode,
    NamespaceOption,
    PodIP,
    PodSandbox,
    PodSandboxConfig,
    PodSandboxFilter,
    PodSandboxMetadata,
    PodSandboxNetworkStatus,
    PodSandboxState,
    PodSandboxStatus,
    PortMapping,
    PortProtocol,
    labels_match,
)
from kframe.runtime._services import ImageService, RuntimeService
from kframe.runtime._stats import (
    ContainerAttributes,
    ContainerStats,
    ContainerStatsFilter,
    CpuUsage,
    MemoryUsage,
)
from kframe.runtime._status import (
    CRI_API_VERSION,
    NETWORK_READY,
    RUNTIME_READY,
    ExecSyncResponse,
    NetworkConfig,
    RuntimeCondition,
    RuntimeConfig,
    RuntimeStatus,
    VersionResponse,
)
from kframe.runtime._streams import (
    AttachRequest,
    ExecRequest,
    PipeSession,
    StreamChannel,
    StreamChunk,
    StreamSession,
    TerminalSize,
)

__all__ = [
    # services and the plugin contract
    "RuntimeService",
    "ImageService",
    "Runtime",
    "RuntimeFactory",
    "RuntimeOptions",
    "Capabilities",
    "open_runtime",
    "Clock",
    "SystemClock",
    "wall_nanos",
    # errors
    "CRIError",
    "NotFoundError",
    "AlreadyExistsError",
    "InvalidArgumentError",
    "FailedPreconditionError",
    "UnimplementedError",
    "ImagePullError",
    "ContainerStartError",
    # runtime-wide messages
    "CRI_API_VERSION",
    "RUNTIME_READY",
    "NETWORK_READY",
    "VersionResponse",
    "RuntimeCondition",
    "RuntimeStatus",
    "RuntimeConfig",
    "NetworkConfig",
    "ExecSyncResponse",
    # sandboxes
    "PodSandboxConfig",
    "PodSandboxMetadata",
    "PodSandboxState",
    "PodSandboxStatus",
    "PodSandboxNetworkStatus",
    "PodSandbox",
    "PodSandboxFilter",
    "PodIP",
    "DNSConfig",
    "PortMapping",
    "PortProtocol",
    "NamespaceMode",
    "NamespaceOption",
    "LinuxPodSandboxConfig",
    "LinuxSandboxSecurityContext",
    "labels_match",
    # containers
    "ContainerConfig",
    "ContainerMetadata",
    "ContainerState",
    "ContainerStatus",
    "ContainerResources",
    "Container",
    "ContainerFilter",
    "ImageSpec",
    "KeyValue",
    "Mount",
    "MountPropagation",
    "LinuxContainerConfig",
    "LinuxContainerResources",
    "LinuxContainerSecurityContext",
    "REASON_COMPLETED",
    "REASON_ERROR",
    "REASON_OOM_KILLED",
    "exit_reason",
    # exec and attach
    "ExecRequest",
    "AttachRequest",
    "StreamSession",
    "StreamChannel",
    "StreamChunk",
    "TerminalSize",
    "PipeSession",
    # stats
    "ContainerStats",
    "ContainerStatsFilter",
    "ContainerAttributes",
    "CpuUsage",
    "MemoryUsage",
    # images
    "Image",
    "ImageFilter",
    "AuthConfig",
    "ImageFsInfo",
    "FilesystemUsage",
    "FilesystemIdentifier",
]
