"""The process runtime's settings: :class:`ProcessRuntimeConfig`, decoded from RuntimeOptions.

``ProcessRuntimeConfig.from_mapping`` reads ``RuntimeOptions.config`` (what the kubelet's
``--runtime-config`` file holds, or a dict in code). Keys may be spelled with ``-`` or ``_``;
an unknown key or a bad value raises InvalidArgumentError naming the key, and nothing is built.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

import attrs

from kframe.runtime import InvalidArgumentError

__all__ = ["NETWORK_MODES", "ProcessRuntimeConfig"]

#: ``auto``: a network namespace per sandbox on a bridge when running as root with iproute2,
#: the host's network otherwise. ``bridge``: the former, or the factory fails. ``host``: always
#: the host's network (every sandbox's IP is the host IP).
NETWORK_MODES = ("auto", "bridge", "host")

# Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no "/", no whitespace.
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
_CGROUP_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


def _bad(key: str, message: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"process runtime config {key}: {message}")


@attrs.frozen(kw_only=True)
class ProcessRuntimeConfig:
    """One node's process runtime settings; every field has a working default."""

    #: Sandbox IPs come from here, the first address is the bridge's (the pods' gateway).
    #: UpdateRuntimeConfig (the node's ``spec.podCIDR``) replaces it.
    pod_cidr: str = "10.88.0.0/16"
    bridge: str = "kframe0"  #: the bridge the sandboxes' veth pairs are plugged into
    network: str = "auto"  #: one of NETWORK_MODES
    host_ip: str = ""  #: the IP of host-network sandboxes ("": the host's primary address)
    #: Host-wide IP allocations, one file per address (as CNI's host-local IPAM keeps them),
    #: shared by every process runtime on the host so that two never hand out the same IP.
    ipam_dir: str = "/run/kframe/ipam"
    cgroups: bool = True  #: put each container in a cgroup with its limits (where writable)
    cgroup_parent: str = "kframe"  #: cgroups go under <hierarchy>/<cgroup_parent>/<runtime>/
    images: tuple[str, ...] = ()  #: recorded as pulled from the start
    #: A longer output line is split into partial (``P``) log entries, as containerd's
    #: ``max_container_log_line_size`` (16 KiB) does.
    max_log_line: int = 16 * 1024

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ProcessRuntimeConfig:
        """Decode and check a config mapping; InvalidArgumentError names the bad key."""
        fields = attrs.fields_dict(cls)
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = str(key).replace("-", "_")
            if name not in fields:
                known = ", ".join(sorted(fields))
                raise InvalidArgumentError(
                    f"process runtime: unknown config key {key!r} (known: {known})"
                )
            kwargs[name] = _decode(str(key), name, value)
        config = cls(**kwargs)
        config.network_of(config.pod_cidr, "pod_cidr")
        return config

    def network_of(self, cidr: str, key: str = "pod_cidr") -> ipaddress.IPv4Network:
        """The pod CIDR as a network with room for a gateway and a pod (IPv4, /30 or larger)."""
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError as e:
            raise _bad(key, f"not a CIDR: {cidr!r} ({e})") from None
        if not isinstance(net, ipaddress.IPv4Network):
            raise _bad(key, f"only IPv4 pod CIDRs are supported, not {cidr!r}")
        if net.num_addresses < 4:
            raise _bad(key, f"{cidr!r} is too small (a gateway and at least one pod)")
        return net


def _decode(key: str, name: str, value: Any) -> Any:
    if name in ("cgroups",):
        if not isinstance(value, bool):
            raise _bad(key, f"true or false expected, not {value!r}")
        return value
    if name == "images":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            raise _bad(key, "a list of image names expected")
        return tuple(value)
    if name == "max_log_line":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _bad(key, f"a positive integer expected, not {value!r}")
        return value
    if not isinstance(value, str):
        raise _bad(key, f"a string expected, not {value!r}")
    if name == "network" and value not in NETWORK_MODES:
        raise _bad(key, f"{value!r} is not one of {', '.join(NETWORK_MODES)}")
    if name == "bridge" and not _IFNAME.match(value):
        raise _bad(key, f"{value!r} is not an interface name (at most 15 of A-Z a-z 0-9 _ . -)")
    if name == "host_ip" and value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise _bad(key, f"not an IP address: {value!r}") from None
    if name == "cgroup_parent" and not _CGROUP_NAME.match(value):
        raise _bad(key, f"{value!r} is not a relative cgroup path")
    if name == "ipam_dir" and not value.startswith("/"):
        raise _bad(key, f"an absolute path expected, not {value!r}")
    return value
