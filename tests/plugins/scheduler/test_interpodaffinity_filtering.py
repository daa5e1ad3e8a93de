"""InterPodAffinity PreFilter/Filter, with the cases of upstream's interpodaffinity
filtering_test.go (test names cited per case).

Upstream's tests put pods in the namespace "" and list ``namespaces`` (subteam*.team*) for the
namespaceSelector cases; here a pod without a namespace is in "default".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from kframe.api import from_dict
from kframe.api.models import Namespace, Node, Pod
from kframe.scheduler import Code, CycleState, PodInfo, Snapshot, Status
from kframe.testing.scheduler import StaticHandle, make_pod
from kframe_plugins.scheduler.interpodaffinity import (
    ERR_REASON_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
    FACTORIES,
    PRE_FILTER_STATE_KEY,
    InterPodAffinity,
    InterPodAffinityArgs,
    PreFilterState,
)
from kframe_plugins.scheduler.interpodaffinity._filtering import incoming_counts
from kframe_plugins.scheduler.interpodaffinity._terms import Namespaces, parse_pod_terms
from kframe_plugins.scheduler.names import INTER_POD_AFFINITY

# -- builders (upstream st.MakePod().PodAffinityIn(...) and friends) ---------------------------

_names = itertools.count()


def node(name: str, **labels: str) -> Node:
    return from_dict({"metadata": {"name": name, "labels": labels}}, Node)


def ns(name: str, **labels: str) -> Namespace:
    return from_dict({"metadata": {"name": name, "labels": labels}}, Namespace)


NAMESPACES = [
    ns("subteam1.team1", team="team1"),
    ns("subteam2.team1", team="team1"),
    ns("subteam1.team2", team="team2"),
    ns("subteam2.team2", team="team2"),
]


def expr(key: str, op: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


def term(
    *exprs: dict[str, Any],
    topo: str = "",
    namespaces: list[str] | None = None,
    ns_selector: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"labelSelector": {"matchExpressions": list(exprs)}}
    if topo:
        out["topologyKey"] = topo
    if namespaces is not None:
        out["namespaces"] = namespaces
    if ns_selector is not None:
        out["namespaceSelector"] = ns_selector
    return out


def t_in(key: str, topo: str, *values: str) -> dict[str, Any]:
    return term(expr(key, "In", *values), topo=topo)


def t_not_in(key: str, topo: str, *values: str) -> dict[str, Any]:
    return term(expr(key, "NotIn", *values), topo=topo)


def t_exists(key: str, topo: str) -> dict[str, Any]:
    return term(expr(key, "Exists"), topo=topo)


TEAM1 = {"matchExpressions": [expr("team", "In", "team1")]}


def pod(
    labels: dict[str, str] | None = None,
    *,
    node_name: str | None = None,
    namespace: str = "default",
    affinity: Sequence[dict[str, Any]] = (),
    anti: Sequence[dict[str, Any]] = (),
    name: str | None = None,
) -> Pod:
    spec: dict[str, Any] = {}
    aff: dict[str, Any] = {}
    if affinity:
        aff["podAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": list(affinity)}
    if anti:
        aff["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": list(anti)}
    if aff:
        spec["affinity"] = aff
    return make_pod(
        name or f"p{next(_names)}", namespace, labels=labels or {}, node=node_name, spec=spec
    )


def plugin(snapshot: Snapshot, namespaces: list[Namespace] = NAMESPACES) -> InterPodAffinity:
    built = FACTORIES[INTER_POD_AFFINITY].new(
        InterPodAffinityArgs(), StaticHandle(snapshot, namespaces)
    )
    assert isinstance(built, InterPodAffinity)
    return built


def unresolvable(reason: str) -> Status:
    return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, reason)


def unschedulable(reason: str) -> Status:
    return Status(Code.UNSCHEDULABLE, reason)


SKIP = Status(Code.SKIP)
AFFINITY = unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH)
ANTI = unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH)
EXISTING = unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)
BAD_VALUE = (
    'parsing pod: requiredAffinityTerms: values[0][service]: Invalid value: "{{.bad-value.}}": '
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)

# -- TestRequiredAffinitySingleNode -----------------------------------------------------------

SEC = {"service": "securityscan"}
S1 = {"security": "S1"}
EXISTING_POD = pod(SEC, node_name="node1")
NODE1 = node("node1", region="r1", zone="z11")
SINGLE = "TestRequiredAffinitySingleNode/"

SINGLE_NODE_CASES = [
    pytest.param(pod(), [], SKIP, None, id=SINGLE + "no required pod affinity, no pods"),
    pytest.param(
        pod(S1, affinity=[t_in("service", "region", "securityscan", "value2")]),
        [EXISTING_POD],
        None,
        None,
        id=SINGLE + "affinity In matches the existing pod",
    ),
    pytest.param(
        pod(S1, affinity=[t_not_in("service", "region", "securityscan3", "value3")]),
        [EXISTING_POD],
        None,
        None,
        id=SINGLE + "affinity NotIn matches the existing pod",
    ),
    pytest.param(
        pod(
            S1,
            affinity=[
                term(expr("service", "In", "securityscan", "value2"), namespaces=["DiffNameSpace"])
            ],
        ),
        [pod(SEC, namespace="ns", node_name="node1")],
        None,
        AFFINITY,
        id=SINGLE + "affinity does not match because of a different namespace",
    ),
    pytest.param(
        pod(SEC, affinity=[t_in("service", "", "antivirusscan", "value2")]),
        [EXISTING_POD],
        None,
        AFFINITY,
        id=SINGLE + "affinity labelSelector does not match the existing pod",
    ),
    pytest.param(
        pod(
            S1,
            affinity=[
                term(expr("service", "Exists"), expr("wrongkey", "DoesNotExist"), topo="region"),
                term(
                    expr("service", "In", "securityscan"),
                    expr("service", "NotIn", "WrongValue"),
                    topo="region",
                ),
            ],
        ),
        [EXISTING_POD],
        None,
        None,
        id=SINGLE + "different operators in several required terms",
    ),
    pytest.param(
        pod(
            S1,
            affinity=[
                term(expr("service", "Exists"), expr("wrongkey", "DoesNotExist"), topo="region"),
                term(
                    expr("service", "In", "securityscan2"),
                    expr("service", "NotIn", "WrongValue"),
                    topo="region",
                ),
            ],
        ),
        [EXISTING_POD],
        None,
        AFFINITY,
        id=SINGLE + "matchExpressions are ANDed, one does not match",
    ),
    pytest.param(
        pod(
            S1,
            affinity=[t_in("service", "region", "securityscan", "value2")],
            anti=[t_in("service", "node", "antivirusscan", "value2")],
        ),
        [EXISTING_POD],
        None,
        None,
        id=SINGLE + "satisfies affinity and anti-affinity",
    ),
    pytest.param(
        pod(
            S1,
            affinity=[t_in("service", "region", "securityscan", "value2")],
            anti=[t_in("service", "node", "antivirusscan", "value2")],
        ),
        [pod(SEC, node_name="node1", anti=[t_in("service", "node", "antivirusscan", "value2")])],
        None,
        None,
        id=SINGLE + "satisfies affinity, anti-affinity and anti-affinity symmetry",
    ),
    pytest.param(
        pod(
            S1,
            affinity=[t_in("service", "region", "securityscan", "value2")],
            anti=[t_in("service", "zone", "securityscan", "value2")],
        ),
        [EXISTING_POD],
        None,
        ANTI,
        id=SINGLE + "satisfies affinity but not anti-affinity",
    ),
    pytest.param(
        pod(
            SEC,
            affinity=[t_in("service", "region", "securityscan", "value2")],
            anti=[t_in("service", "node", "antivirusscan", "value2")],
        ),
        [pod(SEC, node_name="node1", anti=[t_in("service", "zone", "securityscan", "value2")])],
        None,
        EXISTING,
        id=SINGLE + "satisfies affinity and anti-affinity but not anti-affinity symmetry",
    ),
    pytest.param(
        pod(SEC, affinity=[t_not_in("service", "region", "securityscan", "value2")]),
        [pod(SEC, node_name="node2")],
        None,
        AFFINITY,
        id=SINGLE + "pod matches its own label in affinity and that matches the existing pod",
    ),
    pytest.param(
        pod(SEC),
        [pod(SEC, node_name="node1", anti=[t_in("service", "zone", "securityscan", "value2")])],
        None,
        EXISTING,
        id=SINGLE + "existing anti-affinity respected without own anti-affinity: violated",
    ),
    pytest.param(
        pod(SEC),
        [
            pod(
                SEC,
                node_name="node1",
                anti=[t_not_in("service", "zone", "securityscan", "value2")],
            )
        ],
        SKIP,
        None,
        id=SINGLE + "existing anti-affinity respected without own anti-affinity: satisfied",
    ),
    pytest.param(
        pod(SEC, anti=[t_exists("service", "region"), t_exists("security", "region")]),
        [pod(S1, node_name="node1", anti=[t_exists("security", "zone")])],
        None,
        ANTI,
        id=SINGLE + "satisfies existing anti-affinity but not own anti-affinity symmetry",
    ),
    pytest.param(
        pod(SEC, anti=[t_exists("service", "zone"), t_exists("security", "zone")]),
        [pod(S1, node_name="node1", anti=[t_exists("security", "zone")])],
        None,
        ANTI,
        id=SINGLE + "anti-affinity symmetry a1: partial match",
    ),
    pytest.param(
        pod(S1, anti=[t_exists("security", "zone")]),
        [
            pod(
                SEC,
                node_name="node1",
                anti=[t_exists("service", "zone"), t_exists("security", "zone")],
            )
        ],
        None,
        EXISTING,
        id=SINGLE + "anti-affinity symmetry a2: partial match",
    ),
    pytest.param(
        pod({"abc": "", "xyz": ""}, anti=[t_exists("abc", "zone"), t_exists("def", "zone")]),
        [
            pod(
                {"def": "", "xyz": ""},
                node_name="node1",
                anti=[t_exists("abc", "zone"), t_exists("def", "zone")],
            )
        ],
        None,
        ANTI,
        id=SINGLE + "anti-affinity symmetry b1: partial match",
    ),
    pytest.param(
        pod({"def": "", "xyz": ""}, anti=[t_exists("abc", "zone"), t_exists("def", "zone")]),
        [
            pod(
                {"abc": "", "xyz": ""},
                node_name="node1",
                anti=[t_exists("abc", "zone"), t_exists("def", "zone")],
            )
        ],
        None,
        ANTI,
        id=SINGLE + "anti-affinity symmetry b2: partial match",
    ),
    pytest.param(
        pod(
            SEC,
            affinity=[
                t_in("service", "region", "{{.bad-value.}}"),
                t_in("service", "node", "antivirusscan", "value2"),
            ],
        ),
        [],
        unresolvable(BAD_VALUE),
        None,
        id=SINGLE + "affinity fails PreFilter with an invalid label value",
    ),
    pytest.param(
        pod(
            SEC,
            affinity=[t_in("service", "region", "foo"), t_in("service", "node", "{{.bad-value.}}")],
        ),
        [],
        unresolvable(BAD_VALUE),
        None,
        id=SINGLE + "anti-affinity fails PreFilter with an invalid label value",
    ),
    pytest.param(
        pod(
            S1,
            affinity=[
                term(
                    expr("service", "In", "securityscan", "value2"),
                    ns_selector=TEAM1,
                    topo="region",
                )
            ],
        ),
        [pod(SEC, namespace="subteam1.team1", node_name="node1")],
        None,
        None,
        id=SINGLE + "affinity with NamespaceSelector",
    ),
    pytest.param(
        pod(
            S1,
            affinity=[
                term(
                    expr("service", "In", "securityscan", "value2"),
                    ns_selector=TEAM1,
                    topo="region",
                )
            ],
        ),
        [pod(SEC, namespace="subteam1.team2", node_name="node1")],
        None,
        AFFINITY,
        id=SINGLE + "affinity with non-matching NamespaceSelector",
    ),
    pytest.param(
        pod(
            S1,
            namespace="subteam1.team1",
            anti=[
                term(
                    expr("service", "In", "securityscan", "value2"),
                    ns_selector=TEAM1,
                    topo="zone",
                )
            ],
        ),
        [pod(SEC, namespace="subteam2.team1", node_name="node1")],
        None,
        ANTI,
        id=SINGLE + "anti-affinity with matching NamespaceSelector",
    ),
    pytest.param(
        pod(
            S1,
            namespace="subteam1.team1",
            anti=[
                term(expr("service", "In", "securityscan", "value2"), ns_selector={}, topo="zone")
            ],
        ),
        [pod(SEC, namespace="subteam2.team1", node_name="node1")],
        None,
        ANTI,
        id=SINGLE + "anti-affinity with matching all NamespaceSelector",
    ),
    pytest.param(
        pod(
            S1,
            namespace="subteam1.team1",
            anti=[
                term(
                    expr("service", "In", "securityscan", "value2"),
                    ns_selector=TEAM1,
                    topo="zone",
                )
            ],
        ),
        [pod(SEC, namespace="subteam1.team2", node_name="node1")],
        None,
        None,
        id=SINGLE + "anti-affinity with non-matching NamespaceSelector",
    ),
]


@pytest.mark.parametrize(("incoming", "pods", "want_pre_filter", "want_filter"), SINGLE_NODE_CASES)
def test_required_affinity_single_node(
    incoming: Pod, pods: list[Pod], want_pre_filter: Status | None, want_filter: Status | None
) -> None:
    snapshot = Snapshot.build([NODE1], pods)
    p = plugin(snapshot)
    state = CycleState()
    assert p.pre_filter(state, incoming, snapshot.list()) == want_pre_filter
    if want_pre_filter is not None:
        return
    assert p.filter(state, incoming, snapshot.get("node1")) == want_filter


# -- TestRequiredAffinityMultipleNodes --------------------------------------------------------

CHINA = {"region": "China"}
CHINA_AZ1 = {"region": "China", "az": "az1"}
INDIA = {"region": "India"}
MULTI = "TestRequiredAffinityMultipleNodes/"


def r1(name: str, zone: str = "z1") -> Node:
    return node(name, region="r1", zone=zone, hostname=name)


MULTIPLE_NODES_CASES = [
    pytest.param(
        pod(affinity=[t_in("foo", "region", "bar")]),
        [pod({"foo": "bar"}, node_name="node1")],
        [node("node1", **CHINA), node("node2", **CHINA_AZ1), node("node3", **INDIA)],
        None,
        [None, None, AFFINITY],
        id=MULTI + "all nodes of the topology value with a matching pod fit",
    ),
    pytest.param(
        pod(
            {"foo": "bar", "service": "securityscan"},
            affinity=[t_in("foo", "zone", "bar"), t_in("service", "zone", "securityscan")],
        ),
        [pod({"foo": "bar"}, node_name="nodeA")],
        [node("nodeA", zone="az1", hostname="h1"), node("nodeB", zone="az2", hostname="h2")],
        None,
        [None, None],
        id=MULTI + "the first pod of a collection with affinity to itself is not blocked",
    ),
    pytest.param(
        pod(
            {"foo": "bar", "service": "securityscan"},
            affinity=[t_in("foo", "zone", "bar"), t_in("service", "zone", "securityscan")],
        ),
        [pod({"foo": "bar"}, node_name="nodeA")],
        [
            node("nodeA", zoneLabel="az1", hostname="h1"),
            node("nodeB", zoneLabel="az2", hostname="h2"),
        ],
        None,
        [AFFINITY, AFFINITY],
        id=MULTI + "the first pod of a collection needs nodes with the topology keys",
    ),
    pytest.param(
        pod(anti=[t_in("foo", "region", "abc")]),
        [pod({"foo": "abc"}, node_name="nodeA")],
        [
            node("nodeA", region="r1", hostname="nodeA"),
            node("nodeB", region="r1", hostname="nodeB"),
        ],
        None,
        [ANTI, ANTI],
        id=MULTI + "anti-affinity excludes every node of the topology value",
    ),
    pytest.param(
        pod(anti=[t_in("foo", "region", "abc"), t_in("service", "zone", "securityscan")]),
        [pod({"foo": "abc", "service": "securityscan"}, node_name="nodeA")],
        [r1("nodeA", "z1"), r1("nodeB", "z2")],
        None,
        [ANTI, ANTI],
        id=MULTI + "anti-affinity matches when any term matches",
    ),
    pytest.param(
        pod(anti=[t_in("foo", "region", "abc")]),
        [pod({"foo": "abc"}, node_name="nodeA")],
        [node("nodeA", **CHINA), node("nodeB", **CHINA_AZ1), node("nodeC", **INDIA)],
        None,
        [ANTI, ANTI, None],
        id=MULTI + "anti-affinity leaves the other topology value",
    ),
    pytest.param(
        pod({"foo": "123"}, namespace="NS1", anti=[t_in("foo", "region", "bar")]),
        [
            pod({"foo": "bar"}, namespace="NS1", node_name="nodeA"),
            pod(namespace="NS2", node_name="nodeC", anti=[t_in("foo", "region", "123")]),
        ],
        [node("nodeA", **CHINA), node("nodeB", **CHINA_AZ1), node("nodeC", **INDIA)],
        None,
        [ANTI, ANTI, None],
        id=MULTI + "an existing anti-affinity in another namespace does not count",
    ),
    pytest.param(
        pod({"foo": ""}),
        [pod(node_name="nodeA", anti=[t_exists("foo", "invalid-node-label")])],
        [r1("nodeA"), r1("nodeB")],
        SKIP,
        None,
        id=MULTI + "existing anti-affinity with a topologyKey no node has",
    ),
    pytest.param(
        pod(node_name="nodeA", anti=[t_exists("foo", "invalid-node-label")]),
        [pod({"foo": ""}, node_name="nodeA")],
        [r1("nodeA"), r1("nodeB")],
        None,
        [None, None],
        id=MULTI + "incoming anti-affinity still checks the topologyKey",
    ),
    pytest.param(
        pod({"foo": "", "bar": ""}),
        [
            pod(node_name="nodeA", anti=[t_exists("foo", "zone")]),
            pod(node_name="nodeA", anti=[t_exists("bar", "region")]),
        ],
        [r1("nodeA", "z1"), r1("nodeB", "z2")],
        None,
        [EXISTING, EXISTING],
        id=MULTI + "the incoming pod violates existing pods' terms on all nodes",
    ),
    pytest.param(
        pod(anti=[t_exists("foo", "zone"), t_exists("bar", "region")]),
        [pod({"foo": ""}, node_name="nodeA"), pod({"bar": ""}, node_name="nodeB")],
        [r1("nodeA", "z1"), r1("nodeB", "z2")],
        None,
        [ANTI, ANTI],
        id=MULTI + "the incoming pod violates one of its anti-affinity terms on all nodes",
    ),
    pytest.param(
        pod({"foo": "", "bar": ""}),
        [
            pod(
                node_name="nodeA",
                anti=[t_exists("foo", "invalid-node-label"), t_exists("bar", "zone")],
            )
        ],
        [r1("nodeA", "z1"), r1("nodeB", "z2")],
        None,
        [EXISTING, None],
        id=MULTI + "existing anti-affinity: selector and topologyKey both must match (invalid)",
    ),
    pytest.param(
        pod(anti=[t_exists("foo", "invalid-node-label"), t_exists("bar", "zone")]),
        [pod({"foo": "", "bar": ""}, node_name="nodeA", name="podA")],
        [r1("nodeA", "z1"), r1("nodeB", "z2")],
        None,
        [ANTI, None],
        id=MULTI + "incoming anti-affinity: selector and topologyKey both must match (invalid)",
    ),
    pytest.param(
        pod({"foo": "", "bar": ""}),
        [pod(node_name="nodeA", anti=[t_exists("foo", "region"), t_exists("bar", "zone")])],
        [r1("nodeA", "z1"), r1("nodeB", "z2")],
        None,
        [EXISTING, EXISTING],
        id=MULTI + "existing anti-affinity: selector and topologyKey both must match (valid)",
    ),
    pytest.param(
        pod(anti=[t_exists("foo", "region"), t_exists("bar", "zone")]),
        [pod({"foo": "", "bar": ""}, node_name="nodeA")],
        [r1("nodeA", "z1"), r1("nodeB", "z2")],
        None,
        [ANTI, ANTI],
        id=MULTI + "incoming anti-affinity: selector and topologyKey both must match (valid)",
    ),
    pytest.param(
        pod({"foo": "", "bar": ""}),
        [
            pod(node_name="nodeA", anti=[t_exists("foo", "zone"), t_exists("labelA", "zone")]),
            pod(node_name="nodeB", anti=[t_exists("bar", "zone"), t_exists("labelB", "zone")]),
        ],
        [r1("nodeA", "z1"), r1("nodeB", "z2"), r1("nodeC", "z3")],
        None,
        [EXISTING, EXISTING, None],
        id=MULTI + "existing pods' anti-affinity leaves only nodeC",
    ),
    pytest.param(
        pod(affinity=[t_exists("foo", "region"), t_exists("bar", "zone")]),
        [pod({"foo": "", "bar": ""}, node_name="nodeA", name="pod1")],
        [r1("nodeA", "z1"), r1("nodeB", "z1")],
        None,
        [None, None],
        id=MULTI + "incoming affinity: all terms match, then all topologyKeys",
    ),
    pytest.param(
        pod(affinity=[t_exists("foo", "region"), t_exists("bar", "zone")]),
        [
            pod({"foo": ""}, node_name="nodeA", name="pod1"),
            pod({"bar": ""}, node_name="nodeB", name="pod2"),
        ],
        [r1("nodeA", "z1"), r1("nodeB", "z2")],
        None,
        [AFFINITY, AFFINITY],
        id=MULTI + "incoming affinity: the terms must be satisfied by the same pod",
    ),
]


@pytest.mark.parametrize(
    ("incoming", "pods", "nodes", "want_pre_filter", "want_filter"), MULTIPLE_NODES_CASES
)
def test_required_affinity_multiple_nodes(
    incoming: Pod,
    pods: list[Pod],
    nodes: list[Node],
    want_pre_filter: Status | None,
    want_filter: list[Status | None],
) -> None:
    snapshot = Snapshot.build(nodes, pods)
    p = plugin(snapshot, [ns("NS1")])
    state = CycleState()
    assert p.pre_filter(state, incoming, snapshot.list()) == want_pre_filter
    if want_pre_filter is not None:
        return
    got = [p.filter(state, incoming, snapshot.get(n.metadata.name or "")) for n in nodes]
    assert got == want_filter


def test_pre_filter_disabled() -> None:
    """TestPreFilterDisabled: Filter without PreFilter's state is an error."""
    p = plugin(Snapshot(()))
    got = p.filter(CycleState(), pod(), Snapshot.build([node("n")]).get("n"))
    assert got == Status(
        Code.ERROR, 'error reading "PreFilterInterPodAffinity" from cycleState: not found'
    )


