"""The cluster's DNS records, built from Services and EndpointSlices; answers one question.

:class:`RecordTable` follows the Kubernetes DNS specification (kubernetes/dns
``docs/specification.md``, schema 1.0.1):

- a Service with a cluster IP: ``<svc>.<ns>.svc.<zone>`` A/AAAA of each cluster IP, an SRV
  ``_<port>._<proto>.<svc>.<ns>.svc.<zone>`` per named port, a PTR per cluster IP;
- a headless Service (``clusterIP: None``): A/AAAA of each *ready* endpoint (NXDOMAIN when there
  is none), ``<hostname>.<svc>.<ns>.svc.<zone>`` per ready endpoint, SRV per ready endpoint and
  named port pointing at that name, a PTR per endpoint IP;
- an ExternalName Service: a CNAME to the external name;
- ``<a>-<b>-<c>-<d>.<ns>.pod.<zone>`` A (the deprecated pod records the spec still requires;
  CoreDNS's ``pods insecure``, which kubeadm configures);
- ``dns-version.<zone>`` TXT with the schema version, and the zone's SOA.

It is synchronous and knows nothing of the API server: :class:`kframe.dns.ClusterDNS` feeds it
from informers, :class:`kframe.dns.DNSServer` asks it. Names compare case-insensitively, as the
spec requires (dnspython's :class:`dns.name.Name` hashes and compares that way).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, cast

import attrs
import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.SOA
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.IN.SRV
import dns.reversename
import dns.rrset

from kframe.api.models import EndpointSlice, Service

__all__ = [
    "DEFAULT_TTL",
    "SCHEMA_VERSION",
    "SERVICE_NAME_LABEL",
    "Answer",
    "PodRecords",
    "RecordTable",
    "endpoint_hostname",
]

#: The schema version of kubernetes/dns docs/specification.md this table implements.
SCHEMA_VERSION = "1.0.1"
#: The answers' TTL: the ``ttl 30`` of kubeadm's Corefile (CoreDNS's own default is 5 s).
DEFAULT_TTL = 30
#: The label that ties an EndpointSlice to its Service.
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

PodRecords = Literal["insecure", "disabled"]

_IN = dns.rdataclass.IN
_A = dns.rdatatype.A
_AAAA = dns.rdatatype.AAAA
_CNAME = dns.rdatatype.CNAME
_PTR = dns.rdatatype.PTR
_SRV = dns.rdatatype.SRV
_SOA = dns.rdatatype.SOA
_TXT = dns.rdatatype.TXT
_ANY = dns.rdatatype.ANY
# SRV priority and weight are not prescribed by the spec; CoreDNS answers priority 0.
_SRV_PRIORITY = 0
_SRV_WEIGHT = 100
_IN_ADDR = dns.name.from_text("in-addr.arpa")
_IP6 = dns.name.from_text("ip6.arpa")

# (owner, type) -> the rdata one Service contributes there.
_Records = dict[tuple[dns.name.Name, dns.rdatatype.RdataType], set[dns.rdata.Rdata]]
_Add = Callable[[dns.name.Name, dns.rdata.Rdata], None]


@attrs.frozen(kw_only=True)
class Answer:
    """The response to one question, section by section (rrsets carry the question's case)."""

    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    answer: tuple[dns.rrset.RRset, ...] = ()
    authority: tuple[dns.rrset.RRset, ...] = ()
    additional: tuple[dns.rrset.RRset, ...] = ()

    @property
    def cname_target(self) -> dns.name.Name | None:
        """Where the answer's CNAME chain leaves this table's data, if it ends in a CNAME."""
        if self.answer and self.answer[-1].rdtype == _CNAME:
            rdata = next(iter(self.answer[-1]))
            assert isinstance(rdata, dns.rdtypes.ANY.CNAME.CNAME)
            return rdata.target
        return None


def _rdata(cls: Any, rdtype: int, *fields: Any) -> dns.rdata.Rdata:
    # dnspython's rdata constructors carry no annotations.
    return cast(dns.rdata.Rdata, cls(_IN, rdtype, *fields))


def _address(ip: str) -> dns.rdata.Rdata | None:
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if parsed.version == 4:
        return _rdata(dns.rdtypes.IN.A.A, _A, str(parsed))
    return _rdata(dns.rdtypes.IN.AAAA.AAAA, _AAAA, str(parsed))


def endpoint_hostname(hostname: str | None, ip: str) -> str:
    """An endpoint's *hostname*: its ``hostname`` field, else its IP with dashes (CoreDNS's
    system-assigned identifier: ``10-1-2-3``, ``fd00--1``)."""
    if hostname:
        return hostname.lower()
    return ip.replace(".", "-").replace(":", "-").lower()


def _is_ready(ready: bool | None) -> bool:
    # discovery.k8s.io/v1: "a nil value should be interpreted as true".
    return ready is None or ready


class RecordTable:
    """Records by owner name, merged over the Services that contribute them.

    Feed it with :meth:`set_service` / :meth:`delete_service` and :meth:`set_endpoint_slice` /
    :meth:`delete_endpoint_slice` (in any order: a slice that arrives before its Service is
    kept), and ask it with :meth:`lookup`.
    """

    def __init__(
        self,
        cluster_domain: str = "cluster.local",
        *,
        ttl: int = DEFAULT_TTL,
        pods: PodRecords = "insecure",
    ) -> None:
        if not 0 <= ttl <= 3600:  # CoreDNS's bounds for its ttl option
            raise ValueError(f"ttl must be 0 to 3600 seconds, not {ttl}")
        self.zone = dns.name.from_text(cluster_domain.strip(".") or "cluster.local")
        self.ttl = ttl
        self.pods: PodRecords = pods
        self._svc_zone = dns.name.Name((b"svc", *self.zone.labels))
        self._pod_zone = dns.name.Name((b"pod", *self.zone.labels))
        self._services: dict[str, Service] = {}
        self._slices: dict[str, dict[str, EndpointSlice]] = {}  # ns/service -> name -> slice
        self._contributed: dict[str, _Records] = {}  # ns/service -> its records
        self._index: dict[dns.name.Name, dict[int, dict[str, frozenset[dns.rdata.Rdata]]]] = {}
        self._reverse: dict[dns.name.Name, dict[str, frozenset[dns.rdata.Rdata]]] = {}
        self._nonterminals: dict[dns.name.Name, int] = {}  # ancestors of owners, with counts
        self.serial = int(time.time()) % 2**32
        self._version = dns.rdtypes.ANY.TXT.TXT(_IN, _TXT, [SCHEMA_VERSION.encode()])
        self._version_name = dns.name.Name((b"dns-version", *self.zone.labels))

    # -- feeding ---------------------------------------------------------------------------

    def set_service(self, service: Service) -> None:
        key = _key(service)
        if key is None:
            return
        self._services[key] = service
        self._rebuild(key)

    def delete_service(self, service: Service) -> None:
        key = _key(service)
        if key is None:
            return
        self._services.pop(key, None)
        self._rebuild(key)

    def set_endpoint_slice(self, endpoint_slice: EndpointSlice) -> None:
        key, name = _slice_key(endpoint_slice)
        if key is None:
            return
        self._slices.setdefault(key, {})[name] = endpoint_slice
        self._rebuild(key)

    def delete_endpoint_slice(self, endpoint_slice: EndpointSlice) -> None:
        key, name = _slice_key(endpoint_slice)
        if key is None:
            return
        slices = self._slices.get(key)
        if slices is not None and slices.pop(name, None) is not None:
            if not slices:
                del self._slices[key]
            self._rebuild(key)

    def _rebuild(self, key: str) -> None:
        service = self._services.get(key)
        new = self._service_records(service) if service is not None else {}
        old = self._contributed.pop(key, {})
        if new == old:
            if new:
                self._contributed[key] = new
            return
        for (owner, rdtype), _ in old.items():
            self._withdraw(key, owner, rdtype)
        for (owner, rdtype), rdatas in new.items():
            self._publish(key, owner, rdtype, frozenset(rdatas))
        if new:
            self._contributed[key] = new
        self.serial = (self.serial + 1) % 2**32

    def _publish(
        self, key: str, owner: dns.name.Name, rdtype: int, rdatas: frozenset[dns.rdata.Rdata]
    ) -> None:
        if rdtype == _PTR:
            self._reverse.setdefault(owner, {})[key] = rdatas
            return
        types = self._index.get(owner)
        if types is None:
            types = self._index[owner] = {}
            for parent in self._ancestors(owner):
                self._nonterminals[parent] = self._nonterminals.get(parent, 0) + 1
        types.setdefault(rdtype, {})[key] = rdatas

    def _withdraw(self, key: str, owner: dns.name.Name, rdtype: int) -> None:
        if rdtype == _PTR:
            by_key = self._reverse.get(owner, {})
            by_key.pop(key, None)
            if not by_key:
                self._reverse.pop(owner, None)
            return
        types = self._index.get(owner)
        if types is None:
            return
        by_key = types.get(rdtype, {})
        by_key.pop(key, None)
        if not by_key:
            types.pop(rdtype, None)
        if not types:
            del self._index[owner]
            for parent in self._ancestors(owner):
                left = self._nonterminals[parent] - 1
                if left:
                    self._nonterminals[parent] = left
                else:
                    del self._nonterminals[parent]

    def _ancestors(self, owner: dns.name.Name) -> Iterator[dns.name.Name]:
        name = owner.parent()
        while name != self.zone and name.is_subdomain(self.zone):
            yield name
            name = name.parent()

    # -- one Service's records --------------------------------------------------------------

    def _service_records(self, service: Service) -> _Records:
        meta, spec = service.metadata, service.spec
        if meta is None or spec is None or not meta.name or not meta.namespace:
            return {}
        records: _Records = {}
        try:
            labels = (meta.name.lower().encode(), meta.namespace.lower().encode())
            base = dns.name.Name((*labels, *self._svc_zone.labels))
        except dns.exception.DNSException:  # a name too long for DNS gets no records
            return {}

        def add(owner: dns.name.Name, rdata: dns.rdata.Rdata) -> None:
            records.setdefault((owner, rdata.rdtype), set()).add(rdata)

        if spec.type == "ExternalName":
            if not spec.external_name:
                return {}
            try:
                target = dns.name.from_text(spec.external_name)
            except dns.exception.DNSException:
                return {}
            add(base, _rdata(dns.rdtypes.ANY.CNAME.CNAME, _CNAME, target))
            return records
        ips = spec.cluster_ips or ((spec.cluster_ip,) if spec.cluster_ip else ())
        if "None" in ips:
            self._headless_records(service, base, add)
            return records
        for ip in ips:
            address = _address(ip)
            if address is None:
                continue
            add(base, address)
            add(dns.reversename.from_address(ip), _rdata(dns.rdtypes.ANY.PTR.PTR, _PTR, base))
        if any(rdtype in (_A, _AAAA) for _, rdtype in records):
            for port in spec.ports:
                owner = _srv_owner(port.name, port.protocol, base)
                if owner is not None and port.port:
                    add(owner, _srv(port.port, base))
        return records

    def _headless_records(self, service: Service, base: dns.name.Name, add: _Add) -> None:
        key = _key(service)
        spec = service.spec
        assert key is not None and spec is not None
        publish_all = bool(spec.publish_not_ready_addresses)
        for endpoint_slice in self._slices.get(key, {}).values():
            if endpoint_slice.address_type == "FQDN":
                continue
            for endpoint in endpoint_slice.endpoints:
                ready = endpoint.conditions.ready if endpoint.conditions else None
                if not (publish_all or _is_ready(ready)):
                    continue
                for ip in endpoint.addresses:
                    address = _address(ip)
                    if address is None:
                        continue
                    try:
                        host = dns.name.Name(
                            (endpoint_hostname(endpoint.hostname, ip).encode(), *base.labels)
                        )
                    except dns.exception.DNSException:
                        continue
                    add(base, address)
                    add(host, address)
                    add(
                        dns.reversename.from_address(ip),
                        _rdata(dns.rdtypes.ANY.PTR.PTR, _PTR, host),
                    )
                    # CoreDNS takes headless SRV ports from the slice (the pods' real ports).
                    for port in endpoint_slice.ports:
                        owner = _srv_owner(port.name, port.protocol, base)
                        if owner is not None and port.port:
                            add(owner, _srv(port.port, host))

    # -- asking -----------------------------------------------------------------------------

    def is_authoritative(self, qname: dns.name.Name) -> bool:
        """Whether ``qname`` is inside the cluster domain."""
        return qname.is_subdomain(self.zone)

    def is_reverse(self, qname: dns.name.Name) -> bool:
        """Whether ``qname`` is a reverse-lookup name (``in-addr.arpa``, ``ip6.arpa``)."""
        return qname.is_subdomain(_IN_ADDR) or qname.is_subdomain(_IP6)

    def lookup(self, qname: dns.name.Name, rdtype: int) -> Answer | None:
        """The answer to ``qname``/``rdtype``, or None when the name is not this table's to
        answer (outside the cluster domain, or a reverse name of no cluster IP or endpoint)."""
        if not qname.is_subdomain(self.zone):
            return self._lookup_reverse(qname, rdtype)
        rrsets = self._rrsets(qname, rdtype)
        if rrsets is None:
            return Answer(rcode=dns.rcode.NXDOMAIN, authority=(self._soa(),))
        if not rrsets:
            return Answer(authority=(self._soa(),))
        answer = list(rrsets)
        # Chase a CNAME as far as the zone's data goes (an ExternalName naming a Service).
        seen = {qname}
        while rdtype not in (_CNAME, _ANY) and answer[-1].rdtype == _CNAME:
            target = next(iter(answer[-1])).target
            if target in seen or not target.is_subdomain(self.zone):
                break
            seen.add(target)
            more = self._rrsets(target, rdtype)
            if not more:
                break
            answer.extend(more)
        return Answer(answer=tuple(answer), additional=self._additional(answer))

    def _lookup_reverse(self, qname: dns.name.Name, rdtype: int) -> Answer | None:
        by_key = self._reverse.get(qname)
        if by_key is None:
            return None
        if rdtype not in (_PTR, _ANY):
            return Answer()
        rrset = dns.rrset.RRset(qname, _IN, _PTR)
        for rdatas in by_key.values():
            for rdata in rdatas:
                rrset.add(rdata, self.ttl)
        return Answer(answer=(rrset,))

    def _rrsets(self, qname: dns.name.Name, rdtype: int) -> list[dns.rrset.RRset] | None:
        """The rrsets at ``qname`` for ``rdtype`` (a CNAME answers any type); [] for a name that
        exists without such records; None for a name that does not exist."""
        types = self._index.get(qname)
        if types is not None:
            wanted = list(types) if rdtype == _ANY else [rdtype]
            if rdtype not in types and _CNAME in types:
                wanted = [_CNAME]
            found = []
            for each in wanted:
                by_key = types.get(each)
                if not by_key:
                    continue
                rrset = dns.rrset.RRset(qname, _IN, dns.rdatatype.RdataType.make(each))
                for rdatas in by_key.values():
                    for rdata in rdatas:
                        rrset.add(rdata, self.ttl)
                found.append(rrset)
            return found
        if qname == self.zone:
            return [self._soa(qname)] if rdtype in (_SOA, _ANY) else []
        if qname == self._version_name:
            if rdtype not in (_TXT, _ANY):
                return []
            return [dns.rrset.from_rdata(qname, self.ttl, self._version)]
        if qname in self._nonterminals or qname in (self._svc_zone, self._pod_zone):
            return []
        if self.pods == "insecure" and qname.is_subdomain(self._pod_zone):
            depth = len(qname) - len(self._pod_zone)
            if depth == 2:
                return self._pod_rrsets(qname, rdtype)
            if depth == 1:
                return []  # <ns>.pod.<zone>: every namespace has pod names below it
        return None

    def _pod_rrsets(self, qname: dns.name.Name, rdtype: int) -> list[dns.rrset.RRset] | None:
        label = qname.labels[0].decode("ascii", "replace")
        text = label.replace("-", ".") if label.count("-") == 3 else label.replace("-", ":")
        address = _address(text)
        if address is None:
            return None
        if rdtype not in (address.rdtype, _ANY):
            return []
        return [dns.rrset.from_rdata(qname, self.ttl, address)]

    def _additional(self, answer: Iterable[dns.rrset.RRset]) -> tuple[dns.rrset.RRset, ...]:
        """The addresses of the SRV targets (the spec's "Additional section may include")."""
        extra: list[dns.rrset.RRset] = []
        seen: set[dns.name.Name] = set()
        for rrset in answer:
            if rrset.rdtype != _SRV:
                continue
            for rdata in rrset:
                assert isinstance(rdata, dns.rdtypes.IN.SRV.SRV)
                if rdata.target in seen:
                    continue
                seen.add(rdata.target)
                for rdtype in (_A, _AAAA):
                    extra.extend(self._rrsets(rdata.target, rdtype) or [])
        return tuple(extra)

    def _soa(self, owner: dns.name.Name | None = None) -> dns.rrset.RRset:
        # CoreDNS's SOA for the kubernetes zone: ns.dns.<zone>, hostmaster.<zone>, refresh 7200,
        # retry 1800, expire 86400, minimum the records' TTL.
        soa = _rdata(
            dns.rdtypes.ANY.SOA.SOA,
            _SOA,
            dns.name.Name((b"ns", b"dns", *self.zone.labels)),
            dns.name.Name((b"hostmaster", *self.zone.labels)),
            self.serial,
            7200,
            1800,
            86400,
            self.ttl,
        )
        return dns.rrset.from_rdata(owner or self.zone, self.ttl, soa)

    # -- introspection ----------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every owner name with records (not the synthesized pod names), sorted; for tests
        and ``kframe dns`` debugging."""
        return sorted(
            [name.to_text() for name in self._index] + [name.to_text() for name in self._reverse]
        )


def _key(service: Service) -> str | None:
    meta = service.metadata
    if meta is None or not meta.name or not meta.namespace:
        return None
    return f"{meta.namespace}/{meta.name}"


def _slice_key(endpoint_slice: EndpointSlice) -> tuple[str | None, str]:
    meta = endpoint_slice.metadata
    if meta is None or not meta.namespace or not meta.name:
        return None, ""
    service = meta.labels.get(SERVICE_NAME_LABEL)
    if not service:
        return None, ""
    return f"{meta.namespace}/{service}", meta.name


def _srv_owner(name: str | None, protocol: str | None, base: dns.name.Name) -> dns.name.Name | None:
    if not name:  # unnamed ports have no SRV record
        return None
    try:
        return dns.name.Name(
            (f"_{name.lower()}".encode(), f"_{(protocol or 'TCP').lower()}".encode(), *base.labels)
        )
    except dns.exception.DNSException:
        return None


def _srv(port: int, target: dns.name.Name) -> dns.rdata.Rdata:
    return _rdata(dns.rdtypes.IN.SRV.SRV, _SRV, _SRV_PRIORITY, _SRV_WEIGHT, port, target)
