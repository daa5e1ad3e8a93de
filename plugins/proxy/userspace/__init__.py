"""The ``userspace`` proxy backend: an asyncio TCP/UDP proxy, as upstream's old userspace mode.

Registered as mode ``userspace`` through ``kframe_proxy_backends``. Each TCP or UDP service port
gets a proxy port on ``bindAddress`` (127.0.0.1), a listener on its cluster IP when that address
is local, and one on its node port; connections round-robin over the ready endpoints, with
ClientIP affinity. Needs neither root nor iptables. docs/proxy.md describes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.proxy import ProxyBackendFactory
from kframe.registry import hookimpl

from ._backend import UserspaceBackend, open_userspace_backend
from ._balancer import RoundRobin
from ._config import DEFAULT_UDP_IDLE_TIMEOUT, UserspaceConfig
from ._plan import PROTOCOLS, ListenerSpec, Plan, PoolSpec, plan
from ._tcp import ENDPOINT_DIAL_TIMEOUTS, TcpListener
from ._udp import UdpListener

__all__ = [
    "DEFAULT_UDP_IDLE_TIMEOUT",
    "ENDPOINT_DIAL_TIMEOUTS",
    "PROTOCOLS",
    "ListenerSpec",
    "Plan",
    "PoolSpec",
    "RoundRobin",
    "TcpListener",
    "UdpListener",
    "UserspaceBackend",
    "UserspaceConfig",
    "kframe_proxy_backends",
    "open_userspace_backend",
    "plan",
]

_factory: ProxyBackendFactory = open_userspace_backend


@hookimpl
def kframe_proxy_backends() -> Mapping[str, object]:
    return {"userspace": open_userspace_backend}