# -- TestPreFilterStateAddRemovePod -----------------------------------------------------------

FOO_BAR = {"foo": "bar"}
ANTI_FOO_BAR = [t_in("foo", "region", "bar")]
COMPLEX = [
    t_in("foo", "region", "bar", "buzz"),
    t_not_in("service", "zone", "bar", "security", "test"),
]
ADD_REMOVE_NODES = [
    node("nodeA", region="r1", zone="z11"),
    node("nodeB", region="r1", zone="z12"),
    node("nodeC", region="r2", zone="z21"),
]
Pair = tuple[str, str]
ADD_REMOVE = "TestPreFilterStateAddRemovePod/"

ADD_REMOVE_CASES = [
    pytest.param(
        pod(FOO_BAR, name="pending", anti=ANTI_FOO_BAR),
        [
            pod(FOO_BAR, name="p1", node_name="nodeA"),
            pod(name="p2", node_name="nodeC", anti=ANTI_FOO_BAR),
        ],
        pod(FOO_BAR, name="addedPod", node_name="nodeB", anti=ANTI_FOO_BAR),
        {("region", "r1"): 2},
        {},
        id=ADD_REMOVE + "anti-affinity terms are updated",
    ),
    pytest.param(
        pod(FOO_BAR, name="pending", anti=COMPLEX),
        [
            pod(FOO_BAR, name="p1", node_name="nodeA"),
            pod(name="p2", node_name="nodeC", anti=ANTI_FOO_BAR),
        ],
        pod(FOO_BAR, name="addedPod", node_name="nodeA", anti=COMPLEX),
        {("region", "r1"): 2, ("zone", "z11"): 2, ("zone", "z21"): 1},
        {},
        id=ADD_REMOVE + "complex anti-affinity terms are updated",
    ),
    pytest.param(
        pod(FOO_BAR, name="pending", affinity=COMPLEX),
        [
            pod(FOO_BAR, name="p1", node_name="nodeA"),
            pod(name="p2", node_name="nodeC", anti=ANTI_FOO_BAR, affinity=COMPLEX),
        ],
        pod(FOO_BAR, name="addedPod", node_name="nodeA", anti=COMPLEX),
        {},
        {("region", "r1"): 2, ("zone", "z11"): 2},
        id=ADD_REMOVE + "affinity and anti-affinity terms are updated",
    ),
]


