"""Rendering a ProxyState into ``iptables-restore`` input: the filter and nat tables.

Pure and deterministic (service ports in sorted order), so it is the backend's test seam: the
golden-file test and the properties call :func:`render` directly, and dry-run mode shows what it
returns. The layout follows upstream's ``pkg/proxy/iptables/proxier.go`` (``syncProxyRules``):

- nat ``KUBE-SERVICES``: ``-d CLUSTER-IP --dport PORT -j KUBE-SVC-*`` per service port with
  endpoints (``KUBE-SVL-*`` for internal traffic policy Local), external and load-balancer IPs
  to ``KUBE-EXT-*`` (``KUBE-FW-*`` with source ranges), and last the jump to ``KUBE-NODEPORTS``
  for local destinations;
- ``KUBE-SVC-*`` / ``KUBE-SVL-*``: ClientIP affinity (``-m recent --rcheck``), then one rule per
  endpoint, the i-th of n matching with probability 1/(n-i), the last always;
- ``KUBE-SEP-*``: hairpin masquerade, ``-m recent --set`` for affinity, DNAT;
- ``KUBE-MARK-MASQ`` marks, ``KUBE-POSTROUTING`` masquerades the marked;
- filter: REJECT for service ports without endpoints (``KUBE-SERVICES``,
  ``KUBE-EXTERNAL-SERVICES``), DROP for Local policy without local endpoints, ``KUBE-FORWARD``,
  health-check node ports, load-balancer firewall drops.

Left out (docs/proxy.md): ``KUBE-FIREWALL`` and ``route_localnet`` (localhost node ports are
blocked instead, as with ``--iptables-localhost-nodeports=false``), ``--nodeport-addresses``,
partial syncs (every sync renders everything), topology-aware routing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
from collections.abc import Callable, Iterable

import attrs

from kframe.proxy import EndpointInfo, ProxyState, ServicePortInfo, categorize_endpoints

from ._config import IptablesConfig

__all__ = [
    "FILTER_CHAINS",
    "NAT_CHAINS",
    "SERVICE_CHAIN_PREFIXES",
    "IptablesRules",
    "endpoint_chain",
    "is_service_chain",
    "port_proto_hash",
    "probability",
    "render",
    "service_chain",
]

KUBE_SERVICES = "KUBE-SERVICES"
KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
KUBE_NODEPORTS = "KUBE-NODEPORTS"
KUBE_POSTROUTING = "KUBE-POSTROUTING"
KUBE_MARK_MASQ = "KUBE-MARK-MASQ"
KUBE_FORWARD = "KUBE-FORWARD"
KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL"

#: The top-level chains written on every sync, in upstream's order.
FILTER_CHAINS = (
    KUBE_SERVICES,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FORWARD,
    KUBE_NODEPORTS,
    KUBE_PROXY_FIREWALL,
)
NAT_CHAINS = (KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ)

#: Per-service chains: cluster policy, local policy, firewall, external, endpoint.
SERVICE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-FW-", "KUBE-EXT-", "KUBE-SEP-")


@functools.lru_cache(maxsize=1 << 17)
def port_proto_hash(text: str) -> str:
    """The first 16 characters of base32(sha256(text)): upstream's chain-name hash, so chain
    names stay under iptables' 28-character limit."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest())[:16].decode()


def service_chain(prefix: str, service_port_name: str, protocol: str) -> str:
    """``KUBE-SVC-``/``KUBE-SVL-``/``KUBE-EXT-``/``KUBE-FW-`` + hash(name + lowercase protocol)."""
    return prefix + port_proto_hash(service_port_name + protocol.lower())


def endpoint_chain(service_port_name: str, protocol: str, endpoint: str) -> str:
    """``KUBE-SEP-`` + hash(name + lowercase protocol + ``ip:port``)."""
    return "KUBE-SEP-" + port_proto_hash(service_port_name + protocol.lower() + endpoint)


def is_service_chain(chain: str) -> bool:
    return chain.startswith(SERVICE_CHAIN_PREFIXES)


@functools.lru_cache(maxsize=4096)
def probability(n: int) -> str:
    """1/n as upstream prints it (``%0.10f``): the i-th of n endpoints matches 1/(n-i)."""
    return f"{1.0 / n:0.10f}"


def _chain_line(chain: str) -> str:
    return f":{chain} - [0:0]"


