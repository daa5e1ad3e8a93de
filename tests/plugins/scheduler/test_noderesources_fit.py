"""NodeResourcesFit PreFilter/Filter and the noderesources args, with the cases of upstream's
noderesources fit_test.go (TestEnoughRequests, TestNotEnoughRequests, TestStorageRequests,
TestRestartableInitContainers, TestPreFilterDisabled; Kubernetes 1.33) and of
validation_pluginargs_test.go / defaults_test.go for the args.

Upstream's pods without containers (``&v1.Pod{}``) are pods with one container requesting
cpu and memory 0 here: kframe's PodInfo needs a container, and the requests are the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import DecodeError, from_dict, is_qualified_name
from kframe.api.models import Node, Pod
from kframe.scheduler import (
    Code,
    ConfigError,
    CycleState,
    FilterPlugin,
    NodeInfo,
    PodInfo,
    PreFilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    Status,
)
from kframe.testing.scheduler import StaticHandle, make_node
from kframe_plugins.scheduler.names import NODE_RESOURCES_BALANCED_ALLOCATION, NODE_RESOURCES_FIT
from kframe_plugins.scheduler.noderesources import (
    DEFAULT_RESOURCES,
    FACTORIES,
    PRE_FILTER_STATE_KEY,
    BalancedAllocation,
    Fit,
    NodeResourcesBalancedAllocationArgs,
    NodeResourcesFitArgs,
    RequestedToCapacityRatioParam,
    ResourceSpec,
    ScoringStrategy,
    UtilizationShapePoint,
)

EXT_A, EXT_B = "example.com/aaa", "example.com/bbb"
K8S_IO_A, K8S_IO_B = "kubernetes.io/something", "subdomain.kubernetes.io/something"
HUGE_A = "hugepages-2Mi"

_names = itertools.count()


def res(cpu: int = 0, memory: int = 0, storage: int = 0, **scalars: int) -> dict[str, str]:
    """Upstream newResourcePod's request list: cpu in millicores, every core resource listed
    (zero included), plus scalar resources (``**{EXT_A: 1}``)."""
    out = {"cpu": f"{cpu}m", "memory": str(memory), "pods": "0", "ephemeral-storage": str(storage)}
    out.update((name, str(value)) for name, value in scalars.items())
    return out


def pod(
    *containers: Mapping[str, str],
    init: tuple[Mapping[str, str], ...] = (),
    sidecars: tuple[Mapping[str, str], ...] = (),
    overhead: Mapping[str, str] | None = None,
) -> Pod:
    """A pod with a container per request list (one requesting nothing if none is given)."""
    spec: dict[str, Any] = {
        "containers": [
            {"name": f"c{i}", "image": "pause", "resources": {"requests": dict(r)}}
            for i, r in enumerate(containers or (res(),))
        ]
    }
    inits = [
        {"name": f"i{i}", "image": "pause", "resources": {"requests": dict(r)}}
        for i, r in enumerate(init)
    ] + [
        {"name": f"s{i}", "image": "pause", "restartPolicy": "Always"}
        | {"resources": {"requests": dict(r)}}
        for i, r in enumerate(sidecars)
    ]
    if inits:
        spec["initContainers"] = inits
    if overhead is not None:
        spec["overhead"] = dict(overhead)
    name = f"p{next(_names)}"
    return from_dict({"metadata": {"name": name, "namespace": "default"}, "spec": spec}, Pod)


def alloc_node(
    cpu: int = 10,
    memory: int = 20,
    pods: int = 32,
    ext_a: int = 5,
    storage: int = 20,
    huge: int = 5,
) -> Node:
    """Upstream makeAllocatableResources(milliCPU, memory, pods, extendedA, storage, hugePageA)."""
    return make_node(
        "node",
        cpu=f"{cpu}m",
        memory=str(memory),
        pods=str(pods),
        allocatable={EXT_A: str(ext_a), "ephemeral-storage": str(storage), HUGE_A: str(huge)},
    )


def fit(args: NodeResourcesFitArgs | None = None) -> Fit:
    plugin = FACTORIES[NODE_RESOURCES_FIT].new(args or NodeResourcesFitArgs(), StaticHandle())
    assert isinstance(plugin, Fit)
    return plugin


def run_filter(plugin: Fit, incoming: Pod, node: NodeInfo) -> Status | None:
    state = CycleState()
    assert plugin.pre_filter(state, incoming, [node]) is None
    status: Status | None = plugin.filter(state, incoming, node)
    return status


def unschedulable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE, *reasons)


def insufficient(name: str) -> str:
    return f"Insufficient {name}"


# -- TestEnoughRequests -----------------------------------------------------------------------

ENOUGH: list[Any] = [
    # (upstream name, incoming pod, the existing pod's requests, args, want)
    ("no resources requested always fits", pod(), res(10, 20), None, None),
    (
        "too many resources fails",
        pod(res(1, 1)),
        res(10, 20),
        None,
        unschedulable(insufficient("cpu"), insufficient("memory")),
    ),
    (
        "too many resources fails due to init container cpu",
        pod(res(1, 1), init=(res(3, 1),)),
        res(8, 19),
        None,
        unschedulable(insufficient("cpu")),
    ),
    (
        "too many resources fails due to highest init container cpu",
        pod(res(1, 1), init=(res(3, 1), res(2, 1))),
        res(8, 19),
        None,
        unschedulable(insufficient("cpu")),
    ),
    (
        "too many resources fails due to init container memory",
        pod(res(1, 1), init=(res(1, 3),)),
        res(9, 19),
        None,
        unschedulable(insufficient("memory")),
    ),
    (
        "too many resources fails due to highest init container memory",
        pod(res(1, 1), init=(res(1, 3), res(1, 2))),
        res(9, 19),
        None,
        unschedulable(insufficient("memory")),
    ),
    (
        "init container fits because it's the max, not sum, of containers and init containers",
        pod(res(1, 1), init=(res(1, 1),)),
        res(9, 19),
        None,
        None,
    ),
    (
        "multiple init containers fit because it's the max, not sum, of containers and init "
        "containers",
        pod(res(1, 1), init=(res(1, 1), res(1, 1))),
        res(9, 19),
        None,
        None,
    ),
    ("both resources fit", pod(res(1, 1)), res(5, 5), None, None),
    (
        "one resource memory fits",
        pod(res(2, 1)),
        res(9, 5),
        None,
        unschedulable(insufficient("cpu")),
    ),
    (
        "one resource cpu fits",
        pod(res(1, 2)),
        res(5, 19),
        None,
        unschedulable(insufficient("memory")),
    ),
    ("equal edge case", pod(res(5, 1)), res(5, 19), None, None),
    (
        "equal edge case for init container",
        pod(res(4, 1), init=(res(5, 1),)),
        res(5, 19),
        None,
        None,
    ),
    ("extended resource fits", pod(res(**{EXT_A: 1})), res(), None, None),
    (
        "extended resource fits for init container",
        pod(res(), init=(res(**{EXT_A: 1}),)),
        res(),
        None,
        None,
    ),
    (
        "extended resource capacity enforced",
        pod(res(1, 1, **{EXT_A: 10})),
        res(**{EXT_A: 0}),
        None,
        unschedulable(insufficient(EXT_A)),
    ),
    (
        "extended resource capacity enforced for init container",
        pod(res(), init=(res(1, 1, **{EXT_A: 10}),)),
        res(**{EXT_A: 0}),
        None,
        unschedulable(insufficient(EXT_A)),
    ),
    (
        "extended resource allocatable enforced",
        pod(res(1, 1, **{EXT_A: 1})),
        res(**{EXT_A: 5}),
        None,
        unschedulable(insufficient(EXT_A)),
    ),
    (
        "extended resource allocatable enforced for init container",
        pod(res(), init=(res(1, 1, **{EXT_A: 1}),)),
        res(**{EXT_A: 5}),
        None,
        unschedulable(insufficient(EXT_A)),
    ),
    (
        "extended resource allocatable enforced for multiple containers",
        pod(res(1, 1, **{EXT_A: 3}), res(1, 1, **{EXT_A: 3})),
        res(**{EXT_A: 2}),
        None,
        unschedulable(insufficient(EXT_A)),
    ),
    (
        "extended resource allocatable admits multiple init containers",
        pod(res(), init=(res(1, 1, **{EXT_A: 3}), res(1, 1, **{EXT_A: 3}))),
        res(**{EXT_A: 2}),
        None,
        None,
    ),
    (
        "extended resource allocatable enforced for multiple init containers",
        pod(res(), init=(res(1, 1, **{EXT_A: 6}), res(1, 1, **{EXT_A: 3}))),
        res(**{EXT_A: 2}),
        None,
        unschedulable(insufficient(EXT_A)),
    ),
    (
        "extended resource allocatable enforced for unknown resource",
        pod(res(1, 1, **{EXT_B: 1})),
        res(),
        None,
        unschedulable(insufficient(EXT_B)),
    ),
    (
        "extended resource allocatable enforced for unknown resource for init container",
        pod(res(), init=(res(1, 1, **{EXT_B: 1}),)),
        res(),
        None,
        unschedulable(insufficient(EXT_B)),
    ),
    (
        "kubernetes.io resource capacity enforced",
        pod(res(1, 1, **{K8S_IO_A: 10})),
        res(),
        None,
        unschedulable(insufficient(K8S_IO_A)),
    ),
    (
        "kubernetes.io resource capacity enforced for init container",
        pod(res(), init=(res(1, 1, **{K8S_IO_B: 10}),)),
        res(),
        None,
        unschedulable(insufficient(K8S_IO_B)),
    ),
    (
        "hugepages resource capacity enforced",
        pod(res(1, 1) | {HUGE_A: "10"}),
        res() | {HUGE_A: "0"},
        None,
        unschedulable(insufficient(HUGE_A)),
    ),
    (
        "hugepages resource capacity enforced for init container",
        pod(res(), init=(res(1, 1) | {HUGE_A: "10"},)),
        res() | {HUGE_A: "0"},
        None,
        unschedulable(insufficient(HUGE_A)),
    ),
    (
        "hugepages resource allocatable enforced for multiple containers",
        pod(res(1, 1) | {HUGE_A: "3"}, res(1, 1) | {HUGE_A: "3"}),
        res() | {HUGE_A: "2"},
        None,
        unschedulable(insufficient(HUGE_A)),
    ),
    (
        "skip checking ignored extended resource",
        pod(res(1, 1, **{EXT_B: 1})),
        res(),
        NodeResourcesFitArgs(ignored_resources=("example.com/bbb",)),
        None,
    ),
    (
        "resources + pod overhead fits",
        pod(res(1, 1), overhead={"cpu": "3m", "memory": "13"}),
        res(5, 5),
        None,
        None,
    ),
    (
        "requests + overhead does not fit for memory",
        pod(res(1, 1), overhead={"cpu": "1m", "memory": "15"}),
        res(5, 5),
        None,
        unschedulable(insufficient("memory")),
    ),
    (
        "skip checking ignored extended resource via resource groups",
        pod(res(1, 1, **{EXT_B: 1}, **{K8S_IO_A: 1})),
        res(),
        NodeResourcesFitArgs(ignored_resource_groups=("example.com",)),
        unschedulable(insufficient(K8S_IO_A)),
    ),
    (
        "skip checking extended resource request with quantity zero via resource groups",
        pod(res(1, 1, **{EXT_A: 0})),
        res(**{EXT_A: 6}),
        None,
        None,
    ),
    (
        "skip checking resource request with quantity zero",
        pod(res(**{EXT_A: 1})),
        res(20, 30, **{EXT_A: 1}),
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("incoming", "existing", "args", "want"),
    [pytest.param(*case[1:], id=f"TestEnoughRequests/{case[0]}") for case in ENOUGH],
)
def test_enough_requests(
    incoming: Pod, existing: dict[str, str], args: NodeResourcesFitArgs | None, want: Status | None
) -> None:
    node = NodeInfo(alloc_node(), [PodInfo(pod(existing))])
    assert run_filter(fit(args), incoming, node) == want


@pytest.mark.parametrize(
    ("incoming", "existing"),
    [
        pytest.param(pod(), res(10, 20), id="even without specified resources"),
        pytest.param(pod(res(1, 1)), res(5, 5), id="even if both resources fit"),
        pytest.param(pod(res(5, 1)), res(5, 19), id="even for equal edge case"),
        pytest.param(
            pod(res(5, 1), init=(res(5, 1),)), res(5, 19), id="equal edge case, init container"
        ),
    ],
)
def test_not_enough_requests(incoming: Pod, existing: dict[str, str]) -> None:
    """TestNotEnoughRequests: a node with one pod slot, taken, fails every pod."""
    node = NodeInfo(
        make_node("node", cpu="10m", memory="20", pods="1", allocatable={EXT_A: "0"}),
        [PodInfo(pod(existing))],
    )
    assert run_filter(fit(), incoming, node) == unschedulable("Too many pods")


def test_every_reason_is_kept_in_upstream_order() -> None:
    node = NodeInfo(alloc_node(pods=1), [PodInfo(pod(res(10, 20)))])
    incoming = pod(res(1, 1, 30, **{EXT_A: 6}) | {HUGE_A: "6"})
    assert run_filter(fit(), incoming, node) == unschedulable(
        "Too many pods",
        insufficient("cpu"),
        insufficient("memory"),
        insufficient("ephemeral-storage"),
        insufficient(EXT_A),
        insufficient(HUGE_A),
    )


def test_request_larger_than_the_node_is_still_unschedulable_in_1_33() -> None:
    # Kubernetes 1.34 answers UnschedulableAndUnresolvable here (kubernetes#131345).
    node = NodeInfo(alloc_node(), [])
    assert run_filter(fit(), pod(res(11)), node) == unschedulable(insufficient("cpu"))


@pytest.mark.parametrize(
    ("incoming", "existing", "want"),
    [
        pytest.param(pod(res(1, 1)), res(2, 10), None, id="empty storage requested, and pod fits"),
        pytest.param(
            pod(res(storage=25)),
            res(2, 2),
            unschedulable(insufficient("ephemeral-storage")),
            id="storage ephemeral local storage request exceeds allocatable",
        ),
        pytest.param(
            pod(res(storage=5)), res(2, 2, 10), None, id="ephemeral local storage is sufficient"
        ),
        pytest.param(pod(res(storage=10)), res(2, 2), None, id="pod fits"),
    ],
)
def test_storage_requests(incoming: Pod, existing: dict[str, str], want: Status | None) -> None:
    """TestStorageRequests."""
    node = NodeInfo(alloc_node(), [PodInfo(pod(existing))])
    assert run_filter(fit(), incoming, node) == want


@pytest.mark.parametrize(
    ("incoming", "want"),
    [
        pytest.param(pod(res()), None, id="allow pod without restartable init containers"),
        pytest.param(
            pod(res(), sidecars=(res(),)), None, id="allow pod with restartable init containers"
        ),
        pytest.param(
            pod({"cpu": "1m"}, sidecars=({"cpu": "1m"},)),
            None,
            id="allow pod if the total requested resources do not exceed allocatable",
        ),
        pytest.param(
            pod({"cpu": "1m"}, sidecars=({"cpu": "2m"},)),
            unschedulable("Insufficient cpu"),
            id="not allow pod if the total requested resources do exceed allocatable",
        ),
    ],
)
def test_restartable_init_containers(incoming: Pod, want: Status | None) -> None:
    """TestRestartableInitContainers, with SidecarContainers on (GA in 1.33)."""
    node = NodeInfo(make_node("node", cpu="2m", memory="0", pods="1"), [])
    assert run_filter(fit(), incoming, node) == want


def test_pre_filter_disabled() -> None:
    """TestPreFilterDisabled: Filter without PreFilter is an error."""
    node = NodeInfo(make_node("node"), [])
    status = fit().filter(CycleState(), pod(), node)
    assert status is not None and status.code is Code.ERROR
    assert status.message == f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found'


# -- conformance, factories, args -------------------------------------------------------------


def test_plugins_claim_their_extension_points() -> None:
    plugin = fit()
    for protocol in (PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
        assert isinstance(plugin, protocol)
    assert plugin.name == NODE_RESOURCES_FIT
    balanced = FACTORIES[NODE_RESOURCES_BALANCED_ALLOCATION].new(
        NodeResourcesBalancedAllocationArgs(), StaticHandle()
    )
    assert isinstance(balanced, BalancedAllocation)
    assert isinstance(balanced, PreScorePlugin) and isinstance(balanced, ScorePlugin)
    assert not isinstance(balanced, FilterPlugin)
    assert balanced.name == NODE_RESOURCES_BALANCED_ALLOCATION


def test_default_args_are_upstreams_v1_defaults() -> None:
    assert FACTORIES[NODE_RESOURCES_FIT].args_type is NodeResourcesFitArgs
    assert NodeResourcesFitArgs() == NodeResourcesFitArgs(
        scoring_strategy=ScoringStrategy(type="LeastAllocated", resources=DEFAULT_RESOURCES)
    )
    assert (
        ResourceSpec(name="cpu", weight=1),
        ResourceSpec(name="memory", weight=1),
    ) == DEFAULT_RESOURCES
    balanced = FACTORIES[NODE_RESOURCES_BALANCED_ALLOCATION]
    assert balanced.args_type is NodeResourcesBalancedAllocationArgs
    assert NodeResourcesBalancedAllocationArgs() == NodeResourcesBalancedAllocationArgs(
        resources=DEFAULT_RESOURCES
    )


def test_args_decode_from_plugin_config() -> None:
    body = {
        "ignoredResources": ["example.com/foo"],
        "ignoredResourceGroups": ["example.org"],
        "scoringStrategy": {
            "type": "RequestedToCapacityRatio",
            "resources": [{"name": "cpu", "weight": 3}, {"name": "intel.com/foo"}],
            "requestedToCapacityRatio": {
                "shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]
            },
        },
    }
    args = from_dict(body, NodeResourcesFitArgs, strict=True)
    assert args == NodeResourcesFitArgs(
        ignored_resources=("example.com/foo",),
        ignored_resource_groups=("example.org",),
        scoring_strategy=ScoringStrategy(
            type="RequestedToCapacityRatio",
            resources=(ResourceSpec(name="cpu", weight=3), ResourceSpec(name="intel.com/foo")),
            requested_to_capacity_ratio=RequestedToCapacityRatioParam(
                shape=(
                    UtilizationShapePoint(utilization=0, score=0),
                    UtilizationShapePoint(utilization=100, score=10),
                )
            ),
        ),
    )
    plugin = fit(args)
    # SetDefaults_NodeResourcesFitArgs: a weight left out is 1.
    assert plugin.args.scoring_strategy is not None
    assert plugin.args.scoring_strategy.resources[1] == ResourceSpec(name="intel.com/foo", weight=1)
    with pytest.raises(DecodeError):
        from_dict({"scoringStrategy": {"kind": "x"}}, NodeResourcesFitArgs, strict=True)


@pytest.mark.parametrize(
    ("body", "want"),
    [
        pytest.param({}, DEFAULT_RESOURCES, id="no strategy: LeastAllocated over cpu and memory"),
        pytest.param(
            {"scoringStrategy": {"type": "MostAllocated"}}, DEFAULT_RESOURCES, id="no resources"
        ),
        pytest.param(
            {
                "scoringStrategy": {
                    "type": "MostAllocated",
                    "resources": [{"name": "cpu", "weight": 0}],
                }
            },
            (ResourceSpec(name="cpu", weight=1),),
            id="zero weight is 1",
        ),
    ],
)
def test_fit_args_defaults(body: dict[str, Any], want: tuple[ResourceSpec, ...]) -> None:
    """defaults_test.go: NodeResourcesFitArgs."""
    args = fit(from_dict(body, NodeResourcesFitArgs, strict=True)).args
    assert args.scoring_strategy is not None
    assert args.scoring_strategy.resources == want


def test_balanced_allocation_args_defaults() -> None:
    """defaults_test.go: NodeResourcesBalancedAllocationArgs (empty list, zero weight)."""
    factory = FACTORIES[NODE_RESOURCES_BALANCED_ALLOCATION]
    empty = factory.new(NodeResourcesBalancedAllocationArgs(resources=()), StaticHandle())
    assert isinstance(empty, BalancedAllocation) and empty.args.resources == DEFAULT_RESOURCES
    body = {"resources": [{"name": "cpu"}, {"name": "nvidia.com/gpu", "weight": 0}]}
    plugin = factory.new(
        from_dict(body, NodeResourcesBalancedAllocationArgs, strict=True), StaticHandle()
    )
    assert isinstance(plugin, BalancedAllocation)
    assert plugin.args.resources == (
        ResourceSpec(name="cpu", weight=1),
        ResourceSpec(name="nvidia.com/gpu", weight=1),
    )


_SUPPORTED = '"LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"'
_SHAPE = "scoringStrategy.requestedToCapacityRatio.shape"


def _strategy(type_: str, shape: list[tuple[int, int]] | None = None, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_, **kw}
    if shape is not None:
        out["requestedToCapacityRatio"] = {
            "shape": [{"utilization": u, "score": s} for u, s in shape]
        }
    return {"scoringStrategy": out}


_NAME_PART = next(m for m in is_qualified_name("a/") if m.startswith("name part must consist"))

FIT_ARGS_ERRORS = [
    pytest.param(
        {"ignoredResources": ["a/b/c"]},
        'ignoredResources[0]: Invalid value: "a/b/c": ' + is_qualified_name("a/b/c")[0],
        id="IgnoredResources: name has too many slash",
    ),
    pytest.param(
        {"ignoredResourceGroups": ["example.com/"]},
        '[ignoredResourceGroups[0]: Invalid value: "example.com/": resource group name can\'t '
        "contain '/', ignoredResourceGroups[0]: Invalid value: \"example.com/\": name part must "
        f'be non-empty, ignoredResourceGroups[0]: Invalid value: "example.com/": {_NAME_PART}]',
        id="IgnoredResourceGroups: illegal args",
    ),
    pytest.param(
        _strategy("Invalid"),
        f'scoringStrategy.type: Unsupported value: "Invalid": supported values: {_SUPPORTED}',
        id="ScoringStrategy: type is unsupported",
    ),
    pytest.param(
        _strategy("", resources=[{"name": "cpu", "weight": 1}]),
        f'scoringStrategy.type: Unsupported value: "": supported values: {_SUPPORTED}',
        id="ScoringStrategy: type is not defaulted",
    ),
    pytest.param(
        _strategy("MostAllocated", resources=[{"name": "cpu", "weight": 101}]),
        "scoringStrategy.resources[0].weight: Invalid value: 101: "
        "resource weight of cpu not in valid range (0, 100]",
        id="ScoringStrategy: weight is larger than 100",
    ),
    pytest.param(
        _strategy("LeastAllocated", resources=[{"name": "memory", "weight": -1}, {"name": "cpu"}]),
        "scoringStrategy.resources[0].weight: Invalid value: -1: "
        "resource weight of memory not in valid range (0, 100]",
        id="TestLeastAllocatedScoringStrategy/resource with negative weight",
    ),
    pytest.param(
        _strategy("RequestedToCapacityRatio"),
        "scoringStrategy.requestedToCapacityRatio: Required value: "
        "must be specified when type is RequestedToCapacityRatio",
        id="ScoringStrategy: RequestedToCapacityRatio without shape",
    ),
    pytest.param(
        _strategy("RequestedToCapacityRatio", []),
        f"{_SHAPE}: Required value: at least one point must be specified",
        id="ScoringStrategy: empty shape",
    ),
    pytest.param(
        _strategy("RequestedToCapacityRatio", [(10, 1), (10, 2), (101, 11)]),
        f"[{_SHAPE}[1].utilization: Invalid value: 10: values must be sorted in increasing "
        f"order, {_SHAPE}[2].utilization: Invalid value: 101: not in valid range [0, 100], "
        f"{_SHAPE}[2].score: Invalid value: 11: not in valid range [0, 10]]",
        id="ScoringStrategy: shape out of order and out of range",
    ),
    pytest.param(
        _strategy("LeastAllocated", [(0, 0)]),
        "scoringStrategy.requestedToCapacityRatio: Forbidden: "
        "must be nil when type is not RequestedToCapacityRatio",
        id="ScoringStrategy: shape with another type",
    ),
]


@pytest.mark.parametrize(("body", "message"), FIT_ARGS_ERRORS)
def test_validate_fit_args(body: dict[str, Any], message: str) -> None:
    """ValidateNodeResourcesFitArgs, worded as the aggregate error upstream returns."""
    args = from_dict(body, NodeResourcesFitArgs, strict=True)
    with pytest.raises(ConfigError) as info:
        fit(args)
    assert str(info.value) == message


def test_validate_fit_args_accepts_valid_args() -> None:
    fit(
        NodeResourcesFitArgs(
            ignored_resources=("example.com/foo",), ignored_resource_groups=("example.com",)
        )
    )
    fit(from_dict(_strategy("RequestedToCapacityRatio", [(0, 10), (100, 0)]), NodeResourcesFitArgs))


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        pytest.param(
            [("cpu", 2)], "resources[0].weight: Invalid value: 2: must be 1", id="weight is not 1"
        ),
        pytest.param(
            [("cpu", 1), ("memory", 1), ("cpu", 1)],
            'resources[2].name: Duplicate value: "cpu"',
            id="duplicated resource name",
        ),
    ],
)
def test_validate_balanced_allocation_args(resources: list[tuple[str, int]], message: str) -> None:
    """ValidateNodeResourcesBalancedAllocationArgs."""
    args = NodeResourcesBalancedAllocationArgs(
        resources=tuple(ResourceSpec(name=n, weight=w) for n, w in resources)
    )
    with pytest.raises(ConfigError) as info:
        FACTORIES[NODE_RESOURCES_BALANCED_ALLOCATION].new(args, StaticHandle())
    assert str(info.value) == message


# -- property: Filter agrees with a straightforward check ------------------------------------

_RESOURCES = ("cpu", "memory", "ephemeral-storage", EXT_A, EXT_B, HUGE_A)
_amounts = st.dictionaries(st.sampled_from(_RESOURCES), st.integers(0, 6), max_size=len(_RESOURCES))


def _requests(amounts: Mapping[str, int]) -> dict[str, str]:
    return {k: (f"{v}m" if k == "cpu" else str(v)) for k, v in amounts.items()}


@settings(max_examples=60, deadline=None)
@given(
    allocatable=_amounts,
    slots=st.integers(0, 3),
    existing=st.lists(_amounts, max_size=3),
    incoming=_amounts,
    ignore_b=st.booleans(),
)
def test_filter_agrees_with_a_plain_resource_check(
    allocatable: dict[str, int],
    slots: int,
    existing: list[dict[str, int]],
    incoming: dict[str, int],
    ignore_b: bool,
) -> None:
    node = make_node(
        "node", cpu=None, memory=None, pods=str(slots), allocatable=_requests(allocatable)
    )
    info = NodeInfo(node, [PodInfo(pod(_requests(e))) for e in existing])
    plugin = fit(NodeResourcesFitArgs(ignored_resources=(EXT_B,) if ignore_b else ()))
    want = []
    if len(existing) + 1 > slots:
        want.append("Too many pods")
    for name in _RESOURCES:
        asked = incoming.get(name, 0)
        if asked == 0 or (ignore_b and name == EXT_B):
            continue
        used = sum(e.get(name, 0) for e in existing)
        if asked > allocatable.get(name, 0) - used:
            want.append(insufficient(name))
    # Scalar reasons come in the pod's order; the core ones in upstream's fixed order.
    got = run_filter(plugin, pod(_requests(incoming)), info)
    if not want:
        assert got is None
    else:
        assert got is not None and got.code is Code.UNSCHEDULABLE
        assert sorted(got.reasons) == sorted(want)
        core = [r for r in want if r in ("Too many pods", *map(insufficient, _RESOURCES[:3]))]
        assert list(got.reasons[: len(core)]) == core
