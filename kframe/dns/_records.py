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
from informers, :class:`kframe.dns.DNSServer` asks it. Records are held as lower-case text
(see ``_service_records``), so names compare case-insensitively as the spec requires, and
dnspython rrsets are built once per owner and type when first asked for, until it changes.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Literal

import attrs
import dns.exception
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from kframe.api.models import EndpointSlice, Service
from kframe.dns._service_records import CNAME, SRV, Records, service_records

__all__ = [
    "DEFAULT_TTL",
    "SCHEMA_VERSION",
    "SERVICE_NAME_LABEL",
    "Answer",
    "PodRecords",
    "RecordTable",
]

#: The schema version of kubernetes/dns docs/specification.md this table implements.
SCHEMA_VERSION = "1.0.1"
#: The answers' TTL: the ``ttl 30`` of kubeadm's Corefile (CoreDNS's own default is 5 s).
DEFAULT_TTL = 30
#: The label that ties an EndpointSlice to its Service.
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

PodRecords = Literal["insecure", "disabled"]

_A = dns.rdatatype.A
_AAAA = dns.rdatatype.AAAA
_SOA = dns.rdatatype.SOA
_TXT = dns.rdatatype.TXT
_ANY = dns.rdatatype.ANY
_REVERSE = (".in-addr.arpa.", ".ip6.arpa.")


@attrs.frozen(kw_only=True)
class Answer:
    """The response to one question, section by section."""

    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    answer: tuple[dns.rrset.RRset, ...] = ()
    authority: tuple[dns.rrset.RRset, ...] = ()
    additional: tuple[dns.rrset.RRset, ...] = ()

    @property
    def cname_target(self) -> dns.name.Name | None:
        """Where the answer's CNAME chain leaves this table's data, if it ends in a CNAME."""
        if self.answer and self.answer[-1].rdtype == CNAME:
            target: dns.name.Name = next(iter(self.answer[-1])).target
            return target
        return None


def _key(name: dns.name.Name) -> str:
    """The table's form of a name: lower-case text with the final dot."""
    labels = name.labels
    if any(b"." in label for label in labels):  # an escaped dot never names a record here
        return name.to_text().lower()
    return b".".join(labels).lower().decode("latin-1") or "."