@attrs.frozen
class IptablesRules:
    """One sync's ``iptables-restore`` input, by table, and the per-service nat chains in it."""

    filter: tuple[str, ...]
    nat: tuple[str, ...]
    #: The service and endpoint chains the nat table now holds (for the next sync's cleanup).
    active_nat_chains: frozenset[str]
    #: Stale chains this input deletes (``-X``).
    deleted_chains: frozenset[str] = frozenset()

    def text(self) -> str:
        """Both tables, ready for ``iptables-restore --noflush``."""
        return "\n".join((*self.filter, *self.nat)) + "\n"

    def table(self, name: str) -> str:
        lines = self.filter if name == "filter" else self.nat
        return "\n".join(lines) + "\n"


def render(
    state: ProxyState,
    config: IptablesConfig | None = None,
    existing_nat_chains: Iterable[str] = (),
    *,
    partial: bool = False,
) -> IptablesRules:
    """The restore input for ``state``. ``existing_nat_chains``: chains the nat table holds now
    (from ``iptables-save``); service chains among them no longer needed are deleted.

    ``partial``: leave out the per-service chains of Services not in ``state.changed`` (they
    are installed already and, with ``--noflush``, stay as they are), as upstream's partial
    syncs do. The top-level chains and the filter table are always written whole.
    """
    return _Renderer(config or IptablesConfig(), state, partial).render(existing_nat_chains)


