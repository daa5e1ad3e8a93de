"""The ``kubernetes`` Service in ``default`` and its endpoints, as kube-apiserver's bootstrap
controller and endpoint reconciler keep them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kframe.apiserver import APIError, APIServer
from kframe.apiserver._kubernetes_service import resolve_advertise_address
from kframe.apiserver._storage import ListOptions, ObjectStorage
from kframe.store import open_store

ADDRESS = "192.0.2.10"  # TEST-NET-1: not loopback, so the Endpoints validation takes it
Scenario = Callable[[APIServer], Awaitable[None]]


def run(scenario: Scenario, store: str = "memory://", **options: Any) -> None:
    async def main() -> None:
        options.setdefault("advertise_address", ADDRESS)
        server = APIServer(await open_store(store), compaction_interval=0, **options)
        await server.start("127.0.0.1", 0)
        try:
            await asyncio.wait_for(scenario(server), 30)
        finally:
            await server.stop()
            await server.store.close()

    asyncio.run(main())


def services(server: APIServer) -> ObjectStorage:
    return server.storage("", "v1", "services")


def endpoints(server: APIServer) -> ObjectStorage:
    return server.storage("", "v1", "endpoints")


def slices(server: APIServer) -> ObjectStorage:
    return server.storage("discovery.k8s.io", "v1", "endpointslices")


async def get(storage: ObjectStorage) -> dict[str, Any] | None:
    try:
        return await storage.get("default", "kubernetes")
    except APIError as exc:
        if exc.reason != "NotFound":
            raise
        return None


def port_of(server: APIServer) -> int:
    return int(server.server_address().rsplit(":", 1)[1])


async def check_all(server: APIServer, address: str | None, port: int, ip: str) -> None:
    """The three objects are exactly what the reconciler writes for ``address``:``port``."""
    svc = await get(services(server))
    assert svc is not None
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["clusterIP"] == ip and spec["clusterIPs"] == [ip]
    assert spec["sessionAffinity"] == "None"
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert "selector" not in spec
    assert spec["ports"] == [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": port}]

    ep = await get(endpoints(server))
    assert ep is not None
    assert ep["metadata"]["labels"] == {"endpointslice.kubernetes.io/skip-mirror": "true"}
    ports = [{"name": "https", "port": port, "protocol": "TCP"}]
    if address is None:
        assert not ep.get("subsets")
    else:
        assert ep["subsets"] == [{"addresses": [{"ip": address}], "ports": ports}]

    slice_ = await get(slices(server))
    assert slice_ is not None
    assert slice_["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}
    assert slice_["addressType"] == ("IPv6" if ":" in ip else "IPv4")
    assert slice_["ports"] == ports
    want = [] if address is None else [{"addresses": [address], "conditions": {"ready": True}}]
    got = [{k: v for k, v in e.items() if v is not None} for e in slice_.get("endpoints") or []]
    assert got == want


def test_created_at_start_with_the_first_ip_and_the_serving_port() -> None:
    async def scenario(server: APIServer) -> None:
        await check_all(server, ADDRESS, port_of(server), "10.96.0.1")

    run(scenario)


def test_first_ip_of_another_range() -> None:
    async def scenario(server: APIServer) -> None:
        await check_all(server, ADDRESS, port_of(server), "10.0.0.1")

    run(scenario, service_cluster_ip_range="10.0.0.0/24")


def test_an_ipv6_range_gets_no_ipv4_endpoints() -> None:
    async def scenario(server: APIServer) -> None:
        # upstream keeps addresses of the service IP's family only (single-stack here)
        await check_all(server, None, port_of(server), "fd00::1")

    run(scenario, service_cluster_ip_range="fd00::/108")


def test_deleted_objects_come_back_on_the_next_period() -> None:
    async def scenario(server: APIServer) -> None:
        first = await get(services(server))
        assert first is not None
        await services(server).delete("default", "kubernetes")
        await endpoints(server).delete("default", "kubernetes")
        await slices(server).delete("default", "kubernetes")
        while (
            await get(services(server)) is None
            or await get(endpoints(server)) is None
            or await get(slices(server)) is None
        ):
            await asyncio.sleep(0.01)
        again = await get(services(server))
        assert again is not None
        assert again["metadata"]["uid"] != first["metadata"]["uid"]
        await check_all(server, ADDRESS, port_of(server), "10.96.0.1")  # the IP was released

    run(scenario, kubernetes_service_interval=0.02)


def test_changed_addresses_are_reset_but_ports_only_at_start() -> None:
    async def scenario(server: APIServer) -> None:
        ep = await get(endpoints(server))
        assert ep is not None
        ep["subsets"][0]["addresses"] = [{"ip": "192.0.2.99"}]
        await endpoints(server).update(ep, "default", "kubernetes")

        async def reset() -> bool:
            ep = await get(endpoints(server))
            return ep is not None and ep["subsets"][0]["addresses"] == [{"ip": ADDRESS}]

        while not await reset():
            await asyncio.sleep(0.01)
        await check_all(server, ADDRESS, port_of(server), "10.96.0.1")

    run(scenario, kubernetes_service_interval=0.02)


def test_a_held_first_ip_is_an_error_retried_each_period() -> None:
    async def main() -> None:
        server = APIServer(
            await open_store("memory://"),
            compaction_interval=0,
            advertise_address=ADDRESS,
            kubernetes_service_interval=0.02,
        )
        await server.bootstrap()
        other: dict[str, Any] = {
            "metadata": {"name": "squatter"},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}]},
        }
        await services(server).create(other, "default")
        await server.start("127.0.0.1", 0)  # logged, not raised
        try:
            assert await get(services(server)) is None
            await services(server).delete("default", "squatter")
            while await get(services(server)) is None:
                await asyncio.sleep(0.01)
            await check_all(server, ADDRESS, port_of(server), "10.96.0.1")
        finally:
            await server.stop()
            await server.store.close()

    asyncio.run(main())


def test_restart_over_the_same_store(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'state.db'}"
    seen: dict[str, Any] = {}

    async def versions(server: APIServer) -> list[tuple[str, str]]:
        out = []
        for storage in (services(server), endpoints(server), slices(server)):
            obj = await get(storage)
            assert obj is not None
            out.append((obj["metadata"]["uid"], obj["metadata"]["resourceVersion"]))
        return out

    async def first(server: APIServer) -> None:
        seen["port"] = port_of(server)
        seen["versions"] = await versions(server)

    async def same_port(server: APIServer) -> None:
        assert port_of(server) == seen["port"]
        assert await versions(server) == seen["versions"]  # nothing written

    async def new_port(server: APIServer) -> None:
        now = await versions(server)
        # the same objects, brought up to date
        assert [uid for uid, _ in now] == [uid for uid, _ in seen["versions"]]
        await check_all(server, "192.0.2.11", port_of(server), "10.96.0.1")

    async def main() -> None:
        for scenario, port, address in (
            (first, 0, ADDRESS),
            (same_port, None, ADDRESS),
            (new_port, 0, "192.0.2.11"),
        ):
            server = APIServer(
                await open_store(url), compaction_interval=0, advertise_address=address
            )
            await server.start("127.0.0.1", seen["port"] if port is None else port)
            try:
                await scenario(server)
            finally:
                await server.stop()
                await server.store.close()

    asyncio.run(main())


def test_advertise_address_resolution() -> None:
    assert resolve_advertise_address("127.0.0.1", "192.0.2.7") == "192.0.2.7"
    assert resolve_advertise_address("192.0.2.8") == "192.0.2.8"
    for host in ("127.0.0.1", "0.0.0.0", "localhost"):
        found = resolve_advertise_address(host)
        # upstream's ResolveBindAddress: never loopback or unspecified; the host's own address
        assert found is None or found not in ("127.0.0.1", "0.0.0.0", "::1", "::")


# A tampering step: what someone else does to the objects between two reconciler passes.
_TAMPER = st.sampled_from(
    [
        "delete-service",
        "delete-endpoints",
        "delete-slice",
        "address",
        "labels",
        "stray-slice",
        "empty-subsets",
    ]
)


async def _tamper(server: APIServer, step: str) -> None:
    try:
        if step.startswith("delete-"):
            storage = {
                "delete-service": services,
                "delete-endpoints": endpoints,
                "delete-slice": slices,
            }[step](server)
            await storage.delete("default", "kubernetes")
        elif step == "address":
            slice_ = await slices(server).get("default", "kubernetes")
            slice_["endpoints"] = [{"addresses": ["192.0.2.77"]}]
            await slices(server).update(slice_, "default", "kubernetes")
        elif step == "labels":
            ep = await endpoints(server).get("default", "kubernetes")
            ep["metadata"]["labels"] = {"x": "y"}
            await endpoints(server).update(ep, "default", "kubernetes")
        elif step == "empty-subsets":
            ep = await endpoints(server).get("default", "kubernetes")
            ep["subsets"] = []
            await endpoints(server).update(ep, "default", "kubernetes")
        else:
            stray = {
                "metadata": {
                    "name": "kubernetes-old",
                    "labels": {"kubernetes.io/service-name": "kubernetes"},
                },
                "addressType": "IPv4",
                "endpoints": [],
            }
            await slices(server).create(stray, "default")
    except APIError as exc:
        if exc.reason not in ("NotFound", "AlreadyExists"):
            raise


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_TAMPER, max_size=3), min_size=1, max_size=4))
def test_any_tampering_is_undone_by_one_pass(rounds: list[list[str]]) -> None:
    """Whatever was deleted or changed, one reconciler pass restores exactly the desired
    objects (ports too, once emptied), and a second pass writes nothing."""

    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.bootstrap()
        assert server.kubernetes_service is not None
        await server.kubernetes_service.start(ADDRESS, 6443)  # interval 10 s: no loop pass
        try:
            for steps in rounds:
                for step in steps:
                    await _tamper(server, step)
                await server.kubernetes_service.ensure()
                await check_all(server, ADDRESS, 6443, "10.96.0.1")
                listed = await slices(server).list("default", ListOptions())
                assert [i["metadata"]["name"] for i in listed["items"]] == ["kubernetes"]
                rv = (await endpoints(server).get("default", "kubernetes"))["metadata"]
                await server.kubernetes_service.ensure()
                again = (await endpoints(server).get("default", "kubernetes"))["metadata"]
                assert again["resourceVersion"] == rv["resourceVersion"]
        finally:
            await server.kubernetes_service.stop()
            await server.store.close()

    asyncio.run(main())