def _state(pending: Pod, pods: list[Pod]) -> tuple[InterPodAffinity, CycleState, Snapshot]:
    snapshot = Snapshot.build(ADD_REMOVE_NODES, pods)
    p = plugin(snapshot, [])
    state = CycleState()
    assert p.pre_filter(state, pending, snapshot.list()) is None
    return p, state, snapshot


def _counts(state: CycleState) -> tuple[dict[Pair, int], ...]:
    s = state.read(PRE_FILTER_STATE_KEY)
    assert isinstance(s, PreFilterState)
    return s.existing_anti_affinity_counts, s.affinity_counts, s.anti_affinity_counts


@pytest.mark.parametrize(
    ("pending", "existing", "added", "want_anti", "want_affinity"), ADD_REMOVE_CASES
)
def test_pre_filter_state_add_remove_pod(
    pending: Pod,
    existing: list[Pod],
    added: Pod,
    want_anti: dict[Pair, int],
    want_affinity: dict[Pair, int],
) -> None:
    _, all_state, _ = _state(pending, [*existing, added])
    p, state, snapshot = _state(pending, existing)
    original = state.clone()
    assert added.spec is not None
    node_info = snapshot.get(added.spec.node_name or "")
    added_info = PodInfo(added)

    assert p.add_pod(state, pending, added_info, node_info) is None
    _, affinity, anti = _counts(state)
    assert anti == want_anti
    assert affinity == want_affinity
    assert _counts(state) == _counts(all_state)

    assert p.remove_pod(state, pending, added_info, node_info) is None
    assert _counts(state) == _counts(original)


