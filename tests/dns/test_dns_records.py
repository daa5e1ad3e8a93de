"""The record table against the Kubernetes DNS specification, one kind of record at a time."""

from __future__ import annotations

import dns.name
import dns.rdatatype
import dns.reversename
import pytest

from kframe.dns import SCHEMA_VERSION, RecordTable, endpoint_hostname
from tests.dns.dns_objects import ask, endpoint, endpoint_slice, rcode, service, values

Z = "cluster.local"


@pytest.fixture
def table() -> RecordTable:
    return RecordTable(Z)


def test_cluster_ip_service_has_an_a_record(table: RecordTable) -> None:
    table.set_service(service("web", cluster_ip="10.96.0.20"))
    answer = ask(table, "web.default.svc.cluster.local")
    assert rcode(answer) == "NOERROR"
    assert values(answer) == ["10.96.0.20"]
    assert answer is not None and answer.answer[0].ttl == 30
    # Comparisons are case-insensitive (spec 2.1).
    assert values(ask(table, "WEB.Default.SVC.cluster.LOCAL")) == ["10.96.0.20"]


def test_dual_stack_cluster_ips_answer_a_and_aaaa(table: RecordTable) -> None:
    table.set_service(service("web", cluster_ips=("10.96.0.20", "fd00::20")))
    assert values(ask(table, "web.default.svc.cluster.local", "A")) == ["10.96.0.20"]
    assert values(ask(table, "web.default.svc.cluster.local", "AAAA")) == ["fd00::20"]


def test_a_name_without_the_asked_type_is_nodata_with_the_soa(table: RecordTable) -> None:
    table.set_service(service("web", cluster_ip="10.96.0.20"))
    answer = ask(table, "web.default.svc.cluster.local", "AAAA")
    assert rcode(answer) == "NOERROR"
    assert answer is not None and answer.answer == ()
    assert [r.rdtype for r in answer.authority] == [dns.rdatatype.SOA]


def test_unknown_names_in_the_zone_are_nxdomain(table: RecordTable) -> None:
    table.set_service(service("web", cluster_ip="10.96.0.20"))
    for name in ("nope.default.svc", "web.other.svc", "web.default.svc.x", "x.y.z"):
        answer = ask(table, f"{name}.{Z}")
        assert rcode(answer) == "NXDOMAIN", name
        assert answer is not None
        assert [r.rdtype for r in answer.authority] == [dns.rdatatype.SOA]


def test_names_above_records_exist_without_records(table: RecordTable) -> None:
    # Empty non-terminals answer NOERROR, so a search list walks on past them correctly.
    table.set_service(service("web", cluster_ip="10.96.0.20"))
    for name in (Z, f"svc.{Z}", f"default.svc.{Z}"):
        assert rcode(ask(table, name)) == "NOERROR", name
    assert values(ask(table, Z, "SOA"))[0].startswith("ns.dns.cluster.local. ")


def test_srv_records_for_named_ports_only(table: RecordTable) -> None:
    table.set_service(
        service(
            "web",
            cluster_ip="10.96.0.20",
            ports=(("http", 80, "TCP"), ("", 8080, "TCP"), ("dns", 53, "UDP")),
        )
    )
    answer = ask(table, "_http._tcp.web.default.svc.cluster.local", "SRV")
    assert values(answer) == ["0 100 80 web.default.svc.cluster.local."]
    assert answer is not None
    assert [r.to_text() for r in answer.additional] == [
        "web.default.svc.cluster.local. 30 IN A 10.96.0.20"
    ]
    assert values(ask(table, "_dns._udp.web.default.svc.cluster.local", "SRV")) == [
        "0 100 53 web.default.svc.cluster.local."
    ]
    assert rcode(ask(table, "_dns._tcp.web.default.svc.cluster.local", "SRV")) == "NXDOMAIN"
    # _tcp.web... is an empty non-terminal above the SRV owner.
    assert rcode(ask(table, "_tcp.web.default.svc.cluster.local", "SRV")) == "NOERROR"


def test_ptr_for_cluster_ips(table: RecordTable) -> None:
    table.set_service(service("web", cluster_ips=("10.96.0.20", "fd00::20")))
    assert values(ask(table, "20.0.96.10.in-addr.arpa", "PTR")) == [
        "web.default.svc.cluster.local."
    ]
    assert values(table.lookup(dns.reversename.from_address("fd00::20"), dns.rdatatype.PTR)) == [
        "web.default.svc.cluster.local."
    ]
    # A reverse name of no cluster IP is not the table's to answer (it goes upstream).
    assert ask(table, "21.0.96.10.in-addr.arpa", "PTR") is None


