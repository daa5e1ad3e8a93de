"""CRI's runtime-wide messages: Version, Status (conditions), RuntimeConfig and ExecSync's answer.

The kubelet calls ``version`` once at start (and reports ``nodeInfo.containerRuntimeVersion`` as
``<runtime_name>://<runtime_version>``), ``status`` on every node status update (the node is
Ready only while ``RuntimeReady`` and ``NetworkReady`` are true), and ``update_runtime_config``
when it learns the node's pod CIDR.
"""

from __future__ import annotations

import attrs

__all__ = [
    "CRI_API_VERSION",
    "NETWORK_READY",
    "RUNTIME_READY",
    "ExecSyncResponse",
    "NetworkConfig",
    "RuntimeCondition",
    "RuntimeConfig",
    "RuntimeStatus",
    "VersionResponse",
]

#: The CRI API version kframe's interfaces mirror.
CRI_API_VERSION = "v1"

RUNTIME_READY = "RuntimeReady"
NETWORK_READY = "NetworkReady"


@attrs.frozen(kw_only=True)
class VersionResponse:
    version: str = "0.1.0"
    runtime_name: str
    runtime_version: str
    runtime_api_version: str = CRI_API_VERSION


@attrs.frozen(kw_only=True)
class RuntimeCondition:
    """One condition: ``type`` is ``RuntimeReady`` or ``NetworkReady`` (or a runtime's own)."""

    type: str
    status: bool
    reason: str = ""
    message: str = ""


@attrs.frozen(kw_only=True)
class RuntimeStatus:
    conditions: tuple[RuntimeCondition, ...] = ()

    def condition(self, type: str) -> RuntimeCondition | None:
        return next((c for c in self.conditions if c.type == type), None)

    @property
    def ready(self) -> bool:
        """Both required conditions are true."""
        wanted = (self.condition(RUNTIME_READY), self.condition(NETWORK_READY))
        return all(c is not None and c.status for c in wanted)


@attrs.frozen(kw_only=True)
class NetworkConfig:
    """The node's pod CIDR (``node.spec.podCIDR``), from which sandboxes get their IPs."""

    pod_cidr: str = ""


@attrs.frozen(kw_only=True)
class RuntimeConfig:
    network_config: NetworkConfig | None = None


@attrs.frozen(kw_only=True)
class ExecSyncResponse:
    """ExecSync's answer: the command's whole output and its exit code (exec probes read it)."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
