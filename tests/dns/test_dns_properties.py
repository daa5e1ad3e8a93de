"""Properties of cluster DNS: every Service resolves to its IP while it exists and is NXDOMAIN
once deleted, whatever the order of Service and EndpointSlice events."""

from __future__ import annotations

import asyncio

import dns.asyncquery
import dns.message
import dns.rcode
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kframe.api import models
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.dns import SERVICE_NAME_LABEL, ClusterDNS, RecordTable
from kframe.store import open_store
from tests.dns.dns_objects import ask, endpoint, endpoint_slice, rcode, service, values

NAMES = st.sampled_from(["a", "b", "web", "db-0", "x1"])
NAMESPACES = st.sampled_from(["default", "prod"])
OCTETS = st.integers(1, 254)
ZONE = "cluster.local"


class TableMachine(RuleBasedStateMachine):
    """The incremental table against a model of what exists, and against a table built from
    scratch out of the same objects (so the order of events never matters)."""

    def __init__(self) -> None:
        super().__init__()
        self.table = RecordTable(ZONE)
        self.services: dict[tuple[str, str], models.Service] = {}
        # (namespace, slice name) -> slice
        self.slices: dict[tuple[str, str], models.EndpointSlice] = {}
        self.deleted: set[tuple[str, str]] = set()

    @rule(name=NAMES, namespace=NAMESPACES, octet=OCTETS)
    def cluster_ip_service(self, name: str, namespace: str, octet: int) -> None:
        svc = service(name, namespace, cluster_ip=f"10.96.{len(namespace)}.{octet}")
        self.table.set_service(svc)
        self.services[(namespace, name)] = svc
        self.deleted.discard((namespace, name))

    @rule(name=NAMES, namespace=NAMESPACES)
    def headless_service(self, name: str, namespace: str) -> None:
        svc = service(name, namespace, cluster_ip="None", ports=(("p", 80, "TCP"),))
        self.table.set_service(svc)
        self.services[(namespace, name)] = svc
        self.deleted.discard((namespace, name))

    @rule(
        name=NAMES,
        namespace=NAMESPACES,
        index=st.integers(0, 1),
        ready=st.lists(st.tuples(OCTETS, st.booleans()), max_size=4),
    )
    def endpoint_slice(
        self, name: str, namespace: str, index: int, ready: list[tuple[int, bool]]
    ) -> None:
        eps = [endpoint(f"10.244.{index}.{octet}", ready=ok) for octet, ok in ready]
        s = endpoint_slice(f"{name}-{index}", name, *eps, namespace=namespace)
        self.table.set_endpoint_slice(s)
        self.slices[(namespace, f"{name}-{index}")] = s

    @rule(data=st.data())
    def delete_service(self, data: st.DataObject) -> None:
        if not self.services:
            return
        key = data.draw(st.sampled_from(sorted(self.services)))
        self.table.delete_service(self.services.pop(key))
        self.deleted.add(key)

    @rule(data=st.data())
    def delete_slice(self, data: st.DataObject) -> None:
        if not self.slices:
            return
        key = data.draw(st.sampled_from(sorted(self.slices)))
        self.table.delete_endpoint_slice(self.slices.pop(key))

    def _ready_ips(self, namespace: str, name: str) -> list[str]:
        return sorted(
            {
                ip
                for (ns, _), s in self.slices.items()
                if ns == namespace
                and s.metadata is not None
                and s.metadata.labels.get(SERVICE_NAME_LABEL) == name
                for ep in s.endpoints
                if ep.conditions is None or ep.conditions.ready is not False
                for ip in ep.addresses
            }
        )

    @invariant()
    def every_service_resolves_as_it_should(self) -> None:
        for (namespace, name), svc in self.services.items():
            fqdn = f"{name}.{namespace}.svc.{ZONE}"
            assert svc.spec is not None
            if svc.spec.cluster_ip != "None":
                assert values(ask(self.table, fqdn)) == [svc.spec.cluster_ip]
                ptr = ".".join(reversed((svc.spec.cluster_ip or "").split("."))) + ".in-addr.arpa"
                assert f"{fqdn}." in values(ask(self.table, ptr, "PTR"))
                continue
            ips = self._ready_ips(namespace, name)
            answer = ask(self.table, fqdn)
            if ips:
                assert values(answer) == ips
            else:
                assert rcode(answer) == "NXDOMAIN"

    @invariant()
    def deleted_services_are_nxdomain(self) -> None:
        for namespace, name in self.deleted:
            assert rcode(ask(self.table, f"{name}.{namespace}.svc.{ZONE}")) == "NXDOMAIN"

    @invariant()
    def order_does_not_matter(self) -> None:
        fresh = RecordTable(ZONE)
        for s in self.slices.values():
            fresh.set_endpoint_slice(s)
        for svc in self.services.values():
            fresh.set_service(svc)
        assert fresh.names() == self.table.names()
        for name in self.table.names():
            for rdtype in ("A", "SRV", "PTR"):
                assert values(ask(fresh, name, rdtype)) == values(ask(self.table, name, rdtype))


TestTableMachine = TableMachine.TestCase
TestTableMachine.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)


@settings(max_examples=10, deadline=None)
@given(
    names=st.lists(NAMES, min_size=1, max_size=4, unique=True),
    deleted=st.sets(NAMES, max_size=3),
)
def test_created_services_resolve_and_deleted_ones_are_nxdomain(
    names: list[str], deleted: set[str]
) -> None:
    """Through the API server and the wire: what exists answers its IP, what was deleted
    answers NXDOMAIN."""
    created = {name: 10 + i for i, name in enumerate(names)}  # the API server refuses a taken IP

    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.start("127.0.0.1", 0)
        client = InProcessClient(server)
        try:
            async with ClusterDNS(client, port=0).running() as cdns:
                for name, octet in created.items():
                    await client.create(service(name, cluster_ip=f"10.96.0.{octet}"))
                gone = deleted & set(created)
                for name in gone:
                    await client.delete(models.Service, name, namespace="default")
                expected = {
                    f"{name}.default.svc.{ZONE}": f"10.96.0.{octet}"
                    for name, octet in created.items()
                    if name not in gone
                }
                missing = {f"{name}.default.svc.{ZONE}" for name in deleted}
                while set(expected) - {n.rstrip(".") for n in cdns.table.names()}:
                    await asyncio.sleep(0.01)
                while missing & {n.rstrip(".") for n in cdns.table.names()}:
                    await asyncio.sleep(0.01)
                for name, ip in expected.items():
                    reply = await _udp(cdns.port, name)
                    assert [r.to_text() for rrset in reply.answer for r in rrset] == [ip]
                for name in missing:
                    reply = await _udp(cdns.port, name)
                    assert reply.rcode() == dns.rcode.NXDOMAIN
        finally:
            await client.close()
            await server.stop()
            await server.store.close()

    asyncio.run(asyncio.wait_for(main(), 30))


async def _udp(port: int, name: str) -> dns.message.Message:
    return await dns.asyncquery.udp(dns.message.make_query(name, "A"), "127.0.0.1", 5, port=port)