def test_service_without_a_cluster_ip_yet_has_no_records(table: RecordTable) -> None:
    table.set_service(service("web"))
    assert rcode(ask(table, "web.default.svc.cluster.local")) == "NXDOMAIN"


def test_headless_service_answers_its_ready_endpoints(table: RecordTable) -> None:
    table.set_service(service("db", cluster_ip="None", ports=(("pg", 5432, "TCP"),)))
    assert rcode(ask(table, "db.default.svc.cluster.local")) == "NXDOMAIN"  # none ready yet
    table.set_endpoint_slice(
        endpoint_slice(
            "db-abc",
            "db",
            endpoint("10.244.0.5", hostname="db-0"),
            endpoint("10.244.0.6", hostname="db-1"),
            endpoint("10.244.0.7", ready=False, hostname="db-2"),
            endpoint("10.244.0.8", ready=None),
            ports=(("pg", 5432, "TCP"),),
        )
    )
    assert values(ask(table, "db.default.svc.cluster.local")) == [
        "10.244.0.5",
        "10.244.0.6",
        "10.244.0.8",
    ]
    assert values(ask(table, "db-0.db.default.svc.cluster.local")) == ["10.244.0.5"]
    assert rcode(ask(table, "db-2.db.default.svc.cluster.local")) == "NXDOMAIN"
    # No hostname: the dashed IP names the endpoint.
    assert values(ask(table, "10-244-0-8.db.default.svc.cluster.local")) == ["10.244.0.8"]
    answer = ask(table, "_pg._tcp.db.default.svc.cluster.local", "SRV")
    assert values(answer) == [
        "0 100 5432 10-244-0-8.db.default.svc.cluster.local.",
        "0 100 5432 db-0.db.default.svc.cluster.local.",
        "0 100 5432 db-1.db.default.svc.cluster.local.",
    ]
    assert answer is not None and len(answer.additional) == 3
    assert values(ask(table, "5.0.244.10.in-addr.arpa", "PTR")) == [
        "db-0.db.default.svc.cluster.local."
    ]
    assert ask(table, "7.0.244.10.in-addr.arpa", "PTR") is None


def test_headless_with_publish_not_ready_addresses(table: RecordTable) -> None:
    table.set_service(service("db", cluster_ip="None", publish_not_ready=True))
    table.set_endpoint_slice(endpoint_slice("s", "db", endpoint("10.244.0.7", ready=False)))
    assert values(ask(table, "db.default.svc.cluster.local")) == ["10.244.0.7"]


def test_headless_endpoints_merge_over_slices_and_services(table: RecordTable) -> None:
    table.set_endpoint_slice(endpoint_slice("a", "db", endpoint("10.244.0.5")))  # before svc
    table.set_endpoint_slice(endpoint_slice("b", "db", endpoint("10.244.0.6", "10.244.0.9")))
    table.set_service(service("db", cluster_ip="None"))
    table.set_service(service("db2", cluster_ip="None"))
    table.set_endpoint_slice(endpoint_slice("c", "db2", endpoint("10.244.0.5", hostname="x")))
    assert values(ask(table, "db.default.svc.cluster.local")) == [
        "10.244.0.5",
        "10.244.0.6",
        "10.244.0.9",
    ]
    # One pod behind two headless services: a PTR for each name.
    assert values(ask(table, "5.0.244.10.in-addr.arpa", "PTR")) == [
        "10-244-0-5.db.default.svc.cluster.local.",
        "x.db2.default.svc.cluster.local.",
    ]
    table.delete_endpoint_slice(endpoint_slice("b", "db"))
    assert values(ask(table, "db.default.svc.cluster.local")) == ["10.244.0.5"]
    table.delete_service(service("db2"))
    assert values(ask(table, "5.0.244.10.in-addr.arpa", "PTR")) == [
        "10-244-0-5.db.default.svc.cluster.local."
    ]


def test_fqdn_slices_and_bad_addresses_are_ignored(table: RecordTable) -> None:
    table.set_service(service("db", cluster_ip="None"))
    table.set_endpoint_slice(
        endpoint_slice("f", "db", endpoint("db.example.com"), address_type="FQDN")
    )
    table.set_endpoint_slice(endpoint_slice("g", "db", endpoint("not-an-ip")))
    assert rcode(ask(table, "db.default.svc.cluster.local")) == "NXDOMAIN"


def test_external_name_is_a_cname(table: RecordTable) -> None:
    table.set_service(service("ext", external_name="www.example.com"))
    answer = ask(table, "ext.default.svc.cluster.local", "A")
    assert values(answer) == ["www.example.com."]
    assert answer is not None and answer.cname_target == dns.name.from_text("www.example.com")
    assert values(ask(table, "ext.default.svc.cluster.local", "CNAME")) == ["www.example.com."]


