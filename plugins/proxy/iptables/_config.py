"""The iptables backend's settings: kube-proxy's ``iptables`` flags that kframe keeps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from kframe.proxy import ProxyError

__all__ = ["IptablesConfig"]

# --backend-config key -> (attribute, type)
_KEYS: dict[str, tuple[str, type]] = {
    "masqueradeAll": ("masquerade_all", bool),
    "clusterCIDR": ("cluster_cidr", str),
    "masqueradeBit": ("masquerade_bit", int),
    "randomFully": ("random_fully", bool),
    "largeClusterThreshold": ("large_cluster_threshold", int),
    "nodeIP": ("node_ip", str),
    "localNodes": ("local_nodes", tuple),
    "installJumps": ("install_jumps", bool),
    "output": ("output", str),
    "iptables": ("iptables", str),
    "iptablesSave": ("iptables_save", str),
    "iptablesRestore": ("iptables_restore", str),
}


@attrs.frozen(kw_only=True)
class IptablesConfig:
    """How rules are rendered and applied (``kframe proxy --backend-config`` keys in quotes).

    ``masquerade_all`` ("masqueradeAll"): SNAT all traffic to cluster IPs. ``cluster_cidr``
    ("clusterCIDR"): the pod range; traffic to a cluster IP from outside it is masqueraded,
    pod-originated traffic to external destinations of a ``Local`` service short-circuits (the
    local traffic detector; "" turns both off, as upstream's no-op detector). ``masquerade_bit``
    ("masqueradeBit", 14: mark ``0x4000``). ``random_fully`` ("randomFully"): MASQUERADE
    ``--random-fully`` (iptables >= 1.6.2). ``large_cluster_threshold``: above this many
    endpoints, per-endpoint comments are left out (upstream's large-cluster mode). ``node_ip``
    ("nodeIP"): this node's IP, for load-balancer source ranges that include it.
    ``local_nodes`` ("localNodes"): more node names whose endpoints count as local (one proxy
    for several nodes on one host, as ``kframe up`` runs it).
    ``install_jumps`` ("installJumps"): link the KUBE-* chains from the built-in ones when
    applying (false leaves the chains unreferenced: inert, for tests). ``output`` ("output"): a
    file the rendered rules are written to on every sync ("-": standard output).
    ``iptables``, ``iptables_save``, ``iptables_restore``: the commands ("" picks ``iptables``
    or ``ip6tables`` by family).
    """

    masquerade_all: bool = False
    cluster_cidr: str = ""
    masquerade_bit: int = attrs.field(default=14)
    random_fully: bool = True
    large_cluster_threshold: int = 1000
    node_ip: str = ""
    local_nodes: tuple[str, ...] = ()
    install_jumps: bool = True
    output: str = ""
    iptables: str = ""
    iptables_save: str = ""
    iptables_restore: str = ""

    @masquerade_bit.validator
    def _check_bit(self, _attr: object, value: int) -> None:
        if not 0 <= value <= 31:
            raise ValueError(f"masqueradeBit must be in 0-31, got {value}")

    @property
    def masquerade_mark(self) -> str:
        """The mark, as iptables-save prints it (``0x4000``)."""
        return f"{1 << self.masquerade_bit:#x}"

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> IptablesConfig:
        """Decode the backend's ``config`` mapping (camelCase keys, or the attribute names)."""
        kwargs: dict[str, Any] = {}
        by_attr = {attr: (attr, kind) for attr, kind in _KEYS.values()}
        for key, value in config.items():
            target = _KEYS.get(key) or by_attr.get(key)
            if target is None:
                known = ", ".join(sorted(_KEYS))
                raise ProxyError(f"iptables backend: unknown setting {key!r} (known: {known})")
            attr, kind = target
            if kind is tuple:
                if isinstance(value, str) or not isinstance(value, list | tuple):
                    raise ProxyError(f"iptables backend: {key} must be a list of node names")
                if not all(isinstance(v, str) for v in value):
                    raise ProxyError(f"iptables backend: {key} must be a list of node names")
                kwargs[attr] = tuple(value)
                continue
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ProxyError(
                    f"iptables backend: {key} must be a {kind.__name__}, got {value!r}"
                )
            kwargs[attr] = value
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise ProxyError(f"iptables backend: {exc}") from None