def test_pre_filter_state_clone() -> None:
    """TestPreFilterStateClone: a copy with equal, independent counts."""
    source = PreFilterState(
        pod(),
        (),
        (),
        {},
        {("name", "node1"): 1, ("name", "node2"): 1},
        {("name", "nodeA"): 1, ("name", "nodeC"): 2},
        {("name", "nodeN"): 3, ("name", "nodeM"): 1},
    )
    clone = source.clone()
    assert clone is not source
    assert (
        clone.existing_anti_affinity_counts,
        clone.affinity_counts,
        clone.anti_affinity_counts,
    ) == (
        source.existing_anti_affinity_counts,
        source.affinity_counts,
        source.anti_affinity_counts,
    )
    clone.affinity_counts[("name", "nodeA")] = 5
    clone.existing_anti_affinity_counts.clear()
    assert source.affinity_counts[("name", "nodeA")] == 1
    assert source.existing_anti_affinity_counts


def test_add_remove_pod_without_pre_filter_state() -> None:
    p = plugin(Snapshot(()))
    info = Snapshot.build([node("n")]).get("n")
    want = Status(
        Code.ERROR, 'error reading "PreFilterInterPodAffinity" from cycleState: not found'
    )
    assert p.add_pod(CycleState(), pod(), PodInfo(pod()), info) == want
    assert p.remove_pod(CycleState(), pod(), PodInfo(pod()), info) == want


