"""The records one Service (with its EndpointSlices) contributes, as plain text.

Called by :class:`kframe.dns.RecordTable` on every change of a Service or of one of its slices.
Owners are lower-case absolute names (``web.default.svc.cluster.local.``) and rdata are in
zone-file text (``10.96.0.20``, ``0 100 80 web.default.svc.cluster.local.``): strings hash and
compare cheaply, and the table turns them into dnspython rrsets only when one is asked for.
The rules are the Kubernetes DNS specification's (kubernetes/dns ``docs/specification.md``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from kframe.api.models import EndpointSlice, Service

__all__ = ["A", "AAAA", "CNAME", "PTR", "SRV", "Records", "endpoint_hostname", "service_records"]

# RR type codes (RFC 1035, 2782, 3596), as dnspython's RdataType values.
A, CNAME, PTR, AAAA, SRV = 1, 5, 12, 28, 33
# SRV priority and weight are not prescribed by the spec; CoreDNS answers priority 0.
_SRV_PRIORITY = 0
_SRV_WEIGHT = 100
_MAX_LABEL = 63

# (owner, type) -> the rdata texts one Service puts there.
Records = dict[tuple[str, int], frozenset[str]]


def endpoint_hostname(hostname: str | None, ip: str) -> str:
    """An endpoint's *hostname*: its ``hostname`` field, else its IP with dashes (CoreDNS's
    system-assigned identifier: ``10-1-2-3``, ``fd00--1``)."""
    if hostname:
        return hostname.lower()
    return ip.replace(".", "-").replace(":", "-").lower()


def _is_ready(ready: bool | None) -> bool:
    # discovery.k8s.io/v1: "a nil value should be interpreted as true".
    return ready is None or ready


def _address(ip: str) -> tuple[int, str, str] | None:
    """(A or AAAA, the canonical text, the reverse owner) of an IP; None if not one."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return (A if parsed.version == 4 else AAAA), str(parsed), parsed.reverse_pointer + "."


def _label(text: str) -> str | None:
    text = text.lower()
    if not text or len(text) > _MAX_LABEL or "." in text:
        return None
    return text


class _Builder:
    def __init__(self) -> None:
        self.records: dict[tuple[str, int], set[str]] = {}

    def add(self, owner: str, rdtype: int, rdata: str) -> None:
        self.records.setdefault((owner, rdtype), set()).add(rdata)

    def done(self) -> Records:
        return {key: frozenset(values) for key, values in self.records.items()}


def _srv_owner(name: str | None, protocol: str | None, base: str) -> str | None:
    if not name:  # unnamed ports have no SRV record
        return None
    port = _label(f"_{name}")
    proto = _label(f"_{protocol or 'TCP'}")
    return f"{port}.{proto}.{base}" if port and proto else None


def service_records(service: Service, slices: Iterable[EndpointSlice], svc_zone: str) -> Records:
    """Every record of ``service`` under ``svc_zone`` (``svc.cluster.local.``); ``slices`` are
    its EndpointSlices (used for a headless Service only)."""
    meta, spec = service.metadata, service.spec
    if meta is None or spec is None:
        return {}
    name, namespace = _label(meta.name or ""), _label(meta.namespace or "")
    if name is None or namespace is None:
        return {}
    base = f"{name}.{namespace}.{svc_zone}"
    out = _Builder()
    if spec.type == "ExternalName":
        target = (spec.external_name or "").strip().lower().rstrip(".")
        if target:
            out.add(base, CNAME, f"{target}.")
        return out.done()
    ips = spec.cluster_ips or ((spec.cluster_ip,) if spec.cluster_ip else ())
    if "None" in ips:
        _headless(service, slices, base, out)
        return out.done()
    published = False
    for ip in ips:
        address = _address(ip)
        if address is None:
            continue
        rdtype, text, reverse = address
        out.add(base, rdtype, text)
        out.add(reverse, PTR, base)
        published = True
    if published:
        for port in spec.ports:
            owner = _srv_owner(port.name, port.protocol, base)
            if owner is not None and port.port:
                out.add(owner, SRV, f"{_SRV_PRIORITY} {_SRV_WEIGHT} {port.port} {base}")
    return out.done()


def _headless(service: Service, slices: Iterable[EndpointSlice], base: str, out: _Builder) -> None:
    spec = service.spec
    assert spec is not None
    publish_all = bool(spec.publish_not_ready_addresses)
    for endpoint_slice in slices:
        if endpoint_slice.address_type == "FQDN":
            continue
        ports = [
            (owner, port.port)
            for port in endpoint_slice.ports
            if port.port and (owner := _srv_owner(port.name, port.protocol, base)) is not None
        ]
        for endpoint in endpoint_slice.endpoints:
            ready = endpoint.conditions.ready if endpoint.conditions else None
            if not (publish_all or _is_ready(ready)):
                continue
            for ip in endpoint.addresses:
                address = _address(ip)
                hostname = _label(endpoint_hostname(endpoint.hostname, ip))
                if address is None or hostname is None:
                    continue
                rdtype, text, reverse = address
                host = f"{hostname}.{base}"
                out.add(base, rdtype, text)
                out.add(host, rdtype, text)
                out.add(reverse, PTR, host)
                # CoreDNS takes headless SRV ports from the slice (the pods' real ports).
                for owner, number in ports:
                    out.add(owner, SRV, f"{_SRV_PRIORITY} {_SRV_WEIGHT} {number} {host}")