def _object_key(obj: Service | EndpointSlice) -> str | None:
    meta = obj.metadata
    if meta is None or not meta.name or not meta.namespace:
        return None
    if isinstance(obj, EndpointSlice):
        service = meta.labels.get(SERVICE_NAME_LABEL)
        return f"{meta.namespace}/{service}" if service else None
    return f"{meta.namespace}/{meta.name}"


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
        self._zone = _key(self.zone)
        self._svc_zone = f"svc.{self._zone}"
        self._pod_zone = f"pod.{self._zone}"
        self._version_name = f"dns-version.{self._zone}"
        self._services: dict[str, Service] = {}
        self._slices: dict[str, dict[str, EndpointSlice]] = {}  # ns/service -> name -> slice
        self._contributed: dict[str, Records] = {}  # ns/service -> its records
        # owner -> type -> ns/service -> rdata texts
        self._index: dict[str, dict[int, dict[str, frozenset[str]]]] = {}
        self._nonterminals: dict[str, int] = {}  # names above owners, with counts
        self._rrsets: dict[tuple[str, int], dns.rrset.RRset | None] = {}
        self._soa: tuple[int, dns.rrset.RRset] | None = None
        self.serial = int(time.time()) % 2**32

    # -- feeding ---------------------------------------------------------------------------

    def set_service(self, service: Service) -> None:
        key = _object_key(service)
        if key is not None:
            self._services[key] = service
            self._rebuild(key)

    def delete_service(self, service: Service) -> None:
        key = _object_key(service)
        if key is not None and self._services.pop(key, None) is not None:
            self._rebuild(key)

    def set_endpoint_slice(self, endpoint_slice: EndpointSlice) -> None:
        key = _object_key(endpoint_slice)
        if key is not None:
            assert endpoint_slice.metadata is not None and endpoint_slice.metadata.name
            self._slices.setdefault(key, {})[endpoint_slice.metadata.name] = endpoint_slice
            self._rebuild(key)

    def delete_endpoint_slice(self, endpoint_slice: EndpointSlice) -> None:
        key = _object_key(endpoint_slice)
        slices = self._slices.get(key or "")
        if key is None or slices is None:
            return
        assert endpoint_slice.metadata is not None
        if slices.pop(endpoint_slice.metadata.name or "", None) is not None:
            if not slices:
                del self._slices[key]
            self._rebuild(key)

    def _rebuild(self, key: str) -> None:
        service = self._services.get(key)
        new: Records = {}
        if service is not None:
            new = service_records(service, self._slices.get(key, {}).values(), self._svc_zone)
        old = self._contributed.pop(key, {})
        if new:
            self._contributed[key] = new
        if new == old:
            return
        for owner, rdtype in old.keys() - new.keys():
            self._withdraw(key, owner, rdtype)
        for (owner, rdtype), rdatas in new.items():
            if old.get((owner, rdtype)) != rdatas:
                self._publish(key, owner, rdtype, rdatas)
        self.serial = (self.serial + 1) % 2**32

    def _publish(self, key: str, owner: str, rdtype: int, rdatas: frozenset[str]) -> None:
        types = self._index.get(owner)
        if types is None:
            types = self._index[owner] = {}
            for parent in self._ancestors(owner):
                self._nonterminals[parent] = self._nonterminals.get(parent, 0) + 1
        types.setdefault(rdtype, {})[key] = rdatas
        self._rrsets.pop((owner, rdtype), None)

    def _withdraw(self, key: str, owner: str, rdtype: int) -> None:
        types = self._index.get(owner)
        if types is None:
            return
        self._rrsets.pop((owner, rdtype), None)
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

    def _ancestors(self, owner: str) -> list[str]:
        """The names strictly between ``owner`` and the zone (none for a reverse name)."""
        if not owner.endswith(f".{self._zone}"):
            return []
        found = []
        name = owner.partition(".")[2]
        while name != self._zone and name:
            found.append(name)
            name = name.partition(".")[2]
        return found

    # -- asking -----------------------------------------------------------------------------

    def is_authoritative(self, qname: dns.name.Name) -> bool:
        """Whether ``qname`` is inside the cluster domain."""
        key = _key(qname)
        return key == self._zone or key.endswith(f".{self._zone}")

    def is_reverse(self, qname: dns.name.Name) -> bool:
        """Whether ``qname`` is a reverse-lookup name (``in-addr.arpa``, ``ip6.arpa``)."""
        key = _key(qname)
        return key.endswith(_REVERSE) or key in ("in-addr.arpa.", "ip6.arpa.")

    def lookup(self, qname: dns.name.Name, rdtype: int) -> Answer | None:
        """The answer to ``qname``/``rdtype``, or None when the name is not this table's to
        answer (outside the cluster domain, or a reverse name of no cluster IP or endpoint)."""
        key = _key(qname)
        if not (key == self._zone or key.endswith(f".{self._zone}")):
            if key not in self._index:
                return None
            found = self._found(key, rdtype)
            return Answer(answer=tuple(found or ()))
        found = self._found(key, rdtype)
        if found is None:
            return Answer(rcode=dns.rcode.NXDOMAIN, authority=(self.soa(),))
        if not found:
            return Answer(authority=(self.soa(),))
        answer = list(found)
        # Chase a CNAME as far as the zone's data goes (an ExternalName naming a Service).
        seen = {key}
        while rdtype not in (CNAME, _ANY) and answer[-1].rdtype == CNAME:
            target = _key(next(iter(answer[-1])).target)
            if target in seen or not target.endswith(f".{self._zone}"):
                break
            seen.add(target)
            more = self._found(target, rdtype)
            if not more:
                break
            answer.extend(more)
        return Answer(answer=tuple(answer), additional=self._additional(answer))

    def _found(self, key: str, rdtype: int) -> list[dns.rrset.RRset] | None:
        """The rrsets at ``key`` for ``rdtype`` (a CNAME answers any type); [] for a name that
        exists without such records; None for a name that does not exist."""
        types = self._index.get(key)
        if types is not None:
            if rdtype == _ANY:
                wanted = list(types)
            elif rdtype not in types and CNAME in types:
                wanted = [CNAME]
            else:
                wanted = [rdtype] if rdtype in types else []
            return [r for r in (self._rrset(key, each) for each in wanted) if r is not None]
        if key == self._zone:
            return [self.soa()] if rdtype in (_SOA, _ANY) else []
        if key == self._version_name:
            if rdtype not in (_TXT, _ANY):
                return []
            return [dns.rrset.from_text(key, self.ttl, "IN", "TXT", f'"{SCHEMA_VERSION}"')]
        if key in self._nonterminals or key in (self._svc_zone, self._pod_zone):
            return []
        if self.pods == "insecure" and key.endswith(f".{self._pod_zone}"):
            labels = key[: -len(self._pod_zone) - 1].split(".")
            if len(labels) == 2:
                return self._pod(key, labels[0], rdtype)
            if len(labels) == 1:
                return []  # <ns>.pod.<zone>: every namespace has pod names below it
        return None

    def _rrset(self, owner: str, rdtype: int) -> dns.rrset.RRset | None:
        cache_key = (owner, rdtype)
        if cache_key in self._rrsets:
            return self._rrsets[cache_key]
        texts = sorted({t for rdatas in self._index[owner][rdtype].values() for t in rdatas})
        try:
            rrset: dns.rrset.RRset | None = dns.rrset.from_text_list(
                owner, self.ttl, dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype), texts
            )
        except dns.exception.DNSException:  # a name too long for DNS: no records
            rrset = None
        self._rrsets[cache_key] = rrset
        return rrset

    def _pod(self, key: str, label: str, rdtype: int) -> list[dns.rrset.RRset] | None:
        text = label.replace("-", ".") if label.count("-") == 3 else label.replace("-", ":")
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None
        own = _A if address.version == 4 else _AAAA
        if rdtype not in (own, _ANY):
            return []
        return [dns.rrset.from_text(key, self.ttl, "IN", own, str(address))]

    def _additional(self, answer: list[dns.rrset.RRset]) -> tuple[dns.rrset.RRset, ...]:
        """The addresses of the SRV targets (the spec's "Additional section may include")."""
        extra: list[dns.rrset.RRset] = []
        seen: set[str] = set()
        for rrset in answer:
            if rrset.rdtype != SRV:
                continue
            for rdata in rrset:
                target = _key(rdata.target)
                if target in seen:
                    continue
                seen.add(target)
                for rdtype in (_A, _AAAA):
                    extra.extend(self._found(target, rdtype) or [])
        return tuple(extra)

    def soa(self) -> dns.rrset.RRset:
        """The zone's SOA (CoreDNS's: ``ns.dns.<zone>``, ``hostmaster.<zone>``, refresh 7200,
        retry 1800, expire 86400, minimum the records' TTL), for negative answers too."""
        if self._soa is None or self._soa[0] != self.serial:
            text = (
                f"ns.dns.{self._zone} hostmaster.{self._zone} {self.serial} 7200 1800 86400 "
                f"{self.ttl}"
            )
            self._soa = (self.serial, dns.rrset.from_text(self._zone, self.ttl, "IN", "SOA", text))
        return self._soa[1]

    # -- introspection ----------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every owner name with records (not the synthesized pod names), sorted; for tests
        and ``kframe dns`` debugging."""
        return sorted(self._index)
