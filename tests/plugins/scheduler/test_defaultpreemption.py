"""DefaultPreemption with the cases of upstream's default_preemption_test.go (TestPostFilter,
TestDryRunPreemption, TestSelectBestCandidate, TestCustomSelection, TestCustomOrdering,
TestPodEligibleToPreemptOthers, TestPreempt; Kubernetes 1.33/1.34), validation_pluginargs_test.go
for the args, and one run against an in-process API server.

Each case runs a real kframe.scheduler.Framework built from a Profile with the in-tree plugins
(PrioritySort, NodeResourcesFit, PodTopologySpread, InterPodAffinity, DefaultBinder) and
upstream's test plugins where upstream uses them (FakeFilter counting Filter calls, TestPlugin
failing AddPod/RemovePod). Differences from upstream's tables, all in the setup:

- Pods are in namespace ``default`` (upstream's bare pods have namespace ""), so are the PDBs.
- Start times are whole seconds apart (upstream's epochTime1..6 are nanoseconds apart, finer
  than metav1.Time's RFC 3339 form); only their order matters.
- The dry-run offset upstream draws from ``rand.NewSource(4)`` (4, then 1, then 3) is passed in.
- Extender cases are left out: kframe has no scheduler extenders.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict, to_dict
from kframe.api.models import Event, Node, Pod
from kframe.api.models.policy_v1 import PodDisruptionBudget
from kframe.scheduler import (
    Code,
    ConfigError,
    CycleState,
    Framework,
    NodeInfo,
    PluginFactory,
    PluginRef,
    Plugins,
    PluginSet,
    PodInfo,
    PostFilterPlugin,
    PostFilterResult,
    Profile,
    Snapshot,
    Status,
)
from kframe.testing.scheduler import StaticHandle, make_node, make_pod
from kframe_plugins.scheduler import (
    defaultbinder,
    interpodaffinity,
    noderesources,
    podtopologyspread,
    queuesort,
)
from kframe_plugins.scheduler.defaultpreemption import (
    FACTORIES,
    NO_VICTIMS,
    Candidate,
    DefaultPreemption,
    DefaultPreemptionArgs,
    DisruptionBudget,
    Victims,
    pick_one_node_for_preemption,
)
from kframe_plugins.scheduler.names import DEFAULT_PREEMPTION

NEG, LOW, MID, HIGH, VERY_HIGH = -100, 0, 100, 1000, 10000
SMALL, MEDIUM, LARGE, VERY_LARGE = (
    ("100m", "100"),
    ("200m", "200"),
    ("300m", "300"),
    ("500m", "500"),
)


def pod(
    name: str,
    *,
    node: str | None = None,
    priority: int | None = None,
    req: tuple[str, str] | None = None,
    labels: Mapping[str, str] = {},
    start: int | None = None,
    nominated: str | None = None,
    never: bool = False,
    terminating: bool = False,
    condition: tuple[str, str, str] | None = None,
    spec: Mapping[str, Any] = {},
) -> Pod:
    """Upstream's st.MakePod: ``start`` is seconds after the epoch, ``condition`` a
    (type, status, reason) triple."""
    cpu, memory = req if req else (None, None)
    extra = dict(spec)
    if never:
        extra["preemptionPolicy"] = "Never"
    body = to_dict(
        make_pod(
            name,
            cpu=cpu,
            memory=memory,
            labels=labels,
            node=node,
            priority=priority,
            uid=name,
            spec=extra,
        )
    )
    status: dict[str, Any] = {}
    if start is not None:
        status["startTime"] = f"1970-01-01T00:00:{start:02d}Z"
    if nominated:
        status["nominatedNodeName"] = nominated
    if condition:
        status["conditions"] = [
            {"type": condition[0], "status": condition[1], "reason": condition[2]}
        ]
    if terminating:
        body["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    if status:
        body["status"] = status
    return from_dict(body, Pod)


def node(spec: str, capacity: tuple[str, str] | None = VERY_LARGE, pods: str = "32") -> Node:
    """``name[/zone[/region]]`` labelled hostname/zone/region as upstream's dry-run tests do;
    ``capacity`` cpu and memory (None: none), and ``pods`` slots."""
    parts = spec.split("/")
    labels = dict(zip(("hostname", "zone", "region"), parts, strict=False))
    cpu, memory = capacity if capacity else (None, None)
    return make_node(parts[0], cpu=cpu, memory=memory, pods=pods, labels=labels)


def one_pod_node(name: str, **labels: str) -> Node:
    return make_node(name, cpu=None, memory=None, pods="1", labels=labels)


def node_res(name: str) -> Node:
    """Upstream TestPostFilter's nodeRes: 200m cpu, 400 bytes."""
    return make_node(name, cpu="200m", memory="400", pods="32")


def pdb(
    labels: Mapping[str, str], allowed: int | None = None, disrupted: Sequence[str] = ()
) -> PodDisruptionBudget:
    status: dict[str, Any] = {}
    if allowed is not None:
        status["disruptionsAllowed"] = allowed
    if disrupted:
        status["disruptedPods"] = {p: "2024-01-01T00:00:00Z" for p in disrupted}
    return from_dict(
        {
            "metadata": {"name": f"pdb-{len(status)}", "namespace": "default"},
            "spec": {"selector": {"matchLabels": dict(labels)}},
            "status": status,
        },
        PodDisruptionBudget,
    )


# -- upstream's test plugins --------------------------------------------------------------------


class FakeFilter:
    """tf.FakeFilterPlugin: counts Filter calls, answers the configured code for every node."""

    name = "FakeFilter"

    def __init__(self, code: Code = Code.SUCCESS) -> None:
        self.code = code
        self.calls = 0

    def filter(self, state: CycleState, p: Pod, node_info: NodeInfo) -> Status | None:
        self.calls += 1
        if self.code is Code.SUCCESS:
            return None
        return Status(self.code, f"injecting failure for pod {p.metadata.name}")  # type: ignore[union-attr]


class ConstFilter:
    """tf.TrueFilter / FalseFilter / MatchFilter (the node named like the pod fits)."""

    def __init__(self, name: str, answer: Callable[[Pod, NodeInfo], bool]) -> None:
        self.name = name
        self.answer = answer

    def filter(self, state: CycleState, p: Pod, node_info: NodeInfo) -> Status | None:
        return None if self.answer(p, node_info) else Status(Code.UNSCHEDULABLE, "rejected")


class ErrorOnLabelPlugin:
    """Upstream's TestPlugin: AddPod and RemovePod fail on nodes labelled error=true."""

    name = "test-plugin"

    def pre_filter(self, state: CycleState, p: Pod, nodes: Sequence[NodeInfo]) -> None:
        return None

    def filter(self, state: CycleState, p: Pod, node_info: NodeInfo) -> Status | None:
        return None

    def _check(self, what: str, p: Pod, node_info: NodeInfo) -> Status | None:
        assert node_info.node is not None and node_info.node.metadata is not None
        if node_info.node.metadata.labels.get("error") == "true":
            return Status(Code.ERROR, f"failed to {what} pod: {p.metadata.name}")  # type: ignore[union-attr]
        return None

    def add_pod(self, state: CycleState, p: Pod, info: PodInfo, node_info: NodeInfo) -> Any:
        return self._check("add", p, node_info)

    def remove_pod(self, state: CycleState, p: Pod, info: PodInfo, node_info: NodeInfo) -> Any:
        return self._check("remove", p, node_info)


