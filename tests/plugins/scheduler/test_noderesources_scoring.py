"""NodeResourcesFit scoring strategies and NodeResourcesBalancedAllocation, with the cases of
upstream's noderesources least_allocated_test.go, most_allocated_test.go,
requested_to_capacity_ratio_test.go, fit_test.go (TestFitScore) and balanced_allocation_test.go
(Kubernetes 1.33; test names cited per case).

Upstream's ``st.MakeNode().Capacity({"cpu": "4000"})`` is a node with 4000 cores; upstream's
``makeNode(name, milliCPU, memory, extended)`` takes millicores. Upstream's pods without
containers (``st.MakePod().Obj()``) request nothing, not even the non-zero defaults; here they
are pods with one container requesting cpu and memory 0, which scores the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Node, Pod
from kframe.scheduler import MAX_NODE_SCORE, MIN_NODE_SCORE, Code, CycleState, Snapshot
from kframe.testing.scheduler import StaticHandle, make_node
from kframe_plugins.scheduler.names import NODE_RESOURCES_BALANCED_ALLOCATION, NODE_RESOURCES_FIT
from kframe_plugins.scheduler.noderesources import (
    DEFAULT_RESOURCES,
    FACTORIES,
    BalancedAllocation,
    Fit,
    NodeResourcesBalancedAllocationArgs,
    NodeResourcesFitArgs,
    RequestedToCapacityRatioParam,
    ResourceSpec,
    ScoringStrategy,
    UtilizationShapePoint,
)
from kframe_plugins.scheduler.noderesources._scoring import broken_linear

EXTENDED_RES = "abc.com/xyz"
EXTENDED_RESOURCE_SET = (*DEFAULT_RESOURCES, ResourceSpec(name=EXTENDED_RES, weight=1))

_names = itertools.count()

Req = Mapping[str, str]
NOTHING: Req = {"cpu": "0", "memory": "0"}  # stands for upstream's container-less pod


def pod(*containers: Req, node: str | None = None, sidecars: Sequence[Req] = ()) -> Pod:
    """Upstream ``st.MakePod().Req(a).Req(b)``: a container per request list."""
    spec: dict[str, Any] = {
        "containers": [
            {"name": f"c{i}", "image": "pause", "resources": {"requests": dict(r)}}
            for i, r in enumerate(containers or (NOTHING,))
        ]
    }
    if sidecars:
        spec["initContainers"] = [
            {"name": f"s{i}", "image": "pause", "restartPolicy": "Always"}
            | {"resources": {"requests": dict(r)}}
            for i, r in enumerate(sidecars)
        ]
    if node is not None:
        spec["nodeName"] = node
    name = f"p{next(_names)}"
    return from_dict({"metadata": {"name": name, "namespace": "default"}, "spec": spec}, Pod)


def empty_container_pod(node: str | None = None) -> Pod:
    """``st.MakePod().Container("container")``: one container without requests."""
    return pod({}, node=node)


def cap_node(name: str, **capacity: str) -> Node:
    """``st.MakeNode().Name(name).Capacity(...)``; extended names passed as ``**{name: q}``."""
    cpu, memory = capacity.pop("cpu", None), capacity.pop("memory", None)
    return make_node(name, cpu=cpu, memory=memory, pods=None, allocatable=capacity)


def milli_node(
    name: str, milli_cpu: int, memory: int, extended: Mapping[str, int] | None = None
) -> Node:
    """Upstream test_util makeNode(name, milliCPU, memory, extendedResource)."""
    return make_node(
        name,
        cpu=f"{milli_cpu}m",
        memory=str(memory),
        pods=None,
        allocatable={k: str(v) for k, v in (extended or {}).items()},
    )


def fit_plugin(strategy: ScoringStrategy) -> Fit:
    args = NodeResourcesFitArgs(scoring_strategy=strategy)
    plugin = FACTORIES[NODE_RESOURCES_FIT].new(args, StaticHandle())
    assert isinstance(plugin, Fit)
    return plugin


def scores(
    plugin: Fit | BalancedAllocation,
    incoming: Pod,
    nodes: Sequence[Node],
    existing: Sequence[Pod] = (),
    *,
    pre_score: bool = True,
) -> list[int]:
    snapshot = Snapshot.build(nodes, existing)
    state = CycleState()
    if pre_score:
        assert plugin.pre_score(state, incoming, snapshot.list()) is None
    return [plugin.score(state, incoming, info) for info in map(snapshot.get, node_names(nodes))]


def node_names(nodes: Sequence[Node]) -> list[str]:
    return [n.metadata.name or "" if n.metadata else "" for n in nodes]


def strategy(
    type_: str,
    resources: Sequence[ResourceSpec] = DEFAULT_RESOURCES,
    shape: Sequence[tuple[int, int]] | None = None,
) -> ScoringStrategy:
    ratio = None
    if shape is not None:
        ratio = RequestedToCapacityRatioParam(
            shape=tuple(UtilizationShapePoint(utilization=u, score=s) for u, s in shape)
        )
    return ScoringStrategy(
        type=type_, resources=tuple(resources), requested_to_capacity_ratio=ratio
    )


def specs(*pairs: tuple[str, int]) -> tuple[ResourceSpec, ...]:
    return tuple(ResourceSpec(name=n, weight=w) for n, w in pairs)


R1000_2000: Req = {"cpu": "1000", "memory": "2000"}
R2000_3000: Req = {"cpu": "2000", "memory": "3000"}
R3000_0: Req = {"cpu": "3000", "memory": "0"}
R3000_5000: Req = {"cpu": "3000", "memory": "5000"}


def nodes_4000_10000(second_cpu: str = "4000") -> list[Node]:
    return [
        cap_node("node1", cpu="4000", memory="10000"),
        cap_node("node2", cpu=second_cpu, memory="10000"),
    ]


def nodes_10000_20000(second_memory: str = "20000") -> list[Node]:
    return [
        cap_node("node1", cpu="10000", memory="20000"),
        cap_node("node2", cpu="10000", memory=second_memory),
    ]


def extended_nodes(first: Mapping[str, str], second: Mapping[str, str]) -> list[Node]:
    return [
        cap_node("node1", cpu="6000", memory="10000", **first),
        cap_node("node2", cpu="6000", memory="10000", **second),
    ]


# -- TestLeastAllocatedScoringStrategy ---------------------------------------------------------

LEAST = [
    ("nothing scheduled, nothing requested", pod(), nodes_4000_10000(), [], DEFAULT_RESOURCES,
     [MAX_NODE_SCORE, MAX_NODE_SCORE]),
    ("nothing scheduled, resources requested, differently sized nodes",
     pod(R1000_2000, R2000_3000), nodes_4000_10000("6000"), [], DEFAULT_RESOURCES, [37, 50]),
    ("no resources requested, pods scheduled", pod(), nodes_4000_10000(),
     [pod(node="node1"), pod(node="node1"), pod(node="node2"), pod(node="node2")],
     DEFAULT_RESOURCES, [MAX_NODE_SCORE, MAX_NODE_SCORE]),
    ("no resources requested, pods scheduled with resources", pod(), nodes_10000_20000(),
     [pod(R3000_0, node="node1"), pod(R3000_0, node="node1"), pod(R3000_0, node="node2"),
      pod(R3000_5000, node="node2")], DEFAULT_RESOURCES, [70, 57]),
    ("resources requested, pods scheduled with resources", pod(R1000_2000, R2000_3000),
     nodes_10000_20000(), [pod(R3000_0, node="node1"), pod(R3000_5000, node="node2")],
     DEFAULT_RESOURCES, [57, 45]),
    ("resources requested, pods scheduled with resources, differently sized nodes",
     pod(R1000_2000, R2000_3000), nodes_10000_20000("50000"),
     [pod(R3000_0, node="node1"), pod(R3000_5000, node="node2")], DEFAULT_RESOURCES, [57, 60]),
    ("requested resources exceed node capacity", pod(R3000_0), nodes_4000_10000(),
     [pod(R3000_0, node="node1"), pod(R3000_5000, node="node2")], DEFAULT_RESOURCES, [50, 25]),
    ("zero node resources, pods scheduled with resources", pod(),
     [cap_node("node1"), cap_node("node2")],
     [pod(R3000_0, node="node1"), pod(R3000_5000, node="node2")], DEFAULT_RESOURCES,
     [MIN_NODE_SCORE, MIN_NODE_SCORE]),
    ("nothing scheduled, resources requested with different weight on CPU and memory, "
     "differently sized nodes", pod(R1000_2000, R2000_3000), nodes_4000_10000("6000"), [],
     specs(("memory", 2), ("cpu", 1)), [41, 50]),
    ("bypass extended resource if the pod does not request", pod(R1000_2000, R2000_3000),
     extended_nodes({}, {EXTENDED_RES: "4"}), [], EXTENDED_RESOURCE_SET, [50, 50]),
    ("honor extended resource if the pod requests",
     pod({"cpu": "3000", "memory": "5000", EXTENDED_RES: "2"}),
     extended_nodes({EXTENDED_RES: "4"}, {EXTENDED_RES: "10"}), [], EXTENDED_RESOURCE_SET,
     [50, 60]),
    ("if the node doesn't have a resource", pod({"cpu": "3000", "memory": "4000"}),
     extended_nodes({}, {EXTENDED_RES: "4"}), [],
     specs((EXTENDED_RES, 2), ("cpu", 1), ("memory", 1)), [55, 55]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("incoming", "nodes", "existing", "resources", "want"),
    [pytest.param(*c[1:], id=f"TestLeastAllocatedScoringStrategy/{c[0]}") for c in LEAST],
)
def test_least_allocated(
    incoming: Pod,
    nodes: list[Node],
    existing: list[Pod],
    resources: tuple[ResourceSpec, ...],
    want: list[int],
) -> None:
    plugin = fit_plugin(strategy("LeastAllocated", resources))
    assert scores(plugin, incoming, nodes, existing) == want


# -- TestMostAllocatedScoringStrategy ----------------------------------------------------------

MOST = [
    ("nothing scheduled, nothing requested", pod(), nodes_4000_10000(), [], DEFAULT_RESOURCES,
     [MIN_NODE_SCORE, MIN_NODE_SCORE]),
    ("nothing scheduled, resources requested, differently sized nodes",
     pod(R1000_2000, R2000_3000), nodes_4000_10000("6000"), [], DEFAULT_RESOURCES, [62, 50]),
    ("no resources requested, pods scheduled with resources", pod(), nodes_10000_20000(),
     [pod(R3000_0, node="node1"), pod(R3000_0, node="node1"), pod(R3000_0, node="node2"),
      pod(R3000_5000, node="node2")], DEFAULT_RESOURCES, [30, 42]),
    ("resources requested, pods scheduled with resources", pod(R1000_2000, R2000_3000),
     nodes_10000_20000(), [pod(R3000_0, node="node1"), pod(R3000_5000, node="node2")],
     DEFAULT_RESOURCES, [42, 55]),
    ("resources requested equal node capacity",
     pod({"cpu": "2000", "memory": "4000"}, {"cpu": "3000", "memory": "5000"}),
     [cap_node("node1", cpu="5000", memory="10000"), cap_node("node2", cpu="10000", memory="9000")],
     [], DEFAULT_RESOURCES, [95, 75]),
    ("nothing scheduled, resources requested, differently sized nodes (weighted)",
     pod(R1000_2000, R2000_3000), nodes_4000_10000("6000"), [],
     specs(("memory", 2), ("cpu", 1)), [58, 50]),
    ("no resources requested, pods scheduled, nonzero request for resource",
     empty_container_pod(),
     [cap_node("node1", cpu="250m", memory="1000Mi"),
      cap_node("node2", cpu="250m", memory="1000Mi")],
     [empty_container_pod("node1"), empty_container_pod("node1")], DEFAULT_RESOURCES, [80, 30]),
    ("bypass extended resource if the pod does not request", pod(R1000_2000, R2000_3000),
     extended_nodes({}, {EXTENDED_RES: "4"}), [], EXTENDED_RESOURCE_SET, [50, 50]),
    ("honor extended resource if the pod request",
     pod({"cpu": "3000", "memory": "5000", EXTENDED_RES: "2"}),
     extended_nodes({EXTENDED_RES: "4"}, {EXTENDED_RES: "10"}), [], EXTENDED_RESOURCE_SET,
     [50, 40]),
    ("if the node doesn't have a resource", pod({"cpu": "3000", "memory": "4000"}),
     extended_nodes({}, {EXTENDED_RES: "4"}), [],
     specs((EXTENDED_RES, 2), ("cpu", 1), ("memory", 1)), [45, 45]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("incoming", "nodes", "existing", "resources", "want"),
    [pytest.param(*c[1:], id=f"TestMostAllocatedScoringStrategy/{c[0]}") for c in MOST],
)
def test_most_allocated(
    incoming: Pod,
    nodes: list[Node],
    existing: list[Pod],
    resources: tuple[ResourceSpec, ...],
    want: list[int],
) -> None:
    plugin = fit_plugin(strategy("MostAllocated", resources))
    assert scores(plugin, incoming, nodes, existing) == want


# -- TestRequestedToCapacityRatioScoringStrategy, TestResourceBinPacking* ---------------------

LEAST_SHAPE = [(0, 10), (100, 0)]

RATIO = [
    ("nothing scheduled, nothing requested (default - least requested nodes have priority)",
     pod(), nodes_4000_10000(), [pod(node="node1"), pod(node="node1")],
     [MAX_NODE_SCORE, MAX_NODE_SCORE]),
    ("nothing scheduled, resources requested, differently sized nodes (default - least "
     "requested nodes have priority)", pod(R1000_2000, R2000_3000), nodes_4000_10000("6000"),
     [pod(node="node1"), pod(node="node1")], [38, 50]),
    ("no resources requested, pods scheduled with resources (default - least requested nodes "
     "have priority)", pod(), nodes_4000_10000("6000"),
     [pod(R3000_5000, node="node1"), pod(R3000_5000, node="node2")], [38, 50]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("incoming", "nodes", "existing", "want"),
    [pytest.param(*c[1:], id=f"TestRequestedToCapacityRatioScoringStrategy/{c[0]}") for c in RATIO],
)
def test_requested_to_capacity_ratio(
    incoming: Pod, nodes: list[Node], existing: list[Pod], want: list[int]
) -> None:
    plugin = fit_plugin(strategy("RequestedToCapacityRatio", shape=LEAST_SHAPE))
    assert scores(plugin, incoming, nodes, existing) == want


@pytest.mark.parametrize(
    ("points", "assertions"),
    [
        pytest.param(
            [(10, 1), (90, 9)],
            [(-10, 1), (0, 1), (9, 1), (10, 1), (15, 1), (19, 1), (20, 2), (89, 8), (90, 9),
             (99, 9), (100, 9), (110, 9)],
            id="case_0",
        ),
        pytest.param(
            [(0, 2), (40, 10), (100, 0)],
            [(-10, 2), (0, 2), (20, 6), (30, 8), (40, 10), (70, 5), (100, 0), (110, 0)],
            id="case_1",
        ),
        pytest.param(
            [(0, 2), (40, 2), (100, 2)],
            [(-10, 2), (0, 2), (20, 2), (30, 2), (40, 2), (70, 2), (100, 2), (110, 2)],
            id="case_2",
        ),
    ],
)  # fmt: skip
def test_broken_linear_function(
    points: list[tuple[int, int]], assertions: list[tuple[int, int]]
) -> None:
    """TestBrokenLinearFunction."""
    f = broken_linear(points)
    assert [(p, f(p)) for p, _ in assertions] == assertions


def test_broken_linear_truncates_toward_zero_on_a_falling_segment() -> None:
    # Go: 100 + (0-100)*(33-0)/(100-0) = 100 + (-3300/100) = 100 - 33; and -1/3 is 0, not -1.
    assert broken_linear([(0, 100), (100, 0)])(33) == 67
    assert broken_linear([(0, 1), (3, 0)])(1) == 1


def ext_node(name: str, extended: Mapping[str, int]) -> Node:
    return milli_node(name, 4000, 10000 * 1024 * 1024, extended)


FOO, BAR = "intel.com/foo", "intel.com/bar"

SINGLE = [
    ("nothing scheduled, nothing requested", pod(), [], [0, 0]),
    ("resources requested, pods scheduled with less resources", pod({FOO: "2"}), [pod()], [2, 5]),
    ("resources requested, pods scheduled with resources, on node with existing pod running ",
     pod({FOO: "2"}), [pod({FOO: "2"}, node="node2")], [2, 10]),
    ("resources requested, pods scheduled with more resources", pod({FOO: "4"}), [pod()], [5, 10]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("incoming", "existing", "want"),
    [pytest.param(*c[1:], id=f"TestResourceBinPackingSingleExtended/{c[0]}") for c in SINGLE],
)
def test_bin_packing_single_extended(incoming: Pod, existing: list[Pod], want: list[int]) -> None:
    plugin = fit_plugin(strategy("RequestedToCapacityRatio", specs((FOO, 1)), [(0, 0), (100, 1)]))
    nodes = [ext_node("node1", {FOO: 8}), ext_node("node2", {FOO: 4})]
    assert scores(plugin, incoming, nodes, existing) == want


MULTIPLE = [
    ("nothing scheduled, nothing requested", pod(), [pod()], [0, 0]),
    ("resources requested, pods scheduled with less resources", pod({FOO: "2", BAR: "2"}),
     [pod()], [4, 3]),
    ("resources requested, pods scheduled with resources, on node with existing pod running ",
     pod({FOO: "2", BAR: "2"}), [pod({FOO: "4", BAR: "2"}, node="node2")], [4, 7]),
    ("resources requested, pods scheduled with more resources", pod({FOO: "4", BAR: "2"}),
     [pod()], [5, 5]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("incoming", "existing", "want"),
    [pytest.param(*c[1:], id=f"TestResourceBinPackingMultipleExtended/{c[0]}") for c in MULTIPLE],
)
def test_bin_packing_multiple_extended(incoming: Pod, existing: list[Pod], want: list[int]) -> None:
    plugin = fit_plugin(
        strategy("RequestedToCapacityRatio", specs((FOO, 3), (BAR, 5)), [(0, 0), (100, 1)])
    )
    nodes = [ext_node("node1", {FOO: 8, BAR: 4}), ext_node("node2", {FOO: 4, BAR: 8})]
    assert scores(plugin, incoming, nodes, existing) == want


# -- TestFitScore ------------------------------------------------------------------------------

FIT_EXISTING = [pod({"cpu": "2000", "memory": "4000"}, node="node1"), pod(R1000_2000, node="node2")]
SIDECAR_EXISTING = [
    pod(R1000_2000, sidecars=[R1000_2000], node="node1"),
    pod(R1000_2000, node="node2"),
]

FIT_SCORE = [
    ("test case for ScoringStrategy RequestedToCapacityRatio case1", pod(R3000_5000),
     nodes_4000_10000("6000"), FIT_EXISTING,
     strategy("RequestedToCapacityRatio", shape=LEAST_SHAPE), [10, 32]),
    ("test case for ScoringStrategy RequestedToCapacityRatio case2", pod(R3000_5000),
     nodes_4000_10000("6000"), FIT_EXISTING,
     strategy("RequestedToCapacityRatio", shape=[(0, 0), (100, 10)]), [95, 68]),
    ("test case for ScoringStrategy MostAllocated", pod(R1000_2000), nodes_4000_10000("6000"),
     FIT_EXISTING, strategy("MostAllocated"), [67, 36]),
    ("test case for ScoringStrategy LeastAllocated", pod(R1000_2000), nodes_4000_10000("6000"),
     FIT_EXISTING, strategy("LeastAllocated"), [32, 63]),
    ("test case for ScoringStrategy MostAllocated with sidecar container", pod(R1000_2000),
     nodes_4000_10000(), SIDECAR_EXISTING, strategy("MostAllocated"), [67, 45]),
    ("test case for ScoringStrategy LeastAllocated with sidecar container", pod(R1000_2000),
     nodes_4000_10000(), SIDECAR_EXISTING, strategy("LeastAllocated"), [32, 55]),
]  # fmt: skip


@pytest.mark.parametrize("pre_score", [True, False], ids=["", "if PreScore is not called"])
@pytest.mark.parametrize(
    ("incoming", "nodes", "existing", "scoring", "want"),
    [pytest.param(*c[1:], id=f"TestFitScore/{c[0]}") for c in FIT_SCORE],
)
def test_fit_score(
    incoming: Pod,
    nodes: list[Node],
    existing: list[Pod],
    scoring: ScoringStrategy,
    want: list[int],
    pre_score: bool,
) -> None:
    plugin = fit_plugin(scoring)
    assert scores(plugin, incoming, nodes, existing, pre_score=pre_score) == want


def test_fit_pre_score_does_not_skip_pods_without_requests() -> None:
    # Unlike BalancedAllocation, NodeResourcesFit scores best-effort pods (by the non-zero
    # defaults) in 1.33.
    plugin = fit_plugin(strategy("LeastAllocated"))
    node = cap_node("node1", cpu="1", memory="1Gi")
    assert scores(plugin, empty_container_pod(), [node]) == [(90 + 80) // 2]


# -- TestNodeResourcesBalancedAllocation ------------------------------------------------------

GPU = "nvidia.com/gpu"
CPU_AND_MEMORY = ({"cpu": "1000m", "memory": "2000"}, {"cpu": "2000m", "memory": "3000"})
CPU_ONLY = ({"cpu": "1000m", "memory": "0"}, {"cpu": "2000m", "memory": "0"})
CPU_AND_MEMORY_AND_GPU = (CPU_AND_MEMORY[0], {"cpu": "2000m", "memory": "3000", GPU: "3"})


def balanced_existing() -> list[Pod]:
    """Upstream's ``{Spec: cpuOnly}`` (on node1) and ``{Spec: cpuAndMemory}`` (on node2)."""
    return [pod(*CPU_ONLY, node="node1"), pod(*CPU_AND_MEMORY, node="node2")]


