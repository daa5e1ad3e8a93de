"""InterPodAffinity PreScore/Score/NormalizeScore, with the cases of upstream's
interpodaffinity scoring_test.go (test names cited per case).

Upstream's pods without a namespace are in "" and its hard-affinity term lists "" among its
namespaces; here that namespace is "default".
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kframe.api import from_dict
from kframe.api.models import Namespace, Node, Pod
from kframe.scheduler import MAX_NODE_SCORE, Code, CycleState, NodeScore, Snapshot, Status
from kframe.testing.scheduler import StaticHandle, make_pod
from kframe_plugins.scheduler.interpodaffinity import (
    FACTORIES,
    PRE_SCORE_STATE_KEY,
    InterPodAffinity,
    InterPodAffinityArgs,
    PreScoreState,
)
from kframe_plugins.scheduler.names import INTER_POD_AFFINITY

_names = itertools.count()


def node(name: str, labels: dict[str, str]) -> Node:
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


def term(*exprs: dict[str, Any], topo: str, **more: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchExpressions": list(exprs)}, "topologyKey": topo, **more}


def weighted(weight: int, t: dict[str, Any]) -> dict[str, Any]:
    return {"weight": weight, "podAffinityTerm": t}


def affinity(
    *,
    pref: list[dict[str, Any]] | None = None,
    anti_pref: list[dict[str, Any]] | None = None,
    req: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if pref or req:
        out["podAffinity"] = {
            "preferredDuringSchedulingIgnoredDuringExecution": pref or [],
            "requiredDuringSchedulingIgnoredDuringExecution": req or [],
        }
    if anti_pref:
        out["podAntiAffinity"] = {"preferredDuringSchedulingIgnoredDuringExecution": anti_pref}
    return out


def pod(
    labels: dict[str, str] | None = None,
    node_name: str | None = None,
    aff: dict[str, Any] | None = None,
    namespace: str = "default",
) -> Pod:
    spec = {"affinity": aff} if aff else {}
    return make_pod(f"p{next(_names)}", namespace, labels=labels or {}, node=node_name, spec=spec)


def s1_pods(*placements: tuple[str, str]) -> list[Pod]:
    """Pods labelled security=S1 on these (node, namespace) places."""
    return [pod(S1, node_name, namespace=namespace) for node_name, namespace in placements]


CHINA = {"region": "China"}
INDIA = {"region": "India"}
AZ1 = {"az": "az1"}
AZ2 = {"az": "az2"}
CHINA_AZ1 = {"region": "China", "az": "az1"}
S1 = {"security": "S1"}
S2 = {"security": "S2"}
TEAM1 = {"matchExpressions": [expr("team", "In", "team1")]}

STAY_WITH_S1_IN_REGION = affinity(
    pref=[weighted(5, term(expr("security", "In", "S1"), topo="region"))]
)
STAY_WITH_S2_IN_REGION = affinity(
    pref=[weighted(6, term(expr("security", "In", "S2"), topo="region"))]
)
AFFINITY3 = affinity(
    pref=[
        weighted(
            8,
            term(expr("security", "NotIn", "S1"), expr("security", "In", "S2"), topo="region"),
        ),
        weighted(
            2,
            term(expr("security", "Exists"), expr("wrongkey", "DoesNotExist"), topo="region"),
        ),
    ]
)
HARD_AFFINITY = affinity(
    req=[
        term(expr("security", "In", "S1", "value2"), topo="region"),
        term(expr("security", "Exists"), expr("wrongkey", "DoesNotExist"), topo="region"),
    ]
)
AWAY_FROM_S1_IN_AZ = affinity(
    anti_pref=[weighted(5, term(expr("security", "In", "S1"), topo="az"))]
)
AWAY_FROM_S2_IN_AZ = affinity(
    anti_pref=[weighted(5, term(expr("security", "In", "S2"), topo="az"))]
)
STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ = affinity(
    pref=[weighted(8, term(expr("security", "In", "S1"), topo="region"))],
    anti_pref=[weighted(5, term(expr("security", "In", "S2"), topo="az"))],
)
_NS_TERM = term(
    expr("security", "In", "S1"),
    topo="region",
    namespaces=["subteam2.team2"],
    namespaceSelector=TEAM1,
)
AFFINITY_NAMESPACE_SELECTOR = affinity(pref=[weighted(5, _NS_TERM)])
ANTI_AFFINITY_NAMESPACE_SELECTOR = affinity(anti_pref=[weighted(5, _NS_TERM)])
INVALID_AFFINITY_LABELS = affinity(
    pref=[weighted(8, term(expr("security", "In", "{{.bad-value.}}"), topo="region"))]
)
INVALID_ANTI_AFFINITY_LABELS = affinity(
    anti_pref=[weighted(5, term(expr("security", "In", "{{.bad-value.}}"), topo="az"))]
)

M = MAX_NODE_SCORE
SKIP = Status(Code.SKIP)
BAD = 'Invalid value: "{{.bad-value.}}"'
PREF = "TestPreferredAffinity/"


def nodes(*labels: dict[str, str]) -> list[Node]:
    return [node(f"node{i}", lb) for i, lb in enumerate(labels, 1)]


PREFERRED_CASES = [
    pytest.param(
        pod(S1), [], nodes(CHINA, INDIA, AZ1), SKIP, None, False,
        id=PREF + "all nodes are same priority as Affinity is nil",
    ),
    pytest.param(
        pod(S1, aff=STAY_WITH_S1_IN_REGION),
        [pod(S1, "node1"), pod(S2, "node2"), pod(S1, "node3")],
        nodes(CHINA, INDIA, AZ1), None, [M, 0, 0], False,
        id=PREF + "Affinity: matching topology key and pods get the high score",
    ),
    pytest.param(
        pod(aff=STAY_WITH_S1_IN_REGION),
        [pod(S1, "node1")],
        nodes(CHINA, CHINA_AZ1, INDIA), None, [M, M, 0], False,
        id=PREF + "all nodes of the same topology value as a matching pod score the same",
    ),
    pytest.param(
        pod(S1, aff=STAY_WITH_S2_IN_REGION),
        [pod(S2, "node1"), pod(S2, "node1"), pod(S2, "node2"), pod(S2, "node3"),
         pod(S2, "node4"), pod(S2, "node5")],
        nodes(CHINA, INDIA, CHINA, CHINA, INDIA), None, [M, 0, M, M, 0], False,
        id=PREF + "Affinity: the region with more matching pods scores higher",
    ),
    pytest.param(
        pod(S1, aff=AFFINITY3),
        [pod(S1, "node1"), pod(S2, "node2"), pod(S1, "node3")],
        nodes(CHINA, INDIA, AZ1), None, [20, M, 0], False,
        id=PREF + "Affinity: different label operators and values, some not matching",
    ),
    pytest.param(
        pod(S2),
        [pod(S1, "node1", STAY_WITH_S1_IN_REGION), pod(S2, "node2", STAY_WITH_S2_IN_REGION)],
        nodes(CHINA, INDIA, AZ1), None, [0, M, 0], False,
        id=PREF + "Affinity symmetry: existing pods' preferred affinity",
    ),
    pytest.param(
        pod(S1, namespace="subteam1.team1"),
        [pod(S1, "node1", AFFINITY_NAMESPACE_SELECTOR), pod(S2, "node2", STAY_WITH_S2_IN_REGION)],
        nodes(CHINA, INDIA, AZ1), None, [M, 0, 0], False,
        id=PREF + "Affinity symmetry with namespace selector",
    ),
    pytest.param(
        pod(S1, namespace="subteam1.team1"),
        [pod(S1, "node1", ANTI_AFFINITY_NAMESPACE_SELECTOR),
         pod(S2, "node2", STAY_WITH_S2_IN_REGION)],
        nodes(CHINA, INDIA, AZ1), None, [0, M, M], False,
        id=PREF + "AntiAffinity symmetry with namespace selector",
    ),
    pytest.param(
        pod(S1),
        [pod(S1, "node1", HARD_AFFINITY), pod(S2, "node2", HARD_AFFINITY)],
        nodes(CHINA, INDIA, AZ1), None, [M, M, 0], False,
        id=PREF + "Affinity symmetry: existing pods' required affinity",
    ),
    pytest.param(
        pod(S1, aff=AWAY_FROM_S1_IN_AZ),
        [pod(S1, "node1"), pod(S2, "node2")],
        nodes(AZ1, CHINA), None, [0, M], False,
        id=PREF + "Anti Affinity: a node without matching pods scores high",
    ),
    pytest.param(
        pod(S1, aff=AWAY_FROM_S1_IN_AZ),
        [pod(S1, "node1"), pod(S1, "node2")],
        nodes(AZ1, CHINA), None, [0, M], False,
        id=PREF + "Anti Affinity: a node without the topology key scores higher",
    ),
    pytest.param(
        pod(S1, aff=AWAY_FROM_S1_IN_AZ),
        [pod(S1, "node1"), pod(S1, "node1"), pod(S2, "node2")],
        nodes(AZ1, INDIA), None, [0, M], False,
        id=PREF + "Anti Affinity: the node with fewer matching pods scores higher",
    ),
    pytest.param(
        pod(S2),
        [pod(S1, "node1", AWAY_FROM_S2_IN_AZ), pod(S2, "node2", AWAY_FROM_S1_IN_AZ)],
        nodes(AZ1, AZ2), None, [0, M], False,
        id=PREF + "Anti Affinity symmetry: existing pods' preferred anti-affinity",
    ),
    pytest.param(
        pod(S1, aff=STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
        [pod(S1, "node1"), pod(S1, "node2")],
        nodes(CHINA, AZ1), None, [M, 0], False,
        id=PREF + "Affinity and Anti Affinity: preferred terms only",
    ),
    pytest.param(
        pod(S1, aff=STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
        [pod(S1, "node1"), pod(S1, "node1"), pod(S1, "node2"), pod(S1, "node3"),
         pod(S1, "node3"), pod(S1, "node4"), pod(S1, "node5")],
        nodes(CHINA_AZ1, INDIA, CHINA, CHINA, INDIA), None, [M, 0, M, M, 0], False,
        id=PREF + "Affinity and Anti Affinity: the pod and existing pods share labels",
    ),
    pytest.param(
        pod(S1, aff=STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
        [pod(S1, "node1"), pod(S2, "node2"),
         pod(None, "node3", STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
         pod(None, "node4", AWAY_FROM_S1_IN_AZ)],
        nodes(CHINA, AZ1, INDIA, AZ2), None, [M, 0, M, 0], False,
        id=PREF + "Affinity and Anti Affinity and symmetry: preferred terms only",
    ),
    pytest.param(
        pod(S1),
        [pod(S1, "node1"), pod(None, "node2", STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ)],
        nodes(CHINA, CHINA), None, [0, 0], False,
        id=PREF + "Avoid panic when partial nodes in a topology don't have pods with affinity",
    ),
    pytest.param(
        pod(aff=INVALID_AFFINITY_LABELS), [], nodes(CHINA, CHINA),
        Status(Code.ERROR, BAD), None, False,
        id=PREF + "invalid Affinity fails PreScore",
    ),
    pytest.param(
        pod(aff=INVALID_ANTI_AFFINITY_LABELS), [], nodes(CHINA, CHINA),
        Status(Code.ERROR, BAD), None, False,
        id=PREF + "invalid AntiAffinity fails PreScore",
    ),
    pytest.param(
        pod(S1, aff=AFFINITY_NAMESPACE_SELECTOR, namespace="subteam1.team1"),
        s1_pods(("node1", "subteam1.team1"), ("node1", "subteam1.team1"),
                ("node1", "subteam1.team2"), ("node2", "subteam2.team1")),
        nodes(CHINA, INDIA), None, [M, 0], False,
        id=PREF + "Affinity with pods matching NamespaceSelector",
    ),
    pytest.param(
        pod(S1, aff=AFFINITY_NAMESPACE_SELECTOR, namespace="subteam1.team1"),
        s1_pods(("node1", "subteam1.team1"), ("node1", "subteam1.team1"),
                ("node1", "subteam2.team2"), ("node2", "subteam2.team1")),
        nodes(CHINA, INDIA), None, [M, 0], False,
        id=PREF + "Affinity with pods matching both NamespaceSelector and Namespaces fields",
    ),
    pytest.param(
        pod(S1, aff=ANTI_AFFINITY_NAMESPACE_SELECTOR, namespace="subteam1.team1"),
        s1_pods(("node1", "subteam1.team1"), ("node1", "subteam1.team1"),
                ("node1", "subteam1.team2"), ("node2", "subteam2.team1")),
        nodes(CHINA, INDIA), None, [0, M], False,
        id=PREF + "Anti-affinity with pods matching NamespaceSelector",
    ),
    pytest.param(
        pod(S1, aff=ANTI_AFFINITY_NAMESPACE_SELECTOR, namespace="subteam1.team1"),
        s1_pods(("node1", "subteam1.team1"), ("node1", "subteam1.team1"),
                ("node1", "subteam2.team2"), ("node2", "subteam2.team1")),
        nodes(CHINA, INDIA), None, [0, M], False,
        id=PREF + "Anti-affinity with pods matching both NamespaceSelector and Namespaces fields",
    ),
    pytest.param(
        pod(S2),
        [pod(S1, "node1", STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
         pod(S2, "node2", STAY_WITH_S2_IN_REGION)],
        nodes(CHINA, INDIA), SKIP, None, True,
        id=PREF + "Ignore preferred terms of existing pods",
    ),
    pytest.param(
        pod(S2),
        [pod(S1, "node1", STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
         pod(S2, "node2", STAY_WITH_S2_IN_REGION)],
        nodes(CHINA, INDIA), None, [0, M], False,
        id=PREF + "Do not ignore preferred terms of existing pods",
    ),
    pytest.param(pod(S2), [], [], SKIP, None, False, id=PREF + "No nodes to score"),
]  # fmt: skip


def run_scores(
    incoming: Pod,
    pods: list[Pod],
    node_list: list[Node],
    args: InterPodAffinityArgs,
) -> tuple[Status | None, list[int] | None]:
    snapshot = Snapshot.build(node_list, pods)
    p = FACTORIES[INTER_POD_AFFINITY].new(args, StaticHandle(snapshot, NAMESPACES))
    assert isinstance(p, InterPodAffinity)
    state = CycleState()
    status = p.pre_score(state, incoming, snapshot.list())
    if status is not None:
        return status, None
    scores = [NodeScore(n.name, p.score(state, incoming, n)) for n in snapshot.list()]
    assert p.normalize_score(state, incoming, scores) is None
    by_name = {s.name: s.score for s in scores}
    return None, [by_name[n.metadata.name or ""] for n in node_list]


@pytest.mark.parametrize(
    ("incoming", "pods", "node_list", "want_status", "want_scores", "ignore"), PREFERRED_CASES
)
def test_preferred_affinity(
    incoming: Pod,
    pods: list[Pod],
    node_list: list[Node],
    want_status: Status | None,
    want_scores: list[int] | None,
    ignore: bool,
) -> None:
    args = InterPodAffinityArgs(
        hard_pod_affinity_weight=1, ignore_preferred_terms_of_existing_pods=ignore
    )
    status, scores = run_scores(incoming, pods, node_list, args)
    if want_status is not None:
        # Upstream compares the code and that the message contains the expected text.
        assert status is not None
        assert status.code is want_status.code
        assert want_status.message in status.message
        return
    assert status is None
    assert scores == want_scores


# -- TestPreferredAffinityWithHardPodAffinitySymmetricWeight ----------------------------------

SERVICE_S1 = {"service": "S1"}
HARD_POD_AFFINITY = affinity(
    req=[
        term(
            expr("service", "In", "S1"),
            topo="region",
            namespaces=["default", "subteam2.team2"],
            namespaceSelector=TEAM1,
        )
    ]
)
HARD = "TestPreferredAffinityWithHardPodAffinitySymmetricWeight/"
HARD_EXISTING = [pod(None, "node1", HARD_POD_AFFINITY), pod(None, "node2", HARD_POD_AFFINITY)]
HARD_NODES = nodes(CHINA, INDIA, AZ1)

HARD_WEIGHT_CASES = [
    pytest.param(pod(SERVICE_S1), 1, None, [M, M, 0], id=HARD + "with default weight"),
    pytest.param(pod(SERVICE_S1), 0, SKIP, None, id=HARD + "with zero weight"),
    pytest.param(
        pod(SERVICE_S1, namespace="subteam1.team2"), 1, SKIP, None,
        id=HARD + "with no matching namespace",
    ),
    pytest.param(
        pod(SERVICE_S1, namespace="subteam1.team1"), 1, None, [M, M, 0],
        id=HARD + "with matching NamespaceSelector",
    ),
    pytest.param(
        pod(SERVICE_S1, namespace="subteam2.team2"), 1, None, [M, M, 0],
        id=HARD + "with matching Namespaces",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("incoming", "weight", "want_status", "want_scores"), HARD_WEIGHT_CASES)
def test_preferred_affinity_with_hard_pod_affinity_symmetric_weight(
    incoming: Pod, weight: int, want_status: Status | None, want_scores: list[int] | None
) -> None:
    args = InterPodAffinityArgs(hard_pod_affinity_weight=weight)
    assert run_scores(incoming, HARD_EXISTING, HARD_NODES, args) == (want_status, want_scores)


def test_score_without_pre_score_state() -> None:
    snapshot = Snapshot.build(nodes(CHINA))
    p = FACTORIES[INTER_POD_AFFINITY].new(InterPodAffinityArgs(), StaticHandle(snapshot))
    assert isinstance(p, InterPodAffinity)
    with pytest.raises(LookupError, match='failed to read "PreScoreInterPodAffinity"'):
        p.score(CycleState(), pod(), snapshot.get("node1"))
    status = p.normalize_score(CycleState(), pod(), [NodeScore("node1", 0)])
    assert status is not None and status.code is Code.ERROR


def test_normalize_truncates_like_go() -> None:
    """int64(float64(MaxNodeScore) * (float64(s-min) / float64(max-min))) for raw -5, 3, 8."""
    p = FACTORIES[INTER_POD_AFFINITY].new(InterPodAffinityArgs(), StaticHandle())
    assert isinstance(p, InterPodAffinity)
    state = CycleState()
    state.write(PRE_SCORE_STATE_KEY, PreScoreState({"region": {"China": 1}}))
    scores = [NodeScore("a", -5), NodeScore("b", 3), NodeScore("c", 8), NodeScore("d", -5)]
    assert p.normalize_score(state, pod(), scores) is None
    assert [s.score for s in scores] == [0, 61, 100, 0]