class FakeClient:
    """Records what preemption writes through the API."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.patched: list[tuple[str, Any, str]] = []
        self.created: list[Any] = []

    async def delete(self, cls: type, name: str, *, namespace: str | None = None) -> None:
        self.deleted.append(name)

    async def patch(
        self,
        cls: type,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: str = "strategic",
        subresource: str = "",
    ) -> None:
        self.patched.append((name, patch, subresource))

    async def create(self, obj: Any, *, namespace: str | None = None) -> Any:
        self.created.append(obj)
        return obj


def _const(value: Any) -> PluginFactory:
    return PluginFactory(new=lambda args, handle: value)


BASE_FACTORIES: dict[str, PluginFactory] = {
    **queuesort.FACTORIES,
    **noderesources.FACTORIES,
    **podtopologyspread.FACTORIES,
    **interpodaffinity.FACTORIES,
    **defaultbinder.FACTORIES,
    **FACTORIES,
}


def framework(
    plugins: Sequence[str | Any],
    nodes: Sequence[Node],
    pods: Sequence[Pod] = (),
    *,
    objects: Sequence[Any] = (),
    client: Any = None,
) -> Framework:
    """A Framework of PrioritySort, ``plugins`` (names of in-tree plugins, or plugin objects)
    and DefaultBinder, with the snapshot of ``nodes`` and ``pods`` set."""
    table = dict(BASE_FACTORIES)
    names = []
    for plugin in plugins:
        if isinstance(plugin, str):
            names.append(plugin)
        else:
            table[plugin.name] = _const(plugin)
            names.append(plugin.name)
    enabled = ("PrioritySort", *names, "DefaultBinder")
    profile = Profile(
        plugins=Plugins(multi_point=PluginSet(enabled=tuple(PluginRef(name=n) for n in enabled)))
    )

    def lookup(name: str) -> PluginFactory:
        if name not in table:
            raise ConfigError(f"plugin {name!r} does not exist")
        return table[name]

    fwk = Framework(
        profile,
        lookup,
        objects=lambda cls: [o for o in objects if isinstance(o, cls)],
        client=client,
    )
    fwk.set_snapshot(Snapshot.build(nodes, pods))
    return fwk


def pre_filtered(fwk: Framework, p: Pod) -> CycleState:
    state = CycleState()
    _, status, _ = fwk.run_pre_filter_plugins(state, p, fwk.snapshot().list())
    assert status is None, status
    return state


def plugin(fwk: Framework, args: DefaultPreemptionArgs | None = None) -> DefaultPreemption:
    built = FACTORIES[DEFAULT_PREEMPTION].new(args or DefaultPreemptionArgs(), fwk)
    assert isinstance(built, DefaultPreemption)
    return built


def unschedulable(*names: str) -> dict[str, Status]:
    return {n: Status(Code.UNSCHEDULABLE) for n in names}


# -- the plugin and its args ----------------------------------------------------------------------


def test_the_plugin_states_its_extension_points_and_defaults() -> None:
    fwk = framework([], [node("n1")])
    pl = plugin(fwk)
    assert isinstance(pl, PostFilterPlugin)
    assert pl.name == "DefaultPreemption"
    assert FACTORIES[DEFAULT_PREEMPTION].args_type is DefaultPreemptionArgs
    assert DefaultPreemptionArgs() == DefaultPreemptionArgs(
        min_candidate_nodes_percentage=10, min_candidate_nodes_absolute=100
    )
    body = {"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}
    assert from_dict(body, DefaultPreemptionArgs, strict=True) == DefaultPreemptionArgs(
        min_candidate_nodes_percentage=40, min_candidate_nodes_absolute=1
    )


@pytest.mark.parametrize(
    ("pct", "absolute", "message"),
    [
        pytest.param(10, 100, None, id="valid config"),
        pytest.param(
            -1,
            100,
            "minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100]",
            id="negative minCandidateNodesPercentage",
        ),
        pytest.param(
            900,
            100,
            "minCandidateNodesPercentage: Invalid value: 900: not in valid range [0, 100]",
            id="minCandidateNodesPercentage over 100",
        ),
        pytest.param(
            20,
            -1,
            "minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)",
            id="negative minCandidateNodesAbsolute",
        ),
        pytest.param(
            0,
            0,
            "[minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as "
            "minCandidateNodesAbsolute, minCandidateNodesAbsolute: Invalid value: 0: cannot be "
            "zero at the same time as minCandidateNodesPercentage]",
            id="all zero",
        ),
        pytest.param(
            -1,
            -2,
            "[minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100], "
            "minCandidateNodesAbsolute: Invalid value: -2: not in valid range [0, inf)]",
            id="both out of range",
        ),
    ],
)
def test_validate_default_preemption_args(pct: int, absolute: int, message: str | None) -> None:
    """Upstream TestValidateDefaultPreemptionArgs."""
    args = DefaultPreemptionArgs(
        min_candidate_nodes_percentage=pct, min_candidate_nodes_absolute=absolute
    )
    fwk = framework([], [node("n1")])
    if message is None:
        plugin(fwk, args)
    else:
        with pytest.raises(ConfigError) as err:
            plugin(fwk, args)
        assert str(err.value) == message


def test_a_handle_that_cannot_run_filters_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs the scheduler framework as its handle"):
        FACTORIES[DEFAULT_PREEMPTION].new(DefaultPreemptionArgs(), StaticHandle())


@pytest.mark.parametrize(
    ("pct", "absolute", "nodes", "want"),
    [(10, 100, 5, 5), (10, 100, 5000, 500), (40, 1, 5, 2), (40, 2, 5, 2), (0, 3, 2, 2)],
)
def test_number_of_candidates(pct: int, absolute: int, nodes: int, want: int) -> None:
    """Upstream calculateNumCandidates; the offset comes from the plugin's rng."""
    pl = plugin(
        framework([], [node("n1")]),
        DefaultPreemptionArgs(
            min_candidate_nodes_percentage=pct, min_candidate_nodes_absolute=absolute
        ),
    )
    pl.rng = random.Random(7)
    offset, count = pl.get_offset_and_num_candidates(nodes)
    assert count == want
    assert offset == random.Random(7).randrange(nodes)


# -- TestPostFilter -----------------------------------------------------------------------------

VIOLATING = {"test.kubernetes.io/is-violating-pdb": "violating"}
NON_VIOLATING = {"test.kubernetes.io/is-violating-pdb": "non-violating"}

