"""The ``process`` container runtime: CRI over real processes on the host's filesystem.

Registered as runtime ``process`` through ``kframe_container_runtimes``. Its factory takes
:class:`kframe.runtime.RuntimeOptions`: ``options.config`` is decoded as a
:class:`ProcessRuntimeConfig` (``pod_cidr``, ``bridge``, ``network``, ...), ``options.root_dir``
holds its state (a temporary directory, removed on close, when empty). Running as root with
iproute2, each sandbox gets a network namespace and an IP on a bridge; otherwise (or with
``network: host``) sandboxes use the host's network and report the host IP. Any image name
runs its command on the host. docs/runtime.md describes the behaviour and its limits.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl
from kframe.runtime import (
    FailedPreconditionError,
    Runtime,
    RuntimeFactory,
    RuntimeOptions,
    SystemClock,
)

from ._cgroups import Cgroups
from ._config import NETWORK_MODES, ProcessRuntimeConfig
from ._exec import ExecTimeoutError
from ._images import ProcessImages, image_id, normalize_image
from ._logs import LineSplitter, rfc3339_nano
from ._network import BridgeNetwork, HostNetwork, Network, bridge_unavailable, detect_host_ip
from ._runtime import CGROUP_CONDITION, NO_COMMAND, ProcessRuntime

__all__ = [
    "CGROUP_CONDITION",
    "NETWORK_MODES",
    "NO_COMMAND",
    "BridgeNetwork",
    "Cgroups",
    "bridge_unavailable",
    "detect_host_ip",
    "ExecTimeoutError",
    "HostNetwork",
    "LineSplitter",
    "ProcessImages",
    "ProcessRuntime",
    "ProcessRuntimeConfig",
    "image_id",
    "kframe_container_runtimes",
    "make_network",
    "normalize_image",
    "open_process_runtime",
    "rfc3339_nano",
]


def make_network(config: ProcessRuntimeConfig) -> Network:
    """The bridge network if the config asks for it and the host allows, else the host's."""
    missing = bridge_unavailable()
    if config.network == "bridge" and missing:
        raise FailedPreconditionError(
            f"process runtime config network: 'bridge' is not possible here: {missing}"
        )
    if config.network == "host" or missing:
        reason = "network: host in the runtime config" if config.network == "host" else missing
        return HostNetwork(config.host_ip or detect_host_ip(), reason)
    net = config.network_of(config.pod_cidr)
    return BridgeNetwork(config.bridge, config.ipam_dir, net)


async def open_process_runtime(options: RuntimeOptions) -> Runtime:
    """The runtime factory: a fresh process runtime for one node."""
    config = ProcessRuntimeConfig.from_mapping(options.config)
    clock = options.clock if options.clock is not None else SystemClock()
    return ProcessRuntime(config, clock, make_network(config), root_dir=options.root_dir)


_factory: RuntimeFactory = open_process_runtime
_conforms: type[Runtime] = ProcessRuntime  # ProcessRuntime is a Runtime, checked by mypy


@hookimpl
def kframe_container_runtimes() -> Mapping[str, object]:
    return {"process": open_process_runtime}
