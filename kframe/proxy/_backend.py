"""The interface of a proxy backend, and opening one by mode name from the registry.

A backend turns a :class:`~kframe.proxy.ProxyState` into data-plane rules (iptables chains, a
userspace forwarder, ...). A plugin registers a :data:`ProxyBackendFactory` per mode through the
``kframe_proxy_backends`` hook; ``kframe proxy --mode NAME`` opens it with :func:`open_backend`.
docs/proxy.md says how to write one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from kframe.proxy._types import IPFamily, ProxyState
from kframe.registry import Registry, build_registry

__all__ = [
    "ProxyBackend",
    "ProxyBackendFactory",
    "ProxyError",
    "ProxyOptions",
    "open_backend",
]


class ProxyError(Exception):
    """A backend cannot be built or cannot program its rules; one line meant for the user."""


@attrs.frozen(kw_only=True)
class ProxyOptions:
    """What the proxy tells a backend factory.

    ``node_name``: the node the proxy serves. ``dry_run``: render the rules, never touch the
    host (what tests and ``kframe proxy --dry-run`` use). ``ip_family``: the family proxied.
    ``config``: the backend's own settings (a mapping, as ``--backend-config`` reads them).
    """

    node_name: str = ""
    dry_run: bool = False
    ip_family: IPFamily = "IPv4"
    config: Mapping[str, Any] = attrs.field(factory=dict)


@runtime_checkable
class ProxyBackend(Protocol):
    """A data plane the proxy programs. All methods are called from the proxy's event loop,
    one at a time."""

    @property
    def name(self) -> str:
        """The mode the backend is registered under (``iptables``, ``userspace``)."""
        ...

    async def sync(self, state: ProxyState) -> None:
        """Make the data plane match ``state``: every service port in it proxied to its
        endpoints, and nothing else this backend installed earlier left behind.

        Called after the first full list of Services and EndpointSlices, at most once per
        ``min_sync_period`` on changes, and every ``sync_period`` regardless. Raise (any
        exception) when the rules could not be programmed; the proxy logs it and retries.
        """
        ...

    async def cleanup(self) -> None:
        """Remove everything the backend installed (``kframe proxy --cleanup``)."""
        ...

    async def close(self) -> None:
        """Release resources (sockets, tasks). Installed rules stay, as upstream's do."""
        ...


#: ``async def factory(options) -> ProxyBackend``: what ``kframe_proxy_backends`` maps names to.
ProxyBackendFactory = Callable[[ProxyOptions], Awaitable[ProxyBackend]]


async def open_backend(
    mode: str, options: ProxyOptions | None = None, *, registry: Registry | None = None
) -> ProxyBackend:
    """The backend registered as ``mode``, built for ``options``.

    UnknownNameError (from the registry) lists the modes that exist.
    """
    registry = registry if registry is not None else build_registry()
    factory = registry.get("proxy-backend", mode).factory
    if not callable(factory):
        raise ProxyError(f"proxy backend {mode!r} is registered with a non-callable factory")
    backend = await factory(options if options is not None else ProxyOptions())
    if not isinstance(backend, ProxyBackend):
        raise ProxyError(f"proxy backend {mode!r}'s factory returned {type(backend).__name__}")
    return backend