POST_FILTER_CASES = [
    pytest.param(
        pod("p", priority=HIGH),
        [pod("p1", node="node1")],
        [one_pod_node("node1")],
        (),
        unschedulable("node1"),
        PostFilterResult("node1"),
        Status(Code.SUCCESS),
        id="TestPostFilter/pod with higher priority can be made schedulable",
    ),
    pytest.param(
        pod("p"),
        [pod("p1", node="node1")],
        [one_pod_node("node1")],
        (),
        unschedulable("node1"),
        PostFilterResult(""),
        Status(
            Code.UNSCHEDULABLE,
            "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
        ),
        id="TestPostFilter/pod with tied priority is still unschedulable",
    ),
    pytest.param(
        pod("p", priority=HIGH),
        [pod("p1", node="node1")],
        [one_pod_node("node1")],
        (),
        {"node1": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)},
        PostFilterResult(""),
        Status(
            Code.UNSCHEDULABLE,
            "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
        ),
        id="TestPostFilter/preemption should respect filteredNodesStatuses",
    ),
    pytest.param(
        pod("p", priority=HIGH),
        [pod("p1", node="node1")],
        [one_pod_node("node1")],
        (),
        {},
        PostFilterResult(""),
        Status(
            Code.UNSCHEDULABLE,
            "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
        ),
        id="TestPostFilter/preemption should respect absent NodeToStatusReader entry meaning "
        "UnschedulableAndUnresolvable",
    ),
    pytest.param(
        pod("p", priority=MID),
        [pod("p1", node="node1", priority=HIGH), pod("p2", node="node2", priority=LOW)],
        [one_pod_node("node1"), one_pod_node("node2")],
        (),
        unschedulable("node1", "node2"),
        PostFilterResult("node2"),
        Status(Code.SUCCESS),
        id="TestPostFilter/pod can be made schedulable on one node",
    ),
    pytest.param(
        pod("p", priority=VERY_HIGH),
        [
            pod("p1", node="node1", priority=HIGH, labels=NON_VIOLATING),
            pod("p2", node="node1", priority=LOW, labels=VIOLATING),
            pod("p3", node="node2", priority=MID, labels=VIOLATING),
        ],
        [one_pod_node("node1"), one_pod_node("node2")],
        (pdb(VIOLATING), pdb(NON_VIOLATING, allowed=2**31 - 1)),
        unschedulable("node1", "node2"),
        PostFilterResult("node2"),
        Status(Code.SUCCESS),
        id="TestPostFilter/pod can be made schedulable on minHighestPriority node",
    ),
    pytest.param(
        pod("p", priority=HIGH, req=LARGE),
        [pod("p1", node="node1"), pod("p2", node="node2")],
        [node_res("node1"), node_res("node2")],
        (),
        unschedulable("node1", "node2"),
        PostFilterResult(""),
        Status(Code.UNSCHEDULABLE, "preemption: 0/2 nodes are available: 2 Insufficient cpu."),
        id="TestPostFilter/no candidate nodes found, no enough resource after removing low "
        "priority pods",
    ),
    pytest.param(
        pod("p", priority=HIGH, req=LARGE),
        [
            pod("p1", node="node1", priority=HIGH),
            pod("p2", node="node2"),
            pod("p3", node="node3", priority=HIGH),
        ],
        [one_pod_node("node1"), node_res("node2"), one_pod_node("node3")],
        (),
        unschedulable("node1", "node2", "node3"),
        PostFilterResult(""),
        Status(
            Code.UNSCHEDULABLE,
            "preemption: 0/3 nodes are available: 1 Insufficient cpu, 2 No preemption victims "
            "found for incoming pod.",
        ),
        id="TestPostFilter/no candidate nodes found with mixed reasons, no lower priority pod "
        "and no enough CPU resource",
    ),
    pytest.param(
        pod("p", priority=HIGH, req=LARGE),
        [pod("p1", node="node1"), pod("p2", node="node2")],
        [node_res("node1"), node_res("node2"), node_res("node3"), node_res("node4")],
        (),
        {**unschedulable("node1", "node2"), "node4": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)},
        PostFilterResult(""),
        Status(
            Code.UNSCHEDULABLE,
            "preemption: 0/4 nodes are available: 2 Insufficient cpu, 2 Preemption is not "
            "helpful for scheduling.",
        ),
        id="TestPostFilter/no candidate nodes found with mixed reason, 2 "
        "UnschedulableAndUnresolvable nodes and 2 nodes don't have enough CPU resource",
    ),
    pytest.param(
        pod("p", priority=HIGH, req=LARGE),
        [pod("p1", node="node1"), pod("p2", node="node2", req=MEDIUM)],
        [
            make_node("node1", cpu="300m", memory="300", labels={"error": "true"}),
            make_node("node2", cpu="300m", memory="300"),
        ],
        (),
        unschedulable("node1", "node2"),
        PostFilterResult("node2"),
        Status(Code.SUCCESS),
        id="TestPostFilter/one failed with TestPlugin and the other pass",
    ),
]


@pytest.mark.parametrize(
    ("preemptor", "pods", "nodes", "pdbs", "statuses", "want_result", "want_status"),
    POST_FILTER_CASES,
)
def test_post_filter(
    preemptor: Pod,
    pods: list[Pod],
    nodes: list[Node],
    pdbs: Sequence[PodDisruptionBudget],
    statuses: dict[str, Status],
    want_result: PostFilterResult,
    want_status: Status,
) -> None:
    client = FakeClient()
    fwk = framework(
        ["NodeResourcesFit", ErrorOnLabelPlugin()], nodes, pods, objects=pdbs, client=client
    )
    state = pre_filtered(fwk, preemptor)
    result, status = asyncio.run(plugin(fwk).post_filter(state, preemptor, statuses))
    assert (result, status) == (want_result, want_status)
    if want_status.success:
        assert client.deleted  # the victims on the nominated node are gone
        victims = {
            p.metadata.name for p in pods if p.spec.node_name == want_result.nominated_node_name
        }  # type: ignore[union-attr]
        assert set(client.deleted) <= victims
    else:
        assert client.deleted == []


def test_post_filter_fails_with_an_error_when_the_only_node_errors() -> None:
    """Upstream TestPostFilter "only one node but failed with TestPlugin": the Error from
    RemovePod, prefixed. (kframe's framework words the RemovePod error itself.)"""
    preemptor = pod("p", priority=HIGH, req=LARGE)
    fwk = framework(
        ["NodeResourcesFit", ErrorOnLabelPlugin()],
        [make_node("node1", cpu="300m", memory="300", labels={"error": "true"})],
        [pod("p1", node="node1")],
        client=FakeClient(),
    )
    state = pre_filtered(fwk, preemptor)
    result, status = asyncio.run(plugin(fwk).post_filter(state, preemptor, unschedulable("node1")))
    assert result is None
    assert status is not None and status.code is Code.ERROR
    assert status.message.startswith("preemption: running RemovePod on PreFilter plugin"), (
        status.message
    )


def test_post_filter_without_nodes_is_an_error() -> None:
    fwk = framework(["NodeResourcesFit"], [], client=FakeClient())
    preemptor = pod("p", priority=HIGH)
    result, status = asyncio.run(plugin(fwk).post_filter(CycleState(), preemptor, {}))
    assert (result, status) == (None, Status(Code.ERROR, "preemption: no nodes available"))


def test_post_filter_in_a_profile_runs_through_the_framework() -> None:
    client = FakeClient()
    fwk = framework(
        ["NodeResourcesFit", "DefaultPreemption"],
        [one_pod_node("node1")],
        [pod("p1", node="node1")],
        client=client,
    )
    preemptor = pod("p", priority=HIGH)
    state = pre_filtered(fwk, preemptor)
    result, status = asyncio.run(
        fwk.run_post_filter_plugins(state, preemptor, unschedulable("node1"))
    )
    assert result == PostFilterResult("node1")
    assert status == Status(Code.SUCCESS, plugin="DefaultPreemption")
    assert client.deleted == ["p1"]


# -- TestDryRunPreemption -----------------------------------------------------------------------


def cand(name: str, *victims: Pod, pdb_violations: int = 0) -> tuple[str, list[str], int]:
    return name, sorted(v.metadata.name for v in victims), pdb_violations  # type: ignore[union-attr]


def _match_filter() -> ConstFilter:
    return ConstFilter("MatchFilter", lambda p, n: p.metadata.name == n.name)  # type: ignore[union-attr]


FOO_SPREAD = {
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]},
        }
        for key in ("zone", "hostname")
    ]
}
FOO_ANTI_AFFINITY = {
    "affinity": {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]},
                    "topologyKey": "hostname",
                }
            ]
        }
    }
}
APP_FOO = {"app": "foo"}
FIVE = ["node1", "node2", "node3", "node4", "node5"]
LIMIT_2 = DefaultPreemptionArgs(min_candidate_nodes_percentage=40, min_candidate_nodes_absolute=1)


def _five(priorities: Sequence[int], labels: Sequence[Mapping[str, str]] = ()) -> list[Pod]:
    labels = list(labels) or [{}] * 5
    return [
        pod(f"p{i + 1}", node=f"node{i + 1}", priority=prio, req=LARGE, labels=labels[i])
        for i, prio in enumerate(priorities)
    ]


