"""The cloud controllers against the simulated cloud, in an in-process control plane: nodes are
initialised from their instances and deleted with them, shut-down nodes are tainted, routes
follow pod CIDRs, LoadBalancer Services get a working ingress and are cleaned up."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from kframe.api import format_time, from_dict, time_now
from kframe.api.models import Event, Node, Service
from kframe.cloud import (
    LABEL_INSTANCE_TYPE,
    LABEL_REGION,
    LABEL_ZONE,
    LOAD_BALANCER_CLEANUP_FINALIZER,
    TAINT_SHUTDOWN,
    TAINT_UNINITIALIZED,
)
from kframe.cloud.controllers import cloud_controller_specs
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.cloud.simulated import SimulatedCloud, SimulatedConfig

FAST = {
    "node-monitor-period": "0.05",
    "route-reconciliation-period": "0.1",
    "node-sync-period": "0.2",
}


def _cloud(tmp: Path, cidr: str = "127.88.0.0/29") -> SimulatedCloud:
    return SimulatedCloud(
        SimulatedConfig(db=tmp / "cloud.db", zone="z1", region="r1", load_balancer_cidr=cidr)
    )


@contextlib.asynccontextmanager
async def _plane(cloud: SimulatedCloud) -> AsyncIterator[ControlPlane]:
    async with control_plane(specs=cloud_controller_specs(cloud), options=FAST) as cp:
        try:
            yield cp
        finally:
            await cloud.close()


async def _node(
    cp: ControlPlane,
    name: str,
    *,
    ready: str | None = "True",
    uninitialized: bool = True,
    pod_cidr: str = "",
    address: str = "127.0.0.1",
) -> None:
    spec: dict[str, Any] = {}
    if uninitialized:
        spec["taints"] = [{"key": TAINT_UNINITIALIZED, "value": "true", "effect": "NoSchedule"}]
    if pod_cidr:
        spec |= {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}
    await cp.client.create(
        from_dict(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec}, Node
        )
    )
    status: dict[str, Any] = {"addresses": [{"type": "InternalIP", "address": address}]}
    if ready is not None:
        status["conditions"] = [_ready(ready)]
    await cp.client.patch(Node, name, {"status": status}, patch_type="merge", subresource="status")


def _ready(status: str) -> dict[str, Any]:
    now = format_time(time_now())
    return {
        "type": "Ready",
        "status": status,
        "reason": "KubeletReady",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }


async def _get(cp: ControlPlane, name: str) -> Node | None:
    try:
        return await cp.client.get(Node, name)
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise


def _taints(node: Node | None) -> set[str]:
    return {t.key or "" for t in (node.spec.taints if node and node.spec else ())}


def test_a_node_is_initialised_from_its_instance(tmp_path: Path) -> None:
    async def body() -> None:
        cloud = _cloud(tmp_path)
        instance = cloud.state.add_instance(
            "node-0", type="sim.large", zone="z2", region="r1", internal_ip="127.0.0.1"
        )
        async with _plane(cloud) as cp:
            await _node(cp, "node-0", address="10.9.9.9")

            async def initialised() -> Node | None:
                node = await _get(cp, "node-0")
                return node if node and TAINT_UNINITIALIZED not in _taints(node) else None

            node = await cp.wait_for(initialised, timeout=10, what="node-0 initialised")
            assert node.spec is not None and node.metadata is not None
            assert node.spec.provider_id == f"simulated://z2/{instance.id}"
            labels = node.metadata.labels or {}
            assert labels[LABEL_INSTANCE_TYPE] == "sim.large"
            assert (labels[LABEL_ZONE], labels[LABEL_REGION]) == ("z2", "r1")
            assert labels["failure-domain.beta.kubernetes.io/zone"] == "z2"
            assert node.status is not None
            addresses = [(a.type, a.address) for a in node.status.addresses or ()]
            assert addresses == [("InternalIP", "127.0.0.1"), ("Hostname", "node-0")]

    asyncio.run(body())


def test_a_node_without_instance_stays_uninitialised_until_one_appears(tmp_path: Path) -> None:
    async def body() -> None:
        cloud = _cloud(tmp_path)
        async with _plane(cloud) as cp:
            await _node(cp, "late")
            await asyncio.sleep(0.2)
            assert TAINT_UNINITIALIZED in _taints(await _get(cp, "late"))
            cloud.state.add_instance(
                "late", type="t", zone="z", region="r", internal_ip="127.0.0.1"
            )

            async def done() -> bool:
                return TAINT_UNINITIALIZED not in _taints(await _get(cp, "late"))

            await cp.wait_for(done, timeout=10, what="late initialised on retry")

    asyncio.run(body())


def test_shutdown_nodes_are_tainted_and_gone_instances_deleted(tmp_path: Path) -> None:
    async def body() -> None:
        cloud = _cloud(tmp_path)
        for name in ("node-a", "node-b"):
            cloud.state.add_instance(name, type="t", zone="z", region="r", internal_ip="127.0.0.1")
        async with _plane(cloud) as cp:
            await _node(cp, "node-a", ready="False", uninitialized=False)
            await _node(cp, "node-b", ready="True", uninitialized=False)
            cloud.state.set_state("node-a", "stopped")
            cloud.state.set_state("node-b", "stopped")

            async def tainted() -> bool:
                return TAINT_SHUTDOWN in _taints(await _get(cp, "node-a"))

            await cp.wait_for(tainted, timeout=10, what="shutdown taint on node-a")
            # A Ready node is never judged by its instance.
            assert TAINT_SHUTDOWN not in _taints(await _get(cp, "node-b"))
            # Back up and Ready again: the taint goes.
            cloud.state.set_state("node-a", "running")
            await cp.client.patch(
                Node,
                "node-a",
                {"status": {"conditions": [_ready("True")]}},
                patch_type="strategic",
                subresource="status",
            )

            async def untainted() -> bool:
                return TAINT_SHUTDOWN not in _taints(await _get(cp, "node-a"))

            await cp.wait_for(untainted, timeout=10, what="shutdown taint removed")
            # Deleted in the cloud while not ready: the Node goes.
            cloud.state.delete_instance("node-b")
            await cp.client.patch(
                Node,
                "node-b",
                {"status": {"conditions": [_ready("Unknown")]}},
                patch_type="strategic",
                subresource="status",
            )

            async def deleted() -> bool:
                return await _get(cp, "node-b") is None

            await cp.wait_for(deleted, timeout=10, what="node-b deleted")
            assert await _get(cp, "node-a") is not None

    asyncio.run(body())


def test_routes_follow_the_nodes_pod_cidrs(tmp_path: Path) -> None:
    async def body() -> None:
        cloud = _cloud(tmp_path)
        async with _plane(cloud) as cp:
            await _node(cp, "n1", uninitialized=False, pod_cidr="10.244.1.0/24")
            await _node(cp, "n2", uninitialized=False, pod_cidr="10.244.2.0/24")
            await _node(cp, "n3", uninitialized=False)  # no pod CIDR: no route

            def pairs() -> set[tuple[str, str]]:
                return {(r.target_node, r.cidr) for r in cloud.state.routes("kubernetes")}

            want = {("n1", "10.244.1.0/24"), ("n2", "10.244.2.0/24")}
            await cp.wait_for(lambda: pairs() == want, timeout=10, what="routes for n1, n2")

            async def condition() -> bool:
                node = await _get(cp, "n1")
                conds = (node.status.conditions or ()) if node and node.status else ()
                return any(
                    c.type == "NetworkUnavailable"
                    and c.status == "False"
                    and c.reason == "RouteCreated"
                    for c in conds
                )

            await cp.wait_for(condition, timeout=10, what="NetworkUnavailable=False on n1")
            # A stale route (no such node) is removed too.
            cloud.state.put_route(
                type(cloud.state.routes("kubernetes")[0])(
                    cluster="kubernetes", name="stale", target_node="gone", cidr="10.244.9.0/24"
                )
            )
            await cp.client.delete(Node, "n1")
            await cp.wait_for(
                lambda: pairs() == {("n2", "10.244.2.0/24")}, timeout=10, what="n1's route gone"
            )

    asyncio.run(body())


@contextlib.asynccontextmanager
async def _echo(tag: bytes) -> AsyncIterator[int]:
    """A stand-in for the node's proxy: a TCP echo on a free port of the nodePort range."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(tag + line)
            await writer.drain()
        writer.close()

    for node_port in random.sample(range(30000, 32768), 50):
        try:
            server = await asyncio.start_server(handle, "127.0.0.1", node_port)
            break
        except OSError:
            continue
    else:
        raise RuntimeError("no free port in the nodePort range")
    try:
        yield node_port
    finally:
        server.close()
        await server.wait_closed()