BALANCED = [
    ("nothing scheduled, resources requested, differently sized nodes", pod(*CPU_AND_MEMORY),
     [milli_node("node1", 4000, 10000), milli_node("node2", 6000, 10000)], [], DEFAULT_RESOURCES,
     [87, MAX_NODE_SCORE]),
    ("resources requested, pods scheduled with resources", pod(*CPU_AND_MEMORY),
     [milli_node("node1", 10000, 20000), milli_node("node2", 10000, 20000)], balanced_existing(),
     DEFAULT_RESOURCES, [82, 95]),
    ("resources requested, pods scheduled with resources, differently sized nodes",
     pod(*CPU_AND_MEMORY),
     [milli_node("node1", 10000, 20000), milli_node("node2", 10000, 50000)], balanced_existing(),
     DEFAULT_RESOURCES, [82, 80]),
    ("requested resources at node capacity", pod(*CPU_ONLY),
     [milli_node("node1", 6000, 10000), milli_node("node2", 6000, 10000)], balanced_existing(),
     DEFAULT_RESOURCES, [50, 75]),
    ("include scalar resource on a node for balanced resource allocation",
     pod({"memory": "0", GPU: "1"}),
     [milli_node("node1", 3500, 40000, {GPU: 8}), milli_node("node2", 3500, 40000, {GPU: 8})],
     [pod(*CPU_AND_MEMORY, node="node2"), pod(*CPU_AND_MEMORY_AND_GPU, node="node1")],
     specs(("cpu", 1), ("memory", 1), (GPU, 1)), [70, 65]),
    ("node without the scalar resource should skip the scalar resource", pod(*CPU_AND_MEMORY),
     [milli_node("node1", 3500, 40000, {GPU: 8}), milli_node("node2", 3500, 40000)], [],
     specs(("cpu", 1), ("memory", 1), (GPU, 1)), [63, 63]),
]  # fmt: skip