DRY_RUN_CASES: list[Any] = [
    pytest.param(
        [ConstFilter("FalseFilter", lambda p, n: False)],
        ["node1", "node2"],
        [pod("p", priority=HIGH)],
        [pod("p1", node="node1", priority=MID), pod("p2", node="node2", priority=MID)],
        Code.SUCCESS,
        (),
        None,
        [0],
        [[]],
        [2],
        id="a pod that does not fit on any node",
    ),
    pytest.param(
        [ConstFilter("TrueFilter", lambda p, n: True)],
        ["node1", "node2"],
        [pod("p", priority=HIGH)],
        [pod("p1", node="node1", priority=MID), pod("p2", node="node2", priority=MID)],
        Code.UNSCHEDULABLE,
        (),
        None,
        [0],
        [[]],
        [2],
        id="a pod that fits with no preemption",
    ),
    pytest.param(
        [_match_filter()],
        ["node1", "node2"],
        [pod("node1", priority=HIGH)],
        [pod("p1", node="node1", priority=MID), pod("p2", node="node2", priority=MID)],
        Code.UNSCHEDULABLE,
        (),
        None,
        [0],
        [[]],
        [2],
        id="a pod that fits on one node with no preemption",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1", "node2"],
        [pod("p", priority=HIGH, req=LARGE)],
        p12 := [
            pod("p1", node="node1", priority=MID, req=LARGE),
            pod("p2", node="node2", priority=MID, req=LARGE),
        ],
        Code.SUCCESS,
        (),
        None,
        [0],
        [[cand("node1", p12[0]), cand("node2", p12[1])]],
        [4],
        id="a pod that fits on both nodes when lower priority pods are preempted",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1", "node2"],
        [pod("p", priority=LOW, req=LARGE)],
        p12,
        Code.SUCCESS,
        (),
        None,
        [0],
        [[]],
        [0],
        id="a pod that would fit on the nodes, but other pods running are higher priority, no "
        "preemption would happen",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1", "node2"],
        [pod("p", priority=HIGH, req=LARGE)],
        p_small := [
            pod("p1.1", node="node1", priority=LOW, req=SMALL),
            pod("p1.2", node="node1", priority=MID, req=LARGE),
            pod("p2", node="node2", priority=MID, req=LARGE),
        ],
        Code.SUCCESS,
        (),
        None,
        [0],
        [[cand("node1", p_small[1]), cand("node2", p_small[2])]],
        [5],
        id="medium priority pod is preempted, but lower priority one stays as it is small",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1", "node2"],
        [pod("p", priority=HIGH, req=LARGE)],
        p_mixed := [
            pod("p1.1", node="node1", priority=MID, req=SMALL),
            pod("p1.2", node="node1", priority=LOW, req=SMALL),
            pod("p1.3", node="node1", priority=MID, req=MEDIUM),
            pod("p1.4", node="node1", priority=HIGH, req=SMALL),
            pod("p2", node="node2", priority=HIGH, req=LARGE),
        ],
        Code.SUCCESS,
        (),
        None,
        [0],
        [[cand("node1", p_mixed[1], p_mixed[2])]],
        [4],
        id="mixed priority pods are preempted",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1", "node2"],
        [pod("p", priority=HIGH, req=LARGE)],
        p_start := [
            pod("p1.1", node="node1", priority=LOW, req=SMALL, start=5),
            pod("p1.2", node="node1", priority=LOW, req=SMALL, start=4),
            pod("p1.3", node="node1", priority=MID, req=MEDIUM, start=3),
            pod("p1.4", node="node1", priority=HIGH, req=SMALL, start=2),
            pod("p2", node="node2", priority=HIGH, req=LARGE, start=1),
        ],
        Code.SUCCESS,
        (),
        None,
        [0],
        [[cand("node1", p_start[0], p_start[2])]],
        [4],
        id="mixed priority pods are preempted, pick later StartTime one when priorities are equal",
    ),
    pytest.param(
        ["NodeResourcesFit", "InterPodAffinity"],
        ["node1", "node2"],
        [pod("p", labels={"foo": ""}, priority=HIGH, req=SMALL)],
        p_anti := [
            pod(
                "p1.1",
                node="node1",
                labels={"foo": ""},
                priority=LOW,
                req=SMALL,
                spec=FOO_ANTI_AFFINITY,
            ),
            pod("p1.2", node="node1", priority=MID, req=SMALL),
            pod("p1.3", node="node1", priority=HIGH, req=SMALL),
            pod("p2", node="node2", priority=HIGH, req=SMALL),
        ],
        Code.SUCCESS,
        (),
        None,
        [0],
        [[cand("node1", p_anti[0])]],
        [3],
        id="pod with anti-affinity is preempted",
    ),
    pytest.param(
        ["PodTopologySpread"],
        ["node-a/zone1", "node-b/zone1", "node-x/zone2"],
        [pod("p", labels={"foo": ""}, priority=HIGH, spec=FOO_SPREAD)],
        p_spread := [
            pod("pod-a1", node="node-a", labels={"foo": ""}, priority=MID),
            pod("pod-a2", node="node-a", labels={"foo": ""}, priority=LOW),
            pod("pod-b1", node="node-b", labels={"foo": ""}, priority=LOW),
            pod("pod-x1", node="node-x", labels={"foo": ""}, priority=HIGH),
            pod("pod-x2", node="node-x", labels={"foo": ""}, priority=HIGH),
        ],
        Code.SUCCESS,
        (),
        None,
        [0],
        [[cand("node-a", p_spread[1]), cand("node-b", p_spread[2])]],
        [5],
        id="preemption to resolve pod topology spread filter failure",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1", "node2"],
        [pod("p", priority=HIGH, req=LARGE)],
        p12,
        Code.UNSCHEDULABLE,
        (),
        None,
        [0],
        [[]],
        [2],
        id="get Unschedulable in the preemption phase when the filter plugins filtering the nodes",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1"],
        [pod("p", priority=HIGH, req=VERY_LARGE)],
        p_pdb := [
            pod("p1.1", node="node1", labels=APP_FOO, priority=MID, req=MEDIUM),
            pod("p1.2", node="node1", labels=APP_FOO, priority=MID, req=MEDIUM),
        ],
        Code.SUCCESS,
        [pdb(APP_FOO, allowed=1)],
        None,
        [0],
        [[cand("node1", *p_pdb, pdb_violations=1)]],
        [3],
        id="preemption with violation of same pdb",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1"],
        [pod("p", priority=HIGH, req=VERY_LARGE)],
        p_pdb,
        Code.SUCCESS,
        [pdb(APP_FOO, allowed=1, disrupted=["p2"])],
        None,
        [0],
        [[cand("node1", *p_pdb, pdb_violations=1)]],
        [3],
        id="preemption with violation of the pdb with pod whose eviction was processed, the "
        "victim doesn't belong to DisruptedPods",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1"],
        [pod("p", priority=HIGH, req=VERY_LARGE)],
        p_pdb,
        Code.SUCCESS,
        [pdb(APP_FOO, allowed=1, disrupted=["p1.2"])],
        None,
        [0],
        [[cand("node1", *p_pdb, pdb_violations=0)]],
        [3],
        id="preemption with violation of the pdb with pod whose eviction was processed, the "
        "victim belongs to DisruptedPods",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        ["node1"],
        [pod("p", priority=HIGH, req=VERY_LARGE)],
        p_pdb3 := [
            *p_pdb,
            pod("p1.3", node="node1", labels=APP_FOO, priority=MID, req=MEDIUM),
        ],
        Code.SUCCESS,
        [pdb(APP_FOO, allowed=1, disrupted=["p1.3"])],
        None,
        [0],
        [[cand("node1", *p_pdb3, pdb_violations=1)]],
        [4],
        id="preemption with violation of the pdb with pod whose eviction was processed, the "
        "victim which belongs to DisruptedPods is treated as 'nonViolating'",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        FIVE,
        [pod("p", priority=HIGH, req=LARGE)],
        p5 := _five([MID] * 5),
        Code.SUCCESS,
        (),
        LIMIT_2,
        [4],  # cycle=0 => offset=4 => node5 (yes), node1 (yes)
        [[cand("node1", p5[0]), cand("node5", p5[4])]],
        [4],
        id="all nodes are possible candidates, but DefaultPreemptionArgs limits to 2",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        FIVE,
        [pod("p", priority=HIGH, req=LARGE)],
        p5v := _five([MID, VERY_HIGH, MID, MID, VERY_HIGH]),
        Code.SUCCESS,
        (),
        LIMIT_2,
        [4],  # cycle=0 => offset=4 => node5 (no), node1 (yes), node2 (no), node3 (yes)
        [[cand("node1", p5v[0]), cand("node3", p5v[2])]],
        [4],
        id="some nodes are not possible candidates, DefaultPreemptionArgs limits to 2",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        FIVE,
        [pod(f"tp{i}", priority=HIGH, req=LARGE) for i in (1, 2, 3)],
        p5,
        Code.SUCCESS,
        (),
        LIMIT_2,
        [4, 1, 3],
        [
            [cand("node1", p5[0]), cand("node5", p5[4])],  # offset=4 => node5, node1
            [cand("node2", p5[1]), cand("node3", p5[2])],  # offset=1 => node2, node3
            [cand("node4", p5[3]), cand("node5", p5[4])],  # offset=3 => node4, node5
        ],
        [4, 4, 4],
        id="preemption offset across multiple scheduling cycles and wrap around",
    ),
    pytest.param(
        ["NodeResourcesFit"],
        FIVE,
        [pod("p", priority=HIGH, req=LARGE)],
        p5p := _five([MID] * 5, [APP_FOO, APP_FOO, {}, {}, APP_FOO]),
        Code.SUCCESS,
        [pdb(APP_FOO, allowed=0)],
        DefaultPreemptionArgs(min_candidate_nodes_percentage=40, min_candidate_nodes_absolute=2),
        # offset=4 => node5 (yes, pdb), node1 (yes, pdb), node2 (no, pdb), node3 (yes)
        [4],
        [
            [
                cand("node1", p5p[0], pdb_violations=1),
                cand("node3", p5p[2]),
                cand("node5", p5p[4], pdb_violations=1),
            ]
        ],
        [8],
        id="preemption looks past numCandidates until a non-PDB violating node is found",
    ),
]