async def _ask(address: str, port: int, text: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(address, port)
    writer.write(text + b"\n")
    await writer.drain()
    answer = await reader.readline()
    writer.close()
    return answer


async def _superset(got: Any, want: set[str]) -> bool:
    return bool(await got >= want)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _service(port: int, node_port: int) -> Service:
    return from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app": "web"},
                "ports": [{"port": port, "targetPort": 8080, "nodePort": node_port}],
            },
        },
        Service,
    )


def test_a_load_balancer_service_gets_a_working_ingress_and_is_cleaned_up(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        cloud = _cloud(tmp_path, cidr="127.89.0.0/29")
        async with _echo(b"pod:") as node_port, _plane(cloud) as cp:
            await _node(cp, "n1", uninitialized=False, address="127.0.0.1")
            port = _free_port()
            await cp.client.create(_service(port, node_port))

            async def ingress() -> Service | None:
                svc = await cp.client.get(Service, "web", namespace="default")
                lb = svc.status.load_balancer if svc.status else None
                return svc if lb and lb.ingress else None

            svc = await cp.wait_for(ingress, timeout=10, what="ingress address")
            assert svc.metadata is not None
            assert LOAD_BALANCER_CLEANUP_FINALIZER in (svc.metadata.finalizers or ())
            assert svc.status is not None and svc.status.load_balancer is not None
            address = svc.status.load_balancer.ingress[0].ip or ""
            assert address.startswith("127.89.0.")
            # Traffic to the ingress reaches the node port (and so the pods behind it).
            assert await _ask(address, port, b"hello") == b"pod:hello\n"
            assert [lb.service for lb in cloud.state.load_balancers()] == ["default/web"]
            # A second node joins: the load balancer is updated to include it.
            await _node(cp, "n2", uninitialized=False, address="127.0.0.3")

            def two_backends() -> bool:
                lbs = cloud.state.load_balancers()
                return bool(lbs) and len(lbs[0].ports[port]) == 2

            await cp.wait_for(two_backends, timeout=10, what="n2 added as a backend")
            # Deleting the Service deletes the load balancer, then the finalizer lets it go.
            await cp.client.delete(Service, "web", namespace="default")

            async def gone() -> bool:
                try:
                    await cp.client.get(Service, "web", namespace="default")
                except Exception as exc:
                    return getattr(exc, "code", None) == 404
                return False

            await cp.wait_for(gone, timeout=10, what="service deleted")
            assert cloud.state.load_balancers() == []

            async def reasons() -> set[str]:
                events = (await cp.client.list(Event, namespace="default")).items
                return {
                    e.reason or ""
                    for e in events
                    if e.source is not None and e.source.component == "service-controller"
                }

            want = {"EnsuringLoadBalancer", "EnsuredLoadBalancer", "DeletingLoadBalancer"}
            await cp.wait_for(
                lambda: _superset(reasons(), want | {"DeletedLoadBalancer"}),
                timeout=10,
                what="the service controller's events",
            )
            try:
                await _ask(address, port, b"x")
            except ConnectionRefusedError:
                pass
            else:
                raise AssertionError("the load balancer still listens")

    asyncio.run(body())
