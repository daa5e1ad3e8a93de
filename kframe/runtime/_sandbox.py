"""CRI's pod sandbox messages (``PodSandboxConfig``, ``PodSandboxStatus``, ...) as attrs classes.

The kubelet builds a :class:`PodSandboxConfig` from a Pod and passes it to
``RuntimeService.run_pod_sandbox``; runtimes answer with :class:`PodSandboxStatus` and
:class:`PodSandbox` list items. Field names are CRI v1's (``api.proto``), in snake_case as the
proto already spells them; maps are ``Mapping[str, str]``, repeated fields tuples.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

__all__ = [
    "DNSConfig",
    "LinuxPodSandboxConfig",
    "LinuxSandboxSecurityContext",
    "NamespaceMode",
    "NamespaceOption",
    "PodIP",
    "PodSandbox",
    "PodSandboxConfig",
    "PodSandboxFilter",
    "PodSandboxMetadata",
    "PodSandboxNetworkStatus",
    "PodSandboxState",
    "PodSandboxStatus",
    "PortMapping",
    "PortProtocol",
    "labels_match",
]


class PodSandboxState(enum.IntEnum):
    """CRI's ``PodSandboxState``: READY after RunPodSandbox, NOTREADY once stopped."""

    READY = 0
    NOTREADY = 1


class PortProtocol(enum.IntEnum):
    """CRI's ``Protocol`` of a port mapping."""

    TCP = 0
    UDP = 1
    SCTP = 2


class NamespaceMode(enum.IntEnum):
    """Whose namespace a sandbox or container uses: its pod's, its own, the node's, a target's."""

    POD = 0
    CONTAINER = 1
    NODE = 2
    TARGET = 3


@attrs.frozen(kw_only=True)
class PodSandboxMetadata:
    """Who the sandbox is for: the pod's name, uid and namespace, and the attempt number."""

    name: str
    uid: str = ""
    namespace: str = ""
    attempt: int = 0


@attrs.frozen(kw_only=True)
class DNSConfig:
    servers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class PortMapping:
    protocol: PortProtocol = PortProtocol.TCP
    container_port: int = 0
    host_port: int = 0
    host_ip: str = ""


@attrs.frozen(kw_only=True)
class NamespaceOption:
    """``network=NODE`` is ``hostNetwork: true``; ``pid=NODE`` is ``hostPID``."""

    network: NamespaceMode = NamespaceMode.POD
    pid: NamespaceMode = NamespaceMode.CONTAINER
    ipc: NamespaceMode = NamespaceMode.POD
    target_id: str = ""


@attrs.frozen(kw_only=True)
class LinuxSandboxSecurityContext:
    namespace_options: NamespaceOption = NamespaceOption()
    run_as_user: int | None = None
    run_as_group: int | None = None
    readonly_rootfs: bool = False
    supplemental_groups: tuple[int, ...] = ()
    privileged: bool = False


@attrs.frozen(kw_only=True)
class LinuxPodSandboxConfig:
    cgroup_parent: str = ""
    security_context: LinuxSandboxSecurityContext = LinuxSandboxSecurityContext()
    sysctls: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class PodSandboxConfig:
    """What RunPodSandbox is asked to create.

    ``log_directory`` is where the pod's container logs go (``/var/log/pods/<ns>_<name>_<uid>``);
    each container's ``log_path`` is relative to it. ``annotations`` are the pod's annotations,
    which is how per-pod knobs of a runtime (the fake runtime's ``fake.kframe.io/...``) arrive.
    """

    metadata: PodSandboxMetadata
    hostname: str = ""
    log_directory: str = ""
    dns_config: DNSConfig | None = None
    port_mappings: tuple[PortMapping, ...] = ()
    labels: Mapping[str, str] = attrs.field(factory=dict)
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    linux: LinuxPodSandboxConfig | None = None

    @property
    def host_network(self) -> bool:
        """Whether the sandbox shares the node's network namespace (``hostNetwork: true``)."""
        linux = self.linux
        return linux is not None and (
            linux.security_context.namespace_options.network == NamespaceMode.NODE
        )


@attrs.frozen(kw_only=True)
class PodIP:
    ip: str


@attrs.frozen(kw_only=True)
class PodSandboxNetworkStatus:
    """The sandbox's IP (the pod IP, ``status.podIP``) and any further ones (``podIPs``)."""

    ip: str = ""
    additional_ips: tuple[PodIP, ...] = ()


@attrs.frozen(kw_only=True)
class PodSandboxStatus:
    """PodSandboxStatus's answer. ``created_at`` is nanoseconds since the Unix epoch."""

    id: str
    metadata: PodSandboxMetadata
    state: PodSandboxState
    created_at: int
    network: PodSandboxNetworkStatus | None = None
    labels: Mapping[str, str] = attrs.field(factory=dict)
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    runtime_handler: str = ""


@attrs.frozen(kw_only=True)
class PodSandbox:
    """One item of ListPodSandbox."""

    id: str
    metadata: PodSandboxMetadata
    state: PodSandboxState
    created_at: int
    labels: Mapping[str, str] = attrs.field(factory=dict)
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    runtime_handler: str = ""


@attrs.frozen(kw_only=True)
class PodSandboxFilter:
    """ListPodSandbox's filter; every set field must match (AND), as CRI's.

    ``label_selector`` matches when each key is present with that value.
    """

    id: str = ""
    state: PodSandboxState | None = None
    label_selector: Mapping[str, str] = attrs.field(factory=dict)

    def matches(self, item: PodSandbox | PodSandboxStatus) -> bool:
        if self.id and item.id != self.id:
            return False
        if self.state is not None and item.state != self.state:
            return False
        return labels_match(self.label_selector, item.labels)


def labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """CRI's label selector: every ``key: value`` of ``selector`` is in ``labels``."""
    return all(labels.get(key) == value for key, value in selector.items())
