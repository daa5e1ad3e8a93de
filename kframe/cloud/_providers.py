"""How cloud providers register and are opened by name (upstream's
``cloudprovider.RegisterCloudProvider`` and ``InitCloudProvider``).

A plugin's ``kframe_cloud_providers`` hook returns ``{name: CloudProviderSpec(...)}`` (a bare
factory is taken as a spec without a testbed). ``--cloud-provider NAME --cloud-config FILE``
opens one with :func:`open_cloud_provider`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from kframe.cloud._interface import CloudProvider
from kframe.registry import Registry, build_registry

__all__ = [
    "CloudProviderFactory",
    "CloudProviderSpec",
    "CloudTestbed",
    "TestbedFactory",
    "as_provider_spec",
    "open_cloud_provider",
    "registered_cloud_providers",
]


@runtime_checkable
class CloudTestbed(Protocol):
    """A provider opened on fresh, private state, with a handle on its "cloud" so the
    conformance suite (:mod:`kframe.testing.cloud`) can make instances appear, stop and
    vanish as a real cloud's console would.

    Instances are named after the nodes they back (the suite's Nodes carry no providerID at
    first, so the provider finds them by name).
    """

    provider: CloudProvider

    async def add_instance(self, name: str) -> None: ...

    async def stop_instance(self, name: str) -> None: ...

    async def start_instance(self, name: str) -> None: ...

    async def delete_instance(self, name: str) -> None: ...

    async def close(self) -> None:
        """Close the provider and drop the state."""
        ...


#: Builds a provider from its ``--cloud-config`` file (None when not given).
CloudProviderFactory = Callable[[Path | None], CloudProvider]
#: Opens a testbed in an empty directory it may use for its state.
TestbedFactory = Callable[[Path], Awaitable[CloudTestbed]]


@attrs.frozen
class CloudProviderSpec:
    """A registered provider: its factory and, for the conformance suite, a testbed."""

    build: CloudProviderFactory
    testbed: TestbedFactory | None = None


def as_provider_spec(value: Any) -> CloudProviderSpec:
    if isinstance(value, CloudProviderSpec):
        return value
    if callable(value):
        return CloudProviderSpec(value)
    raise TypeError(f"a cloud provider registers a CloudProviderSpec or a factory, not {value!r}")


def registered_cloud_providers(registry: Registry | None = None) -> dict[str, CloudProviderSpec]:
    """Every installed provider, by name."""
    registry = registry if registry is not None else build_registry()
    return {e.name: as_provider_spec(e.factory) for e in registry.entries("cloud-provider")}


def open_cloud_provider(
    name: str, config: Path | None = None, *, registry: Registry | None = None
) -> CloudProvider:
    """Build the provider ``name`` from its config file. An unknown name is an
    :class:`~kframe.registry.UnknownNameError` listing the installed ones; a factory that
    returns something else than a provider is a TypeError."""
    registry = registry if registry is not None else build_registry()
    entry = registry.get("cloud-provider", name)
    spec = as_provider_spec(entry.factory)
    provider = spec.build(config)
    if not isinstance(provider, CloudProvider):
        raise TypeError(
            f"cloud provider {name!r} from {entry.source} built {type(provider).__name__}, "
            "which is not a kframe.cloud.CloudProvider"
        )
    return provider
