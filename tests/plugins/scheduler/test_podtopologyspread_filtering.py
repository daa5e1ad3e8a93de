"""PodTopologySpread PreFilter/Filter/AddPod/RemovePod and its args, ported from upstream
podtopologyspread/filtering_test.go (TestPreFilterState, TestPreFilterStateAddPod,
TestPreFilterStateRemovePod, TestSingleConstraint, TestMultipleConstraints,
TestPreFilterDisabled) and validation_pluginargs_test.go (TestValidatePodTopologySpreadArgs).

Upstream's cases that run with the NodeInclusionPolicy or MatchLabelKeys feature gates off are
left out: both features are on (GA) in 1.33 and kframe has no switch for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Node, Pod, Service, TopologySpreadConstraint
from kframe.scheduler import (
    Code,
    ConfigError,
    CycleState,
    FilterPlugin,
    PodInfo,
    PreFilterExtensions,
    PreFilterPlugin,
    PreScorePlugin,
    ScoreExtensions,
    ScorePlugin,
    Snapshot,
    Status,
)
from kframe.testing.scheduler import StaticHandle
from kframe_plugins.scheduler.names import POD_TOPOLOGY_SPREAD
from kframe_plugins.scheduler.podtopologyspread import (
    ERR_REASON_CONSTRAINTS_NOT_MATCH,
    ERR_REASON_NODE_LABEL_NOT_MATCH,
    FACTORIES,
    PodTopologySpread,
    PodTopologySpreadArgs,
)
from kframe_plugins.scheduler.podtopologyspread._filtering import (
    PRE_FILTER_STATE_KEY,
    PreFilterState,
)

MAX_INT32 = 2**31 - 1
FOO = {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}
BAR = {"matchExpressions": [{"key": "bar", "operator": "Exists"}]}
TAINTS = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
LIST = PodTopologySpreadArgs(defaulting_type="List")
S, U, UU = Code.SUCCESS, Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE

# -- builders (upstream st.MakePod / st.MakeNode) ------------------------------------------


def sc(
    max_skew: int,
    key: str,
    when: str = "DoNotSchedule",
    selector: dict[str, Any] | None = FOO,
    *,
    min_domains: int | None = None,
    affinity: str | None = None,
    taints: str | None = None,
    keys: list[str] | None = None,
) -> dict[str, Any]:
    """One topologySpreadConstraint (upstream SpreadConstraint(...))."""
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
    affinity: tuple[str, str, list[str]] | None = None,
    tolerate: str | None = None,
    terminating: bool = False,
    owner: tuple[str, str, str] | None = None,
) -> Pod:
    """A pod as upstream's st.MakePod builds it (owner: apiVersion, kind, name of a controller)."""
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "registry.k8s.io/pause"}]}
    if node is not None:
        spec["nodeName"] = node
    if spread:
        spec["topologySpreadConstraints"] = list(spread)
    if node_selector is not None:
        spec["nodeSelector"] = node_selector
    if affinity is not None:
        key, op, values = affinity
        term = {"matchExpressions": [{"key": key, "operator": op, "values": values}]}
        required = {"nodeSelectorTerms": [term]}
        spec["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}
        }
    if tolerate is not None:
        spec["tolerations"] = [{"key": tolerate, "operator": "Exists", "effect": "NoSchedule"}]
    meta: dict[str, Any] = {
        "name": name,
        "namespace": ns,
        "uid": f"{ns}-{name}",
        "labels": labels or {},
    }
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
    """An existing pod bound to ``node`` with these labels."""
    return pod(name, node=node, labels=labels, ns=ns)


def node(name: str, taints: list[dict[str, str]] | None = None, /, **labels: str) -> Node:
    body: dict[str, Any] = {"metadata": {"name": name, "labels": labels}}
    if taints:
        body["spec"] = {"taints": taints}
    return from_dict(body, Node)


def zn(name: str, zone: str, taints: list[dict[str, str]] | None = None, /, **labels: str) -> Node:
    """A node labelled zone=<zone> and node=<name> (upstream's usual node)."""
    return node(name, taints, zone=zone, node=name, **labels)


def four_nodes() -> list[Node]:
    return [
        zn("node-a", "zone1"),
        zn("node-b", "zone1"),
        zn("node-x", "zone2"),
        zn("node-y", "zone2"),
    ]


def plugin(
    nodes: list[Node],
    pods: list[Pod] = (),  # type: ignore[assignment]
    args: PodTopologySpreadArgs = LIST,
    objects: list[object] = (),  # type: ignore[assignment]
) -> tuple[PodTopologySpread, Snapshot]:
    snapshot = Snapshot.build(nodes, pods)
    pl = FACTORIES[POD_TOPOLOGY_SPREAD].new(args, StaticHandle(snapshot, objects))
    assert isinstance(pl, PodTopologySpread)
    return pl, snapshot


def _sorted_paths(paths: list[tuple[str, int]]) -> list[tuple[str, int]]:
    # upstream's criticalPaths comparer: equal counts may come in either order.
    (v0, n0), (v1, n1) = paths
    if n0 == n1 and v0 > v1:
        v0, v1 = v1, v0
    return [(v0, n0), (v1, n1)]


def summary(s: PreFilterState) -> tuple[dict[str, dict[str, int]], dict[str, list[Any]]]:
    counts = {c.topology_key: s.counts[i] for i, c in enumerate(s.constraints)}
    paths = {
        c.topology_key: _sorted_paths(
            [(s.paths[i].value0, s.paths[i].num0), (s.paths[i].value1, s.paths[i].num1)]
        )
        for i, c in enumerate(s.constraints)
    }
    return counts, paths


def constraints_of(s: PreFilterState) -> list[tuple[Any, ...]]:
    """(key, maxSkew, selector or None for match-nothing, minDomains, affinity, taints)."""
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


def run_pre_filter(pl: PodTopologySpread, snapshot: Snapshot, p: Pod) -> tuple[CycleState, Any]:
    state = CycleState()
    return state, pl.pre_filter(state, p, snapshot.list())


def paths(*pairs: tuple[str, int]) -> list[tuple[str, int]]:
    return _sorted_paths(list(pairs))


def test_conformance() -> None:
    pl, _ = plugin([])
    for proto in (
        PreFilterPlugin,
        FilterPlugin,
        PreFilterExtensions,
        PreScorePlugin,
        ScorePlugin,
        ScoreExtensions,
    ):
        assert isinstance(pl, proto)
    assert pl.name == "PodTopologySpread"


# -- TestPreFilterState ---------------------------------------------------------------------

C = tuple[str, int, str | None, int, str, str]
HF: tuple[str, str] = ("Honor", "Ignore")

FOO_A = [ep("p-a1", "node-a", foo="a"), ep("p-a2", "node-a", foo="a"),
         ep("p-b1", "node-b", foo="a"), ep("p-y1", "node-y", foo="a"),
         ep("p-y2", "node-y", foo="a")]  # fmt: skip

