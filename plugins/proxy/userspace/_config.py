"""The userspace backend's settings (``kframe proxy --backend-config`` keys)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import attrs

from kframe.proxy import ProxyError

__all__ = ["DEFAULT_UDP_IDLE_TIMEOUT", "UserspaceConfig"]

#: kube-proxy's ``--udp-timeout`` default for the userspace mode: 250 ms.
DEFAULT_UDP_IDLE_TIMEOUT = 0.25


def _check_ip(value: str, key: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ProxyError(f"userspace backend: {key} must be an IP address, got {value!r}") from None


@attrs.frozen(kw_only=True)
class UserspaceConfig:
    """Where the backend listens and how it forwards (``--backend-config`` keys in quotes).

    ``bind_address`` ("bindAddress", "": 127.0.0.1, or ::1 for IPv6): the address of each
    service port's proxy port, allocated by the kernel and kept while the service port exists
    (upstream's userspace proxier listened there and had iptables redirect cluster-IP traffic
    to it; kframe reports the mapping instead). ``node_address`` ("nodeAddress", "": every
    address of the family): where node ports are listened on. ``udp_idle_timeout``
    ("udpIdleTimeout", seconds, 0.25: kube-proxy's ``--udp-timeout``): a UDP client association
    idle this long is dropped. ``local_nodes`` ("localNodes"): more node names whose endpoints
    count as local, for one proxy serving several nodes that share a host (``kframe up``).
    ``output`` ("output"): a file the listener table is written to whenever it changes ("-":
    standard output).
    """

    bind_address: str = ""
    node_address: str = ""
    udp_idle_timeout: float = DEFAULT_UDP_IDLE_TIMEOUT
    local_nodes: tuple[str, ...] = ()
    output: str = ""

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> UserspaceConfig:
        """Decode the backend's ``config`` mapping (camelCase keys, or the attribute names)."""
        keys = {
            "bindAddress": "bind_address",
            "nodeAddress": "node_address",
            "udpIdleTimeout": "udp_idle_timeout",
            "localNodes": "local_nodes",
            "output": "output",
        }
        kwargs: dict[str, Any] = {}
        for key, value in config.items():
            attr = keys.get(key) or (key if key in keys.values() else None)
            if attr is None:
                known = ", ".join(sorted(keys))
                raise ProxyError(f"userspace backend: unknown setting {key!r} (known: {known})")
            if attr == "udp_idle_timeout":
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ProxyError(
                        f"userspace backend: {key} must be a positive number of seconds, "
                        f"got {value!r}"
                    )
                value = float(value)
            elif attr == "local_nodes":
                if isinstance(value, str) or not isinstance(value, list | tuple):
                    raise ProxyError(f"userspace backend: {key} must be a list of node names")
                if not all(isinstance(v, str) for v in value):
                    raise ProxyError(f"userspace backend: {key} must be a list of node names")
                value = tuple(value)
            elif not isinstance(value, str):
                raise ProxyError(f"userspace backend: {key} must be a string, got {value!r}")
            kwargs[attr] = value
        config_ = cls(**kwargs)
        if config_.bind_address:
            _check_ip(config_.bind_address, "bindAddress")
        if config_.node_address:
            _check_ip(config_.node_address, "nodeAddress")
        return config_
