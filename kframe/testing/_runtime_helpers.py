"""Builders and plumbing shared by the runtime conformance suite and its state machine."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from kframe.registry import Registry, build_registry
from kframe.runtime import (
    ContainerConfig,
    ContainerMetadata,
    ImageSpec,
    LinuxContainerConfig,
    LinuxContainerResources,
    PodSandboxConfig,
    PodSandboxMetadata,
    Runtime,
    RuntimeOptions,
)

__all__ = [
    "DEFAULT_COMMAND",
    "DEFAULT_IMAGE",
    "RuntimeOpener",
    "container_config",
    "installed_runtimes",
    "run_with_runtime",
    "sandbox_config",
]

T = TypeVar("T")

#: What a conformance container runs: an image every runtime can pull, a command that waits.
DEFAULT_IMAGE = "registry.k8s.io/pause:3.10"
DEFAULT_COMMAND = ("sleep", "3600")

#: What the suite calls to open a fresh, empty runtime.
RuntimeOpener = Callable[[], Awaitable[Runtime]]

_serial = itertools.count(1)


def sandbox_config(
    name: str | None = None,
    *,
    namespace: str = "conformance",
    uid: str | None = None,
    attempt: int = 0,
    labels: Mapping[str, str] = {},
    annotations: Mapping[str, str] = {},
    log_directory: str = "",
) -> PodSandboxConfig:
    """A sandbox config as the kubelet builds one for pod ``namespace/name`` (unique default)."""
    n = next(_serial)
    name = name or f"pod-{n}"
    return PodSandboxConfig(
        metadata=PodSandboxMetadata(
            name=name, namespace=namespace, uid=uid or f"uid-{name}-{n}", attempt=attempt
        ),
        hostname=name,
        log_directory=log_directory,
        labels={"io.kubernetes.pod.name": name, **labels},
        annotations=dict(annotations),
    )


def container_config(
    name: str = "c",
    *,
    image: str = DEFAULT_IMAGE,
    command: tuple[str, ...] = DEFAULT_COMMAND,
    attempt: int = 0,
    labels: Mapping[str, str] = {},
    log_path: str = "",
    cpu_millis: int = 0,
    memory_bytes: int = 0,
) -> ContainerConfig:
    """A container config for container ``name``; resources as the kubelet converts them."""
    resources = None
    if cpu_millis or memory_bytes:
        resources = LinuxContainerResources(
            cpu_period=100_000 if cpu_millis else 0,
            cpu_quota=cpu_millis * 100 if cpu_millis else 0,
            cpu_shares=max(2, cpu_millis * 1024 // 1000),
            memory_limit_in_bytes=memory_bytes,
        )
    return ContainerConfig(
        metadata=ContainerMetadata(name=name, attempt=attempt),
        image=ImageSpec(image=image),
        command=command,
        labels={"io.kubernetes.container.name": name, **labels},
        log_path=log_path,
        linux=LinuxContainerConfig(resources=resources) if resources else None,
    )


def installed_runtimes(registry: Registry | None = None) -> list[tuple[str, RuntimeOpener]]:
    """``(name, opener)`` for every registered runtime; each opener builds a fresh runtime.

    Runtimes are opened with default :class:`~kframe.runtime.RuntimeOptions` (no config).
    """
    registry = registry if registry is not None else build_registry()
    out: list[tuple[str, RuntimeOpener]] = []
    for entry in registry.entries("runtime"):
        factory: Any = entry.factory

        def opener(factory: Any = factory, name: str = entry.name) -> Awaitable[Runtime]:
            return factory(RuntimeOptions(node_name=f"conformance-{name}"))  # type: ignore[no-any-return]

        out.append((entry.name, opener))
    return out


def run_with_runtime(
    opener: RuntimeOpener, body: Callable[[Runtime], Coroutine[Any, Any, T]], timeout: float = 60
) -> T:
    """Open a runtime, run ``body`` on it in a fresh event loop, close it."""

    async def main() -> T:
        runtime = await opener()
        try:
            return await asyncio.wait_for(body(runtime), timeout)
        finally:
            await runtime.close()

    return asyncio.run(main())