@pytest.mark.parametrize(
    (
        "plugins",
        "node_names",
        "preemptors",
        "init_pods",
        "fake_code",
        "pdbs",
        "args",
        "offsets",
        "expected",
        "filter_calls",
    ),
    DRY_RUN_CASES,
)
def test_dry_run_preemption(
    plugins: list[Any],
    node_names: list[str],
    preemptors: list[Pod],
    init_pods: list[Pod],
    fake_code: Code,
    pdbs: Sequence[PodDisruptionBudget],
    args: DefaultPreemptionArgs | None,
    offsets: list[int],
    expected: list[list[tuple[str, list[str], int]]],
    filter_calls: list[int],
) -> None:
    """Upstream TestDryRunPreemption: the candidates, and how many Filter calls it took."""
    fake = FakeFilter(fake_code)
    fwk = framework([fake, *plugins], [node(n) for n in node_names], init_pods)
    pl = plugin(fwk, args)
    infos = sorted(fwk.snapshot().list(), key=lambda n: n.name)
    budgets = [DisruptionBudget(p) for p in pdbs]
    for cycle, preemptor in enumerate(preemptors):
        state = pre_filtered(fwk, preemptor)
        _, count = pl.get_offset_and_num_candidates(len(infos))
        before = fake.calls
        got, _, _ = pl.evaluator.dry_run_preemption(
            state, preemptor, infos, budgets, offsets[cycle], count
        )
        summary = sorted(
            (c.name, sorted(v.metadata.name for v in c.victims.pods), c.victims.num_pdb_violations)  # type: ignore[union-attr]
            for c in got
        )
        assert summary == expected[cycle], f"cycle {cycle}"
        assert fake.calls - before == filter_calls[cycle], f"cycle {cycle}"


def test_dry_run_leaves_the_snapshot_and_the_state_alone() -> None:
    pods = [pod("p1", node="node1", priority=MID, req=LARGE)]
    fwk = framework(["NodeResourcesFit"], [node("node1")], pods)
    preemptor = pod("p", priority=HIGH, req=LARGE)
    state = pre_filtered(fwk, preemptor)
    info = fwk.snapshot().get("node1")
    requested = info.requested.milli_cpu
    got, _, _ = plugin(fwk).evaluator.dry_run_preemption(state, preemptor, [info], [], 0, 1)
    assert [c.name for c in got] == ["node1"]
    assert [p.key for p in info.pods] == ["default/p1"]
    assert info.requested.milli_cpu == requested


# -- TestSelectBestCandidate --------------------------------------------------------------------


def _pods(*specs: tuple[str, str, int, tuple[str, str], int]) -> list[Pod]:
    return [pod(n, node=nd, priority=pr, req=rq, start=s) for n, nd, pr, rq, s in specs]


SELECT_CASES = [
    pytest.param(
        ["node1", "node2"],
        pod("p", priority=HIGH, req=LARGE),
        _pods(("p1", "node1", MID, LARGE, 0), ("p2", "node2", MID, LARGE, 0)),
        {"node1", "node2"},
        id="a pod that fits on both nodes when lower priority pods are preempted",
    ),
    pytest.param(
        ["node1", "node2", "node3"],
        pod("p", priority=HIGH, req=VERY_LARGE),
        _pods(
            ("p1.1", "node1", MID, MEDIUM, 0),
            ("p1.2", "node1", MID, LARGE, 0),
            ("p2.1", "node2", MID, MEDIUM, 0),
            ("p2.2", "node2", LOW, MEDIUM, 0),
            ("p3.1", "node3", LOW, MEDIUM, 0),
            ("p3.2", "node3", LOW, MEDIUM, 0),
        ),
        {"node3"},
        id="node with min highest priority pod is picked",
    ),
    pytest.param(
        ["node1", "node2", "node3"],
        pod("p", priority=HIGH, req=VERY_LARGE),
        _pods(
            ("p1.1", "node1", MID, MEDIUM, 0),
            ("p1.2", "node1", MID, LARGE, 0),
            ("p2.1", "node2", MID, LARGE, 0),
            ("p2.2", "node2", LOW, MEDIUM, 0),
            ("p3.1", "node3", MID, MEDIUM, 0),
            ("p3.2", "node3", MID, MEDIUM, 0),
        ),
        {"node2"},
        id="when highest priorities are the same, minimum sum of priorities is picked",
    ),
    pytest.param(
        ["node1", "node2", "node3"],
        pod("p", priority=HIGH, req=VERY_LARGE),
        _pods(
            ("p1.1", "node1", MID, SMALL, 0),
            ("p1.2", "node1", NEG, SMALL, 0),
            ("p1.3", "node1", MID, SMALL, 0),
            ("p1.4", "node1", NEG, SMALL, 0),
            ("p2.1", "node2", MID, LARGE, 0),
            ("p2.2", "node2", NEG, MEDIUM, 0),
            ("p3.1", "node3", MID, MEDIUM, 0),
            ("p3.2", "node3", NEG, SMALL, 0),
            ("p3.3", "node3", LOW, SMALL, 0),
        ),
        {"node2"},
        id="when highest priority and sum are the same, minimum number of pods is picked",
    ),
    pytest.param(
        ["node1", "node2", "node3"],
        pod("p", priority=HIGH, req=VERY_LARGE),
        _pods(
            ("p1.1", "node1", MID, SMALL, 0),
            ("p1.2", "node1", NEG, SMALL, 0),
            ("p1.3", "node1", NEG, SMALL, 0),
            ("p2.1", "node2", MID, LARGE, 0),
            ("p2.2", "node2", NEG, MEDIUM, 0),
            ("p3.1", "node3", MID, MEDIUM, 0),
            ("p3.2", "node3", NEG, SMALL, 0),
            ("p3.3", "node3", LOW, SMALL, 0),
        ),
        {"node2"},
        id="sum of adjusted priorities is considered",
    ),
    pytest.param(
        ["node1", "node2", "node3", "node4"],
        pod("p", priority=VERY_HIGH, req=VERY_LARGE),
        _pods(
            ("p1.1", "node1", MID, SMALL, 0),
            ("p1.2", "node1", LOW, SMALL, 0),
            ("p1.3", "node1", LOW, SMALL, 0),
            ("p2.1", "node2", HIGH, LARGE, 0),
            ("p3.1", "node3", MID, MEDIUM, 0),
            ("p3.2", "node3", LOW, SMALL, 0),
            ("p3.3", "node3", LOW, SMALL, 0),
            ("p3.4", "node3", LOW, MEDIUM, 0),
            ("p4.1", "node4", MID, MEDIUM, 0),
            ("p4.2", "node4", MID, SMALL, 0),
            ("p4.3", "node4", MID, SMALL, 0),
            ("p4.4", "node4", NEG, SMALL, 0),
        ),
        {"node1"},
        id="non-overlapping lowest high priority, sum priorities, and number of pods",
    ),
    pytest.param(
        ["node1", "node2", "node3"],
        pod("p", priority=HIGH, req=VERY_LARGE),
        _pods(
            ("p1.1", "node1", MID, MEDIUM, 2),
            ("p1.2", "node1", MID, MEDIUM, 2),
            ("p2.1", "node2", MID, MEDIUM, 3),
            ("p2.2", "node2", MID, MEDIUM, 3),
            ("p3.1", "node3", MID, MEDIUM, 1),
            ("p3.2", "node3", MID, MEDIUM, 1),
        ),
        {"node2"},
        id="same priority, same number of victims, different start time for each node's pod",
    ),
    pytest.param(
        ["node1", "node2", "node3"],
        pod("p", priority=HIGH, req=VERY_LARGE),
        _pods(
            ("p1.1", "node1", MID, MEDIUM, 4),
            ("p1.2", "node1", MID, MEDIUM, 2),
            ("p2.1", "node2", MID, MEDIUM, 5),
            ("p2.2", "node2", MID, MEDIUM, 1),
            ("p3.1", "node3", MID, MEDIUM, 3),
            ("p3.2", "node3", MID, MEDIUM, 6),
        ),
        {"node3"},
        id="same priority, same number of victims, different start time for all pods",
    ),
    pytest.param(
        ["node1", "node2", "node3"],
        pod("p", priority=HIGH, req=VERY_LARGE),
        _pods(
            ("p1.1", "node1", LOW, MEDIUM, 4),
            ("p1.2", "node1", MID, MEDIUM, 2),
            ("p2.1", "node2", MID, MEDIUM, 6),
            ("p2.2", "node2", LOW, MEDIUM, 1),
            ("p3.1", "node3", LOW, MEDIUM, 3),
            ("p3.2", "node3", MID, MEDIUM, 5),
        ),
        {"node2"},
        id="different priority, same number of victims, different start time for all pods",
    ),
]


