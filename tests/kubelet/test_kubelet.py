"""The kubelet against an in-process API server and the fake runtime, on a fake clock."""

from __future__ import annotations

import asyncio
import contextlib

import attrs

from kframe.api.models import Lease, Node, NodeCondition, Pod
from tests.kubelet.harness import cluster, pod_body


def test_a_node_registers_with_status_and_a_lease() -> None:
    async def main() -> None:
        async with cluster() as c:
            node = await c.client.get(Node, "node-0")
            assert node.spec is not None and node.spec.pod_cidr == "10.244.0.0/24"
            status = node.status
            assert status is not None
            ready = next(x for x in status.conditions if x.type == "Ready")
            assert (ready.status, ready.reason, ready.message) == (
                "True",
                "KubeletReady",
                "kubelet is posting ready status",
            )
            assert {x.type for x in status.conditions} == {
                "Ready",
                "MemoryPressure",
                "DiskPressure",
                "PIDPressure",
            }
            assert status.node_info is not None
            assert status.node_info.container_runtime_version == "fake://0.1.0"
            assert str(status.capacity["pods"]) == "110"
            assert [a.type for a in status.addresses] == ["InternalIP", "Hostname"]
            assert status.daemon_endpoints and status.daemon_endpoints.kubelet_endpoint
            assert status.daemon_endpoints.kubelet_endpoint.port == 10250
            assert status.images
            lease = await c.eventually(lambda: _lease(c))
            assert lease.spec.holder_identity == "node-0"
            assert lease.spec.lease_duration_seconds == 40
            first = lease.spec.renew_time
            await c.advance(11)
            lease = await _lease(c)
            assert lease.spec.renew_time > first

    asyncio.run(main())


async def _lease(c) -> Lease | None:  # type: ignore[no-untyped-def]
    try:
        return await c.client.get(Lease, "node-0", namespace="kube-node-lease")
    except Exception:
        return None


def test_a_pod_runs() -> None:
    async def main() -> None:
        async with cluster() as c:
            await c.create_pod(pod_body("web"))

            async def running() -> Pod | None:
                pod = await c.pod("web")
                return pod if pod.status and pod.status.phase == "Running" else None

            pod = await c.eventually(running)
            st = pod.status
            assert st.pod_ip and st.pod_ip.startswith("10.244.0.")
            assert st.host_ip == "127.0.0.1"
            (cs,) = st.container_statuses
            assert cs.ready and cs.started and cs.restart_count == 0
            assert cs.state.running is not None
            assert cs.container_id.startswith("fake://")
            conds = {x.type: x.status for x in st.conditions}
            assert conds["Ready"] == "True" and conds["Initialized"] == "True"
            assert conds["PodReadyToStartContainers"] == "True"

    asyncio.run(main())


def test_a_node_whose_runtime_is_not_ready_is_not_ready() -> None:
    async def main() -> None:
        async with cluster(runtime_config={"network_ready": False}) as c:
            node = await c.client.get(Node, "node-0")
            ready = next(x for x in node.status.conditions if x.type == "Ready")
            assert (ready.status, ready.reason) == ("False", "KubeletNotReady")
            assert ready.message.startswith(
                "container runtime network not ready: NetworkReady=false"
            )

    asyncio.run(main())


def test_the_configured_capacity_is_reported_and_allocatable_is_less_eviction() -> None:
    async def main() -> None:
        async with cluster(capacity={"cpu": "4", "memory": "8Gi", "pods": "20"}) as c:
            node = await c.client.get(Node, "node-0")
            cap = {k: str(v) for k, v in node.status.capacity.items()}
            alloc = {k: str(v) for k, v in node.status.allocatable.items()}
            assert cap == {"cpu": "4", "memory": "8Gi", "pods": "20"}
            assert alloc["cpu"] == "4" and alloc["pods"] == "20"
            assert node.status.allocatable["memory"].value() == 8 * 1024**3 - 100 * 1024**2

    asyncio.run(main())


def test_lookup_finds_a_containers_log_for_the_kubelet_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    async def main() -> None:
        async with cluster(log_dir=str(tmp_path)) as c:
            await c.create_pod(pod_body("web"))
            await c.eventually(lambda: c.phase("web", "Running"))
            pod = await c.pod("web")
            _service, ident, log_path, previous = c.kubelets[0].lookup("default", "web", "c")
            assert pod.status.container_statuses[0].container_id == f"fake://{ident}"
            assert log_path == str(tmp_path / f"default_web_{pod.metadata.uid}" / "c" / "0.log")
            assert previous is None
            with pytest.raises(KeyError, match='pod "nope" does not exist'):
                c.kubelets[0].lookup("default", "nope", "c")
            with pytest.raises(KeyError, match='container "x" not found in pod "web"'):
                c.kubelets[0].lookup("default", "web", "x")

    asyncio.run(main())


def test_pods_found_at_start_are_admitted_oldest_first() -> None:
    from kframe.api import from_dict
    from kframe.apiserver import APIServer
    from kframe.client import FakeClock, InProcessClient
    from kframe.kubelet import Kubelet, KubeletConfig
    from kframe.runtime import RuntimeOptions, open_runtime
    from kframe.store import open_store

    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.bootstrap()
        client = InProcessClient(server)
        for name in ("zeta", "alpha", "mid"):  # created in this order; names sort otherwise
            await client.create(from_dict(pod_body(name), Pod))
            await asyncio.sleep(1.05)  # creationTimestamp has whole seconds
        clock = FakeClock()
        runtime = await open_runtime("fake", RuntimeOptions(node_name="node-0", clock=clock))
        config = KubeletConfig(
            node_name="node-0", capacity={"cpu": "2", "memory": "1Gi", "pods": "2"}
        )
        kubelet = Kubelet(client, runtime, config, clock=clock)
        task = asyncio.ensure_future(kubelet.run())
        try:
            for _ in range(500):
                phases = {}
                for name in ("zeta", "alpha", "mid"):
                    pod = await client.get(Pod, name, namespace="default")
                    phases[name] = pod.status.phase if pod.status else None
                if "Pending" not in phases.values():
                    break
                clock.advance(0.5)
                await asyncio.sleep(0.005)
            assert phases == {"zeta": "Running", "alpha": "Running", "mid": "Failed"}
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await runtime.close()
            await server.store.close()

    asyncio.run(main())


def test_a_ready_condition_another_writer_changed_is_put_right_at_the_next_update() -> None:
    # The node lifecycle controller marks a quiet node Unknown; upstream's kubelet compares
    # with the Node as served, so it posts Ready again within nodeStatusUpdateFrequency.
    async def main() -> None:
        async with cluster() as c:
            node = await c.client.get(Node, "node-0")
            before = next(x for x in node.status.conditions if x.type == "Ready")
            conditions = tuple(
                attrs.evolve(x, status="Unknown", reason="NodeStatusUnknown")
                if x.type == "Ready"
                else x
                for x in node.status.conditions
            )
            await c.client.update(
                attrs.evolve(node, status=attrs.evolve(node.status, conditions=conditions)),
                subresource="status",
            )
            await c.advance(3)
            c.clock.advance(5)  # the transition is stamped later than the first one

            async def ready_again() -> NodeCondition | None:
                node = await c.client.get(Node, "node-0")
                ready = next(x for x in node.status.conditions if x.type == "Ready")
                return ready if ready.status == "True" else None

            ready = await c.eventually(ready_again, limit=11)
            assert (ready.reason, ready.message) == ("KubeletReady", before.message)
            assert ready.last_transition_time > before.last_transition_time

    asyncio.run(main())
