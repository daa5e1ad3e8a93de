"""A Hypothesis state machine over Service writes: whatever sequence of creates, updates, deletes,
dry runs and API server restarts, no two live Services share a cluster IP or a node port, every
value is in its range, and the allocator holds exactly what the stored Services hold."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kframe.apiserver import APIError, APIServer
from kframe.apiserver._service_alloc import held, owner_of
from kframe.store import Store, open_store

T = TypeVar("T")

CIDR = "10.0.0.0/28"  # 14 addresses, no static band: the range fills up quickly
PORTS = (30000, 30009)

NAMES = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])
KINDS = st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer", "Local", "Headless", "External"])
ASKED_IPS = st.one_of(st.none(), st.sampled_from(["10.0.0.1", "10.0.0.5", "10.0.0.14", "10.0.1.1"]))
ASKED_PORTS = st.one_of(st.none(), st.sampled_from([30000, 30003, 30009, 31000]))


def spec_for(kind: str, ip: str | None, node_port: int | None, two: bool) -> dict[str, Any]:
    ports: list[dict[str, Any]] = [{"name": "a", "port": 80}]
    if two:
        ports.append({"name": "b", "port": 53, "protocol": "UDP"})
    if kind == "External":
        return {"type": "ExternalName", "externalName": "example.com", "ports": ports}
    spec: dict[str, Any] = {"ports": ports, "selector": {"app": "x"}}
    if kind == "Headless":
        spec["clusterIP"] = "None"
        return spec
    spec["type"] = "LoadBalancer" if kind == "Local" else kind
    if kind == "Local":
        spec["externalTrafficPolicy"] = "Local"
    if ip is not None:
        spec["clusterIP"] = ip
    if node_port is not None and kind != "ClusterIP":
        ports[0]["nodePort"] = node_port
    return spec


class ServiceAllocationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.store: Store = self.run(open_store("memory://"))
        self.server = self._start()

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    def _start(self) -> APIServer:
        server = APIServer(
            self.store,
            compaction_interval=0,
            service_cluster_ip_range=CIDR,
            service_node_port_range=f"{PORTS[0]}-{PORTS[1]}",
        )
        self.run(server.bootstrap())
        return server

    @property
    def services(self) -> Any:
        return self.server.storage("", "v1", "services")

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()

    def _try(self, call: Awaitable[Any]) -> None:
        error: APIError | None = None
        try:
            self.run(call)
        except APIError as exc:
            error = exc
        if error is not None:  # refusals are fine; a full range is the only 500
            assert error.code in (404, 409, 422, 500), error.message
            assert error.code != 500 or "range is full" in error.message, error.message

    @rule(
        name=NAMES,
        kind=KINDS,
        ip=ASKED_IPS,
        node_port=ASKED_PORTS,
        two=st.booleans(),
        dry_run=st.booleans(),
    )
    def create(
        self, name: str, kind: str, ip: str | None, node_port: int | None, two: bool, dry_run: bool
    ) -> None:
        body = {"metadata": {"name": name}, "spec": spec_for(kind, ip, node_port, two)}
        self._try(self.services.create(body, "default", dry_run=dry_run))

    @rule(name=NAMES, kind=KINDS, node_port=ASKED_PORTS, keep=st.booleans(), dry_run=st.booleans())
    def retype(
        self, name: str, kind: str, node_port: int | None, keep: bool, dry_run: bool
    ) -> None:
        async def change() -> None:
            current = await self.services.get("default", name)
            old = current["spec"]
            spec = spec_for(kind, None, node_port, len(old.get("ports") or ()) > 1)
            if keep:  # as a PUT of what was read, with the type changed
                spec = {**old, **{k: v for k, v in spec.items() if k != "ports"}}
                if kind not in ("NodePort", "LoadBalancer", "Local"):
                    spec.pop("externalTrafficPolicy", None)
            current["spec"] = spec
            await self.services.update(current, "default", name, dry_run=dry_run)

        self._try(change())

    @rule(name=NAMES, dry_run=st.booleans())
    def delete(self, name: str, dry_run: bool) -> None:
        self._try(self.services.delete("default", name, dry_run=dry_run))

    @rule()
    def restart(self) -> None:
        self.server = self._start()

    @invariant()
    def no_sharing_all_in_range(self) -> None:
        page = self.run(self.services.list(None, _everything()))
        ips: dict[str, str] = {}
        ports: dict[int, str] = {}
        network = ipaddress.ip_network(CIDR)
        for svc in page["items"]:
            owner = owner_of(svc)
            svc_ips, svc_ports = held(svc)
            for ip in svc_ips:
                assert ip not in ips, f"{ip} held by {ips[ip]} and {owner}"
                addr = ipaddress.ip_address(ip)
                assert addr in network and addr not in (network[0], network[-1])
                ips[ip] = owner
            for port in set(svc_ports):
                assert port not in ports, f"{port} held by {ports[port]} and {owner}"
                assert PORTS[0] <= port <= PORTS[1]
                ports[port] = owner
        allocator = self.server.service_allocator
        assert allocator.allocated_ips() == ips
        assert allocator.allocated_ports() == ports


def _everything() -> Any:
    from kframe.apiserver import ListOptions

    return ListOptions()


ServiceAllocationMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestServiceAllocation = ServiceAllocationMachine.TestCase