@pytest.mark.parametrize(("node_names", "preemptor", "pods", "expected"), SELECT_CASES)
@pytest.mark.parametrize("seed", [4, 5])
def test_select_best_candidate(
    node_names: list[str], preemptor: Pod, pods: list[Pod], expected: set[str], seed: int
) -> None:
    """Upstream TestSelectBestCandidate, from two random offsets."""
    fwk = framework(["NodeResourcesFit"], [node(n) for n in node_names], pods)
    pl = plugin(fwk)
    pl.rng = random.Random(seed)
    infos = fwk.snapshot().list()
    state = pre_filtered(fwk, preemptor)
    offset, count = pl.get_offset_and_num_candidates(len(infos))
    candidates, _, _ = pl.evaluator.dry_run_preemption(state, preemptor, infos, [], offset, count)
    best = pl.evaluator.select_candidate(candidates)
    assert best is not None and best.name in expected


# -- TestCustomSelection / TestCustomOrdering ---------------------------------------------------


def _label_eligible(node_info: NodeInfo, victim: PodInfo, preemptor: Pod) -> bool:
    return victim.pod.metadata.labels.get("preemptible") == "yes"  # type: ignore[union-attr]


def _on_node1(node_info: NodeInfo, victim: PodInfo, preemptor: Pod) -> bool:
    return node_info.name == "node1"


LABELLED = [
    pod("v1", node="node1", priority=MID, req=LARGE, start=0, labels={"preemptible": "no"}),
    pod("v2", node="node2", priority=MID, req=LARGE, start=0, labels={"preemptible": "yes"}),
    pod("v3", node="node3", priority=LOW, req=LARGE, start=0, labels={"preemptible": "yes"}),
    pod("v4", node="node4", priority=LOW, req=LARGE, start=0),
]
ON_NODE1 = [
    pod("v1", node="node1", priority=HIGH, req=MEDIUM, start=0),
    pod("v2", node="node1", priority=MID, req=SMALL, start=0),
    pod("v3", node="node1", priority=LOW, req=SMALL, start=0),
    pod("v4", node="node2", priority=MID, req=LARGE, start=0),
    pod("v5", node="node3", priority=LOW, req=LARGE, start=0),
]


@pytest.mark.parametrize(
    ("eligible", "preemptor", "pods", "expected"),
    [
        pytest.param(
            _label_eligible,
            pod("p1", priority=HIGH, req=LARGE),
            LABELLED,
            {"node2": ["v2"], "node3": ["v3"]},
            id="filter for matching pod label: high priority",
        ),
        pytest.param(
            _label_eligible,
            pod("p2", priority=MID, req=LARGE),
            LABELLED,
            {"node3": ["v3"]},
            id="filter for matching pod label: mid priority",
        ),
        pytest.param(
            _label_eligible,
            pod("p3", priority=LOW, req=LARGE),
            LABELLED,
            {},
            id="filter for matching pod label: low priority",
        ),
        pytest.param(
            _on_node1,
            pod("p3", priority=HIGH, req=LARGE),
            ON_NODE1,
            {"node1": ["v2", "v3"]},
            id="filter for matching victim node: high priority",
        ),
    ],
)
def test_custom_selection(
    eligible: Any, preemptor: Pod, pods: list[Pod], expected: dict[str, list[str]]
) -> None:
    """Upstream TestCustomSelection: ``is_eligible_pod`` narrows the victims."""
    names = sorted({p.spec.node_name for p in pods})  # type: ignore[union-attr, type-var]
    fwk = framework(["NodeResourcesFit"], [node(n) for n in names], pods)
    pl = plugin(fwk)
    pl.is_eligible_pod = eligible
    infos = fwk.snapshot().list()
    state = pre_filtered(fwk, preemptor)
    offset, count = pl.get_offset_and_num_candidates(len(infos))
    candidates, _, _ = pl.evaluator.dry_run_preemption(state, preemptor, infos, [], offset, count)
    got = {c.name: [v.metadata.name for v in c.victims.pods] for c in candidates}  # type: ignore[union-attr]
    assert got == expected


@pytest.mark.parametrize(
    ("less", "pods", "expected"),
    [
        pytest.param(
            lambda a, b: a.status.start_time < b.status.start_time,
            [
                pod("v1", node="node1", priority=LOW, req=MEDIUM, start=2),
                pod("v2", node="node1", priority=LOW, req=MEDIUM, start=0),
                pod("v3", node="node1", priority=MID, req=MEDIUM, start=1),
            ],
            ["v3", "v1"],
            id="select newest pods",
        ),
        pytest.param(
            lambda a, b: a.metadata.name < b.metadata.name,
            [
                pod("foo", node="node1", priority=LOW, req=MEDIUM, start=0),
                pod("bar", node="node1", priority=LOW, req=MEDIUM, start=0),
                pod("baz", node="node1", priority=MID, req=MEDIUM, start=0),
            ],
            ["baz", "foo"],
            id="select alphabetically-last pods",
        ),
    ],
)
def test_custom_ordering(less: Any, pods: list[Pod], expected: list[str]) -> None:
    """Upstream TestCustomOrdering: ``more_important_pod`` orders the reprieves."""
    preemptor = pod("p2", priority=HIGH, req=LARGE)
    fwk = framework(["NodeResourcesFit"], [node("node1")], pods)
    pl = plugin(fwk)
    pl.more_important_pod = less
    state = pre_filtered(fwk, preemptor)
    infos = fwk.snapshot().list()
    candidates, _, _ = pl.evaluator.dry_run_preemption(state, preemptor, infos, [], 0, 1)
    assert [[v.metadata.name for v in c.victims.pods] for c in candidates] == [expected]  # type: ignore[union-attr]


