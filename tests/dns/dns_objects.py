"""Services and EndpointSlices for the DNS tests, and a compact view of an Answer."""

from __future__ import annotations

import dns.name
import dns.rcode
import dns.rdatatype

from kframe.api import models
from kframe.api.models import discovery_v1
from kframe.dns import SERVICE_NAME_LABEL, Answer, RecordTable


def service(
    name: str,
    namespace: str = "default",
    *,
    cluster_ip: str = "",
    cluster_ips: tuple[str, ...] = (),
    ports: tuple[tuple[str, int, str], ...] | None = None,
    external_name: str = "",
    publish_not_ready: bool = False,
) -> models.Service:
    """A Service (with one unnamed port 80 unless ``ports`` or ``external_name`` says else)."""
    if ports is None:
        ports = () if external_name else (("", 80, "TCP"),)
    spec = models.ServiceSpec(
        type="ExternalName" if external_name else "ClusterIP",
        cluster_ip=cluster_ip or None,
        cluster_ips=cluster_ips,
        external_name=external_name or None,
        ports=tuple(
            models.ServicePort(name=n or None, port=p, protocol=proto)  # type: ignore[arg-type]
            for n, p, proto in ports
        ),
        publish_not_ready_addresses=publish_not_ready or None,
    )
    return models.Service(metadata=models.ObjectMeta(name=name, namespace=namespace), spec=spec)


def endpoint(*ips: str, ready: bool | None = True, hostname: str = "") -> models.Endpoint:
    return models.Endpoint(
        addresses=ips,
        conditions=models.EndpointConditions(ready=ready),
        hostname=hostname or None,
    )


def endpoint_slice(
    name: str,
    service_name: str,
    *endpoints: models.Endpoint,
    namespace: str = "default",
    ports: tuple[tuple[str, int, str], ...] = (),
    address_type: str = "IPv4",
) -> models.EndpointSlice:
    return models.EndpointSlice(
        metadata=models.ObjectMeta(
            name=name, namespace=namespace, labels={SERVICE_NAME_LABEL: service_name}
        ),
        address_type=address_type,  # type: ignore[arg-type]
        endpoints=endpoints,
        ports=tuple(
            discovery_v1.EndpointPort(name=n or None, port=p, protocol=proto)  # type: ignore[arg-type]
            for n, p, proto in ports
        ),
    )


def ask(table: RecordTable, name: str, rdtype: str = "A") -> Answer | None:
    return table.lookup(dns.name.from_text(name), dns.rdatatype.from_text(rdtype))


def values(answer: Answer | None, rdtype: str = "") -> list[str]:
    """The answer section's rdata as text (of one type, if given), sorted."""
    assert answer is not None
    return sorted(
        rdata.to_text()
        for rrset in answer.answer
        if not rdtype or rrset.rdtype == dns.rdatatype.from_text(rdtype)
        for rdata in rrset
    )


def rcode(answer: Answer | None) -> str:
    return "NOTOURS" if answer is None else dns.rcode.to_text(answer.rcode)