def test_external_name_naming_a_service_is_chased_in_the_zone(table: RecordTable) -> None:
    table.set_service(service("web", cluster_ip="10.96.0.20"))
    table.set_service(service("alias", external_name="web.default.svc.cluster.local"))
    answer = ask(table, "alias.default.svc.cluster.local", "A")
    assert values(answer, "CNAME") == ["web.default.svc.cluster.local."]
    assert values(answer, "A") == ["10.96.0.20"]
    assert answer is not None and answer.cname_target is None
    # A loop of ExternalNames ends.
    table.set_service(service("a", external_name="b.default.svc.cluster.local"))
    table.set_service(service("b", external_name="a.default.svc.cluster.local"))
    assert len(values(ask(table, "a.default.svc.cluster.local"))) == 2


def test_updates_and_deletes(table: RecordTable) -> None:
    table.set_service(service("web", cluster_ip="10.96.0.20", ports=(("http", 80, "TCP"),)))
    serial = table.serial
    table.set_service(service("web", cluster_ip="10.96.0.21", ports=(("http", 81, "TCP"),)))
    assert table.serial != serial
    assert values(ask(table, "web.default.svc.cluster.local")) == ["10.96.0.21"]
    assert values(ask(table, "_http._tcp.web.default.svc.cluster.local", "SRV")) == [
        "0 100 81 web.default.svc.cluster.local."
    ]
    assert ask(table, "20.0.96.10.in-addr.arpa", "PTR") is None
    table.delete_service(service("web"))
    assert rcode(ask(table, "web.default.svc.cluster.local")) == "NXDOMAIN"
    assert rcode(ask(table, "default.svc.cluster.local")) == "NXDOMAIN"  # nothing below it
    assert ask(table, "21.0.96.10.in-addr.arpa", "PTR") is None
    assert table.names() == []


def test_a_service_turning_headless_and_external(table: RecordTable) -> None:
    table.set_endpoint_slice(endpoint_slice("s", "web", endpoint("10.244.0.5")))
    table.set_service(service("web", cluster_ip="10.96.0.20"))
    assert values(ask(table, "web.default.svc.cluster.local")) == ["10.96.0.20"]
    table.set_service(service("web", cluster_ip="None"))
    assert values(ask(table, "web.default.svc.cluster.local")) == ["10.244.0.5"]
    table.set_service(service("web", external_name="example.com"))
    assert values(ask(table, "web.default.svc.cluster.local")) == ["example.com."]


def test_pod_records_and_dns_version(table: RecordTable) -> None:
    assert values(ask(table, "10-244-1-7.default.pod.cluster.local")) == ["10.244.1.7"]
    assert values(ask(table, "fd00--7.default.pod.cluster.local", "AAAA")) == ["fd00::7"]
    assert rcode(ask(table, "10-244-1-7.default.pod.cluster.local", "AAAA")) == "NOERROR"
    assert rcode(ask(table, "nope.default.pod.cluster.local")) == "NXDOMAIN"
    assert rcode(ask(table, "default.pod.cluster.local")) == "NOERROR"
    assert values(ask(table, "dns-version.cluster.local", "TXT")) == [f'"{SCHEMA_VERSION}"']
    off = RecordTable(Z, pods="disabled")
    assert rcode(ask(off, "10-244-1-7.default.pod.cluster.local")) == "NXDOMAIN"


def test_names_outside_the_zone_are_not_the_tables(table: RecordTable) -> None:
    assert ask(table, "example.com") is None
    assert not table.is_authoritative(dns.name.from_text("example.com"))
    assert table.is_reverse(dns.name.from_text("1.0.0.10.in-addr.arpa"))


def test_any_returns_every_type_and_ttl_is_configurable() -> None:
    table = RecordTable("kube.test", ttl=5)
    table.set_service(service("web", cluster_ips=("10.96.0.20", "fd00::20")))
    answer = ask(table, "web.default.svc.kube.test", "ANY")
    assert values(answer) == ["10.96.0.20", "fd00::20"]
    assert answer is not None and {r.ttl for r in answer.answer} == {5}
    with pytest.raises(ValueError, match="ttl"):
        RecordTable(Z, ttl=4000)


def test_endpoint_hostname() -> None:
    assert endpoint_hostname("Web-0", "10.0.0.1") == "web-0"
    assert endpoint_hostname(None, "10.0.0.1") == "10-0-0-1"
    assert endpoint_hostname("", "fd00::1") == "fd00--1"
