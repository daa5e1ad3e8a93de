"""kframe.runtime's public API is pinned, and so are the Protocols runtimes implement.

A method added to RuntimeService, ImageService or Runtime breaks every runtime written before
it (``isinstance`` checks each method), so such a change must be deliberate: new CRI calls come
as optional Protocols of their own, behind a capability.
"""

from __future__ import annotations

import kframe.runtime as cri
import kframe.testing.runtime as suite

PUBLIC = {
    # services and the plugin contract
    "RuntimeService", "ImageService", "Runtime", "RuntimeFactory", "RuntimeOptions",
    "Capabilities", "open_runtime", "Clock", "SystemClock", "wall_nanos",
    # errors
    "CRIError", "NotFoundError", "AlreadyExistsError", "InvalidArgumentError",
    "FailedPreconditionError", "UnimplementedError", "ImagePullError", "ContainerStartError",
    # runtime-wide messages
    "CRI_API_VERSION", "RUNTIME_READY", "NETWORK_READY", "VersionResponse", "RuntimeCondition",
    "RuntimeStatus", "RuntimeConfig", "NetworkConfig", "ExecSyncResponse",
    # sandboxes
    "PodSandboxConfig", "PodSandboxMetadata", "PodSandboxState", "PodSandboxStatus",
    "PodSandboxNetworkStatus", "PodSandbox", "PodSandboxFilter", "PodIP", "DNSConfig",
    "PortMapping", "PortProtocol", "NamespaceMode", "NamespaceOption", "LinuxPodSandboxConfig",
    "LinuxSandboxSecurityContext", "labels_match",
    # containers
    "ContainerConfig", "ContainerMetadata", "ContainerState", "ContainerStatus",
    "ContainerResources", "Container", "ContainerFilter", "ImageSpec", "KeyValue", "Mount",
    "MountPropagation", "LinuxContainerConfig", "LinuxContainerResources",
    "LinuxContainerSecurityContext", "REASON_COMPLETED", "REASON_ERROR", "REASON_OOM_KILLED",
    "exit_reason",
    # exec and attach
    "ExecRequest", "AttachRequest", "StreamSession", "StreamChannel", "StreamChunk",
    "TerminalSize", "PipeSession",
    # stats and images
    "ContainerStats", "ContainerStatsFilter", "ContainerAttributes", "CpuUsage", "MemoryUsage",
    "Image", "ImageFilter", "AuthConfig", "ImageFsInfo", "FilesystemUsage",
    "FilesystemIdentifier",
}  # fmt: skip

SUITE = {
    "DEFAULT_COMMAND", "DEFAULT_IMAGE", "RuntimeConformance", "RuntimeOpener",
    "container_config", "installed_runtimes", "runtime_state_machine", "sandbox_config",
}  # fmt: skip

RUNTIME_SERVICE = {
    "version", "status", "update_runtime_config",
    "run_pod_sandbox", "stop_pod_sandbox", "remove_pod_sandbox", "pod_sandbox_status",
    "list_pod_sandbox",
    "create_container", "start_container", "stop_container", "remove_container",
    "list_containers", "container_status", "update_container_resources", "reopen_container_log",
    "exec_sync", "exec", "attach",
    "container_stats", "list_container_stats",
}  # fmt: skip
IMAGE_SERVICE = {"list_images", "image_status", "pull_image", "remove_image", "image_fs_info"}
RUNTIME = {"name", "runtime_service", "image_service", "capabilities", "close"}
CAPABILITIES = [
    "exec_sync", "exec", "attach", "logs", "stats", "update_resources", "reopen_log",
    "pod_network",
    "reachable_pod_ips",
]  # fmt: skip


def _members(protocol: type) -> set[str]:
    return {n for n in dir(protocol) if not n.startswith("_")}


def test_public_names() -> None:
    assert set(cri.__all__) == PUBLIC and len(cri.__all__) == len(PUBLIC)
    assert set(suite.__all__) == SUITE
    for module in (cri, suite):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name} is in __all__ but missing"


def test_the_protocols_runtimes_implement_are_pinned() -> None:
    assert _members(cri.RuntimeService) == RUNTIME_SERVICE
    assert _members(cri.ImageService) == IMAGE_SERVICE
    assert _members(cri.Runtime) == RUNTIME
    # New capabilities may be added, each defaulting to True; none may go or change meaning.
    assert list(cri.Capabilities().names()) == CAPABILITIES
    assert all(cri.Capabilities().names().values())
