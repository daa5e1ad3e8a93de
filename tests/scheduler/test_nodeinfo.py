"""NodeInfo totals and snapshots: invariants under adding and removing pods."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kframe.scheduler import NodeInfo, PodInfo, Resource, Snapshot, zone_key
from kframe.testing.scheduler import make_node, make_pod

cpus = st.sampled_from([None, "0", "100m", "250m", "1", "1500m"])
mems = st.sampled_from([None, "0", "64Mi", "1Gi"])
pod_specs = st.lists(st.tuples(cpus, mems, st.integers(0, 2)), max_size=8)


def _pods(specs: list[tuple[str | None, str | None, int]]) -> list[PodInfo]:
    out = []
    for i, (cpu, mem, port) in enumerate(specs):
        extra = {}
        if port:
            extra = {
                "containers": [
                    {"name": "c", "image": "i", "ports": [{"containerPort": 80, "hostPort": port}]}
                ]
            }
        out.append(PodInfo(make_pod(f"p{i}", cpu=cpu, memory=mem, spec=extra)))
    return out


@given(pod_specs, st.data())
def test_requested_is_the_sum_and_removing_undoes_adding(
    specs: list[tuple[str | None, str | None, int]], data: st.DataObject
) -> None:
    pods = _pods(specs)
    info = NodeInfo(make_node("n"), pods)
    total = Resource()
    for p in pods:
        total.add(p.requests)
    assert info.requested == total
    assert info.non_zero_requested.milli_cpu == sum(p.non_zero_cpu for p in pods)
    gen = info.generation
    removed = data.draw(st.lists(st.sampled_from(pods), unique=True) if pods else st.just([]))
    for p in removed:
        assert info.remove_pod(p.key) is p
    kept = [p for p in pods if p not in removed]
    assert info.requested == NodeInfo(make_node("n"), kept).requested
    assert [p.key for p in info.pods] == [p.key for p in kept]
    assert len(info.used_ports) == len(NodeInfo(make_node("n"), kept).used_ports)
    if removed:
        assert info.generation > gen


def test_non_zero_requests_default_missing_cpu_and_memory() -> None:
    info = PodInfo(make_pod("p", cpu="200m"))
    assert info.non_zero_cpu == 200
    assert info.non_zero_memory == 200 * 1024 * 1024
    assert info.requests.memory == 0


def test_clone_is_independent() -> None:
    info = NodeInfo(make_node("n"), [PodInfo(make_pod("a", cpu="1"))])
    copy = info.clone()
    copy.add_pod(PodInfo(make_pod("b", cpu="1")))
    assert info.requested.milli_cpu == 1000 and copy.requested.milli_cpu == 2000
    assert len(info.pods) == 1


def test_host_port_conflicts_as_upstream() -> None:
    info = NodeInfo(make_node("n"))
    info.used_ports.add(("127.0.0.1", "TCP", 80))
    assert info.used_ports.conflicts(("0.0.0.0", "TCP", 80))
    assert info.used_ports.conflicts(("127.0.0.1", "TCP", 80))
    assert not info.used_ports.conflicts(("127.0.0.2", "TCP", 80))
    assert not info.used_ports.conflicts(("127.0.0.1", "UDP", 80))
    info.used_ports.add(("0.0.0.0", "UDP", 53))
    assert info.used_ports.conflicts(("10.0.0.1", "UDP", 53))


def test_snapshot_interleaves_zones_and_places_bound_pods() -> None:
    def zoned(name: str, zone: str) -> object:
        return make_node(name, labels={"topology.kubernetes.io/zone": zone})

    nodes = [zoned("a1", "a"), zoned("a2", "a"), zoned("a3", "a"), zoned("b1", "b")]
    snap = Snapshot.build(
        nodes,  # type: ignore[arg-type]
        [make_pod("p", node="a2"), make_pod("q", node="gone")],
    )
    assert [n.name for n in snap.list()] == ["a1", "b1", "a2", "a3"]
    assert [p.key for p in snap.get("a2").pods] == ["default/p"]
    assert zone_key(snap.get("b1").node) == ":\x00:b"  # type: ignore[arg-type]
    assert sum(len(n.pods) for n in snap.list()) == 1


def test_image_states_count_nodes() -> None:
    image = {"names": ["nginx:1.27"], "sizeBytes": 100}
    snap = Snapshot.build(
        [make_node("a", images=[image]), make_node("b", images=[image]), make_node("c")]
    )
    state = snap.get("a").image_states["nginx:1.27"]
    assert (state.size, state.num_nodes) == (100, 2)
