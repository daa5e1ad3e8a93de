"""A pod's DNS settings (its resolv.conf), from its ``dnsPolicy`` and ``dnsConfig``.

As upstream's ``pkg/kubelet/network/dns``: ``ClusterFirst`` (the default) points the pod at the
kubelet's ``--cluster-dns`` with the search list ``<ns>.svc.<domain> svc.<domain> <domain>``
plus the host's, and ``ndots:5``; a host-network pod under ``ClusterFirst``, or one whose
kubelet has no cluster DNS, falls back to ``Default`` (the host's resolv.conf; unless asked
otherwise the runtime then leaves the host's file in place, so None is returned);
``ClusterFirstWithHostNet`` uses the cluster DNS for host-network pods too; ``None`` takes
only ``dnsConfig``. ``dnsConfig`` is then merged in (nameservers and searches appended without
duplicates, options merged by name) and the result cut to the resolver's limits: 3
nameservers, 32 search domains of at most 2048 characters in all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from kframe.api.models import Pod
from kframe.runtime import DNSConfig

__all__ = ["DEFAULT_DNS_OPTIONS", "HostResolvConf", "pod_dns_config", "read_resolv_conf"]

log = logging.getLogger("kframe.kubelet")

#: Upstream's defaultDNSOptions for cluster DNS.
DEFAULT_DNS_OPTIONS = ("ndots:5",)
# Upstream's validation.MaxDNSNameservers, MaxDNSSearchPaths, MaxDNSSearchListChars.
_MAX_NAMESERVERS = 3
_MAX_SEARCHES = 32
_MAX_SEARCH_CHARS = 2048

HostResolvConf = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


# path -> (mtime_ns, size, parsed): a kubelet reads the host's file for every sandbox it makes,
# and a fake-runtime host makes thousands; a changed file is read again.
_RESOLV_CACHE: dict[str, tuple[int, int, HostResolvConf]] = {}
# Policies already warned about: one line per process, not one per pod.
_WARNED_NO_CLUSTER_DNS: set[str] = set()


def read_resolv_conf(path: str | Path = "/etc/resolv.conf") -> HostResolvConf:
    """The (nameservers, searches, options) of a resolv.conf; empty when it is missing."""
    try:
        st = Path(path).stat()
    except OSError:
        return (), (), ()
    cached = _RESOLV_CACHE.get(str(path))
    if cached is not None and cached[:2] == (st.st_mtime_ns, st.st_size):
        return cached[2]
    try:
        text = Path(path).read_text()
    except OSError:
        return (), (), ()
    parsed = _parse_resolv_conf(text)
    _RESOLV_CACHE[str(path)] = (st.st_mtime_ns, st.st_size, parsed)
    return parsed


def _parse_resolv_conf(text: str) -> HostResolvConf:
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            servers.append(fields[1])
        elif fields[0] in ("search", "domain"):
            # The last search or domain line wins, as in the resolver (and upstream's parser).
            searches = [s.rstrip(".") for s in fields[1:] if s.rstrip(".")]
        elif fields[0] == "options":
            options.extend(fields[1:])
    return tuple(servers), tuple(searches), tuple(options)


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def _merge_options(existing: Sequence[str], extra: Iterable[tuple[str, str | None]]) -> list[str]:
    # Upstream's mergeDNSOptions: by name, a later value replacing an earlier one.
    merged: dict[str, str | None] = {}
    for option in existing:
        name, sep, text = option.partition(":")
        merged[name] = text if sep else None
    for name, value in extra:
        merged[name] = value
    return [name if value is None else f"{name}:{value}" for name, value in merged.items()]


def _fit_searches(searches: list[str], pod: str) -> list[str]:
    if len(searches) > _MAX_SEARCHES:
        log.warning("pod %s: more than %d search domains; the rest omitted", pod, _MAX_SEARCHES)
        searches = searches[:_MAX_SEARCHES]
    while searches and len(" ".join(searches)) > _MAX_SEARCH_CHARS:
        searches = searches[:-1]
    return searches


def pod_dns_config(
    pod: Pod,
    *,
    cluster_dns: Sequence[str],
    cluster_domain: str,
    host: HostResolvConf = ((), (), ()),
) -> DNSConfig | None:
    """The sandbox's DNS config for ``pod``; None to keep the host's resolv.conf as it is."""
    meta, spec = pod.metadata, pod.spec
    assert meta is not None and spec is not None
    key = f"{meta.namespace}/{meta.name}"
    policy = spec.dns_policy or "ClusterFirst"
    host_servers, host_searches, host_options = host
    if policy == "None":
        kind = "none"
    elif policy == "ClusterFirstWithHostNet" or (
        policy == "ClusterFirst" and not spec.host_network
    ):
        kind = "cluster"
    else:
        kind = "host"
    if kind == "cluster" and not cluster_dns:
        # Upstream records a MissingClusterDNS event and uses the host's settings.
        level = logging.DEBUG if policy in _WARNED_NO_CLUSTER_DNS else logging.WARNING
        _WARNED_NO_CLUSTER_DNS.add(policy)
        log.log(
            level,
            "pod %s: dnsPolicy %s but the kubelet has no cluster DNS; using the host's",
            key,
            policy,
        )
        kind = "host"
    extra = spec.dns_config
    if kind == "host" and extra is None:
        return None
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    if kind == "cluster":
        servers = list(cluster_dns)
        domain = cluster_domain.strip(".")
        if domain:
            searches = [f"{meta.namespace}.svc.{domain}", f"svc.{domain}", domain]
        searches += host_searches
        options = list(DEFAULT_DNS_OPTIONS)
    elif kind == "host":
        servers, searches, options = list(host_servers), list(host_searches), list(host_options)
    if extra is not None:
        servers = _unique([*servers, *extra.nameservers])
        searches = _unique([*searches, *(s.rstrip(".") for s in extra.searches)])
        options = _merge_options(
            options, ((o.name or "", o.value) for o in extra.options if o.name)
        )
    else:
        searches = _unique(searches)
    if len(servers) > _MAX_NAMESERVERS:
        log.warning("pod %s: more than %d nameservers; the rest omitted", key, _MAX_NAMESERVERS)
        servers = servers[:_MAX_NAMESERVERS]
    return DNSConfig(
        servers=tuple(servers),
        searches=tuple(_fit_searches(searches, key)),
        options=tuple(options),
    )
