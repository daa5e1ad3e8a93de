"""PodTopologySpread PreScore/Score/NormalizeScore, ported from upstream
podtopologyspread/scoring_test.go (TestPreScoreSkip, TestPreScoreStateEmptyNodes,
TestPodTopologySpreadScore), plus the default selector (helper.DefaultSelector) and properties.

Upstream's cases that run with the NodeInclusionPolicy or MatchLabelKeys feature gates off are
left out: both are on in 1.33. Upstream's pods and Services live in namespace ""; here they are
in "default".
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import (
    Node,
    Pod,
    ReplicaSet,
    Service,
    StatefulSet,
    TopologySpreadConstraint,
)
from kframe.scheduler import (
    Code,
    ConfigError,
    CycleState,
    Framework,
    NodeScore,
    PluginConfig,
    PluginFactory,
    PluginRef,
    Plugins,
    PluginSet,
    Profile,
    Snapshot,
    Status,
    schedule_pod,
)
from kframe.testing.scheduler import StaticHandle
from kframe_plugins.scheduler.names import POD_TOPOLOGY_SPREAD
from kframe_plugins.scheduler.podtopologyspread import (
    FACTORIES,
    PodTopologySpread,
    PodTopologySpreadArgs,
)
from kframe_plugins.scheduler.podtopologyspread._scoring import (
    PRE_SCORE_STATE_KEY,
    PreScoreState,
    go_round,
    topology_normalizing_weight,
)

HOST, ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
FOO = {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}
BAR = {"matchExpressions": [{"key": "bar", "operator": "Exists"}]}
TAINTS = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
LIST = PodTopologySpreadArgs(defaulting_type="List")
SYSTEM = PodTopologySpreadArgs()
HF = ("Honor", "Ignore")
RS = ("apps/v1", "ReplicaSet")


def w(size: int) -> float:
    return topology_normalizing_weight(size)


# -- builders ---------------------------------------------------------------------------------


def sc(
    max_skew: int,
    key: str,
    when: str = "ScheduleAnyway",
    selector: dict[str, Any] | None = FOO,
    *,
    min_domains: int | None = None,
    affinity: str | None = None,
    taints: str | None = None,
    keys: list[str] | None = None,
) -> dict[str, Any]:
    c: dict[str, Any] = {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when}
    if selector is not None:
        c["labelSelector"] = selector
    if min_domains is not None:
        c["minDomains"] = min_domains
    if affinity is not None:
        c["nodeAffinityPolicy"] = affinity
    if taints is not None:
        c["nodeTaintsPolicy"] = taints
    if keys is not None:
        c["matchLabelKeys"] = keys
    return c


def pod(
    name: str = "p",
    *,
    node: str | None = None,
    labels: dict[str, str] | None = None,
    ns: str = "default",
    spread: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
    node_selector: dict[str, str] | None = None,
    affinity_in: tuple[str, list[str]] | None = None,
    terminating: bool = False,
    owner: tuple[str, str, str] | None = None,
) -> Pod:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "registry.k8s.io/pause"}]}
    if node is not None:
        spec["nodeName"] = node
    if spread:
        spec["topologySpreadConstraints"] = list(spread)
    if node_selector is not None:
        spec["nodeSelector"] = node_selector
    if affinity_in is not None:
        key, values = affinity_in
        term = {"matchExpressions": [{"key": key, "operator": "In", "values": values}]}
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
            }
        }
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": name, "labels": labels or {}}
    if terminating:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    if owner is not None:
        api_version, kind, owner_name = owner
        meta["ownerReferences"] = [
            {
                "apiVersion": api_version,
                "kind": kind,
                "name": owner_name,
                "uid": owner_name,
                "controller": True,
            }
        ]
    return from_dict({"metadata": meta, "spec": spec}, Pod)


def ep(name: str, node: str, ns: str = "default", **labels: str) -> Pod:
    return pod(name, node=node, labels=labels, ns=ns)


def node(name: str, labels: dict[str, str], taints: list[dict[str, str]] | None = None) -> Node:
    body: dict[str, Any] = {"metadata": {"name": name, "labels": labels}}
    if taints:
        body["spec"] = {"taints": taints}
    return from_dict(body, Node)


def host(name: str, **labels: str) -> Node:
    """A node with kubernetes.io/hostname=<name> and these labels."""
    return node(name, {HOST: name, **labels})


def zh(name: str, zone: str) -> Node:
    return node(name, {"zone": zone, HOST: name})


def service(selector: dict[str, str], ns: str = "default") -> Service:
    body = {"metadata": {"name": "svc", "namespace": ns}, "spec": {"selector": selector}}
    return from_dict(body, Service)


def replica_set(name: str, selector: dict[str, Any], ns: str = "default") -> ReplicaSet:
    body = {"metadata": {"name": name, "namespace": ns}, "spec": {"selector": selector}}
    return from_dict(body, ReplicaSet)


def plugin(
    nodes: list[Node],
    pods: list[Pod] | None = None,
    args: PodTopologySpreadArgs = SYSTEM,
    objects: list[object] | None = None,
) -> tuple[PodTopologySpread, Snapshot]:
    snapshot = Snapshot.build(nodes, pods or [])
    pl = FACTORIES[POD_TOPOLOGY_SPREAD].new(args, StaticHandle(snapshot, objects or []))
    assert isinstance(pl, PodTopologySpread)
    return pl, snapshot


def constraints_of(s: PreScoreState) -> list[tuple[Any, ...]]:
    return [
        (
            c.topology_key,
            c.max_skew,
            str(c.selector) if c.selector.selectable else None,
            c.min_domains,
            "Honor" if c.honor_affinity else "Ignore",
            "Honor" if c.honor_taints else "Ignore",
        )
        for c in s.constraints
    ]


# -- TestPreScoreSkip -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "args", "nodes", "objects"),
    [
        pytest.param(
            pod(),
            LIST,
            [host("node-a"), host("node-b")],
            [],
            id="TestPreScoreSkip/the pod doesn't have soft topology spread Constraints",
        ),
        pytest.param(
            pod(labels={"foo": "bar", "baz": "sup"}, owner=(*RS, "rs2")),
            PodTopologySpreadArgs(
                default_constraints=(
                    from_dict(
                        {
                            "maxSkew": 2,
                            "topologyKey": "planet",
                            "whenUnsatisfiable": "ScheduleAnyway",
                        },
                        TopologySpreadConstraint,
                    ),
                ),
                defaulting_type="List",
            ),
            [node("node-a", {"planet": "mars"})],
            [replica_set("rs1", {"matchExpressions": [{"key": "tar", "operator": "Exists"}]})],
            id="TestPreScoreSkip/default constraints and a replicaset that doesn't match",
        ),
        pytest.param(pod(labels={"foo": ""}), SYSTEM, [], [service({"foo": ""})], id="no nodes"),
    ],
)
def test_pre_score_skip(
    p: Pod, args: PodTopologySpreadArgs, nodes: list[Node], objects: list[object]
) -> None:
    pl, snapshot = plugin(nodes, args=args, objects=objects)
    assert pl.pre_score(CycleState(), p, snapshot.list()) == Status(Code.SKIP)


# -- TestPreScoreStateEmptyNodes --------------------------------------------------------------


def _defaults(*cs: tuple[int, str, str]) -> PodTopologySpreadArgs:
    return PodTopologySpreadArgs(
        default_constraints=tuple(
            from_dict(
                {"maxSkew": m, "topologyKey": k, "whenUnsatisfiable": wu}, TopologySpreadConstraint
            )
            for m, k, wu in cs
        ),
        defaulting_type="List",
    )


ZONE3 = [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")]
ZONE3_FOO = [
    node("node-a", {"zone": "zone1", "foo": "", HOST: "node-a"}),
    node("node-b", {"zone": "zone1", "foo": "", HOST: "node-b"}),
    node("node-x", {"zone": "zone2", HOST: "node-x"}),
]
ZONE3_TAINT = [
    node("node-a", {"zone": "zone1", "foo": "", HOST: "node-a"}),
    node("node-b", {"zone": "zone1", "foo": "", HOST: "node-b"}),
    node("node-x", {"zone": "zone2", HOST: "node-x"}, TAINTS),
]
ZONES_21 = {"zone": {"zone1": 0, "zone2": 0}}

PRE_SCORE_STATE_CASES: list[Any] = [
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone"), sc(1, HOST)]), ZONE3, LIST, [],
        [("zone", 1, "foo", 1, *HF), (HOST, 1, "foo", 1, *HF)], set(), ZONES_21, [w(2), w(3)],
        id="TestPreScoreStateEmptyNodes/normal case",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone", selector=None)]), ZONE3, LIST, [],
        [("zone", 1, None, 1, *HF)], set(), ZONES_21, [w(2)],
        id="TestPreScoreStateEmptyNodes/null selector",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone"), sc(1, HOST, selector=BAR)]),
        [zh("node-a", "zone1"), zh("node-b", "zone1"), host("node-x")], LIST, [],
        [("zone", 1, "foo", 1, *HF), (HOST, 1, "bar", 1, *HF)], {"node-x"},
        {"zone": {"zone1": 0}}, [w(1), w(2)],
        id="TestPreScoreStateEmptyNodes/node-x doesn't have label zone",
    ),
    pytest.param(
        pod(labels={"foo": "tar", "baz": "sup"}, owner=(*RS, "rs1")),
        [host("node-a", **{ZONE: "mars"}), host("node-b", **{ZONE: "mars"}), host("node-c"),
         host("node-d")],
        SYSTEM, [replica_set("rs1", FOO)],
        [(HOST, 3, "foo", 1, *HF), (ZONE, 5, "foo", 1, *HF)], set(),
        {ZONE: {"mars": 0, "": 0}}, [w(4), w(2)],
        id="TestPreScoreStateEmptyNodes/system default constraints and a replicaset",
    ),
    pytest.param(
        pod(labels={"foo": "tar", "baz": "sup"}, owner=(*RS, "rs1")),
        [node("node-a", {"rack": "rack1", HOST: "node-a", "planet": "mars"})],
        _defaults((1, HOST, "ScheduleAnyway"), (2, "rack", "DoNotSchedule"),
                  (2, "planet", "ScheduleAnyway")),
        [replica_set("rs1", FOO)],
        [(HOST, 1, "foo", 1, *HF), ("planet", 2, "foo", 1, *HF)], set(),
        {"planet": {"mars": 0}}, [w(1), w(1)],
        id="TestPreScoreStateEmptyNodes/default constraints and a replicaset",
    ),
    pytest.param(
        pod(labels={"foo": "bar", "baz": "sup"}, owner=(*RS, "rs1"),
            spread=[sc(1, "zone", "DoNotSchedule", selector=BAR),
                    sc(2, "planet", selector={"matchLabels": {"baz": "sup"}})]),
        [node("node-a", {"planet": "mars", "galaxy": "andromeda"})],
        _defaults((2, "galaxy", "ScheduleAnyway")), [replica_set("rs1", FOO)],
        [("planet", 2, "baz=sup", 1, *HF)], set(), {"planet": {"mars": 0}}, [w(1)],
        id="TestPreScoreStateEmptyNodes/default constraints and a replicaset, but pod has "
           "constraints",
    ),
    pytest.param(
        pod(labels={"foo": ""}, node_selector={"foo": ""}, spread=[sc(1, "zone", selector=BAR)]),
        ZONE3_FOO, LIST, [], [("zone", 1, "bar", 1, *HF)], set(), ZONES_21, [w(2)],
        id="TestPreScoreStateEmptyNodes/NodeAffinityPolicy honored with labelSelectors",
    ),
    pytest.param(
        pod(labels={"foo": ""}, node_selector={"foo": ""},
            spread=[sc(1, "zone", selector=BAR, affinity="Ignore")]),
        ZONE3_FOO, LIST, [], [("zone", 1, "bar", 1, "Ignore", "Ignore")], set(), ZONES_21, [w(2)],
        id="TestPreScoreStateEmptyNodes/NodeAffinityPolicy ignored with labelSelectors",
    ),
    pytest.param(
        pod(labels={"foo": ""}, affinity_in=("foo", [""]), spread=[sc(1, "zone", selector=BAR)]),
        ZONE3_FOO, LIST, [], [("zone", 1, "bar", 1, *HF)], set(), ZONES_21, [w(2)],
        id="TestPreScoreStateEmptyNodes/NodeAffinityPolicy honored with nodeAffinity",
    ),
    pytest.param(
        pod(labels={"foo": ""}, affinity_in=("foo", [""]),
            spread=[sc(1, "zone", selector=BAR, affinity="Ignore")]),
        ZONE3_FOO, LIST, [], [("zone", 1, "bar", 1, "Ignore", "Ignore")], set(), ZONES_21, [w(2)],
        id="TestPreScoreStateEmptyNodes/NodeAffinityPolicy ignored with nodeAffinity",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone", selector=BAR, taints="Honor")]),
        ZONE3_TAINT, LIST, [], [("zone", 1, "bar", 1, "Honor", "Honor")], set(), ZONES_21, [w(2)],
        id="TestPreScoreStateEmptyNodes/NodeTaintsPolicy honored",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone", selector=BAR)]),
        ZONE3_TAINT, LIST, [], [("zone", 1, "bar", 1, *HF)], set(), ZONES_21, [w(2)],
        id="TestPreScoreStateEmptyNodes/NodeTaintsPolicy ignored",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("p", "nodes", "args", "objects", "constraints", "ignored", "counts", "weights"),
    PRE_SCORE_STATE_CASES,
)
def test_pre_score_state(
    p: Pod,
    nodes: list[Node],
    args: PodTopologySpreadArgs,
    objects: list[object],
    constraints: list[tuple[Any, ...]],
    ignored: set[str],
    counts: dict[str, dict[str, int]],
    weights: list[float],
) -> None:
    pl, snapshot = plugin(nodes, args=args, objects=objects)
    state = CycleState()
    filtered = [snapshot.get(n.metadata.name or "") for n in nodes]  # type: ignore[union-attr]
    assert pl.pre_score(state, p, filtered) is None
    s = state.read(PRE_SCORE_STATE_KEY)
    assert constraints_of(s) == constraints
    assert s.ignored_nodes == ignored
    got = {c.topology_key: s.counts[i] for i, c in enumerate(s.constraints) if not c.is_hostname}
    assert got == counts
    assert s.weights == weights


# -- TestPodTopologySpreadScore ---------------------------------------------------------------

HOSTS4 = [host("node-a"), host("node-b"), host("node-c"), host("node-d")]
SPREAD_2103 = [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
               ep("p-b1", "node-b", foo=""), ep("p-d1", "node-d", foo=""),
               ep("p-d2", "node-d", foo=""), ep("p-d3", "node-d", foo="")]  # fmt: skip
SPREAD_4321 = [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
               ep("p-a3", "node-a", foo=""), ep("p-a4", "node-a", foo=""),
               ep("p-b1", "node-b", foo=""), ep("p-b2", "node-b", foo=""),
               ep("p-b3", "node-b", foo=""), ep("p-c1", "node-c", foo=""),
               ep("p-c2", "node-c", foo=""), ep("p-d1", "node-d", foo="")]  # fmt: skip
SPREAD_4213 = [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
               ep("p-a3", "node-a", foo=""), ep("p-a4", "node-a", foo=""),
               ep("p-b1", "node-b", foo=""), ep("p-b2", "node-b", foo=""),
               ep("p-x1", "node-x", foo=""), ep("p-y1", "node-y", foo=""),
               ep("p-y2", "node-y", foo=""), ep("p-y3", "node-y", foo="")]  # fmt: skip
DIFF_SEL = [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo="", bar=""),
            ep("p-y1", "node-y", foo=""), ep("p-y2", "node-y", bar="")]  # fmt: skip
ZONE_AB_XY = [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2"),
              zh("node-y", "zone2")]  # fmt: skip
NODE_ABC_FOO = [
    node("node-a", {"node": "node-a", "foo": ""}),
    node("node-b", {"node": "node-b", "foo": ""}),
    node("node-c", {"node": "node-c"}),
]
NODE_ABC_TAINT = [node("node-a", {"node": "node-a"}), node("node-b", {"node": "node-b"}),
                  node("node-c", {"node": "node-c"}, TAINTS)]  # fmt: skip
ABC_2111 = [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
            ep("p-b1", "node-b", foo=""), ep("p-c1", "node-c", foo="")]  # fmt: skip
ZONE_ABCD = [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-c", "zone2"),
             zh("node-d", "zone2")]  # fmt: skip
FOO_L = {"foo": ""}
FOO_BAR_POD = pod(labels={"foo": "", "bar": ""}, spread=[sc(1, "zone"), sc(1, HOST, selector=BAR)])

SCORE_CASES: list[Any] = [
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST)]), [], [host("node-a"), host("node-b")], [],
                 [], [("node-a", 100), ("node-b", 100)],
                 id="TestPodTopologySpreadScore/one constraint on node, no existing pods"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST)]),
                 [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
                  ep("p-b1", "node-b", foo="")], [host("node-a")], [host("node-b")], [],
                 [("node-a", 100)],
                 id="TestPodTopologySpreadScore/one constraint on node, only one node is "
                    "candidate"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST)]),
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo="")],
                 [host("node-a"), host("node-b")], [], [], [("node-a", 100), ("node-b", 100)],
                 id="TestPodTopologySpreadScore/one constraint on node, all nodes have the same "
                    "number of matching pods"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST)]), SPREAD_2103, HOSTS4, [], [],
                 [("node-a", 20), ("node-b", 60), ("node-c", 100), ("node-d", 0)],
                 id="TestPodTopologySpreadScore/one constraint on node, all 4 nodes are "
                    "candidates"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST, selector=None)]), SPREAD_2103, HOSTS4,
                 [], [],
                 [("node-a", 100), ("node-b", 100), ("node-c", 100), ("node-d", 100)],
                 id="TestPodTopologySpreadScore/one constraint on node, null selector"),
    pytest.param(pod(labels=FOO_L, spread=[sc(2, HOST)]), SPREAD_2103, HOSTS4, [], [],
                 [("node-a", 33), ("node-b", 66), ("node-c", 100), ("node-d", 16)],
                 id="TestPodTopologySpreadScore/one constraint on node, all 4 nodes are "
                    "candidates, maxSkew=2"),
    pytest.param(pod(labels=FOO_L, spread=[sc(3, HOST)]), SPREAD_4321, HOSTS4, [], [],
                 [("node-a", 44), ("node-b", 66), ("node-c", 77), ("node-d", 100)],
                 id="TestPodTopologySpreadScore/one constraint on node, all 4 nodes are "
                    "candidates, maxSkew=3"),
    pytest.param(pod(labels=FOO_L), SPREAD_4321, HOSTS4, [], [service({"foo": ""})],
                 [("node-a", 44), ("node-b", 66), ("node-c", 77), ("node-d", 100)],
                 id="TestPodTopologySpreadScore/system defaulting, nodes don't have zone, pods "
                    "match service"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST)]), SPREAD_4213,
                 [host("node-a"), host("node-b"), host("node-x")], [host("node-y")], [],
                 [("node-a", 33), ("node-b", 83), ("node-x", 100)],
                 id="TestPodTopologySpreadScore/one constraint on node, 3 out of 4 nodes are "
                    "candidates"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST)]), SPREAD_4213,
                 [host("node-a"), node("node-b", {"n": "node-b"}), host("node-x")],
                 [host("node-y")], [], [("node-a", 16), ("node-b", 0), ("node-x", 100)],
                 id="TestPodTopologySpreadScore/one constraint on node, 3 out of 4 nodes are "
                    "candidates, one node doesn't match topology key"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, "zone")]), SPREAD_4213,
                 [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")],
                 [zh("node-y", "zone2")], [], [("node-a", 75), ("node-b", 75), ("node-x", 100)],
                 id="TestPodTopologySpreadScore/one constraint on zone, 3 out of 4 nodes are "
                    "candidates"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, "zone"), sc(1, HOST)]),
                 [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
                  ep("p-b1", "node-b", foo=""), ep("p-x1", "node-x", foo=""),
                  ep("p-x2", "node-x", foo=""), ep("p-y1", "node-y", foo=""),
                  ep("p-y2", "node-y", foo=""), ep("p-y3", "node-y", foo=""),
                  ep("p-y4", "node-y", foo="")],
                 [zh("node-a", "zone1"), zh("node-x", "zone2")],
                 [zh("node-b", "zone1"), zh("node-y", "zone2")], [],
                 [("node-a", 100), ("node-x", 63)],
                 id="TestPodTopologySpreadScore/two Constraints on zone and node, 2 out of 4 nodes "
                    "are candidates"),
    pytest.param(FOO_BAR_POD,
                 DIFF_SEL, ZONE_AB_XY, [], [],
                 [("node-a", 60), ("node-b", 20), ("node-x", 100), ("node-y", 60)],
                 id="TestPodTopologySpreadScore/two Constraints on zone and node, with different "
                    "labelSelectors"),
    pytest.param(FOO_BAR_POD,
                 [ep("p-b1", "node-b", bar=""), ep("p-x1", "node-x", foo=""),
                  ep("p-y1", "node-y", foo="", bar="")], ZONE_AB_XY, [], [],
                 [("node-a", 100), ("node-b", 60), ("node-x", 40), ("node-y", 0)],
                 id="TestPodTopologySpreadScore/two Constraints on zone and node, with different "
                    "labelSelectors, some nodes have 0 pods"),
    pytest.param(FOO_BAR_POD,
                 DIFF_SEL, ZONE_AB_XY[:3], [ZONE_AB_XY[3]], [],
                 [("node-a", 50), ("node-b", 25), ("node-x", 100)],
                 id="TestPodTopologySpreadScore/two Constraints on zone and node, with different "
                    "labelSelectors, 3 out of 4 nodes are candidates"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST)]),
                 [ep("p-a1", "node-a", "ns1", foo=""), ep("p-a2", "node-a", foo=""),
                  ep("p-b1", "node-b", foo=""), ep("p-b2", "node-b", foo="")],
                 [host("node-a"), host("node-b")], [], [], [("node-a", 100), ("node-b", 33)],
                 id="TestPodTopologySpreadScore/existing pods in a different namespace do not "
                    "count"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, HOST)]),
                 [pod("p-a", node="node-a", labels={"foo": ""}, terminating=True),
                  ep("p-b", "node-b", foo="")],
                 [host("node-a"), host("node-b")], [], [], [("node-a", 100), ("node-b", 0)],
                 id="TestPodTopologySpreadScore/terminating Pods should be excluded"),
    pytest.param(pod(labels=FOO_L, spread=[sc(2, "node", min_domains=10)]),
                 [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
                  ep("p-b1", "node-b", foo=""), ep("p-b2", "node-b", foo=""),
                  ep("p-c1", "node-c", foo="")],
                 [node("node-a", {"node": "node-a"}), node("node-b", {"node": "node-b"}),
                  node("node-c", {"node": "node-c"})], [], [],
                 [("node-a", 75), ("node-b", 75), ("node-c", 100)],
                 id="TestPodTopologySpreadScore/minDomains has no effect when ScheduleAnyway"),
    pytest.param(pod(labels=FOO_L, node_selector={"foo": ""}, spread=[sc(1, "node")]),
                 ABC_2111, NODE_ABC_FOO, [], [], [("node-a", 0), ("node-b", 33), ("node-c", 100)],
                 id="TestPodTopologySpreadScore/NodeAffinityPolicy honoed with labelSelectors"),
    pytest.param(pod(labels=FOO_L, node_selector={"foo": ""},
                     spread=[sc(1, "node", affinity="Ignore")]),
                 ABC_2111, NODE_ABC_FOO, [], [],
                 [("node-a", 66), ("node-b", 100), ("node-c", 100)],
                 id="TestPodTopologySpreadScore/NodeAffinityPolicy ignored with labelSelectors"),
    pytest.param(pod(labels=FOO_L, affinity_in=("foo", [""]), spread=[sc(1, "node")]),
                 ABC_2111, NODE_ABC_FOO, [], [], [("node-a", 0), ("node-b", 33), ("node-c", 100)],
                 id="TestPodTopologySpreadScore/NodeAffinityPolicy honoed with nodeAffinity"),
    pytest.param(pod(labels=FOO_L, affinity_in=("foo", [""]),
                     spread=[sc(1, "node", affinity="Ignore")]),
                 ABC_2111, NODE_ABC_FOO, [], [],
                 [("node-a", 66), ("node-b", 100), ("node-c", 100)],
                 id="TestPodTopologySpreadScore/NodeAffinityPolicy ignored with nodeAffinity"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, "node", taints="Honor")]),
                 ABC_2111, NODE_ABC_TAINT, [], [],
                 [("node-a", 0), ("node-b", 33), ("node-c", 100)],
                 id="TestPodTopologySpreadScore/NodeTaintsPolicy honored"),
    pytest.param(pod(labels=FOO_L, spread=[sc(1, "node")]),
                 ABC_2111, NODE_ABC_TAINT, [], [],
                 [("node-a", 66), ("node-b", 100), ("node-c", 100)],
                 id="TestPodTopologySpreadScore/NodeTaintsPolicy ignored"),
    pytest.param(pod(labels={"foo": "", "bar": ""},
                     spread=[sc(1, "zone", selector={}, keys=["foo"]),
                             sc(1, HOST, selector={}, keys=["bar"])]),
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo="", bar=""),
                  ep("p-y1", "node-c", foo=""), ep("p-y2", "node-c", bar="")],
                 ZONE_ABCD, [], [],
                 [("node-a", 60), ("node-b", 20), ("node-c", 60), ("node-d", 100)],
                 id="TestPodTopologySpreadScore/matchLabelKeys ANDed with LabelSelector when "
                    "LabelSelector is empty"),
    pytest.param(pod(labels={"foo": "", "bar": "", "baz": ""},
                     spread=[sc(1, "zone"), sc(1, HOST, selector=BAR, keys=["baz"])]),
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo="", bar="", baz=""),
                  ep("p-c1", "node-c", foo=""), ep("p-c2", "node-c", bar=""),
                  ep("p-d3", "node-c", bar="", baz="")],
                 ZONE_ABCD, [], [],
                 [("node-a", 60), ("node-b", 20), ("node-c", 60), ("node-d", 100)],
                 id="TestPodTopologySpreadScore/matchLabelKeys ANDed with LabelSelector when "
                    "LabelSelector isn't empty"),
]  # fmt: skip


def run_score(
    p: Pod,
    pods: list[Pod],
    nodes: list[Node],
    failed: list[Node],
    objects: list[object],
    args: PodTopologySpreadArgs = SYSTEM,
) -> list[tuple[str, int]]:
    pl, snapshot = plugin([*nodes, *failed], pods, args=args, objects=objects)
    state = CycleState()
    filtered = [snapshot.get(n.metadata.name or "") for n in nodes]  # type: ignore[union-attr]
    assert pl.pre_score(state, p, filtered) is None
    scores = [NodeScore(info.name, pl.score(state, p, info)) for info in filtered]
    assert pl.normalize_score(state, p, scores) is None
    return [(s.name, s.score) for s in scores]


@pytest.mark.parametrize(("p", "pods", "nodes", "failed", "objects", "want"), SCORE_CASES)
def test_score(
    p: Pod,
    pods: list[Pod],
    nodes: list[Node],
    failed: list[Node],
    objects: list[object],
    want: list[tuple[str, int]],
) -> None:
    assert run_score(p, pods, nodes, failed, objects) == want


def test_raw_scores() -> None:
    """The raw score before normalizing: sum of count * log(size + 2) + maxSkew - 1, rounded."""
    pl, snapshot = plugin(HOSTS4, SPREAD_2103)
    p = pod(labels=FOO_L, spread=[sc(2, HOST)])
    state = CycleState()
    pl.pre_score(state, p, snapshot.list())
    raw = {info.name: pl.score(state, p, info) for info in snapshot.list()}
    weight = math.log(6)
    want = {n: go_round(c * weight + 1) for n, c in zip("abcd", (2, 1, 0, 3), strict=True)}
    assert raw == {f"node-{n}": v for n, v in want.items()} == {
        "node-a": 5, "node-b": 3, "node-c": 1, "node-d": 6
    }  # fmt: skip


# -- system defaults and the default selector ---------------------------------------------------


def test_system_defaults_spread_over_zones_and_hosts() -> None:
    """System defaulting with a ReplicaSet: hostname (maxSkew 3) and zone (maxSkew 5); nodes
    without a zone label are one more zone and still get hostname spreading."""
    nodes = [host("a1", **{ZONE: "z1"}), host("a2", **{ZONE: "z1"}), host("b1", **{ZONE: "z2"}),
             host("c1")]  # fmt: skip
    pods = [
        pod("w1", node="a1", labels={"app": "web"}),
        pod("w2", node="a1", labels={"app": "web"}),
        pod("w3", node="a2", labels={"app": "web"}),
        pod("w4", node="c1", labels={"app": "web"}),
        pod("x", node="b1", labels={"app": "other"}),
    ]
    p = pod(labels={"app": "web"}, owner=(*RS, "web"))
    rs = replica_set("web", {"matchLabels": {"app": "web"}})
    # hostname weight log(4+2), zone weight log(3+2) (z1, z2 and ""); zone counts 3/0/1:
    # a1: 2*1.792+2 + 3*1.609+4 = 14.41 -> 14; a2: 1.792+2 + 4.828+4 = 12.62 -> 13
    # b1: 2 + 0+4 = 6; c1: 1.792+2 (no zone label: no zone term) = 3.79 -> 4
    # normalized 100 * (14 + 4 - s) // 14
    assert run_score(p, pods, nodes, [], [rs]) == [
        ("a1", 28), ("a2", 35), ("b1", 85), ("c1", 100)
    ]  # fmt: skip


def test_default_selector_merges_services_and_controller() -> None:
    pl, _ = plugin([host("n1")], args=SYSTEM, objects=[
        service({"app": "web"}), service({"tier": "fe"}), service({"app": "db"}),
        service({"app": "web"}, ns="other"),
        replica_set("web-1", {"matchLabels": {"app": "web", "pod-template-hash": "1"}}),
    ])  # fmt: skip
    p = pod(labels={"app": "web", "tier": "fe", "pod-template-hash": "1"}, owner=(*RS, "web-1"))
    [hostname, zone] = pl.get_constraints(p, "ScheduleAnyway")
    assert str(hostname.selector) == "app=web,app=web,pod-template-hash=1,tier=fe"
    assert hostname.selector is zone.selector or str(zone.selector) == str(hostname.selector)


def test_default_selector_from_statefulset() -> None:
    ss = from_dict(
        {"metadata": {"name": "db", "namespace": "default"},
         "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
                  "template": {}}},
        StatefulSet,
    )  # fmt: skip
    pl, _ = plugin([host("n1")], objects=[ss])
    p = pod(labels={"app": "db"}, owner=("apps/v1", "StatefulSet", "db"))
    assert [str(c.selector) for c in pl.get_constraints(p, "ScheduleAnyway")] == ["app=db"] * 2
    # Not the pod's controller (another kind, another version): no selector, no constraints.
    for owner in (("apps/v1beta1", "StatefulSet", "db"), ("v1", "ReplicationController", "db")):
        assert pl.get_constraints(pod(labels={"app": "db"}, owner=owner), "ScheduleAnyway") == []


def test_list_defaulting_without_constraints_skips() -> None:
    pl, snapshot = plugin([host("n1")], args=LIST, objects=[service({"foo": ""})])
    assert pl.pre_score(CycleState(), pod(labels=FOO_L), snapshot.list()) == Status(Code.SKIP)


def test_normalize_without_pre_score_is_an_error() -> None:
    pl, _ = plugin([host("n1")])
    status = pl.normalize_score(CycleState(), pod(), [NodeScore("n1", 0)])
    assert status == Status(
        Code.ERROR, 'error reading "PreScorePodTopologySpread" from cycleState: not found'
    )


@pytest.mark.parametrize(
    ("x", "want"), [(0.5, 1), (1.5, 2), (2.5, 3), (2.4999, 2), (-0.5, -1), (-2.5, -3), (3.0, 3)]
)
def test_go_round(x: float, want: int) -> None:
    assert go_round(x) == want


# -- properties -------------------------------------------------------------------------------


@st.composite
def score_clusters(draw: st.DrawFn) -> tuple[list[Node], list[Pod], Pod, int]:
    nodes = []
    for i in range(draw(st.integers(1, 6))):
        labels = {HOST: f"n{i}"} if draw(st.integers(0, 5)) else {}
        zone = draw(st.sampled_from(("z1", "z2", None)))
        if zone is not None:
            labels["zone"] = zone
        nodes.append(node(f"n{i}", labels))
    pods = [
        pod(f"e{j}", node=f"n{draw(st.integers(0, len(nodes) - 1))}",
            labels=draw(st.sampled_from(({"app": "a"}, {"app": "b"}, {}))))
        for j in range(draw(st.integers(0, 15)))
    ]  # fmt: skip
    keys = draw(st.lists(st.sampled_from(("zone", HOST)), min_size=1, max_size=2, unique=True))
    spread = [sc(draw(st.integers(1, 4)), k, selector={"matchLabels": {"app": "a"}}) for k in keys]
    return nodes, pods, pod(labels={"app": "a"}, spread=spread), draw(st.integers(1, len(nodes)))


@settings(max_examples=150, deadline=None)
@given(score_clusters())
def test_normalized_scores_are_within_bounds(
    cluster: tuple[list[Node], list[Pod], Pod, int],
) -> None:
    """After NormalizeScore every score is in [0, 100]; nodes missing a topology key get 0 and,
    for a single hostname constraint, fewer matching pods never means a lower score."""
    nodes, pods, p, feasible = cluster
    got = dict(run_score(p, pods, nodes[:feasible], nodes[feasible:], []))
    assert all(0 <= v <= 100 for v in got.values())
    assert p.spec is not None
    keys = [c.topology_key for c in p.spec.topology_spread_constraints]
    for n in nodes[:feasible]:
        assert n.metadata is not None
        if any(k not in n.metadata.labels for k in keys):
            assert got[n.metadata.name or ""] == 0
    if keys == [HOST]:
        matching: dict[str, int] = {}
        for n in nodes[:feasible]:
            assert n.metadata is not None and n.metadata.name is not None
            if HOST in n.metadata.labels:
                matching[n.metadata.name] = sum(
                    1
                    for q in pods
                    if q.spec is not None
                    and q.metadata is not None
                    and q.spec.node_name == n.metadata.name
                    and q.metadata.labels.get("app") == "a"
                )
        for a, ca in matching.items():
            for b, cb in matching.items():
                if ca < cb:
                    assert got[a] >= got[b]


def test_pre_score_state_is_shared_by_clones() -> None:
    pl, snapshot = plugin([host("n1")])
    state = CycleState()
    pl.pre_score(state, pod(labels=FOO_L, spread=[sc(1, HOST)]), snapshot.list())
    assert state.clone().read(PRE_SCORE_STATE_KEY) is state.read(PRE_SCORE_STATE_KEY)


# -- through the framework --------------------------------------------------------------------


class _Sort:
    name = "Sort"

    def less(self, a: Any, b: Any) -> bool:
        return bool(a.timestamp < b.timestamp)


class _Binder:
    name = "Binder"

    async def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        return None


def _framework(args: dict[str, Any] | None, objects: list[object]) -> Framework:
    table = {
        "Sort": PluginFactory(new=lambda a, h: _Sort()),
        "Binder": PluginFactory(new=lambda a, h: _Binder()),
        **FACTORIES,
    }

    def lookup(name: str) -> PluginFactory:
        if name not in table:
            raise ConfigError(f"plugin {name!r} does not exist")
        return table[name]

    names = ("Sort", "Binder", POD_TOPOLOGY_SPREAD)
    profile = Profile(
        plugins=Plugins(multi_point=PluginSet(enabled=tuple(PluginRef(name=n) for n in names))),
        plugin_config=(
            (PluginConfig(name=POD_TOPOLOGY_SPREAD, args=args),) if args is not None else ()
        ),
    )
    return Framework(
        profile, lookup, objects=lambda cls: [o for o in objects if isinstance(o, cls)]
    )


def test_framework_spreads_a_replica_set_over_zones_with_hard_constraint() -> None:
    """pluginConfig args decoded by the framework; each pod of a deployment scheduled in turn
    lands so the zone skew never exceeds 1 and the zones fill evenly."""
    args = {
        "defaultingType": "List",
        "defaultConstraints": [
            {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "ScheduleAnyway"},
        ],
    }
    rs = replica_set("web", {"matchLabels": {"app": "web"}})
    fwk = _framework(args, [rs])
    nodes = [host(f"n{i}", **{ZONE: f"z{i % 3}"}) for i in range(6)]
    bound: list[Pod] = []
    for i in range(9):
        p = pod(f"web-{i}", labels={"app": "web"}, owner=(*RS, "web"))
        snapshot = Snapshot.build(nodes, bound)
        fwk.set_snapshot(snapshot)
        result, _ = schedule_pod(fwk, CycleState(), p, snapshot, random.Random(i))
        bound.append(pod(f"web-{i}", node=result.suggested_host, labels={"app": "web"}))
        hosts = [q.spec.node_name or "" for q in bound if q.spec is not None]
        per_zone = [sum(1 for h in hosts if int(h[1:]) % 3 == z) for z in range(3)]
        assert max(per_zone) - min(per_zone) <= 1
    per_node = [hosts.count(f"n{i}") for i in range(6)]
    assert sorted(per_node) == [1, 1, 1, 2, 2, 2]


def test_framework_rejects_invalid_args() -> None:
    with pytest.raises(ConfigError, match=r"when \.defaultConstraints are not empty"):
        _framework(
            {"defaultConstraints": [
                {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule"}]},
            [],
        )  # fmt: skip
