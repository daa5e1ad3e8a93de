"""The ``iptables`` proxy backend: kube-proxy's iptables mode.

Registered as mode ``iptables`` through ``kframe_proxy_backends``. Its factory takes
:class:`kframe.proxy.ProxyOptions`; ``options.config`` is decoded as an
:class:`IptablesConfig`, and ``options.dry_run`` renders without touching the host. The
rendering, :func:`render`, is pure: tests and tools call it directly. docs/proxy.md describes the
chain layout and what differs from upstream.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.proxy import ProxyBackendFactory
from kframe.registry import hookimpl

from ._apply import JUMPS, Iptables, Jump, commands_for
from ._backend import IptablesBackend, open_iptables_backend
from ._config import IptablesConfig
from ._render import (
    FILTER_CHAINS,
    NAT_CHAINS,
    SERVICE_CHAIN_PREFIXES,
    IptablesRules,
    endpoint_chain,
    is_service_chain,
    port_proto_hash,
    probability,
    render,
    service_chain,
)

__all__ = [
    "FILTER_CHAINS",
    "JUMPS",
    "NAT_CHAINS",
    "SERVICE_CHAIN_PREFIXES",
    "Iptables",
    "IptablesBackend",
    "IptablesConfig",
    "IptablesRules",
    "Jump",
    "commands_for",
    "endpoint_chain",
    "is_service_chain",
    "kframe_proxy_backends",
    "open_iptables_backend",
    "port_proto_hash",
    "probability",
    "render",
    "service_chain",
]

_factory: ProxyBackendFactory = open_iptables_backend


@hookimpl
def kframe_proxy_backends() -> Mapping[str, object]:
    return {"iptables": open_iptables_backend}
