"""Translating a Pod into CRI requests: the sandbox config and each container's config.

Labels follow upstream's ``kuberuntime`` so a relist can map a container back to its pod
(``io.kubernetes.pod.uid``, ``io.kubernetes.container.name``, ...); the log directory is
upstream's ``/var/log/pods/<namespace>_<name>_<uid>`` under the kubelet's log dir, each
container logging to ``<name>/<attempt>.log`` in it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from kframe.api.models import Container, Pod
from kframe.runtime import (
    ContainerConfig,
    ContainerMetadata,
    DNSConfig,
    ImageSpec,
    KeyValue,
    LinuxContainerConfig,
    LinuxContainerResources,
    LinuxPodSandboxConfig,
    LinuxSandboxSecurityContext,
    Mount,
    NamespaceMode,
    NamespaceOption,
    PodSandboxConfig,
    PodSandboxMetadata,
    PortMapping,
    PortProtocol,
)

__all__ = [
    "LABEL_CONTAINER_NAME",
    "LABEL_POD_NAME",
    "LABEL_POD_NAMESPACE",
    "LABEL_POD_UID",
    "container_config",
    "sandbox_config",
]

LABEL_POD_NAME = "io.kubernetes.pod.name"
LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace"
LABEL_POD_UID = "io.kubernetes.pod.uid"
LABEL_CONTAINER_NAME = "io.kubernetes.container.name"

_PROTOCOLS = {"TCP": PortProtocol.TCP, "UDP": PortProtocol.UDP, "SCTP": PortProtocol.SCTP}
# Upstream's cpu shares and quota arithmetic (pkg/kubelet/cm/helpers_linux.go).
_SHARES_PER_CPU = 1024
_MIN_SHARES = 2
_QUOTA_PERIOD = 100_000


def _pod_labels(pod: Pod) -> dict[str, str]:
    meta = pod.metadata
    assert meta is not None
    return {
        LABEL_POD_NAME: meta.name or "",
        LABEL_POD_NAMESPACE: meta.namespace or "",
        LABEL_POD_UID: meta.uid or "",
    }


def log_directory(log_dir: str, pod: Pod) -> str:
    meta = pod.metadata
    assert meta is not None
    if not log_dir:
        return ""
    return os.path.join(log_dir, f"{meta.namespace}_{meta.name}_{meta.uid}")


def sandbox_config(
    pod: Pod,
    *,
    attempt: int,
    log_dir: str,
    node_hostname: str,
    dns_config: DNSConfig | None = None,
) -> PodSandboxConfig:
    meta, spec = pod.metadata, pod.spec
    assert meta is not None and spec is not None
    ports = [
        PortMapping(
            protocol=_PROTOCOLS.get(port.protocol or "TCP", PortProtocol.TCP),
            container_port=port.container_port or 0,
            host_port=port.host_port or 0,
            host_ip=port.host_ip or "",
        )
        for container in spec.containers
        for port in container.ports
        if port.container_port
    ]
    namespaces = NamespaceOption(
        network=NamespaceMode.NODE if spec.host_network else NamespaceMode.POD,
        pid=NamespaceMode.NODE
        if spec.host_pid
        else (NamespaceMode.POD if spec.share_process_namespace else NamespaceMode.CONTAINER),
        ipc=NamespaceMode.NODE if spec.host_ipc else NamespaceMode.POD,
    )
    hostname = node_hostname if spec.host_network else (spec.hostname or meta.name or "")
    return PodSandboxConfig(
        metadata=PodSandboxMetadata(
            name=meta.name or "",
            uid=meta.uid or "",
            namespace=meta.namespace or "",
            attempt=attempt,
        ),
        hostname=hostname,
        log_directory=log_directory(log_dir, pod),
        dns_config=dns_config,
        port_mappings=tuple(ports),
        labels={**meta.labels, **_pod_labels(pod)},
        annotations=dict(meta.annotations),
        linux=LinuxPodSandboxConfig(
            security_context=LinuxSandboxSecurityContext(namespace_options=namespaces)
        ),
    )


def _resources(container: Container) -> LinuxContainerResources:
    res = container.resources
    requests = res.requests if res is not None else {}
    limits = res.limits if res is not None else {}
    cpu_request = requests.get("cpu") or limits.get("cpu")
    shares = _MIN_SHARES
    if cpu_request is not None:
        shares = max(_MIN_SHARES, cpu_request.milli_value() * _SHARES_PER_CPU // 1000)
    quota = 0
    if "cpu" in limits:
        quota = limits["cpu"].milli_value() * _QUOTA_PERIOD // 1000
    memory = limits["memory"].value() if "memory" in limits else 0
    return LinuxContainerResources(
        cpu_period=_QUOTA_PERIOD if quota else 0,
        cpu_quota=quota,
        cpu_shares=shares,
        memory_limit_in_bytes=memory,
    )


def container_config(
    pod: Pod,
    container: Container,
    *,
    attempt: int,
    image_ref: str,
    env: Sequence[tuple[str, str]],
    command: Sequence[str],
    args: Sequence[str],
    log_dir: str,
    mounts: Sequence[Mount] = (),
) -> ContainerConfig:
    name = container.name or ""
    return ContainerConfig(
        metadata=ContainerMetadata(name=name, attempt=attempt),
        image=ImageSpec(
            image=image_ref or container.image or "", user_specified_image=container.image or ""
        ),
        command=tuple(command),
        args=tuple(args),
        working_dir=container.working_dir or "",
        envs=tuple(KeyValue(key=k, value=v) for k, v in env),
        mounts=tuple(mounts),
        labels={**_pod_labels(pod), LABEL_CONTAINER_NAME: name},
        annotations={"io.kubernetes.container.restartCount": str(attempt)},
        log_path=f"{name}/{attempt}.log" if log_dir else "",
        stdin=bool(container.stdin),
        stdin_once=bool(container.stdin_once),
        tty=bool(container.tty),
        linux=LinuxContainerConfig(resources=_resources(container)),
    )