# -- TestGetTPMapMatchingIncomingAffinityAntiAffinity -----------------------------------------


def _normal(*labels: str) -> Pod:
    return pod({k: "" for k in labels}, name="normal", node_name="nodeA")


INCOMING = "TestGetTPMapMatchingIncomingAffinityAntiAffinity/"
HOST_A = {("hostname", "nodeA"): 1}

INCOMING_CASES = [
    pytest.param([], pod(name="aaa-normal"), {}, {}, id=INCOMING + "nil test"),
    pytest.param(
        [_normal("aaa")],
        pod(name="aaa-normal"),
        {},
        {},
        id=INCOMING + "incoming pod without affinity/anti-affinity is a no-op",
    ),
    pytest.param(
        [_normal("bbb")],
        pod(affinity=[t_exists("aaa", "hostname")], anti=[t_exists("aaa", "hostname")]),
        {},
        {},
        id=INCOMING + "no pod has a label that violates the incoming pod's terms",
    ),
    pytest.param(
        [_normal("aaa")],
        pod(affinity=[t_exists("aaa", "hostname")], anti=[t_exists("aaa", "hostname")]),
        HOST_A,
        HOST_A,
        id=INCOMING + "existing pod matches affinity and anti-affinity: single term",
    ),
    pytest.param(
        [_normal("aaa", "bbb")],
        pod(
            affinity=[t_exists("aaa", "hostname"), t_exists("bbb", "hostname")],
            anti=[t_exists("aaa", "hostname")],
        ),
        {("hostname", "nodeA"): 2},  # one for each term
        HOST_A,
        id=INCOMING + "existing pod matches affinity and anti-affinity: multiple terms",
    ),
    pytest.param(
        [_normal("aaa")],
        pod(
            affinity=[t_exists("aaa", "hostname"), t_exists("bbb", "hostname")],
            anti=[t_exists("aaa", "hostname"), t_exists("bbb", "hostname")],
        ),
        {},
        HOST_A,
        id=INCOMING + "existing pod does not match affinity but matches anti-affinity",
    ),
    pytest.param(
        [_normal("aaa", "bbb")],
        pod(
            affinity=[t_exists("aaa", "hostname"), t_exists("ccc", "hostname")],
            anti=[t_exists("aaa", "hostname"), t_exists("ccc", "hostname")],
        ),
        {},
        HOST_A,
        id=INCOMING + "anti-affinity with several terms, partly violated: case 1",
    ),
    pytest.param(
        [_normal("bbb")],
        pod(
            affinity=[t_exists("aaa", "hostname"), t_exists("bbb", "hostname")],
            anti=[t_exists("aaa", "hostname"), t_exists("bbb", "hostname")],
        ),
        {},
        HOST_A,
        id=INCOMING + "anti-affinity with several terms, partly violated: case 2",
    ),
]


@pytest.mark.parametrize(("existing", "incoming", "want_affinity", "want_anti"), INCOMING_CASES)
def test_incoming_affinity_anti_affinity_counts(
    existing: list[Pod],
    incoming: Pod,
    want_affinity: dict[Pair, int],
    want_anti: dict[Pair, int],
) -> None:
    snapshot = Snapshot.build([node("nodeA", hostname="nodeA")], existing)
    terms = parse_pod_terms(incoming, Namespaces(StaticHandle(snapshot)))
    got = incoming_counts(terms.required_affinity, terms.required_anti_affinity, snapshot.list())
    assert got == (want_affinity, want_anti)