# -- TestPodEligibleToPreemptOthers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("preemptor", "pods", "nodes", "nominated_status", "expected"),
    [
        pytest.param(
            pod("p_with_nominated_node", priority=HIGH, nominated="node1"),
            [pod("p1", priority=LOW, node="node1", terminating=True)],
            ["node1"],
            Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "node(s) had untolerated taint(s)"),
            True,
            id="Pod with nominated node",
        ),
        pytest.param(
            pod("p_without_nominated_node", priority=HIGH),
            [],
            [],
            None,
            True,
            id="Pod without nominated node",
        ),
        pytest.param(
            pod("p_with_preempt_never_policy", priority=HIGH, never=True),
            [],
            [],
            None,
            False,
            id="Pod with 'PreemptNever' preemption policy",
        ),
        pytest.param(
            pod("p_with_nominated_node", priority=HIGH, nominated="node1"),
            [
                pod(
                    "p1",
                    priority=LOW,
                    node="node1",
                    terminating=True,
                    condition=("DisruptionTarget", "True", "PreemptionByScheduler"),
                )
            ],
            ["node1"],
            None,
            False,
            id="preemption victim pod terminating, as indicated by the dedicated "
            "DisruptionTarget condition",
        ),
        pytest.param(
            pod("p_with_nominated_node", priority=HIGH, nominated="node1"),
            [pod("p1", priority=LOW, node="node1", terminating=True)],
            ["node1"],
            None,
            True,
            id="non-victim Pods terminating",
        ),
    ],
)
def test_pod_eligible_to_preempt_others(
    preemptor: Pod,
    pods: list[Pod],
    nodes: list[str],
    nominated_status: Status | None,
    expected: bool,
) -> None:
    fwk = framework([], [node(n) for n in nodes], pods)
    ok, _ = plugin(fwk).pod_eligible_to_preempt_others(preemptor, nominated_status)
    assert ok is expected


@pytest.mark.parametrize(
    ("preemptor", "message"),
    [
        (
            pod("p", priority=HIGH, never=True),
            "preemption: not eligible due to preemptionPolicy=Never.",
        ),
        (
            pod("p", priority=HIGH, nominated="node1"),
            "preemption: not eligible due to a terminating pod on the nominated node.",
        ),
    ],
)
def test_an_ineligible_pod_is_unschedulable_with_the_reason(preemptor: Pod, message: str) -> None:
    victim = pod(
        "p1",
        priority=LOW,
        node="node1",
        terminating=True,
        condition=("DisruptionTarget", "True", "PreemptionByScheduler"),
    )
    fwk = framework(["NodeResourcesFit"], [one_pod_node("node1")], [victim], client=FakeClient())
    result, status = asyncio.run(
        plugin(fwk).post_filter(CycleState(), preemptor, unschedulable("node1"))
    )
    assert (result, status) == (None, Status(Code.UNSCHEDULABLE, message))


# -- TestPreempt --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preemptor", "pods", "node_names", "plugins", "want", "expected_deleted"),
    [
        pytest.param(
            pod(
                "p",
                priority=HIGH,
                req=VERY_LARGE,
                spec={"preemptionPolicy": "PreemptLowerPriority"},
            ),
            basic := [
                pod("p1.1", node="node1", priority=LOW, req=SMALL),
                pod("p1.2", node="node1", priority=LOW, req=SMALL),
                pod("p2.1", node="node2", priority=HIGH, req=LARGE),
                pod("p3.1", node="node3", priority=MID, req=MEDIUM),
            ],
            ["node1", "node2", "node3"],
            ["NodeResourcesFit"],
            PostFilterResult("node1"),
            ["p1.1", "p1.2"],
            id="basic preemption logic",
        ),
        pytest.param(
            pod("p", labels={"foo": ""}, priority=HIGH, spec=FOO_SPREAD),
            [
                pod("p-a1", node="node-a", labels={"foo": ""}, priority=HIGH),
                pod("p-a2", node="node-a", labels={"foo": ""}, priority=HIGH),
                pod("p-b1", node="node-b", labels={"foo": ""}, priority=LOW),
                pod("p-x1", node="node-x", labels={"foo": ""}, priority=HIGH),
                pod("p-x2", node="node-x", labels={"foo": ""}, priority=HIGH),
            ],
            ["node-a/zone1", "node-b/zone1", "node-x/zone2"],
            ["PodTopologySpread"],
            PostFilterResult("node-b"),
            ["p-b1"],
            id="preemption for topology spread constraints",
        ),
        pytest.param(
            pod("p", priority=HIGH, req=VERY_LARGE, never=True),
            basic,
            ["node1", "node2", "node3"],
            ["NodeResourcesFit"],
            None,
            [],
            id="no preempting in pod",
        ),
        pytest.param(
            pod("p", priority=HIGH, req=VERY_LARGE),
            basic,
            ["node1", "node2", "node3"],
            ["NodeResourcesFit"],
            PostFilterResult("node1"),
            ["p1.1", "p1.2"],
            id="PreemptionPolicy is nil",
        ),
    ],
)
def test_preempt(
    preemptor: Pod,
    pods: list[Pod],
    node_names: list[str],
    plugins: list[str],
    want: PostFilterResult | None,
    expected_deleted: list[str],
) -> None:
    """Upstream TestPreempt: the nominated node, and the victims patched then deleted."""
    client = FakeClient()
    nodes = [node(n) for n in node_names]
    fwk = framework(plugins, nodes, pods, client=client)
    state = pre_filtered(fwk, preemptor)
    statuses = unschedulable(*(n.metadata.name for n in nodes))  # type: ignore[union-attr]
    result, status = asyncio.run(plugin(fwk).evaluator.preempt(state, preemptor, statuses))
    assert status.success or status.rejected, status
    assert result == want
    assert sorted(client.deleted) == expected_deleted
    assert sorted(name for name, _, _ in client.patched) == expected_deleted
    for _, body, subresource in client.patched:
        assert subresource == "status"
        (condition,) = body["status"]["conditions"]
        assert (condition["type"], condition["status"], condition["reason"]) == (
            "DisruptionTarget",
            "True",
            "PreemptionByScheduler",
        )
        assert condition["message"] == (
            "default-scheduler: preempting to accommodate a higher priority pod"
        )
    events = [e for e in client.created if isinstance(e, Event)]
    assert sorted(e.involved_object.name for e in events) == expected_deleted
    for e in events:
        assert (e.reason, e.type) == ("Preempted", "Normal")
        assert e.message == f"Preempted by pod p on node {want.nominated_node_name}"  # type: ignore[union-attr]


def test_lower_priority_pods_nominated_to_the_node_lose_their_nomination() -> None:
    client = FakeClient()
    fwk = framework(
        ["NodeResourcesFit"],
        [one_pod_node("node1")],
        [pod("p1", node="node1", priority=LOW)],
        client=client,
    )
    lower = pod("lower", priority=MID, nominated="node1")
    higher = pod("higher", priority=VERY_HIGH, nominated="node1")
    fwk.nominator.add(PodInfo(lower), "node1")
    fwk.nominator.add(PodInfo(higher), "node1")
    preemptor = pod("p", priority=HIGH)
    pl = plugin(fwk)
    candidate = Candidate("node1", Victims((pod("p1", node="node1", priority=LOW),)))
    assert asyncio.run(pl.evaluator.prepare_candidate(candidate, preemptor)) is None
    assert ("lower", {"status": {"nominatedNodeName": None}}, "status") in client.patched
    assert all(name != "higher" for name, _, _ in client.patched)


def test_a_victim_already_gone_is_not_an_error_but_other_failures_are() -> None:
    class Gone(Exception):
        code = 404

    class Failing(FakeClient):
        def __init__(self, exc: Exception) -> None:
            super().__init__()
            self.exc = exc

        async def delete(self, cls: type, name: str, *, namespace: str | None = None) -> None:
            raise self.exc

    for exc, ok in [(Gone('pods "p1" not found'), True), (RuntimeError("boom"), False)]:
        fwk = framework(["NodeResourcesFit"], [one_pod_node("node1")], client=Failing(exc))
        candidate = Candidate("node1", Victims((pod("p1", node="node1"),)))
        status = asyncio.run(
            plugin(fwk).evaluator.prepare_candidate(candidate, pod("p", priority=1))
        )
        assert (status is None) is ok
        if not ok:
            assert status == Status(Code.ERROR, "boom")


# -- pickOneNodeForPreemption and properties ----------------------------------------------------