PRE_FILTER_STATE_CASES: list[Any] = [
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(5, "zone", selector={"matchLabels": {"foo": "bar"}})]),
        four_nodes(),
        [],
        [("zone", 5, "foo=bar", 1, *HF)],
        {"zone": {"zone1": 0, "zone2": 0}},
        {"zone": paths(("zone1", 0), ("zone2", 0))},
        id="TestPreFilterState/clean cluster with one spreadConstraint",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone")]),
        four_nodes(),
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
         ep("p-y1", "node-y", foo=""), ep("p-y2", "node-y", foo="")],
        [("zone", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 3, "zone2": 2}},
        {"zone": paths(("zone2", 2), ("zone1", 3))},
        id="TestPreFilterState/normal case with one spreadConstraint",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone", selector=None)]),
        four_nodes(),
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
         ep("p-y1", "node-y", foo=""), ep("p-y2", "node-y", foo="")],
        [("zone", 1, None, 1, *HF)],
        {"zone": {"zone1": 0, "zone2": 0}},
        {"zone": paths(("zone2", 0), ("zone1", 0))},
        id="TestPreFilterState/normal case with null label selector",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone")]),
        [*four_nodes(), zn("node-o", "zone3"), zn("node-p", "zone3")],
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
         ep("p-y1", "node-y", foo=""), ep("p-y2", "node-y", foo="")],
        [("zone", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 3, "zone2": 2, "zone3": 0}},
        {"zone": paths(("zone3", 0), ("zone2", 2))},
        id="TestPreFilterState/normal case with one spreadConstraint, on a 3-zone cluster",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone")]),
        four_nodes(),
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", "ns1", foo=""),
         ep("p-b1", "node-b", foo=""), ep("p-y1", "node-y", "ns2", foo=""),
         ep("p-y2", "node-y", foo="")],
        [("zone", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 2, "zone2": 1}},
        {"zone": paths(("zone2", 1), ("zone1", 2))},
        id="TestPreFilterState/namespace mismatch doesn't count",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone"), sc(1, "node")]),
        four_nodes(),
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
         ep("p-y1", "node-y", foo=""), ep("p-y2", "node-y", foo=""), ep("p-y3", "node-y", foo=""),
         ep("p-y4", "node-y", foo="")],
        [("zone", 1, "foo", 1, *HF), ("node", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 3, "zone2": 4},
         "node": {"node-a": 2, "node-b": 1, "node-x": 0, "node-y": 4}},
        {"zone": paths(("zone1", 3), ("zone2", 4)), "node": paths(("node-x", 0), ("node-b", 1))},
        id="TestPreFilterState/normal case with two spreadConstraints",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone", "ScheduleAnyway"), sc(1, "zone"),
                                         sc(1, "node", "ScheduleAnyway"), sc(1, "node")]),
        [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")],
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
         ep("p-y1", "node-y", foo=""), ep("p-y2", "node-y", foo=""), ep("p-y3", "node-y", foo=""),
         ep("p-y4", "node-y", foo="")],
        [("zone", 1, "foo", 1, *HF), ("node", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 3, "zone2": 4}, "node": {"node-a": 2, "node-b": 1, "node-y": 4}},
        {"zone": paths(("zone1", 3), ("zone2", 4)), "node": paths(("node-b", 1), ("node-a", 2))},
        id="TestPreFilterState/soft spreadConstraints should be bypassed",
    ),
    pytest.param(
        pod(labels={"foo": "", "bar": ""}, spread=[sc(1, "zone"), sc(1, "node", selector=BAR)]),
        [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")],
        [ep("p-a", "node-a", foo=""), ep("p-b", "node-b", bar="")],
        [("zone", 1, "foo", 1, *HF), ("node", 1, "bar", 1, *HF)],
        {"zone": {"zone1": 1, "zone2": 0}, "node": {"node-a": 0, "node-b": 1, "node-y": 0}},
        {"zone": paths(("zone2", 0), ("zone1", 1)), "node": paths(("node-a", 0), ("node-y", 0))},
        id="TestPreFilterState/different labelSelectors - simple version",
    ),
    pytest.param(
        pod(labels={"foo": "", "bar": ""}, spread=[sc(1, "zone"), sc(1, "node", selector=BAR)]),
        [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")],
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo="", bar=""),
         ep("p-b1", "node-b", foo=""), ep("p-y1", "node-y", foo=""),
         ep("p-y2", "node-y", foo="", bar=""), ep("p-y3", "node-y", foo=""),
         ep("p-y4", "node-y", foo="", bar="")],
        [("zone", 1, "foo", 1, *HF), ("node", 1, "bar", 1, *HF)],
        {"zone": {"zone1": 3, "zone2": 4}, "node": {"node-a": 1, "node-b": 0, "node-y": 2}},
        {"zone": paths(("zone1", 3), ("zone2", 4)), "node": paths(("node-b", 0), ("node-a", 1))},
        id="TestPreFilterState/different labelSelectors - complex pods",
    ),
    pytest.param(
        pod(labels={"foo": ""}, affinity=("node", "NotIn", ["node-x"]),
            spread=[sc(1, "zone"), sc(1, "node")]),
        four_nodes(),
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
         ep("p-y1", "node-y", foo=""), ep("p-y2", "node-y", foo=""), ep("p-y3", "node-y", foo=""),
         ep("p-y4", "node-y", foo="")],
        [("zone", 1, "foo", 1, *HF), ("node", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 3, "zone2": 4}, "node": {"node-a": 2, "node-b": 1, "node-y": 4}},
        {"zone": paths(("zone1", 3), ("zone2", 4)), "node": paths(("node-b", 1), ("node-a", 2))},
        id="TestPreFilterState/two spreadConstraints, and with podAffinity",
    ),
    pytest.param(
        pod(labels={"foo": ""}, node_selector={"foo": ""}, spread=[sc(1, "node", selector=BAR)]),
        [node("node-a", node="node-a", foo=""), node("node-b", node="node-b", foo=""),
         node("node-c", node="node-c", bar="")],
        [ep("p-a", "node-a", bar=""), ep("p-b", "node-b", bar=""), ep("p-c", "node-b", bar=""),
         ep("p-d", "node-c")],
        [("node", 1, "bar", 1, *HF)],
        {"node": {"node-a": 1, "node-b": 2}},
        {"node": paths(("node-a", 1), ("node-b", 2))},
        id="TestPreFilterState/NodeAffinityPolicy honored with labelSelectors",
    ),
    pytest.param(
        pod(labels={"foo": ""}, node_selector={"foo": ""},
            spread=[sc(1, "node", selector=BAR, affinity="Ignore")]),
        [node("node-a", node="node-a", foo=""), node("node-b", node="node-b", foo=""),
         node("node-c", node="node-c", bar="")],
        [ep("p-a", "node-a", bar=""), ep("p-b", "node-b", bar=""), ep("p-c", "node-b", bar=""),
         ep("p-d", "node-c")],
        [("node", 1, "bar", 1, "Ignore", "Ignore")],
        {"node": {"node-a": 1, "node-b": 2, "node-c": 0}},
        {"node": paths(("node-c", 0), ("node-a", 1))},
        id="TestPreFilterState/NodeAffinityPolicy ignored with labelSelectors",
    ),
    pytest.param(
        pod(labels={"foo": ""}, affinity=("foo", "In", [""]), spread=[sc(1, "node", selector=BAR)]),
        [node("node-a", node="node-a", foo=""), node("node-b", node="node-b", foo=""),
         node("node-c", node="node-c", bar="")],
        [ep("p-a", "node-a", bar=""), ep("p-c", "node-b", bar=""), ep("p-d", "node-b", bar=""),
         ep("p-e", "node-c")],
        [("node", 1, "bar", 1, *HF)],
        {"node": {"node-a": 1, "node-b": 2}},
        {"node": paths(("node-a", 1), ("node-b", 2))},
        id="TestPreFilterState/NodeAffinityPolicy honored with nodeAffinity",
    ),
    pytest.param(
        pod(labels={"foo": ""}, affinity=("foo", "In", [""]),
            spread=[sc(1, "node", selector=BAR, affinity="Ignore")]),
        [node("node-a", node="node-a", foo=""), node("node-b", node="node-b", foo=""),
         node("node-c", node="node-c", bar="")],
        [ep("p-a", "node-a", bar=""), ep("p-b", "node-b", bar=""), ep("p-c", "node-b", bar=""),
         ep("p-d", "node-c")],
        [("node", 1, "bar", 1, "Ignore", "Ignore")],
        {"node": {"node-a": 1, "node-b": 2, "node-c": 0}},
        {"node": paths(("node-c", 0), ("node-a", 1))},
        id="TestPreFilterState/NodeAffinityPolicy ignored with nodeAffinity",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "node", selector=BAR)]),
        [node("node-a", node="node-a"), node("node-b", node="node-b"),
         node("node-c", TAINTS, node="node-c", bar="")],
        [ep("p-a", "node-a", bar=""), ep("p-b", "node-b", bar=""), ep("p-c", "node-b", bar=""),
         ep("p-d", "node-c")],
        [("node", 1, "bar", 1, *HF)],
        {"node": {"node-a": 1, "node-b": 2, "node-c": 0}},
        {"node": paths(("node-c", 0), ("node-a", 1))},
        id="TestPreFilterState/NodeTaintsPolicy ignored",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "node", selector=BAR, taints="Honor")]),
        [node("node-a", node="node-a"), node("node-b", node="node-b"),
         node("node-c", TAINTS, node="node-c", bar="")],
        [ep("p-a", "node-a", bar=""), ep("p-b", "node-b", bar=""), ep("p-c", "node-b", bar=""),
         ep("p-d", "node-c")],
        [("node", 1, "bar", 1, "Honor", "Honor")],
        {"node": {"node-a": 1, "node-b": 2}},
        {"node": paths(("node-a", 1), ("node-b", 2))},
        id="TestPreFilterState/NodeTaintsPolicy honored",
    ),
    pytest.param(
        pod(labels={"foo": ""}, tolerate="node.kubernetes.io/unschedulable",
            spread=[sc(1, "node", selector=BAR, taints="Honor")]),
        [node("node-a", node="node-a"), node("node-b", node="node-b"),
         node("node-c", TAINTS, node="node-c", bar="")],
        [ep("p-a", "node-a", bar=""), ep("p-b", "node-b", bar=""), ep("p-c", "node-b", bar=""),
         ep("p-d", "node-c")],
        [("node", 1, "bar", 1, "Honor", "Honor")],
        {"node": {"node-a": 1, "node-b": 2, "node-c": 0}},
        {"node": paths(("node-c", 0), ("node-a", 1))},
        id="TestPreFilterState/NodeTaintsPolicy honored with tolerated taints",
    ),
    pytest.param(
        pod(labels={"foo": ""}, node_selector={"foo": ""},
            spread=[sc(1, "zone"), sc(1, "node", affinity="Ignore")]),
        [zn("node-a", "zone1", foo=""), zn("node-b", "zone1"), zn("node-x", "zone2", foo="")],
        [ep("p-b1", "node-b", foo=""), ep("p-b2", "node-b", foo=""), ep("p-x1", "node-x", foo="")],
        [("zone", 1, "foo", 1, *HF), ("node", 1, "foo", 1, "Ignore", "Ignore")],
        {"zone": {"zone1": 0, "zone2": 1}, "node": {"node-a": 0, "node-b": 2, "node-x": 1}},
        {"zone": paths(("zone1", 0), ("zone2", 1)), "node": paths(("node-a", 0), ("node-x", 1))},
        id="TestPreFilterState/two node inclusion Constraints, zone: honor/ignore, node: "
           "ignore/ignore",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone", taints="Honor"), sc(1, "node")]),
        [zn("node-a", "zone1", foo=""), zn("node-b", "zone1", TAINTS),
         zn("node-x", "zone2", foo="")],
        [ep("p-b1", "node-b", foo=""), ep("p-b2", "node-b", foo=""), ep("p-x1", "node-x", foo="")],
        [("zone", 1, "foo", 1, "Honor", "Honor"), ("node", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 0, "zone2": 1}, "node": {"node-a": 0, "node-b": 2, "node-x": 1}},
        {"zone": paths(("zone1", 0), ("zone2", 1)), "node": paths(("node-a", 0), ("node-x", 1))},
        id="TestPreFilterState/two node inclusion Constraints, zone: honor/honor, node: "
           "honor/ignore",
    ),
    pytest.param(
        pod(labels={"foo": ""}, node_selector={"foo": ""}, spread=[sc(1, "zone"), sc(1, "node")]),
        [zn("node-a", "zone1"), zn("node-b", "zone1", TAINTS, foo=""),
         zn("node-x", "zone2", foo=""), zn("node-y", "zone2")],
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""), ep("p-x1", "node-x", foo=""),
         ep("p-y1", "node-y", foo="")],
        [("zone", 1, "foo", 1, *HF), ("node", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 0, "zone2": 1}, "node": {"node-b": 0, "node-x": 1}},
        {"zone": paths(("zone1", 0), ("zone2", 1)), "node": paths(("node-b", 0), ("node-x", 1))},
        id="TestPreFilterState/two node inclusion Constraints, zone: honor/ignore, node: "
           "honor/ignore",
    ),
    pytest.param(
        pod(labels={"foo": ""}, node_selector={"foo": ""},
            spread=[sc(1, "zone", affinity="Ignore"), sc(1, "node", taints="Honor")]),
        [zn("node-a", "zone1"), zn("node-b", "zone1", TAINTS, foo=""),
         zn("node-x", "zone2", foo=""), zn("node-y", "zone2", foo="")],
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""), ep("p-x1", "node-x", foo=""),
         ep("p-x2", "node-x", foo=""), ep("p-y1", "node-y", foo="")],
        [("zone", 1, "foo", 1, "Ignore", "Ignore"), ("node", 1, "foo", 1, "Honor", "Honor")],
        {"zone": {"zone1": 2, "zone2": 3}, "node": {"node-x": 2, "node-y": 1}},
        {"zone": paths(("zone1", 2), ("zone2", 3)), "node": paths(("node-y", 1), ("node-x", 2))},
        id="TestPreFilterState/two node inclusion Constraints, zone: ignore/ignore, node: "
           "honor/honor",
    ),
    pytest.param(
        pod(labels={"foo": "", "bar": "a"}, spread=[sc(1, "zone", keys=["bar"])]),
        four_nodes(),
        [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo="", bar="a"),
         ep("p-b1", "node-b", foo=""), ep("p-y1", "node-y", foo="", bar="a"),
         ep("p-y2", "node-y", bar="")],
        [("zone", 1, "bar=a,foo", 1, *HF)],
        {"zone": {"zone1": 1, "zone2": 1}},
        {"zone": paths(("zone2", 1), ("zone1", 1))},
        id="TestPreFilterState/matchLabelKeys ANDed with LabelSelector when LabelSelector isn't "
           "empty",
    ),
    pytest.param(
        pod(labels={"foo": "a"}, spread=[sc(1, "zone", selector={}, keys=["foo"])]),
        four_nodes(),
        FOO_A,
        [("zone", 1, "foo=a", 1, *HF)],
        {"zone": {"zone1": 3, "zone2": 2}},
        {"zone": paths(("zone2", 2), ("zone1", 3))},
        id="TestPreFilterState/matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone", selector=None, keys=["bar"])]),
        four_nodes(),
        FOO_A,
        [("zone", 1, None, 1, *HF)],
        {"zone": {"zone1": 0, "zone2": 0}},
        {"zone": paths(("zone2", 0), ("zone1", 0))},
        id="TestPreFilterState/key in matchLabelKeys is ignored when LabelSelector is nil",
    ),
    pytest.param(
        pod(labels={"foo": ""}, spread=[sc(1, "zone", keys=["bar"])]),
        four_nodes(),
        FOO_A,
        [("zone", 1, "foo", 1, *HF)],
        {"zone": {"zone1": 3, "zone2": 2}},
        {"zone": paths(("zone2", 2), ("zone1", 3))},
        id="TestPreFilterState/key in matchLabelKeys is ignored when it isn't exist in pod.labels",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("p", "nodes", "pods", "constraints", "counts", "critical"), PRE_FILTER_STATE_CASES
)
def test_pre_filter_state(
    p: Pod,
    nodes: list[Node],
    pods: list[Pod],
    constraints: list[C],
    counts: dict[str, dict[str, int]],
    critical: dict[str, list[tuple[str, int]]],
) -> None:
    pl, snapshot = plugin(nodes, pods)
    state, status = run_pre_filter(pl, snapshot, p)
    assert status is None
    s = state.read(PRE_FILTER_STATE_KEY)
    assert constraints_of(s) == constraints
    assert summary(s) == (counts, critical)