class _Renderer:
    def __init__(self, config: IptablesConfig, state: ProxyState, partial: bool) -> None:
        self.config = config
        self.state = state
        self.partial = partial
        # Where the current service's own chains and rules go (a throwaway list when skipped).
        self.svc_chains: list[str] = []
        self.svc_rules: list[str] = []
        self.mark = config.masquerade_mark
        self.filter_chains = [_chain_line(c) for c in FILTER_CHAINS]
        self.filter_rules: list[str] = []
        self.nat_chains = [_chain_line(c) for c in NAT_CHAINS]
        self.nat_rules: list[str] = []
        self.active: set[str] = set()
        total = sum(len(state.endpoints_of(name)) for name in state.services)
        # Upstream's large-cluster mode: comments cost ~40% of the restore input.
        self.large = total > config.large_cluster_threshold
        ipv6 = state.ip_family == "IPv6"
        self.local = f"-s {config.cluster_cidr}" if config.cluster_cidr else ""
        self.not_local = f"! -s {config.cluster_cidr}" if config.cluster_cidr else ""
        self.loopback = "::1/128" if ipv6 else "127.0.0.0/8"

    def render(self, existing: Iterable[str]) -> IptablesRules:
        mark = f"{self.mark}/{self.mark}"
        fully = " --random-fully" if self.config.random_fully else ""
        self.nat_rules += [
            f"-A {KUBE_POSTROUTING} -m mark ! --mark {mark} -j RETURN",
            # Clear the mark, so a packet re-traversing the stack is not masqueraded twice.
            f"-A {KUBE_POSTROUTING} -j MARK --xor-mark {self.mark}",
            f'-A {KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring '
            f'SNAT" -j MASQUERADE{fully}',
            f"-A {KUBE_MARK_MASQ} -j MARK --or-mark {self.mark}",
        ]
        for name in sorted(self.state.services):
            self._service(self.state.services[name])
        deleted = frozenset(c for c in existing if is_service_chain(c) and c not in self.active)
        for chain in sorted(deleted):
            # A chain line flushes it (with --noflush), then -X deletes it.
            self.nat_chains.append(_chain_line(chain))
            self.nat_rules.append(f"-X {chain}")
        # Last in KUBE-SERVICES: everything addressed to this node may be a node port.
        self.nat_rules.append(
            f'-A {KUBE_SERVICES} -m comment --comment "kubernetes service nodeports; NOTE: this '
            f'must be the last rule in this chain" -m addrtype --dst-type LOCAL '
            f"! -d {self.loopback} -j {KUBE_NODEPORTS}"
        )
        self.filter_rules += [
            f"-A {KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP",
            f'-A {KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" '
            f"-m mark --mark {mark} -j ACCEPT",
            f'-A {KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" '
            "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        ]
        return IptablesRules(
            filter=("*filter", *self.filter_chains, *self.filter_rules, "COMMIT"),
            nat=("*nat", *self.nat_chains, *self.nat_rules, "COMMIT"),
            active_nat_chains=frozenset(self.active),
            deleted_chains=deleted,
        )

    def _new_chain(self, chain: str) -> None:
        self.svc_chains.append(_chain_line(chain))
        self.active.add(chain)

    def _service(self, svc: ServicePortInfo) -> None:
        spn = str(svc.name)
        proto = svc.protocol.lower()
        match = f"-m {proto} -p {proto}"
        cat = categorize_endpoints(self.state.endpoints_of(svc.name), svc)
        cluster_chain = service_chain("KUBE-SVC-", spn, proto)
        local_chain = service_chain("KUBE-SVL-", spn, proto)
        ext_chain = service_chain("KUBE-EXT-", spn, proto)
        fw_chain = service_chain("KUBE-FW-", spn, proto)
        uses_cluster = bool(cat.cluster) and svc.uses_cluster_endpoints
        uses_local = bool(cat.local) and svc.uses_local_endpoints
        has_endpoints = cat.has_any

        internal_chain, has_internal = cluster_chain, has_endpoints
        if svc.internal_policy_local:
            internal_chain, has_internal = local_chain, bool(cat.local)
        external_policy_chain, has_external = cluster_chain, has_endpoints
        if svc.external_policy_local:
            external_policy_chain, has_external = local_chain, bool(cat.local)
        uses_ext = has_endpoints and svc.externally_accessible
        uses_fw = has_endpoints and bool(svc.load_balancer_ips and svc.load_balancer_source_ranges)
        lb_chain = fw_chain if uses_fw else ext_chain

        if not has_endpoints:
            internal_target = external_target = "REJECT"
            internal_comment = external_comment = f'"{spn} has no endpoints"'
        else:
            internal_target = external_target = ""
            internal_comment = external_comment = ""
            if not has_internal:
                internal_target, internal_comment = "DROP", f'"{spn} has no local endpoints"'
            if not has_external:
                external_target, external_comment = "DROP", f'"{spn} has no local endpoints"'

        nat, flt = self.nat_rules, self.filter_rules
        dport = f"--dport {svc.port}"

        # The cluster IP.
        if has_internal:
            nat.append(
                f'-A {KUBE_SERVICES} -m comment --comment "{spn} cluster IP" {match} '
                f"-d {svc.cluster_ip} {dport} -j {internal_chain}"
            )
        else:
            flt.append(
                f"-A {KUBE_SERVICES} -m comment --comment {internal_comment} {match} "
                f"-d {svc.cluster_ip} {dport} -j {internal_target}"
            )
        # External IPs.
        for ip in svc.external_ips:
            if has_endpoints:
                nat.append(
                    f'-A {KUBE_SERVICES} -m comment --comment "{spn} external IP" {match} '
                    f"-d {ip} {dport} -j {ext_chain}"
                )
            if not has_external:
                flt.append(
                    f"-A {KUBE_EXTERNAL_SERVICES} -m comment --comment {external_comment} "
                    f"{match} -d {ip} {dport} -j {external_target}"
                )
        # Load-balancer ingress IPs.
        for ip in svc.load_balancer_ips:
            if has_endpoints:
                nat.append(
                    f'-A {KUBE_SERVICES} -m comment --comment "{spn} loadbalancer IP" {match} '
                    f"-d {ip} {dport} -j {lb_chain}"
                )
            if uses_fw:
                flt.append(
                    f'-A {KUBE_PROXY_FIREWALL} -m comment --comment "{spn} traffic not accepted '
                    f'by {fw_chain}" {match} -d {ip} {dport} -j DROP'
                )
        if not has_external:
            for ip in svc.load_balancer_ips:
                flt.append(
                    f"-A {KUBE_EXTERNAL_SERVICES} -m comment --comment {external_comment} "
                    f"{match} -d {ip} {dport} -j {external_target}"
                )
        # The node port.
        if svc.node_port:
            if has_endpoints:
                nat.append(
                    f"-A {KUBE_NODEPORTS} -m comment --comment {spn} {match} "
                    f"--dport {svc.node_port} -j {ext_chain}"
                )
            if not has_external:
                flt.append(
                    f"-A {KUBE_EXTERNAL_SERVICES} -m comment --comment {external_comment} "
                    f"-m addrtype --dst-type LOCAL {match} --dport {svc.node_port} "
                    f"-j {external_target}"
                )
        if svc.health_check_node_port:
            flt.append(
                f'-A {KUBE_NODEPORTS} -m comment --comment "{spn} health check node port" '
                f"-m tcp -p tcp --dport {svc.health_check_node_port} -j ACCEPT"
            )

        # From here on: the service's own chains, left out of a partial sync when unchanged.
        if self.partial and svc.name.service not in self.state.changed:
            self.svc_chains, self.svc_rules = [], []
        else:
            self.svc_chains, self.svc_rules = self.nat_chains, self.nat_rules
        nat = self.svc_rules

        # Internal traffic: masquerade what comes from outside the pod network.
        if has_internal:
            args = f'-m comment --comment "{spn} cluster IP" {match} -d {svc.cluster_ip} {dport}'
            if self.config.masquerade_all:
                nat.append(f"-A {internal_chain} {args} -j {KUBE_MARK_MASQ}")
            elif self.not_local:
                nat.append(f"-A {internal_chain} {args} {self.not_local} -j {KUBE_MARK_MASQ}")

        # External traffic.
        if uses_ext:
            self._new_chain(ext_chain)
            if not svc.external_policy_local:
                # Endpoints may be on another node: masquerade so replies come back here.
                nat.append(
                    f'-A {ext_chain} -m comment --comment "masquerade traffic for {spn} '
                    f'external destinations" -j {KUBE_MARK_MASQ}'
                )
            else:
                # Only this node's endpoints: keep the client's source IP where possible. Pods
                # and the node itself reach the service as if from inside the cluster (the
                # cluster-policy chain; only when that chain exists: with both policies Local
                # there is none, and such traffic falls through to the local one).
                if self.local and uses_cluster:
                    nat.append(
                        f'-A {ext_chain} -m comment --comment "pod traffic for {spn} external '
                        f'destinations" {self.local} -j {cluster_chain}'
                    )
                nat.append(
                    f'-A {ext_chain} -m comment --comment "masquerade LOCAL traffic for {spn} '
                    f'external destinations" -m addrtype --src-type LOCAL -j {KUBE_MARK_MASQ}'
                )
                if uses_cluster:
                    nat.append(
                        f'-A {ext_chain} -m comment --comment "route LOCAL traffic for {spn} '
                        f'external destinations" -m addrtype --src-type LOCAL -j {cluster_chain}'
                    )
            if has_external:
                nat.append(f"-A {ext_chain} -j {external_policy_chain}")

        # The load-balancer firewall (loadBalancerSourceRanges).
        if uses_fw:
            self._new_chain(fw_chain)
            args = f'-A {fw_chain} -m comment --comment "{spn} loadbalancer IP"'
            allow_node = False
            for cidr in svc.load_balancer_source_ranges:
                nat.append(f"{args} -s {cidr} -j {ext_chain}")
                allow_node = allow_node or _contains(cidr, self.config.node_ip)
            if allow_node:
                for ip in svc.load_balancer_ips:
                    nat.append(f"{args} -s {ip} -j {ext_chain}")
            nat.append(
                f'-A {fw_chain} -m comment --comment "other traffic to {spn} will be dropped by '
                f'KUBE-PROXY-FIREWALL"'
            )

        chains: dict[str, str] = {}

        def sep(ep: EndpointInfo) -> str:
            text = str(ep)
            chain = chains.get(text)
            if chain is None:
                chain = chains[text] = endpoint_chain(spn, proto, text)
            return chain

        if uses_cluster:
            self._new_chain(cluster_chain)
            self._to_endpoints(svc, spn, cluster_chain, cat.cluster, sep)
        if uses_local:
            self._new_chain(local_chain)
            self._to_endpoints(svc, spn, local_chain, cat.local, sep)

        comment = "" if self.large else f" -m comment --comment {spn}"
        affinity = svc.session_affinity == "ClientIP"
        for ep in cat.all_reachable:
            chain = sep(ep)
            self._new_chain(chain)
            head = f"-A {chain}{comment}"
            # Hairpin: an endpoint reaching itself through the service must be masqueraded.
            nat.append(f"{head} -s {ep.ip} -j {KUBE_MARK_MASQ}")
            recent = f" -m recent --name {chain} --set" if affinity else ""
            nat.append(f"{head}{recent} {match} -j DNAT --to-destination {ep}")

    def _to_endpoints(
        self,
        svc: ServicePortInfo,
        spn: str,
        chain: str,
        endpoints: tuple[EndpointInfo, ...],
        sep: Callable[[EndpointInfo], str],
    ) -> None:
        nat = self.svc_rules
        if svc.session_affinity == "ClientIP":
            for ep in endpoints:
                target = sep(ep)
                comment = "" if self.large else f' -m comment --comment "{spn} -> {ep}"'
                nat.append(
                    f"-A {chain}{comment} -m recent --name {target} --rcheck "
                    f"--seconds {svc.sticky_max_age_seconds} --reap -j {target}"
                )
        n = len(endpoints)
        for i, ep in enumerate(endpoints):
            comment = "" if self.large else f' -m comment --comment "{spn} -> {ep}"'
            # The i-th of n matches 1/(n-i) of what reaches it; the last takes the rest.
            chance = (
                f" -m statistic --mode random --probability {probability(n - i)}"
                if i < n - 1
                else ""
            )
            nat.append(f"-A {chain}{comment}{chance} -j {sep(ep)}")


def _contains(cidr: str, ip: str) -> bool:
    if not ip:
        return False
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
