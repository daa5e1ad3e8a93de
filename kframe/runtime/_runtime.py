"""What a runtime plugin provides: a :class:`Runtime` from a factory, and its capabilities.

A runtime registers a factory by name through the ``kframe_container_runtimes`` hook. The
contract a third party implements:

- ``factory(options: RuntimeOptions) -> Awaitable[Runtime]`` (:data:`RuntimeFactory`): an async
  callable. Each kubelet calls it once for its node, so one process hosting 1,000 nodes calls it
  1,000 times: it must be cheap and must not share state between the runtimes it returns.
- ``options.config`` carries the runtime's own settings as plain data (a mapping decoded from
  the kubelet's ``--runtime-config`` file or given in code); the runtime validates it and raises
  :class:`~kframe.runtime.InvalidArgumentError` naming the bad key.
- the :class:`Runtime` it returns bundles a :class:`~kframe.runtime.RuntimeService`, an
  :class:`~kframe.runtime.ImageService` (often the same object), the :class:`Capabilities` it
  declares, and ``close()``, which the kubelet awaits on shutdown.

:func:`open_runtime` is what the kubelet (and tests) call: it finds the factory in the registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from kframe.registry import Registry, build_registry
from kframe.runtime._clock import Clock
from kframe.runtime._errors import InvalidArgumentError
from kframe.runtime._services import ImageService, RuntimeService

__all__ = ["Capabilities", "Runtime", "RuntimeFactory", "RuntimeOptions", "open_runtime"]


@attrs.frozen(kw_only=True)
class Capabilities:
    """What a runtime implements beyond the lifecycle calls every runtime must have.

    A call behind a capability the runtime lacks raises UnimplementedError. The conformance
    suite checks each declared capability, and for each one declared absent checks that the
    call raises UnimplementedError (a pass, not a skip).
    """

    exec_sync: bool = True  #: exec_sync (exec probes)
    exec: bool = True  #: exec streams (``kubectl exec``)
    attach: bool = True  #: attach streams (``kubectl attach``)
    logs: bool = True  #: writes container output to ``log_path`` in CRI's log format
    stats: bool = True  #: container_stats, list_container_stats
    update_resources: bool = True  #: update_container_resources
    reopen_log: bool = True  #: reopen_container_log
    pod_network: bool = True  #: sandboxes (not on the host network) get an IP of their own
    #: the pod IPs answer from the node: the kubelet's httpGet, tcpSocket and grpc probes
    #: connect to them. A runtime whose IPs are make-believe (the fake) declares False, and
    #: those probes succeed without connecting, as on KWOK's simulated nodes.
    reachable_pod_ips: bool = True

    def names(self) -> dict[str, bool]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class RuntimeOptions:
    """What the kubelet tells a runtime factory.

    ``node_name``: the node the runtime serves. ``root_dir``: a directory the runtime may own
    (state, image store), "" for a runtime that keeps nothing on disk. ``clock``: the clock to
    read (None: the system clock). ``config``: the runtime's own settings.
    """

    node_name: str = "node"
    root_dir: str = ""
    clock: Clock | None = None
    config: Mapping[str, Any] = attrs.field(factory=dict)


@runtime_checkable
class Runtime(Protocol):
    """A node's container runtime, as a factory returns it."""

    @property
    def name(self) -> str:
        """The name the runtime is registered under (``fake``, ``process``)."""
        ...

    @property
    def runtime_service(self) -> RuntimeService: ...

    @property
    def image_service(self) -> ImageService: ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def close(self) -> None:
        """Stop background work and release resources; containers are not kept running."""
        ...


RuntimeFactory = Callable[[RuntimeOptions], Awaitable[Runtime]]


async def open_runtime(
    name: str, options: RuntimeOptions | None = None, *, registry: Registry | None = None
) -> Runtime:
    """The runtime registered as ``name``, built for ``options``.

    UnknownNameError (from the registry) lists the runtimes that exist.
    """
    registry = registry if registry is not None else build_registry()
    factory = registry.get("runtime", name).factory
    if not callable(factory):
        raise InvalidArgumentError(f"runtime {name!r} is registered with a non-callable factory")
    runtime = await factory(options if options is not None else RuntimeOptions())
    if not isinstance(runtime, Runtime):
        raise InvalidArgumentError(f"runtime {name!r}'s factory returned {type(runtime).__name__}")
    return runtime