def _service(selector: dict[str, str], ns: str = "default") -> Service:
    return from_dict(
        {"metadata": {"name": "s", "namespace": ns}, "spec": {"selector": selector}}, Service
    )


def _tsc(max_skew: int, key: str, when: str) -> TopologySpreadConstraint:
    return from_dict(
        {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when},
        TopologySpreadConstraint,
    )


DEFAULT_CASES: list[Any] = [
    pytest.param(
        pod(labels={"foo": "bar", "baz": "kar"}),
        [_tsc(3, "node", "DoNotSchedule"), _tsc(2, "node", "ScheduleAnyway"),
         _tsc(5, "rack", "DoNotSchedule")],
        [_service({"foo": "bar"})],
        [("node", 3, "foo=bar", 1, *HF), ("rack", 5, "foo=bar", 1, *HF)],
        id="TestPreFilterState/default constraints and a service",
    ),
    pytest.param(
        pod(labels={"foo": "bar"}),
        [_tsc(3, "node", "DoNotSchedule")],
        [_service({"baz": "kep"})],
        None,
        id="TestPreFilterState/default constraints and a service that doesn't match",
    ),
    pytest.param(
        pod(labels={"foo": "bar", "baz": "tar"},
            spread=[sc(1, "zone", selector={"matchLabels": {"baz": "tar"}}),
                    sc(2, "planet", "ScheduleAnyway", selector={"matchLabels": {"fot": "rok"}})]),
        [_tsc(2, "node", "DoNotSchedule")],
        [_service({"foo": "bar"})],
        [("zone", 1, "baz=tar", 1, *HF)],
        id="TestPreFilterState/default constraints and a service, but pod has constraints",
    ),
    pytest.param(
        pod(labels={"foo": "bar"}),
        [_tsc(2, "node", "ScheduleAnyway")],
        [_service({"foo": "bar"})],
        None,
        id="TestPreFilterState/default soft constraints and a service",
    ),
    pytest.param(
        pod(labels={"foo": "bar"}),
        [_tsc(3, "node", "DoNotSchedule")],
        [_service({"foo": "bar"}, ns="other")],
        None,
        id="services of another namespace do not select the pod",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("p", "defaults", "objects", "constraints"), DEFAULT_CASES)
def test_pre_filter_default_constraints(
    p: Pod,
    defaults: list[TopologySpreadConstraint],
    objects: list[object],
    constraints: list[C] | None,
) -> None:
    args = PodTopologySpreadArgs(default_constraints=tuple(defaults), defaulting_type="List")
    pl, snapshot = plugin([], args=args, objects=objects)
    state, status = run_pre_filter(pl, snapshot, p)
    if constraints is None:
        assert status == Status(Code.SKIP)
        return
    assert status is None
    s = state.read(PRE_FILTER_STATE_KEY)
    assert constraints_of(s) == constraints
    assert all(not m for m in s.counts)
    assert all(pth.num0 == pth.num1 == MAX_INT32 for pth in s.paths)


def test_pre_filter_skip_if_not_specified() -> None:
    """TestPreFilterState/skip if not specified."""
    pl, snapshot = plugin([zn("node-a", "zone1")])
    state, status = run_pre_filter(pl, snapshot, pod(labels={"foo": ""}))
    assert status == Status(Code.SKIP)
    with pytest.raises(KeyError):
        state.read(PRE_FILTER_STATE_KEY)


def test_pre_filter_system_defaults_have_no_hard_constraints() -> None:
    """The system default constraints are all ScheduleAnyway: PreFilter skips."""
    pl, snapshot = plugin(
        [zn("node-a", "zone1")], args=PodTopologySpreadArgs(), objects=[_service({"foo": ""})]
    )
    assert run_pre_filter(pl, snapshot, pod(labels={"foo": ""}))[1] == Status(Code.SKIP)


# -- TestPreFilterStateAddPod / TestPreFilterStateRemovePod --------------------------------

NODE_C: C = ("node", 1, "foo", 1, *HF)
ZONE_C: C = ("zone", 1, "foo", 1, *HF)
ONE_NODE = pod(labels={"foo": ""}, spread=[sc(1, "node")])
ONE_ZONE = pod(labels={"foo": ""}, spread=[sc(1, "zone")])
ZONE_NODE = pod(labels={"foo": ""}, spread=[sc(1, "zone"), sc(1, "node")])
ZONE_NODE_BAR = pod(
    labels={"foo": "", "bar": ""}, spread=[sc(1, "zone"), sc(1, "node", selector=BAR)]
)
AFF_NOT_BAR = pod(labels={"foo": ""}, affinity=("foo", "NotIn", ["bar"]), spread=[sc(1, "zone")])
AB = [zn("node-a", "zone1"), zn("node-b", "zone1")]
AX = [zn("node-a", "zone1"), zn("node-x", "zone2")]
ABX = [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2")]
AB_FOO = [
    node("node-a", zone="zone1", node="node-a", foo="bar"),
    node("node-b", zone="zone2", node="node-b", foo=""),
]
AB_TAINT = [zn("node-a", "zone1", TAINTS), zn("node-b", "zone2")]

ADD_POD_CASES: list[Any] = [
    pytest.param(ONE_NODE, ep("p-a1", "node-a", foo=""), [], 0, AB,
                 {"node": {"node-a": 1, "node-b": 0}},
                 {"node": paths(("node-b", 0), ("node-a", 1))},
                 id="TestPreFilterStateAddPod/node a and b both impact current min match"),
    pytest.param(ONE_NODE, ep("p-a1", "node-a", foo=""), [ep("p-b1", "node-b", foo="")], 0, AB,
                 {"node": {"node-a": 1, "node-b": 1}},
                 {"node": paths(("node-a", 1), ("node-b", 1))},
                 id="TestPreFilterStateAddPod/only node a impacts current min match"),
    pytest.param(ONE_NODE, ep("p-a1", "node-a", "ns1", foo=""), [ep("p-b1", "node-b", foo="")], 0,
                 AB, {"node": {"node-a": 0, "node-b": 1}},
                 {"node": paths(("node-a", 0), ("node-b", 1))},
                 id="TestPreFilterStateAddPod/add a pod in a different namespace doesn't change "
                    "topologyKeyToMinPodsMap"),
    pytest.param(ONE_NODE, ep("p-b2", "node-b", foo=""), [ep("p-b1", "node-b", foo="")], 1, AB,
                 {"node": {"node-a": 0, "node-b": 2}},
                 {"node": paths(("node-a", 0), ("node-b", 2))},
                 id="TestPreFilterStateAddPod/add pod on non-critical node won't trigger "
                    "re-calculation"),
    pytest.param(ZONE_NODE, ep("p-a1", "node-a", foo=""), [], 0, AX,
                 {"zone": {"zone1": 1, "zone2": 0}, "node": {"node-a": 1, "node-x": 0}},
                 {"zone": paths(("zone2", 0), ("zone1", 1)),
                  "node": paths(("node-x", 0), ("node-a", 1))},
                 id="TestPreFilterStateAddPod/node a and x both impact topologyKeyToMinPodsMap on "
                    "zone and node"),
    pytest.param(ZONE_NODE, ep("p-a1", "node-a", foo=""), [ep("p-x1", "node-x", foo="")], 0, AX,
                 {"zone": {"zone1": 1, "zone2": 1}, "node": {"node-a": 1, "node-x": 1}},
                 {"zone": paths(("zone1", 1), ("zone2", 1)),
                  "node": paths(("node-a", 1), ("node-x", 1))},
                 id="TestPreFilterStateAddPod/only node a impacts topologyKeyToMinPodsMap on zone "
                    "and node"),
    pytest.param(ZONE_NODE, ep("p-a1", "node-a", foo=""),
                 [ep("p-b1", "node-b", foo=""), ep("p-b2", "node-b", foo=""),
                  ep("p-x1", "node-x", foo="")], 0, ABX,
                 {"zone": {"zone1": 3, "zone2": 1},
                  "node": {"node-a": 1, "node-b": 2, "node-x": 1}},
                 {"zone": paths(("zone2", 1), ("zone1", 3)),
                  "node": paths(("node-a", 1), ("node-x", 1))},
                 id="TestPreFilterStateAddPod/node a impacts topologyKeyToMinPodsMap on node, "
                    "node x "
                    "impacts topologyKeyToMinPodsMap on zone"),
    pytest.param(ZONE_NODE_BAR, ep("p-a1", "node-a", foo=""),
                 [ep("p-b1", "node-b", foo="", bar=""), ep("p-x1", "node-x", foo="", bar=""),
                  ep("p-x2", "node-x", bar="")], 0, ABX,
                 {"zone": {"zone1": 2, "zone2": 1},
                  "node": {"node-a": 0, "node-b": 1, "node-x": 2}},
                 {"zone": paths(("zone2", 1), ("zone1", 2)),
                  "node": paths(("node-a", 0), ("node-b", 1))},
                 id="TestPreFilterStateAddPod/Constraints hold different labelSelectors, node a "
                    "impacts topologyKeyToMinPodsMap on zone"),
    pytest.param(ZONE_NODE_BAR, ep("p-a1", "node-a", foo="", bar=""),
                 [ep("p-b1", "node-b", bar=""), ep("p-x1", "node-x", foo="", bar=""),
                  ep("p-x2", "node-x", bar="")], 0, ABX,
                 {"zone": {"zone1": 1, "zone2": 1},
                  "node": {"node-a": 1, "node-b": 1, "node-x": 2}},
                 {"zone": paths(("zone1", 1), ("zone2", 1)),
                  "node": paths(("node-a", 1), ("node-b", 1))},
                 id="TestPreFilterStateAddPod/Constraints hold different labelSelectors, node a "
                    "impacts topologyKeyToMinPodsMap on both zone and node"),
    pytest.param(AFF_NOT_BAR, ep("p-a1", "node-a", foo="", zone="zone1"),
                 [ep("p-a2", "node-a", foo="", zone="zone1"),
                  ep("p-b1", "node-b", foo="", zone="zone2")], 0, AB_FOO,
                 {"zone": {"zone2": 1}}, {"zone": [("zone2", 1), ("", MAX_INT32)]},
                 id="TestPreFilterStateAddPod/add a pod when scheduling node affinity unmatched "
                    "pod "
                    "with NodeInclusionPolicy enabled"),
    pytest.param(ONE_ZONE, ep("p-b1", "node-b", foo="", zone="zone2"),
                 [ep("p-a1", "node-a", foo="", zone="zone1"),
                  ep("p-b2", "node-b", foo="", zone="zone2")], 1, AB_FOO,
                 {"zone": {"zone1": 1, "zone2": 2}}, {"zone": paths(("zone1", 1), ("zone2", 2))},
                 id="TestPreFilterStateAddPod/add a pod when scheduling node affinity matched pod "
                    "with NodeInclusionPolicy enabled"),
    pytest.param(ONE_ZONE, ep("p-b1", "node-b", zone="zone2"),
                 [ep("p-a1", "node-a", foo="", zone="zone1"),
                  ep("p-b2", "node-b", foo="", zone="zone2")], 1, AB_FOO,
                 {"zone": {"zone1": 1, "zone2": 1}}, {"zone": paths(("zone1", 1), ("zone2", 1))},
                 id="TestPreFilterStateAddPod/add a label selector not matched pod when with "
                    "NodeInclusionPolicy enabled"),
    pytest.param(pod(labels={"foo": ""}, tolerate="node.kubernetes.io/unschedulable",
                     spread=[sc(1, "zone")]),
                 ep("p-b1", "node-b", foo="", zone="zone2"),
                 [ep("p-a1", "node-a", foo="", zone="zone1"),
                  ep("p-b2", "node-b", foo="", zone="zone2")], 1, AB_TAINT,
                 {"zone": {"zone1": 1, "zone2": 2}}, {"zone": paths(("zone1", 1), ("zone2", 2))},
                 id="TestPreFilterStateAddPod/add a pod when scheduling taint tolerated pod with "
                    "NodeInclusionPolicy enabled"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("preemptor", "added", "pods", "node_idx", "nodes", "counts", "critical"), ADD_POD_CASES
)
def test_pre_filter_state_add_pod(
    preemptor: Pod,
    added: Pod,
    pods: list[Pod],
    node_idx: int,
    nodes: list[Node],
    counts: dict[str, dict[str, int]],
    critical: dict[str, list[tuple[str, int]]],
) -> None:
    pl, snapshot = plugin(nodes, pods)
    state, status = run_pre_filter(pl, snapshot, preemptor)
    assert status is None
    node_info = snapshot.get(nodes[node_idx].metadata.name)  # type: ignore[union-attr,arg-type]
    assert pl.add_pod(state, preemptor, PodInfo(added), node_info) is None
    assert summary(state.read(PRE_FILTER_STATE_KEY)) == (counts, critical)


FOUR = [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2"), zn("node-y", "zone2")]

REMOVE_POD_CASES: list[Any] = [
    pytest.param(ONE_ZONE, ABX,
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
                  ep("p-x1", "node-x", foo="")], 0, None, 0,
                 {"zone": {"zone1": 1, "zone2": 1}}, {"zone": paths(("zone1", 1), ("zone2", 1))},
                 id="TestPreFilterStateRemovePod/one spreadConstraint on zone, "
                    "topologyKeyToMinPodsMap unchanged"),
    pytest.param(ONE_ZONE, FOUR,
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
                  ep("p-x1", "node-x", foo=""), ep("p-y1", "node-y", foo="")], 0, None, 0,
                 {"zone": {"zone1": 1, "zone2": 2}}, {"zone": paths(("zone1", 1), ("zone2", 2))},
                 id="TestPreFilterStateRemovePod/one spreadConstraint on node, "
                    "topologyKeyToMinPodsMap changed"),
    pytest.param(ONE_ZONE, FOUR,
                 [ep("p-a0", "node-a", bar=""), ep("p-a1", "node-a", foo=""),
                  ep("p-b1", "node-b", foo=""), ep("p-x1", "node-x", foo=""),
                  ep("p-y1", "node-y", foo="")], 0, None, 0,
                 {"zone": {"zone1": 2, "zone2": 2}}, {"zone": paths(("zone1", 2), ("zone2", 2))},
                 id="TestPreFilterStateRemovePod/delete an irrelevant pod won't help"),
    pytest.param(ONE_ZONE, FOUR,
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
                  ep("p-x1", "node-x", foo=""), ep("p-y1", "node-y", foo="")], -1,
                 ep("p-a0", "node-a", bar=""), 0,
                 {"zone": {"zone1": 2, "zone2": 2}}, {"zone": paths(("zone1", 2), ("zone2", 2))},
                 id="TestPreFilterStateRemovePod/delete a non-existing pod won't help"),
    pytest.param(ZONE_NODE, ABX,
                 [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
                  ep("p-b1", "node-b", foo=""), ep("p-x1", "node-x", foo=""),
                  ep("p-x2", "node-x", foo="")], 3, None, 2,
                 {"zone": {"zone1": 3, "zone2": 1},
                  "node": {"node-a": 2, "node-b": 1, "node-x": 1}},
                 {"zone": paths(("zone2", 1), ("zone1", 3)),
                  "node": paths(("node-b", 1), ("node-x", 1))},
                 id="TestPreFilterStateRemovePod/two spreadConstraints"),
    pytest.param(AFF_NOT_BAR, AB_FOO,
                 [ep("p-a2", "node-a", foo="", zone="zone1"),
                  ep("p-b1", "node-b", foo="", zone="zone2")], -1,
                 ep("p-a1", "node-a", foo="", zone="zone1"), 0,
                 {"zone": {"zone2": 1}}, {"zone": [("zone2", 1), ("", MAX_INT32)]},
                 id="TestPreFilterStateRemovePod/remove a pod when scheduling node affinity "
                    "unmatched pod with NodeInclusionPolicy enabled"),
    pytest.param(ONE_ZONE, AB_FOO,
                 [ep("p-a1", "node-a", foo="", zone="zone1"),
                  ep("p-b2", "node-b", foo="", zone="zone2")], -1,
                 ep("p-b1", "node-b", foo="", zone="zone2"), 1,
                 {"zone": {"zone1": 1, "zone2": 0}}, {"zone": paths(("zone2", 0), ("zone1", 1))},
                 id="TestPreFilterStateRemovePod/remove a pod when scheduling node affinity "
                    "matched "
                    "pod with NodeInclusionPolicy enabled"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("preemptor", "nodes", "pods", "deleted_idx", "deleted", "node_idx", "counts", "critical"),
    REMOVE_POD_CASES,
)
def test_pre_filter_state_remove_pod(
    preemptor: Pod,
    nodes: list[Node],
    pods: list[Pod],
    deleted_idx: int,
    deleted: Pod | None,
    node_idx: int,
    counts: dict[str, dict[str, int]],
    critical: dict[str, list[tuple[str, int]]],
) -> None:
    pl, snapshot = plugin(nodes, pods)
    state, status = run_pre_filter(pl, snapshot, preemptor)
    assert status is None
    victim = pods[deleted_idx] if 0 <= deleted_idx < len(pods) else deleted
    assert victim is not None
    node_info = snapshot.get(nodes[node_idx].metadata.name)  # type: ignore[union-attr,arg-type]
    assert pl.remove_pod(state, preemptor, PodInfo(victim), node_info) is None
    assert summary(state.read(PRE_FILTER_STATE_KEY)) == (counts, critical)


def test_add_pod_changes_only_the_cloned_state() -> None:
    """Preemption works on CycleState.clone(): the original counts stay as PreFilter left them."""
    pl, snapshot = plugin(AB, [ep("p-b1", "node-b", foo="")])
    state, _ = run_pre_filter(pl, snapshot, ONE_NODE)
    copy = state.clone()
    pl.add_pod(copy, ONE_NODE, PodInfo(ep("p-a1", "node-a", foo="")), snapshot.get("node-a"))
    assert summary(state.read(PRE_FILTER_STATE_KEY))[0] == {"node": {"node-a": 0, "node-b": 1}}
    assert summary(copy.read(PRE_FILTER_STATE_KEY))[0] == {"node": {"node-a": 1, "node-b": 1}}


# -- TestSingleConstraint / TestMultipleConstraints ------------------------------------------

A2B1Y3 = [
    ep("p-a1", "node-a", foo=""),
    ep("p-a2", "node-a", foo=""),
    ep("p-b1", "node-b", foo=""),
    ep("p-y1", "node-y", foo=""),
    ep("p-y2", "node-y", foo=""),
    ep("p-y3", "node-y", foo=""),
]
ABC = [node("node-a", node="node-a"), node("node-b", node="node-b"), node("node-c", node="node-c")]
A2B2C1 = [
    ep("p-a1", "node-a", foo=""),
    ep("p-a2", "node-a", foo=""),
    ep("p-b1", "node-b", foo=""),
    ep("p-b2", "node-b", foo=""),
    ep("p-c1", "node-c", foo=""),
]
ZONE_21 = [ep("p-b1", "node-a", foo=""), ep("p-b2", "node-b", foo=""), ep("p-y1", "node-y", foo="")]
ABXY_FOO = [
    node("node-a", node="node-a", foo=""),
    node("node-b", node="node-b", foo=""),
    node("node-x", node="node-x", foo=""),
    node("node-y", node="node-y"),
]
ABXY_TAINT = [
    node("node-a", node="node-a", foo=""),
    node("node-b", node="node-b", foo=""),
    node("node-x", node="node-x", foo=""),
    node("node-y", TAINTS, node="node-y"),
]

SINGLE_CONSTRAINT_CASES: list[Any] = [
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "zone")]), FOUR, [],
                 {"node-a": S, "node-b": S, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/no existing pods"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "zone", selector=BAR)]), FOUR, [],
                 {"node-a": S, "node-b": S, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/no existing pods, incoming pod doesn't match itself"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "zone")]), FOUR,
                 [ep("p-a1", "node-a", "ns1", foo=""), ep("p-b1", "node-a", "ns2", foo=""),
                  ep("p-x1", "node-x", foo=""), ep("p-y1", "node-y", foo="")],
                 {"node-a": S, "node-b": S, "node-x": U, "node-y": U},
                 id="TestSingleConstraint/existing pods in a different namespace do not count"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "zone", selector=None)]), FOUR,
                 [ep("p-x1", "node-x", foo=""), ep("p-y1", "node-y", foo="")],
                 {"node-a": S, "node-b": S, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/existing pods do not match null selector"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "zone")]), FOUR,
                 [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo=""),
                  ep("p-b1", "node-b", foo=""), ep("p-y1", "node-y", foo=""),
                  ep("p-y2", "node-y", foo=""), ep("p-y3", "node-y", foo="")],
                 {"node-a": S, "node-b": S, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/pods spread across zones as 3/3, all nodes fit"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "zone")]),
                 [zn("node-a", "zone1"), node("node-b", zon="zone1", node="node-b"),
                  zn("node-x", "zone2"), zn("node-y", "zone2")],
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
                  ep("p-x1", "node-x", foo=""), ep("p-y1", "node-y", foo="")],
                 {"node-a": S, "node-b": UU, "node-x": U, "node-y": U},
                 id="TestSingleConstraint/pods spread across zones as 1/2 due to absence of label "
                    "'zone' on node-b"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "rack")]),
                 [zn("node-a", "zone1"), zn("node-x", "zone2")], [],
                 {"node-a": UU, "node-x": UU},
                 id="TestSingleConstraint/pod cannot be scheduled as all nodes don't have label "
                    "'rack'"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "node")]), FOUR, A2B1Y3,
                 {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestSingleConstraint/pods spread across nodes as 2/1/0/3, only node-x fits"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(2, "node")]), FOUR, A2B1Y3,
                 {"node-a": U, "node-b": S, "node-x": S, "node-y": U},
                 id="TestSingleConstraint/pods spread across nodes as 2/1/0/3, maxSkew is 2, "
                    "node-b "
                    "and node-x fit"),
    pytest.param(pod(labels={"bar": ""}, spread=[sc(1, "node")]), FOUR, A2B1Y3,
                 {"node-a": U, "node-b": S, "node-x": S, "node-y": U},
                 id="TestSingleConstraint/pods spread across nodes as 2/1/0/3, but pod doesn't "
                    "match itself"),
    pytest.param(pod(labels={"foo": ""}, affinity=("node", "In", ["node-a", "node-y"]),
                     spread=[sc(1, "node")]), FOUR, A2B1Y3,
                 {"node-a": S, "node-b": S, "node-x": S, "node-y": U},
                 id="TestSingleConstraint/incoming pod has nodeAffinity, pods spread as "
                    "2/~1~/~0~/3, hence node-a fits"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "node")]),
                 [node("node-a", node="node-a"), node("node-b", node="node-b")],
                 [pod("p-a", node="node-a", labels={"foo": ""}, terminating=True),
                  ep("p-b", "node-b", foo="")],
                 {"node-a": S, "node-b": U},
                 id="TestSingleConstraint/terminating Pods should be excluded"),
    pytest.param(pod(labels={"foo": ""}, affinity=("node", "NotIn", ["node-b"]),
                     spread=[sc(1, "zone")]), FOUR,
                 [ep("p-b1", "node-b", foo=""), ep("p-b2", "node-b", foo=""),
                  ep("p-y1", "node-y", foo="")],
                 {"node-a": S, "node-b": S, "node-x": U, "node-y": U},
                 id="TestSingleConstraint/incoming pod has nodeAffinity, pods spread as 0/~2~/0/1, "
                    "hence node-a fits"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(2, "node", min_domains=4)]), ABC, A2B2C1,
                 {"node-a": U, "node-b": U, "node-c": S},
                 id="TestSingleConstraint/pods spread across nodes as 2/2/1, maxSkew is 2, and the "
                    "number of domains < minDomains, then the third node fits"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(2, "node", min_domains=2)]), ABC, A2B2C1,
                 {"node-a": S, "node-b": S, "node-c": S},
                 id="TestSingleConstraint/pods spread across nodes as 2/2/1, maxSkew is 2, and the "
                    "number of domains > minDomains, then the all nodes fit"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(2, "zone", min_domains=3)]), FOUR, ZONE_21,
                 {"node-a": U, "node-b": U, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/pods spread across zone as 2/1, maxSkew is 2 and the "
                    "number of domains < minDomains, then the third and fourth nodes fit"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(2, "zone", min_domains=1)]), FOUR, ZONE_21,
                 {"node-a": S, "node-b": S, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/pods spread across zone as 2/1, maxSkew is 2 and the "
                    "number of domains > minDomains, then the all nodes fit"),
    pytest.param(pod(labels={"foo": ""}, node_selector={"foo": ""}, spread=[sc(1, "node")]),
                 ABXY_FOO, ZONE_21, {"node-a": U, "node-b": U, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/NodeAffinityPolicy honored with labelSelectors"),
    pytest.param(pod(labels={"foo": ""}, node_selector={"foo": ""},
                     spread=[sc(1, "node", affinity="Ignore")]),
                 ABXY_FOO, ZONE_21, {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestSingleConstraint/NodeAffinityPolicy ignored with labelSelectors"),
    pytest.param(pod(labels={"foo": ""}, affinity=("foo", "In", [""]), spread=[sc(1, "node")]),
                 ABXY_FOO, ZONE_21, {"node-a": U, "node-b": U, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/NodeAffinityPolicy honored with nodeAffinity"),
    pytest.param(pod(labels={"foo": ""}, affinity=("foo", "In", [""]),
                     spread=[sc(1, "node", affinity="Ignore")]),
                 ABXY_FOO, ZONE_21, {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestSingleConstraint/NodeAffinityPolicy ignored with nodeAffinity"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "node", taints="Honor")]),
                 ABXY_TAINT, ZONE_21, {"node-a": U, "node-b": U, "node-x": S, "node-y": S},
                 id="TestSingleConstraint/NodeTaintsPolicy honored"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "node")]),
                 ABXY_TAINT, ZONE_21, {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestSingleConstraint/NodeTaintsPolicy ignored"),
]  # fmt: skip

MULTIPLE_CONSTRAINTS_CASES: list[Any] = [
    pytest.param(ZONE_NODE, FOUR, A2B1Y3, {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestMultipleConstraints/two Constraints on zone and node, spreads = "
                    "[3/3, 2/1/0/3]"),
    pytest.param(ZONE_NODE, FOUR, [*A2B1Y3, ep("p-y4", "node-y", foo="")],
                 {"node-a": U, "node-b": U, "node-x": U, "node-y": U},
                 id="TestMultipleConstraints/two Constraints on zone and node, spreads = "
                    "[3/4, 2/1/0/4]"),
    pytest.param(ZONE_NODE_BAR, FOUR, [ep("p-a1", "node-a", foo=""), ep("p-y1", "node-y", bar="")],
                 {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestMultipleConstraints/Constraints hold different labelSelectors, spreads = "
                    "[1/0, 1/0/0/1]"),
    pytest.param(ZONE_NODE_BAR, FOUR,
                 [ep("p-a1", "node-a", foo=""), ep("p-x1", "node-x", bar=""),
                  ep("p-y1", "node-y", bar="")],
                 {"node-a": U, "node-b": U, "node-x": U, "node-y": U},
                 id="TestMultipleConstraints/Constraints hold different labelSelectors, spreads = "
                    "[1/0, 0/0/1/1]"),
    pytest.param(ZONE_NODE_BAR, FOUR,
                 [ep("p-a1", "node-a", foo=""), ep("p-a2", "node-a", foo="", bar=""),
                  ep("p-y1", "node-y", foo=""), ep("p-y2", "node-y", foo="", bar=""),
                  ep("p-y3", "node-y", foo="")],
                 {"node-a": U, "node-b": S, "node-x": U, "node-y": U},
                 id="TestMultipleConstraints/Constraints hold different labelSelectors, spreads = "
                    "[2/3, 1/0/0/1]"),
    pytest.param(pod(labels={"bar": ""}, spread=[sc(1, "zone"), sc(1, "node", selector=BAR)]),
                 FOUR,
                 [ep("p-a1", "node-a", foo=""), ep("p-x1", "node-x", bar=""),
                  ep("p-y1", "node-y", bar="")],
                 {"node-a": S, "node-b": S, "node-x": U, "node-y": U},
                 id="TestMultipleConstraints/Constraints hold different labelSelectors but pod "
                    "doesn't match itself on 'zone' constraint"),
    pytest.param(ZONE_NODE,
                 [zn("node-a", "zone1"), zn("node-b", "zone1"), node("node-x", zone="zone2"),
                  zn("node-y", "zone2")],
                 [ep("p-a1", "node-a", foo=""), ep("p-y3", "node-y", foo="")],
                 {"node-a": U, "node-b": S, "node-x": UU, "node-y": U},
                 id="TestMultipleConstraints/two Constraints on zone and node, absence of label "
                    "'node' on node-x, spreads = [1/1, 1/0/0/1]"),
    pytest.param(pod(labels={"foo": ""}, node_selector={"foo": ""},
                     spread=[sc(1, "zone"), sc(1, "node", affinity="Ignore")]),
                 [zn("node-a", "zone1", foo=""), zn("node-b", "zone1", foo=""),
                  zn("node-x", "zone2", foo=""), zn("node-y", "zone2")],
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
                  ep("p-y1", "node-y", foo="")],
                 {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestMultipleConstraints/two node inclusion Constraints, zone: honor/ignore, "
                    "node: ignore/ignore"),
    pytest.param(pod(labels={"foo": ""}, spread=[sc(1, "zone", taints="Honor"), sc(1, "node")]),
                 [zn("node-a", "zone1", foo=""), zn("node-b", "zone1", foo=""),
                  zn("node-x", "zone2", foo=""), zn("node-y", "zone2", TAINTS)],
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
                  ep("p-y1", "node-y", foo="")],
                 {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestMultipleConstraints/two node inclusion Constraints, zone: honor/honor, "
                    "node: honor/ignore"),
    pytest.param(pod(labels={"foo": ""}, node_selector={"foo": ""},
                     spread=[sc(1, "zone"), sc(1, "node")]),
                 [zn("node-a", "zone1", foo=""), zn("node-b", "zone1"),
                  zn("node-x", "zone2", foo=""), zn("node-y", "zone2", TAINTS, foo="")],
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
                  ep("p-y1", "node-y", foo="")],
                 {"node-a": U, "node-b": S, "node-x": S, "node-y": U},
                 id="TestMultipleConstraints/two node inclusion Constraints, zone: honor/ignore, "
                    "node: honor/ignore"),
    pytest.param(pod(labels={"foo": ""}, node_selector={"foo": ""},
                     spread=[sc(1, "zone", taints="Honor"), sc(1, "node", affinity="Ignore")]),
                 [zn("node-a", "zone1", foo=""), zn("node-b", "zone1"),
                  zn("node-x", "zone2", foo=""), zn("node-y", "zone2", TAINTS, foo="")],
                 [ep("p-a1", "node-a", foo=""), ep("p-b1", "node-b", foo=""),
                  ep("p-y1", "node-y", foo="")],
                 {"node-a": U, "node-b": U, "node-x": S, "node-y": U},
                 id="TestMultipleConstraints/two node inclusion Constraints, zone: honor/honor, "
                    "node: ignore/ignore"),
]  # fmt: skip

_REASONS = {
    U: (ERR_REASON_CONSTRAINTS_NOT_MATCH,),
    UU: (ERR_REASON_NODE_LABEL_NOT_MATCH,),
}


@pytest.mark.parametrize(
    ("p", "nodes", "pods", "want"), SINGLE_CONSTRAINT_CASES + MULTIPLE_CONSTRAINTS_CASES
)
def test_filter(p: Pod, nodes: list[Node], pods: list[Pod], want: dict[str, Code]) -> None:
    pl, snapshot = plugin(nodes, pods)
    state, status = run_pre_filter(pl, snapshot, p)
    assert status is None
    got = {}
    for info in snapshot.list():
        result = pl.filter(state, p, info)
        got[info.name] = S if result is None else result.code
        if result is not None:
            assert result.reasons == _REASONS[result.code]
    assert got == want


def test_filter_reasons_are_upstreams() -> None:
    assert (
        ERR_REASON_CONSTRAINTS_NOT_MATCH == "node(s) didn't match pod topology spread constraints"
    )
    assert ERR_REASON_NODE_LABEL_NOT_MATCH == (
        "node(s) didn't match pod topology spread constraints (missing required label)"
    )


def test_pre_filter_disabled() -> None:
    """TestPreFilterDisabled: Filter without PreFilter is an error."""
    pl, _ = plugin([])
    status = pl.filter(CycleState(), pod(), Snapshot.build([node("n")]).get("n"))
    assert status == Status(
        Code.ERROR, 'reading "PreFilterPodTopologySpread" from cycleState: not found'
    )


def test_pre_filter_bad_selector_is_an_error() -> None:
    bad = {"matchExpressions": [{"key": "foo", "operator": "In", "values": []}]}
    pl, snapshot = plugin(FOUR)
    _, status = run_pre_filter(pl, snapshot, pod(spread=[sc(1, "zone", selector=bad)]))
    assert isinstance(status, Status) and status.code is Code.ERROR
    assert status.message == (
        "get constraints from pod: obtaining pod's hard topology spread constraints: "
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
        "empty"
    )


def test_filter_through_framework_order_with_nominated_pod() -> None:
    """AddPod on a clone, then Filter: what the framework does for a nominated pod."""
    pl, snapshot = plugin(AB, [ep("p-b1", "node-b", foo="")])
    state, _ = run_pre_filter(pl, snapshot, ONE_NODE)
    assert pl.filter(state, ONE_NODE, snapshot.get("node-a")) is None
    nominated = state.clone()
    pl.add_pod(nominated, ONE_NODE, PodInfo(ep("p-a1", "node-a", foo="")), snapshot.get("node-a"))
    pl.add_pod(nominated, ONE_NODE, PodInfo(ep("p-a2", "node-a", foo="")), snapshot.get("node-a"))
    status = pl.filter(nominated, ONE_NODE, snapshot.get("node-a"))
    assert status == Status(Code.UNSCHEDULABLE, ERR_REASON_CONSTRAINTS_NOT_MATCH)


# -- args: defaults and TestValidatePodTopologySpreadArgs ------------------------------------


def test_default_args_are_v1_system_defaulting() -> None:
    args_type = FACTORIES[POD_TOPOLOGY_SPREAD].args_type
    assert args_type is not None
    args = args_type()
    assert args == PodTopologySpreadArgs(default_constraints=(), defaulting_type="System")
    pl = FACTORIES[POD_TOPOLOGY_SPREAD].new(args, StaticHandle())
    assert isinstance(pl, PodTopologySpread) and pl.system_defaulted
    assert [(c.topology_key, c.max_skew, c.when_unsatisfiable) for c in pl.default_constraints] == [
        ("kubernetes.io/hostname", 3, "ScheduleAnyway"),
        ("topology.kubernetes.io/zone", 5, "ScheduleAnyway"),
    ]


def test_args_decode_from_plugin_config() -> None:
    body = {
        "defaultingType": "List",
        "defaultConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
        ],
    }
    args = from_dict(body, PodTopologySpreadArgs, strict=True)
    assert args.defaulting_type == "List"
    assert args.default_constraints == (_tsc(1, "zone", "DoNotSchedule"),)
    pl = FACTORIES[POD_TOPOLOGY_SPREAD].new(args, StaticHandle())
    assert isinstance(pl, PodTopologySpread) and not pl.system_defaulted


def _c(**fields: Any) -> TopologySpreadConstraint:
    return from_dict(fields, TopologySpreadConstraint)


VALIDATION_CASES: list[Any] = [
    pytest.param([_c(maxSkew=1, topologyKey="node", whenUnsatisfiable="DoNotSchedule"),
                  _c(maxSkew=2, topologyKey="zone", whenUnsatisfiable="ScheduleAnyway")],
                 "List", None, id="valid config"),
    pytest.param([_c(maxSkew=-1, topologyKey="node", whenUnsatisfiable="DoNotSchedule")], "List",
                 "defaultConstraints[0].maxSkew: Invalid value: -1: not in valid range (0, inf)",
                 id="maxSkew less than zero"),
    pytest.param([_c(maxSkew=1, topologyKey="", whenUnsatisfiable="DoNotSchedule")], "List",
                 "defaultConstraints[0].topologyKey: Required value: can not be empty",
                 id="empty topology key"),
    pytest.param([_c(maxSkew=1, topologyKey="node")], "List",
                 "defaultConstraints[0].whenUnsatisfiable: Required value: can not be empty",
                 id="whenUnsatisfiable is empty"),
    pytest.param([attrs.evolve(_c(maxSkew=1, topologyKey="node"),
                               when_unsatisfiable="unknown action")],  # type: ignore[arg-type]
                 "List",
                 'defaultConstraints[0].whenUnsatisfiable: Unsupported value: "unknown action": '
                 'supported values: "DoNotSchedule", "ScheduleAnyway"',
                 id="whenUnsatisfiable contains unsupported action"),
    pytest.param([_c(maxSkew=1, topologyKey="node", whenUnsatisfiable="DoNotSchedule"),
                  _c(maxSkew=2, topologyKey="node", whenUnsatisfiable="DoNotSchedule")], "List",
                 'defaultConstraints[1]: Duplicate value: "{node, DoNotSchedule}"',
                 id="duplicated constraints"),
    pytest.param([_c(maxSkew=1, topologyKey="key", whenUnsatisfiable="DoNotSchedule",
                     labelSelector={"matchLabels": {"a": "b"}})], "List",
                 "defaultConstraints[0].labelSelector: Forbidden: constraint must not define a "
                 "selector, as they deduced for each pod",
                 id="label selector present"),
    pytest.param([], "List", None, id="list default constraints, no constraints"),
    pytest.param([], "System", None, id="system default constraints"),
    pytest.param([_c(maxSkew=1, topologyKey="key", whenUnsatisfiable="DoNotSchedule")], "System",
                 'defaultingType: Invalid value: "System": when .defaultConstraints are not empty',
                 id="wrong constraints"),
    pytest.param([], "Foo",
                 'defaultingType: Unsupported value: "Foo": supported values: "System", "List"',
                 id="unknown defaultingType"),
    pytest.param([_c(maxSkew=0, topologyKey="Bad Key", whenUnsatisfiable="DoNotSchedule")], "List",
                 "[defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf), "
                 'defaultConstraints[0].topologyKey: Invalid value: "Bad Key": name part must '
                 "consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                 "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                 "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]",
                 id="several errors are aggregated"),
]  # fmt: skip


@pytest.mark.parametrize(("constraints", "kind", "message"), VALIDATION_CASES)
def test_validate_args(
    constraints: list[TopologySpreadConstraint], kind: str, message: str | None
) -> None:
    args = PodTopologySpreadArgs(default_constraints=tuple(constraints), defaulting_type=kind)
    new = FACTORIES[POD_TOPOLOGY_SPREAD].new
    if message is None:
        new(args, StaticHandle())
        return
    with pytest.raises(ConfigError) as err:
        new(args, StaticHandle())
    assert str(err.value) == message


# -- properties -------------------------------------------------------------------------------

ZONES = ("z1", "z2", "z3")


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[Node], list[Pod], Pod]:
    nodes = []
    for i in range(draw(st.integers(1, 6))):
        labels = {"kubernetes.io/hostname": f"n{i}"}
        zone = draw(st.sampled_from((*ZONES, None)))
        if zone is not None:
            labels["zone"] = zone
        nodes.append(node(f"n{i}", **labels))
    pods = []
    for j in range(draw(st.integers(0, 12))):
        labels = draw(st.sampled_from(({"app": "a"}, {"app": "b"}, {}, {"app": "a", "v": "1"})))
        ns = draw(st.sampled_from(("default", "default", "other")))
        pods.append(
            pod(f"e{j}", node=f"n{draw(st.integers(0, len(nodes) - 1))}", labels=labels, ns=ns,
                terminating=draw(st.booleans()) and draw(st.booleans()))
        )  # fmt: skip
    keys = draw(
        st.lists(st.sampled_from(("zone", "kubernetes.io/hostname")), min_size=1, max_size=2,
                 unique=True)
    )  # fmt: skip
    selector: dict[str, Any] = draw(
        st.sampled_from(({"matchLabels": {"app": "a"}}, {"matchExpressions": [
            {"key": "app", "operator": "Exists"}]}, {"matchLabels": {"v": "1"}}))
    )  # fmt: skip
    spread = [
        sc(draw(st.integers(1, 3)), key, selector=selector,
           min_domains=draw(st.sampled_from((None, 1, 2, 4))))
        for key in keys
    ]  # fmt: skip
    incoming = pod("incoming", labels=draw(st.sampled_from(({"app": "a"}, {"app": "b"}))),
                   spread=spread)  # fmt: skip
    return nodes, pods, incoming


def _selects(selector: Any, labels: Mapping[str, str]) -> bool:
    """The property's selectors: matchLabels, or app Exists."""
    if selector.match_labels:
        return all(labels.get(k) == v for k, v in selector.match_labels.items())
    return "app" in labels


def _reference_counts(
    nodes: list[Node], pods: list[Pod], incoming: Pod, i: int
) -> tuple[dict[str, int], int]:
    """Matching pods per domain of constraint ``i`` over the nodes that have every topology key,
    and the global minimum as the skew rule uses it (0 below minDomains domains)."""
    assert incoming.spec is not None
    constraints = incoming.spec.topology_spread_constraints
    c = constraints[i]
    keys = [k.topology_key or "" for k in constraints]
    eligible: dict[str, Mapping[str, str]] = {}
    for n in nodes:
        assert n.metadata is not None and n.metadata.name is not None
        if all(k in n.metadata.labels for k in keys):
            eligible[n.metadata.name] = n.metadata.labels
    key = c.topology_key or ""
    counts = {labels[key]: 0 for labels in eligible.values()}
    for p in pods:
        meta, spec = p.metadata, p.spec
        assert meta is not None and spec is not None
        where = eligible.get(spec.node_name or "")
        if where is None or meta.deletion_timestamp or meta.namespace != "default":
            continue
        if _selects(c.label_selector, meta.labels):
            counts[where[key]] += 1
    minimum = 0 if len(counts) < (c.min_domains or 1) else min(counts.values())
    return counts, minimum


@settings(max_examples=150, deadline=None)
@given(clusters())
def test_filter_agrees_with_reference_and_keeps_skew(
    cluster: tuple[list[Node], list[Pod], Pod],
) -> None:
    """Filter admits a node exactly when a straightforward count over the snapshot allows it,
    and placing the pod on an admitted node keeps every DoNotSchedule constraint's skew (its
    domain's count minus the global minimum) within maxSkew."""
    nodes, pods, incoming = cluster
    pl, snapshot = plugin(nodes, pods)
    state, status = run_pre_filter(pl, snapshot, incoming)
    assert status is None
    assert incoming.spec is not None and incoming.metadata is not None
    constraints = incoming.spec.topology_spread_constraints
    own = incoming.metadata.labels
    for info in snapshot.list():
        assert info.node is not None and info.node.metadata is not None
        labels = info.node.metadata.labels
        result = pl.filter(state, incoming, info)
        if any((c.topology_key or "") not in labels for c in constraints):
            assert result == Status(
                Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_NODE_LABEL_NOT_MATCH
            )
            continue
        fits = True
        for i, c in enumerate(constraints):
            counts, minimum = _reference_counts(nodes, pods, incoming, i)
            self_match = int(_selects(c.label_selector, own))
            if counts.get(labels[c.topology_key or ""], 0) + self_match - minimum > (
                c.max_skew or 0
            ):
                fits = False
        assert (result is None) == fits, (info.name, result)
        if not fits:
            continue
        for i, c in enumerate(constraints):
            counts, _ = _reference_counts(nodes, pods, incoming, i)
            value = labels[c.topology_key or ""]
            counts[value] += int(_selects(c.label_selector, own))  # the pod placed there
            floor = 0 if len(counts) < (c.min_domains or 1) else min(counts.values())
            assert counts[value] - floor <= (c.max_skew or 0)


@settings(max_examples=100, deadline=None)
@given(clusters(), st.data())
def test_add_and_remove_pod_match_a_fresh_pre_filter(
    cluster: tuple[list[Node], list[Pod], Pod], data: st.DataObject
) -> None:
    """AddPod/RemovePod of one pod leave Filter answering as a PreFilter over the changed
    snapshot would (the critical paths' minimum stays exact for one change)."""
    nodes, pods, incoming = cluster
    live = [p for p in pods if not p.metadata.deletion_timestamp]  # type: ignore[union-attr]
    pl, snapshot = plugin(nodes, pods)
    state, _ = run_pre_filter(pl, snapshot, incoming)
    remove: bool = data.draw(st.booleans()) if live else False
    if remove:
        victim = data.draw(st.sampled_from(live))
        target = victim.spec.node_name  # type: ignore[union-attr]
        changed = [p for p in pods if p is not victim]
        pl.remove_pod(state, incoming, PodInfo(victim), snapshot.get(target or ""))
    else:
        target = f"n{data.draw(st.integers(0, len(nodes) - 1))}"
        labels = data.draw(st.sampled_from(({"app": "a"}, {"app": "b"}, {"v": "1"})))
        added = pod("added", node=target, labels=labels)
        changed = [*pods, added]
        pl.add_pod(state, incoming, PodInfo(added), snapshot.get(target))
    fresh_pl, fresh_snapshot = plugin(nodes, changed)
    fresh_state, _ = run_pre_filter(fresh_pl, fresh_snapshot, incoming)
    for info in snapshot.list():
        got = pl.filter(state, incoming, info)
        want = fresh_pl.filter(fresh_state, incoming, fresh_snapshot.get(info.name))
        assert got == want