def test_pick_one_node_tie_breaks_in_order() -> None:
    """Each criterion only breaks the previous one's ties; the first node wins a full tie."""
    at = [
        pod(f"v{i}", priority=prio, start=s)
        for i, (prio, s) in enumerate([(MID, 1), (MID, 1), (LOW, 1), (LOW, 2), (LOW, 2)])
    ]
    victims = {
        "a": Victims((at[0],), 1),  # a PDB violation loses at once
        "b": Victims((at[1],)),  # higher highest priority than c, d and e
        "c": Victims((at[2], at[3])),  # more victims than d and e
        "d": Victims((at[3],)),
        "e": Victims((at[4],)),
    }
    assert pick_one_node_for_preemption(victims) == "d"
    assert pick_one_node_for_preemption({}) == ""
    assert pick_one_node_for_preemption(victims, [lambda n: 1 if n == "c" else 0]) == "c"


victims_st = st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 5)), min_size=1, max_size=4).map(
    lambda vs: sorted(vs, key=lambda v: (-v[0], v[1]))
)


@given(st.lists(st.tuples(victims_st, st.integers(0, 2)), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_pick_one_node_is_the_first_with_the_best_criteria(nodes: list[Any]) -> None:
    victims: dict[str, Victims] = {}
    keys = {}
    for i, (vs, violations) in enumerate(nodes):
        name = f"n{i}"
        victims[name] = Victims(
            tuple(pod(f"{name}-{j}", priority=p, start=s) for j, (p, s) in enumerate(vs)),
            violations,
        )
        top = vs[0][0]
        keys[name] = (
            violations,
            top,
            sum(p for p, _ in vs) + len(vs) * 2**31,
            len(vs),
            -min(s for p, s in vs if p == top),
        )
    best = min(keys.values())
    assert pick_one_node_for_preemption(victims) == next(n for n in victims if keys[n] == best)


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(1, 6)), max_size=6),
    st.integers(0, 4),
    st.integers(1, 8),
)
@settings(max_examples=60, deadline=None)
def test_victims_are_lower_priority_and_minimal(
    existing: list[tuple[int, int]], priority: int, cpu: int
) -> None:
    """With NodeResourcesFit alone: the preemptor fits once the victims are gone, every victim
    has a lower priority, and putting any one victim back makes the preemptor not fit."""
    pods = [
        pod(f"e{i}", node="node1", priority=prio, req=(f"{c}00m", "1"))
        for i, (prio, c) in enumerate(existing)
    ]
    fwk = framework(["NodeResourcesFit"], [make_node("node1", cpu="1", memory="1Gi")], pods)
    preemptor = pod("p", priority=priority, req=(f"{cpu}00m", "1"))
    state = pre_filtered(fwk, preemptor)
    info = fwk.snapshot().get("node1").clone()
    victims, _, status = plugin(fwk).select_victims_on_node(state.clone(), preemptor, info, [])
    lower = [p for p in pods if (p.spec.priority or 0) < priority]  # type: ignore[union-attr]
    if not lower:
        assert status == Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, NO_VICTIMS)
        return
    rest = fwk.snapshot().get("node1").clone()
    for p in lower:
        rest.remove_pod(f"default/{p.metadata.name}")  # type: ignore[union-attr]
    fits_without_all = fwk.run_filter_plugins(state, preemptor, rest) is None
    if status is not None:
        assert status.code is Code.UNSCHEDULABLE and not fits_without_all
        return
    assert all((v.spec.priority or 0) < priority for v in victims)  # type: ignore[union-attr]
    after = fwk.snapshot().get("node1").clone()
    for v in victims:
        after.remove_pod(f"default/{v.metadata.name}")  # type: ignore[union-attr]
    assert fwk.run_filter_plugins(state, preemptor, after) is None
    for v in victims:
        back = after.clone()
        back.add_pod(PodInfo(v))
        assert fwk.run_filter_plugins(state, preemptor, back) is not None


# -- end to end: an in-process API server and the scheduler -------------------------------------


def _plain(obj: Any) -> Any:
    body = to_dict(obj)
    body["metadata"].pop("uid", None)
    return from_dict(body, type(obj))


E2E_CONFIG = {
    "apiVersion": "kubescheduler.config.k8s.io/v1",
    "kind": "KubeSchedulerConfiguration",
    "podInitialBackoffSeconds": 1,
    "podMaxBackoffSeconds": 1,
    "profiles": [
        {
            "plugins": {
                "multiPoint": {
                    "enabled": [
                        {"name": n}
                        for n in (
                            "PrioritySort",
                            "NodeResourcesFit",
                            "DefaultPreemption",
                            "DefaultBinder",
                        )
                    ],
                    "disabled": [{"name": "*"}],
                }
            }
        }
    ],
}


@contextlib.asynccontextmanager
async def cluster() -> AsyncIterator[Any]:
    from kframe.apiserver import APIServer
    from kframe.client import InProcessClient
    from kframe.scheduler import Scheduler, parse_config
    from kframe.store import open_store

    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)

    def lookup(name: str) -> PluginFactory:
        return BASE_FACTORIES[name]

    scheduler = Scheduler(client, parse_config(E2E_CONFIG), lookup, seed=1)
    task = asyncio.ensure_future(scheduler.run())
    try:
        yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()
        await server.store.close()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10) -> Any:
    """Poll until ``check`` returns a truthy value (a deadline, not a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


def test_a_high_priority_pod_preempts_a_low_priority_one_and_is_bound() -> None:
    async def main() -> None:
        async with cluster() as client:
            n1 = make_node("n1", cpu="1", memory="1Gi", pods="10")
            await client.create(_plain(n1))
            # The API server drops a new node's status, as upstream; the kubelet reports it.
            status = to_dict(n1)["status"]
            await client.patch(Node, "n1", {"status": status}, subresource="status")
            low = make_pod(
                "low", cpu="800m", node="n1", priority=0, spec={"terminationGracePeriodSeconds": 0}
            )
            await client.create(_plain(low))
            await client.create(_plain(make_pod("high", cpu="500m", priority=1000)))

            async def gone() -> bool:
                names = [
                    p.metadata.name for p in (await client.list(Pod, namespace="default")).items
                ]
                return "low" not in names

            await eventually(gone)

            async def bound() -> Any:
                high = await client.get(Pod, "high", namespace="default")
                return high if high.spec and high.spec.node_name else None

            high = await eventually(bound)
            assert high.spec.node_name == "n1"

            async def nominated() -> Any:
                high = await client.get(Pod, "high", namespace="default")
                return high.status and high.status.nominated_node_name

            assert await eventually(nominated) == "n1"

            async def preempted() -> list[Event]:
                items = (await client.list(Event, namespace="default")).items
                return [e for e in items if e.reason == "Preempted"]

            (event,) = await eventually(preempted)
            assert event.involved_object.name == "low"
            assert event.message == f"Preempted by pod {high.metadata.uid} on node n1"

    asyncio.run(main())


def test_a_preemptor_waits_while_its_victim_terminates_gracefully() -> None:
    """A victim with a grace period is marked (DisruptionTarget) and stays until its kubelet
    deletes it; meanwhile the nominated preemptor does not preempt again."""

    async def main() -> None:
        async with cluster() as client:
            n1 = make_node("n1", cpu="1", memory="1Gi", pods="10")
            await client.create(_plain(n1))
            status = to_dict(n1)["status"]
            await client.patch(Node, "n1", {"status": status}, subresource="status")
            await client.create(_plain(make_pod("low", cpu="800m", node="n1", priority=0)))
            await client.create(_plain(make_pod("high", cpu="500m", priority=1000)))

            async def terminating() -> Any:
                low = await client.get(Pod, "low", namespace="default")
                return low if low.metadata and low.metadata.deletion_timestamp else None

            low = await eventually(terminating)
            (condition,) = [c for c in low.status.conditions if c.type == "DisruptionTarget"]
            assert (condition.status, condition.reason) == ("True", "PreemptionByScheduler")

            async def waiting() -> Any:
                items = (await client.list(Event, namespace="default")).items
                return [
                    e
                    for e in items
                    if e.reason == "FailedScheduling"
                    and "preemption: not eligible due to a terminating pod on the nominated node."
                    in (e.message or "")
                ]

            (event, *_) = await eventually(waiting)
            assert event.message == (
                "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to "
                "a terminating pod on the nominated node.."
            )
            high = await client.get(Pod, "high", namespace="default")
            assert high.status.nominated_node_name == "n1"
            assert not high.spec.node_name

    asyncio.run(main())
