"""Service cluster IP and node port allocation in the API server (upstream's service REST storage,
ipallocator and portallocator)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kframe.apiserver import APIError, APIServer
from kframe.apiserver._service_alloc import IPRange, parse_port_range
from kframe.store import Store, open_store

Svc = dict[str, Any]
Scenario = Callable[[APIServer], Awaitable[None]]


def svc(name: str, **spec: Any) -> Svc:
    spec.setdefault("ports", [{"port": 80}])
    return {"metadata": {"name": name}, "spec": spec}


def run(scenario: Scenario, store: str = "memory://", **options: Any) -> None:
    async def main() -> None:
        server = APIServer(await open_store(store), compaction_interval=0, **options)
        try:
            await server.bootstrap()
            await scenario(server)
        finally:
            await server.store.close()

    asyncio.run(main())


def services(server: APIServer) -> Any:
    return server.storage("", "v1", "services")


async def create(server: APIServer, body: Svc, **options: Any) -> Svc:
    created: Svc = await services(server).create(body, "default", **options)
    return created


async def refused(call: Awaitable[Any]) -> APIError:
    with pytest.raises(APIError) as info:
        await call
    return info.value


def offset(ip: str, cidr: str) -> int:
    return int(ipaddress.ip_address(ip)) - int(ipaddress.ip_network(cidr).network_address) - 1


# -- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "band", "usable"),
    [
        # The examples of the cluster-ip-allocation page (KEP-3070).
        ("10.96.0.0/24", 16, 254),
        ("10.96.0.0/20", 256, 4094),
        ("10.96.0.0/16", 256, 65534),
        ("10.96.0.0/28", 0, 14),  # 16 addresses or fewer: no band
        ("10.96.0.0/27", 16, 30),
        ("fd00::/120", 16, 255),  # IPv6 keeps the last address
        ("fd00::/108", 256, 2**20 - 1),
    ],
)
def test_ip_range_band_and_size(cidr: str, band: int, usable: int) -> None:
    ips = IPRange(cidr)
    assert (ips.values.offset, ips.values.size) == (band, usable)


def test_port_range_parsing_and_band() -> None:
    ports = parse_port_range("30000-32767")
    assert (ports.base, ports.size, str(ports), ports.values.offset) == (
        30000,
        2768,
        "30000-32767",
        86,
    )
    assert parse_port_range("30000+9").size == 10
    assert parse_port_range("30000").size == 1
    for bad in ("x", "3-1", "70000-70001"):
        with pytest.raises(ValueError, match=r"port range|out of bounds"):
            parse_port_range(bad)


# -- cluster IPs --------------------------------------------------------------------------------


def test_a_service_gets_a_cluster_ip_from_the_upper_band() -> None:
    async def scenario(server: APIServer) -> None:
        seen = set()
        for i in range(20):
            spec = (await create(server, svc(f"s{i}")))["spec"]
            ip = spec["clusterIP"]
            assert spec["clusterIPs"] == [ip]
            assert (spec["ipFamilies"], spec["ipFamilyPolicy"]) == (["IPv4"], "SingleStack")
            assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12")
            assert offset(ip, "10.96.0.0/12") >= 256  # the first 256 stay for static requests
            seen.add(ip)
        assert len(seen) == 20
        stored = await services(server).get("default", "s0")
        assert stored["spec"]["clusterIP"] in seen

    run(scenario)


def test_the_lower_band_is_used_once_the_upper_one_is_full() -> None:
    cidr = "10.0.0.0/27"  # 30 usable, band 16: dynamic picks .17-.30 first

    async def scenario(server: APIServer) -> None:
        ips = [(await create(server, svc(f"s{i}")))["spec"]["clusterIP"] for i in range(14)]
        assert sorted(offset(ip, cidr) for ip in ips) == list(range(16, 30))
        lower = (await create(server, svc("s14")))["spec"]["clusterIP"]
        assert offset(lower, cidr) < 16

    run(scenario, service_cluster_ip_range=cidr)


def test_a_full_range_is_upstreams_internal_error() -> None:
    async def scenario(server: APIServer) -> None:
        ips = {(await create(server, svc(f"s{i}")))["spec"]["clusterIP"] for i in range(6)}
        assert ips == {f"10.0.0.{i}" for i in range(1, 7)}  # not .0, not the broadcast .7
        error = await refused(create(server, svc("s6")))
        assert (error.code, error.reason) == (500, "InternalError")
        assert error.message == (
            "Internal error occurred: failed to allocate a serviceIP: range is full"
        )
        with pytest.raises(APIError):
            await services(server).get("default", "s6")

    run(scenario, service_cluster_ip_range="10.0.0.0/29")


def test_a_requested_ip_is_honoured_and_then_taken() -> None:
    async def scenario(server: APIServer) -> None:
        spec = (await create(server, svc("dns", clusterIP="10.96.0.10")))["spec"]
        assert (spec["clusterIP"], spec["clusterIPs"]) == ("10.96.0.10", ["10.96.0.10"])
        error = await refused(create(server, svc("other", clusterIP="10.96.0.10")))
        assert error.code == 422
        assert error.message == (
            'Service "other" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: '
            "failed to allocate IP 10.96.0.10: provided IP is already allocated"
        )
        assert [(c.field, c.reason) for c in error.causes] == [
            ("spec.clusterIPs", "FieldValueInvalid")
        ]
        # clusterIPs alone is refused by validation, as upstream's (clusterIP must lead)
        both = svc("both", clusterIP="10.96.0.11", clusterIPs=["10.96.0.11"])
        assert (await create(server, both))["spec"]["clusterIP"] == "10.96.0.11"

    run(scenario)


@pytest.mark.parametrize("ip", ["1.1.1.1", "10.96.0.0", "10.111.255.255"])
def test_a_requested_ip_outside_the_range_is_refused(ip: str) -> None:
    async def scenario(server: APIServer) -> None:
        error = await refused(create(server, svc("out", clusterIP=ip)))
        assert error.code == 422
        assert error.message == (
            f'Service "out" is invalid: spec.clusterIPs: Invalid value: []string{{"{ip}"}}: '
            f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. "
            "The range of valid IPs is 10.96.0.0/12"
        )

    run(scenario)


def test_other_families_and_dual_stack_are_refused_on_a_single_stack_cluster() -> None:
    async def scenario(server: APIServer) -> None:
        error = await refused(create(server, svc("v6", clusterIP="fd00::10")))
        assert error.message == (
            'Service "v6" is invalid: spec.clusterIPs[0]: Invalid value: []string{"fd00::10"}: '
            "IPv6 is not configured on this cluster"
        )
        error = await refused(create(server, svc("fam", ipFamilies=["IPv6"])))
        assert 'spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster' in (
            error.message
        )
        error = await refused(create(server, svc("dual", ipFamilyPolicy="RequireDualStack")))
        assert error.message == (
            'Service "dual" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": '
            "this cluster is not configured for dual-stack services"
        )
        prefer = (await create(server, svc("prefer", ipFamilyPolicy="PreferDualStack")))["spec"]
        assert (prefer["ipFamilyPolicy"], prefer["ipFamilies"]) == ("PreferDualStack", ["IPv4"])
        assert server.service_allocator.allocated_ips().keys() == {prefer["clusterIP"]}

    run(scenario)


def test_an_ipv6_cluster() -> None:
    async def scenario(server: APIServer) -> None:
        spec = (await create(server, svc("v6")))["spec"]
        assert ipaddress.ip_address(spec["clusterIP"]) in ipaddress.ip_network("fd00::/108")
        assert (spec["ipFamilies"], spec["ipFamilyPolicy"]) == (["IPv6"], "SingleStack")
        asked = (await create(server, svc("asked", clusterIP="fd00::a")))["spec"]
        assert asked["clusterIPs"] == ["fd00::a"]
        error = await refused(create(server, svc("v4", clusterIP="10.96.0.1")))
        assert "IPv4 is not configured on this cluster" in error.message

    run(scenario, service_cluster_ip_range="fd00::/108")


def test_headless_and_external_name_services_allocate_nothing() -> None:
    async def scenario(server: APIServer) -> None:
        headless = (await create(server, svc("h", clusterIP="None", selector={"a": "b"})))["spec"]
        assert (headless["clusterIP"], headless["clusterIPs"]) == ("None", ["None"])
        assert (headless["ipFamilyPolicy"], headless["ipFamilies"]) == ("SingleStack", ["IPv4"])
        # headless and selectorless: upstream assumes dual-stack endpoints
        bare = (await create(server, svc("bare", clusterIP="None")))["spec"]
        assert (bare["ipFamilyPolicy"], bare["ipFamilies"]) == (
            "RequireDualStack",
            ["IPv4", "IPv6"],
        )
        name = svc("ext", type="ExternalName", externalName="example.com", ports=[])
        external = (await create(server, name))["spec"]
        assert "clusterIP" not in external and "ipFamilies" not in external
        assert server.service_allocator.allocated_ips() == {}

    run(scenario)


def test_delete_releases_the_ip_for_reuse() -> None:
    async def scenario(server: APIServer) -> None:
        ips = [(await create(server, svc(f"s{i}")))["spec"]["clusterIP"] for i in range(6)]
        await services(server).delete("default", "s3")
        assert ips[3] not in server.service_allocator.allocated_ips()
        again = (await create(server, svc("new")))["spec"]["clusterIP"]
        assert again == ips[3]
        await services(server).delete("default", "new")
        assert (await create(server, svc("asked", clusterIP=ips[3])))["spec"]["clusterIP"] == ips[3]

    run(scenario, service_cluster_ip_range="10.0.0.0/29")


def test_a_failed_create_releases_what_it_took() -> None:
    async def scenario(server: APIServer) -> None:
        bad = svc("bad", clusterIP="10.96.0.20", type="NodePort", selector={"a": "-"})
        bad["spec"]["ports"] = [{"port": 80, "nodePort": 30080}]
        error = await refused(create(server, bad))
        assert (error.code, error.causes[0].field) == (422, "spec.selector")
        assert server.service_allocator.allocated_ips() == {}
        assert server.service_allocator.allocated_ports() == {}
        await create(server, svc("web"))
        held = dict(server.service_allocator.allocated_ips())
        error = await refused(create(server, svc("web", clusterIP="10.96.0.21")))
        assert error.reason == "AlreadyExists"
        assert server.service_allocator.allocated_ips() == held

    run(scenario)


def test_dry_run_holds_nothing() -> None:
    async def scenario(server: APIServer) -> None:
        await create(server, svc("taken", clusterIP="10.96.0.30"))
        dry = await create(server, svc("dry", type="NodePort"), dry_run=True)
        assert dry["spec"]["clusterIP"] and dry["spec"]["ports"][0]["nodePort"]
        assert server.service_allocator.allocated_ips().keys() == {"10.96.0.30"}
        assert server.service_allocator.allocated_ports() == {}
        error = await refused(create(server, svc("dry", clusterIP="10.96.0.30"), dry_run=True))
        assert "provided IP is already allocated" in error.message
        await services(server).delete("default", "taken", dry_run=True)
        assert server.service_allocator.allocated_ips().keys() == {"10.96.0.30"}

    run(scenario)


def test_a_restarted_server_takes_the_stored_allocations(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'state.db'}"
    tiny = {"service_cluster_ip_range": "10.0.0.0/29", "service_node_port_range": "30000-30005"}
    first: dict[str, Any] = {}

    async def before(server: APIServer) -> None:
        for i in range(5):
            spec = (await create(server, svc(f"s{i}", type="NodePort")))["spec"]
            first[f"s{i}"] = (spec["clusterIP"], spec["ports"][0]["nodePort"])

    async def after(server: APIServer) -> None:
        ips = {ip: f"default/{n}" for n, (ip, _) in first.items()}
        ports = {port: f"default/{n}" for n, (_, port) in first.items()}
        assert server.service_allocator.allocated_ips() == ips
        assert server.service_allocator.allocated_ports() == ports
        taken_ip, taken_port = first["s0"]
        error = await refused(create(server, svc("x", clusterIP=taken_ip)))
        assert "provided IP is already allocated" in error.message
        node_port = svc("y", type="NodePort", ports=[{"port": 80, "nodePort": taken_port}])
        error = await refused(create(server, node_port))
        assert "provided port is already allocated" in error.message
        last = (await create(server, svc("last", type="NodePort")))["spec"]
        assert last["clusterIP"] not in ips and last["ports"][0]["nodePort"] not in ports
        error = await refused(create(server, svc("full")))
        assert error.code == 500

    run(before, url, **tiny)
    run(after, url, **tiny)


# -- updates ------------------------------------------------------------------------------------


async def replace(server: APIServer, name: str, **spec: Any) -> Svc:
    current = await services(server).get("default", name)
    current["spec"] = {**current["spec"], **spec}
    for key, value in spec.items():
        if value is None:
            del current["spec"][key]
    updated: Svc = await services(server).update(current, "default", name)
    return updated


def test_the_cluster_ip_is_immutable_and_kept_when_left_out() -> None:
    async def scenario(server: APIServer) -> None:
        ip = (await create(server, svc("web")))["spec"]["clusterIP"]
        error = await refused(replace(server, "web", clusterIP="10.96.0.99", clusterIPs=None))
        assert error.message == (
            'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: '
            '[]string{"10.96.0.99"}: may not change once set'
        )
        kept = await replace(server, "web", clusterIP=None, clusterIPs=None, ipFamilies=None)
        assert (kept["spec"]["clusterIP"], kept["spec"]["ipFamilies"]) == (ip, ["IPv4"])
        assert server.service_allocator.allocated_ips() == {ip: "default/web"}

    run(scenario)


def test_external_name_changes_release_and_allocate() -> None:
    async def scenario(server: APIServer) -> None:
        ip = (await create(server, svc("web")))["spec"]["clusterIP"]
        external = await replace(server, "web", type="ExternalName", externalName="example.com")
        for gone in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            assert gone not in external["spec"]
        assert server.service_allocator.allocated_ips() == {}
        back = await replace(server, "web", type="ClusterIP", externalName=None)
        assert back["spec"]["clusterIP"] not in ("", None, "None")
        assert server.service_allocator.allocated_ips().keys() == {back["spec"]["clusterIP"]}
        del ip

    run(scenario)


# -- node ports ---------------------------------------------------------------------------------


def test_node_ports_are_allocated_per_port() -> None:
    async def scenario(server: APIServer) -> None:
        ports = [
            {"name": "http", "port": 80},
            {"name": "dns", "port": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "port": 53},
            {"name": "fixed", "port": 81, "nodePort": 30081},
        ]
        spec = (await create(server, svc("np", type="NodePort", ports=ports)))["spec"]
        got = [p["nodePort"] for p in spec["ports"]]
        assert all(30000 <= p <= 32767 for p in got)
        assert got[1] == got[2]  # one port number, one node port (upstream's initNodePorts)
        assert got[3] == 30081 and len({got[0], got[1], got[3]}) == 3
        assert set(server.service_allocator.allocated_ports()) == {got[0], got[1], 30081}

    run(scenario)


def test_requested_node_ports_are_checked() -> None:
    async def scenario(server: APIServer) -> None:
        fixed = [{"port": 80, "nodePort": 30080}]
        await create(server, svc("a", type="NodePort", ports=fixed))
        error = await refused(create(server, svc("b", type="NodePort", ports=fixed)))
        assert error.message == (
            'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
            "provided port is already allocated"
        )
        out = [{"port": 80, "nodePort": 8080}]
        error = await refused(create(server, svc("c", type="LoadBalancer", ports=out)))
        assert error.message == (
            'Service "c" is invalid: spec.ports[0].nodePort: Invalid value: 8080: '
            "provided port is not in the valid range. The range of valid ports is 30000-32767"
        )
        assert server.service_allocator.allocated_ips().keys() == {
            (await services(server).get("default", "a"))["spec"]["clusterIP"]
        }

    run(scenario)


def test_a_full_node_port_range() -> None:
    async def scenario(server: APIServer) -> None:
        await create(
            server,
            svc("a", type="NodePort", ports=[{"name": "x", "port": 1}, {"name": "y", "port": 2}]),
        )
        error = await refused(create(server, svc("b", type="NodePort")))
        assert (error.code, error.message) == (
            500,
            "Internal error occurred: failed to allocate a nodePort: range is full",
        )
        assert len(server.service_allocator.allocated_ips()) == 1  # b's IP was given back

    run(scenario, service_node_port_range="30000-30001")


def test_node_ports_across_updates_and_type_changes() -> None:
    async def scenario(server: APIServer) -> None:
        ports = [{"name": "http", "port": 80}]
        created = (await create(server, svc("np", type="NodePort", ports=ports)))["spec"]
        port = created["ports"][0]["nodePort"]
        # an update that leaves the node port out keeps it (upstream's patchAllocatedValues)
        kept = await replace(server, "np", ports=[{"name": "http", "port": 8080}])
        assert kept["spec"]["ports"][0]["nodePort"] == port
        # a changed node port takes the new one and frees the old
        moved = await replace(server, "np", ports=[{"name": "http", "port": 80, "nodePort": 30500}])
        assert moved["spec"]["ports"][0]["nodePort"] == 30500
        assert set(server.service_allocator.allocated_ports()) == {30500}
        # back to ClusterIP: the node ports go
        plain = await replace(server, "np", type="ClusterIP", externalTrafficPolicy=None)
        assert "nodePort" not in plain["spec"]["ports"][0]
        assert "externalTrafficPolicy" not in plain["spec"]
        assert plain["spec"]["clusterIP"] == created["clusterIP"]
        assert server.service_allocator.allocated_ports() == {}
        # and to NodePort again: a fresh one
        again = await replace(server, "np", type="NodePort")
        fresh = again["spec"]["ports"][0]["nodePort"]
        assert server.service_allocator.allocated_ports() == {fresh: "default/np"}
        await services(server).delete("default", "np")
        assert server.service_allocator.allocated_ports() == {}
        assert server.service_allocator.allocated_ips() == {}

    run(scenario)


def test_a_failed_update_keeps_the_old_allocations() -> None:
    async def scenario(server: APIServer) -> None:
        await create(server, svc("np", type="NodePort", ports=[{"port": 80, "nodePort": 30100}]))
        bad = await refused(
            replace(server, "np", ports=[{"port": 80, "nodePort": 30200}], selector={"a": "-"})
        )
        assert bad.code == 422
        assert set(server.service_allocator.allocated_ports()) == {30100}

    run(scenario)


def test_health_check_node_port_for_local_load_balancers() -> None:
    async def scenario(server: APIServer) -> None:
        lb = svc("lb", type="LoadBalancer", externalTrafficPolicy="Local")
        spec = (await create(server, lb))["spec"]
        health = spec["healthCheckNodePort"]
        assert 30000 <= health <= 32767 and health != spec["ports"][0]["nodePort"]
        assert health in server.service_allocator.allocated_ports()
        cluster = await replace(server, "lb", externalTrafficPolicy="Cluster")
        assert "healthCheckNodePort" not in cluster["spec"]
        assert health not in server.service_allocator.allocated_ports()
        no_ports = svc("lb2", type="LoadBalancer", allocateLoadBalancerNodePorts=False)
        assert "nodePort" not in (await create(server, no_ports))["spec"]["ports"][0]

    run(scenario)


# -- the API, and the flags ---------------------------------------------------------------------


def test_over_http(run_api: Callable[..., None]) -> None:
    from tests.apiserver.conftest import Api

    async def scenario(api: Api) -> None:
        path = "/api/v1/namespaces/default/services"
        status, body = await api.call("POST", path, svc("web", clusterIP="10.96.0.7"))
        assert (status, body["spec"]["clusterIP"]) == (201, "10.96.0.7")
        status, body = await api.call("POST", path, svc("dup", clusterIP="10.96.0.7"))
        assert (status, body["reason"]) == (422, "Invalid")
        assert body["details"]["causes"] == [
            {
                "reason": "FieldValueInvalid",
                "message": 'Invalid value: []string{"10.96.0.7"}: failed to allocate IP '
                "10.96.0.7: provided IP is already allocated",
                "field": "spec.clusterIPs",
            }
        ]
        status, _ = await api.call("DELETE", f"{path}/web")
        assert status == 200
        status, body = await api.call("POST", path, svc("dup", clusterIP="10.96.0.7"))
        assert status == 201

    run_api(scenario)


def test_bad_ranges_are_refused() -> None:
    async def main() -> Store:
        return await open_store("memory://")

    store = asyncio.run(main())
    with pytest.raises(ValueError, match=r"10\.0\.0\.0/33"):
        APIServer(store, service_cluster_ip_range="10.0.0.0/33")
    with pytest.raises(ValueError, match="the mask must be >= 12"):
        APIServer(store, service_cluster_ip_range="10.0.0.0/11")
    with pytest.raises(ValueError, match="the mask must be >= 108"):
        APIServer(store, service_cluster_ip_range="fd00::/64")
    with pytest.raises(ValueError, match="inverted"):
        APIServer(store, service_node_port_range="32767-30000")