def balanced_plugin(resources: Sequence[ResourceSpec] = DEFAULT_RESOURCES) -> BalancedAllocation:
    args = NodeResourcesBalancedAllocationArgs(resources=tuple(resources))
    plugin = FACTORIES[NODE_RESOURCES_BALANCED_ALLOCATION].new(args, StaticHandle())
    assert isinstance(plugin, BalancedAllocation)
    return plugin


@pytest.mark.parametrize(
    ("incoming", "nodes", "existing", "resources", "want"),
    [pytest.param(*c[1:], id=f"TestNodeResourcesBalancedAllocation/{c[0]}") for c in BALANCED],
)
def test_balanced_allocation(
    incoming: Pod,
    nodes: list[Node],
    existing: list[Pod],
    resources: tuple[ResourceSpec, ...],
    want: list[int],
) -> None:
    assert scores(balanced_plugin(resources), incoming, nodes, existing) == want


def test_balanced_allocation_without_pre_score() -> None:
    """TestNodeResourcesBalancedAllocation/resources requested, pods scheduled with resources
    if PreScore not called."""
    nodes = [milli_node("node1", 10000, 20000), milli_node("node2", 10000, 20000)]
    got = scores(
        balanced_plugin(), pod(*CPU_AND_MEMORY), nodes, balanced_existing(), pre_score=False
    )
    assert got == [82, 95]


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param(pod(), id="nothing scheduled, nothing requested, skip in PreScore"),
        pytest.param(empty_container_pod(), id="a container without requests is best effort"),
    ],
)
def test_balanced_allocation_skips_best_effort_pods(incoming: Pod) -> None:
    """TestNodeResourcesBalancedAllocation: best-effort pods are skipped in PreScore (1.33)."""
    plugin = balanced_plugin()
    snapshot = Snapshot.build([milli_node("node1", 4000, 10000)])
    status = plugin.pre_score(CycleState(), incoming, snapshot.list())
    assert status is not None and status.code is Code.SKIP
    # Without PreScore, Score answers 0 for them, as upstream does.
    assert plugin.score(CycleState(), incoming, snapshot.get("node1")) == 0


# -- property: scores stay within [MIN_NODE_SCORE, MAX_NODE_SCORE] --------------------------

_RESOURCES = ("cpu", "memory", "ephemeral-storage", FOO)


def _req(name: str, amount: int) -> str:
    return f"{amount}m" if name == "cpu" else str(amount)


_amounts = st.dictionaries(st.sampled_from(_RESOURCES), st.integers(0, 3000), max_size=4)
_shapes = st.lists(
    st.tuples(st.integers(0, 100), st.integers(0, 10)),
    min_size=1,
    max_size=4,
    unique_by=lambda p: p[0],
).map(sorted)


@settings(max_examples=60, deadline=None)
@given(
    allocatable=_amounts,
    existing=st.lists(_amounts, max_size=3),
    incoming=_amounts,
    weights=st.lists(st.integers(1, 100), min_size=4, max_size=4),
    shape=_shapes,
)
def test_scores_are_within_node_score_range(
    allocatable: dict[str, int],
    existing: list[dict[str, int]],
    incoming: dict[str, int],
    weights: list[int],
    shape: list[tuple[int, int]],
) -> None:
    node = make_node(
        "node1",
        cpu=None,
        memory=None,
        allocatable={k: _req(k, v) for k, v in allocatable.items()},
    )
    pods = [pod({k: _req(k, v) for k, v in e.items()}, node="node1") for e in existing]
    target = pod({k: _req(k, v) for k, v in incoming.items()})
    resources = specs(*zip(_RESOURCES, weights, strict=True))
    plugins: list[Fit | BalancedAllocation] = [
        fit_plugin(strategy("LeastAllocated", resources)),
        fit_plugin(strategy("MostAllocated", resources)),
        fit_plugin(strategy("RequestedToCapacityRatio", resources, shape)),
    ]
    snapshot = Snapshot.build([node], pods)
    for plugin in plugins:
        state = CycleState()
        plugin.pre_score(state, target, snapshot.list())
        assert (
            MIN_NODE_SCORE <= plugin.score(state, target, snapshot.get("node1")) <= MAX_NODE_SCORE
        )
    balanced = balanced_plugin(specs(*((n, 1) for n in _RESOURCES)))
    state = CycleState()
    if balanced.pre_score(state, target, snapshot.list()) is None:
        assert (
            MIN_NODE_SCORE <= balanced.score(state, target, snapshot.get("node1")) <= MAX_NODE_SCORE
        )
