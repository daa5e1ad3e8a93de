"""TaintToleration, ported from upstream taint_toleration_test.go and the helper package's
normalize_score_test.go, with properties of toleration matching and normalizing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api import from_dict, to_dict
from kframe.api.models import Taint, Toleration
from kframe.scheduler import (
    Code,
    CycleState,
    FilterPlugin,
    NodeScore,
    PreScorePlugin,
    ScoreExtensions,
    ScorePlugin,
    Snapshot,
    Status,
    default_normalize_score,
)
from kframe.testing.scheduler import StaticHandle, make_node, make_pod
from kframe_plugins.scheduler.names import TAINT_TOLERATION
from kframe_plugins.scheduler.tainttoleration import (
    FACTORIES,
    TaintToleration,
    tolerates_taint,
)


def _plugin(snapshot: Snapshot | None = None) -> TaintToleration:
    plugin = FACTORIES[TAINT_TOLERATION].new(None, StaticHandle(snapshot))
    assert isinstance(plugin, TaintToleration)
    return plugin


def test_conformance() -> None:
    plugin = _plugin()
    assert plugin.name == "TaintToleration"
    for proto in (FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions):
        assert isinstance(plugin, proto)
    assert FACTORIES[TAINT_TOLERATION].args_type is None


def _t(key: str, value: str, effect: str) -> dict[str, str]:
    return {"key": key, "value": value, "effect": effect}


def _eq(key: str, value: str, effect: str) -> dict[str, str]:
    return {"key": key, "operator": "Equal", "value": value, "effect": effect}


PREFER = "PreferNoSchedule"

# TestTaintTolerationScore: (name, tolerations, {node: taints}, expected scores).
SCORE_CASES: list[tuple[str, list[dict[str, str]], dict[str, list[dict[str, str]]], list[int]]] = [
    (
        "node with taints tolerated by the pod, gets a higher score than those node with "
        "intolerable taints",
        [_eq("foo", "bar", PREFER)],
        {"nodeA": [_t("foo", "bar", PREFER)], "nodeB": [_t("foo", "blah", PREFER)]},
        [100, 0],
    ),
    (
        "the nodes that all of their taints are tolerated by the pod, get the same score, no "
        "matter how many tolerable taints a node has",
        [_eq("cpu-type", "arm64", PREFER), _eq("disk-type", "ssd", PREFER)],
        {
            "nodeA": [],
            "nodeB": [_t("cpu-type", "arm64", PREFER)],
            "nodeC": [_t("cpu-type", "arm64", PREFER), _t("disk-type", "ssd", PREFER)],
        },
        [100, 100, 100],
    ),
    (
        "the more intolerable taints a node has, the lower score it gets.",
        [_eq("foo", "bar", PREFER)],
        {
            "nodeA": [],
            "nodeB": [_t("cpu-type", "arm64", PREFER)],
            "nodeC": [_t("cpu-type", "arm64", PREFER), _t("disk-type", "ssd", PREFER)],
        },
        [100, 50, 0],
    ),
    (
        "only taints and tolerations that have effect PreferNoSchedule are checked by "
        "taints-tolerations priority function",
        [_eq("cpu-type", "arm64", "NoSchedule"), _eq("disk-type", "ssd", "NoSchedule")],
        {
            "nodeA": [],
            "nodeB": [_t("cpu-type", "arm64", "NoSchedule")],
            "nodeC": [_t("cpu-type", "arm64", PREFER), _t("disk-type", "ssd", PREFER)],
        },
        [100, 100, 0],
    ),
    (
        "Default behaviour No taints and tolerations, lands on node with no taints",
        [],
        {"nodeA": [], "nodeB": [_t("cpu-type", "arm64", PREFER)]},
        [100, 0],
    ),
]


@pytest.mark.parametrize(
    ("tolerations", "nodes", "expected"),
    [pytest.param(*case[1:], id=f"TestTaintTolerationScore/{case[0]}") for case in SCORE_CASES],
)
def test_score(
    tolerations: list[dict[str, str]], nodes: dict[str, list[dict[str, str]]], expected: list[int]
) -> None:
    pod = make_pod("pod1", spec={"tolerations": tolerations})
    snapshot = Snapshot.build([make_node(n, taints=t) for n, t in nodes.items()])
    plugin = _plugin(snapshot)
    state = CycleState()
    infos = [snapshot.get(n) for n in nodes]
    assert plugin.pre_score(state, pod, infos) is None
    scores = [NodeScore(i.name, plugin.score(state, pod, i)) for i in infos]
    assert plugin.normalize_score(state, pod, scores) is None
    assert [s.score for s in scores] == expected


def _untolerated(key: str, value: str) -> Status:
    return Status(
        Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"node(s) had untolerated taint {{{key}: {value}}}"
    )


# TestTaintTolerationFilter: (name, tolerations, taints, expected status).
FILTER_CASES: list[tuple[str, list[dict[str, str]], list[dict[str, str]], Status | None]] = [
    (
        "A pod having no tolerations can't be scheduled onto a node with nonempty taints",
        [],
        [_t("dedicated", "user1", "NoSchedule")],
        _untolerated("dedicated", "user1"),
    ),
    (
        "A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
        [_t("dedicated", "user1", "NoSchedule")],
        [_t("dedicated", "user1", "NoSchedule")],
        None,
    ),
    (
        "A pod which can't be scheduled on a dedicated node assigned to user2 with effect "
        "NoSchedule",
        [_eq("dedicated", "user2", "NoSchedule")],
        [_t("dedicated", "user1", "NoSchedule")],
        _untolerated("dedicated", "user1"),
    ),
    (
        "A pod can be scheduled onto the node, with a toleration uses operator Exists that "
        "tolerates the taints on the node",
        [{"key": "foo", "operator": "Exists", "effect": "NoSchedule"}],
        [_t("foo", "bar", "NoSchedule")],
        None,
    ),
    (
        "A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, "
        "pod can be scheduled onto the node",
        [
            _eq("dedicated", "user2", "NoSchedule"),
            {"key": "foo", "operator": "Exists", "effect": "NoSchedule"},
        ],
        [_t("dedicated", "user2", "NoSchedule"), _t("foo", "bar", "NoSchedule")],
        None,
    ),
    (
        "A pod has a toleration that keys and values match the taint on the node, but "
        "(non-empty) effect doesn't match, can't be scheduled onto the node",
        [_eq("foo", "bar", PREFER)],
        [_t("foo", "bar", "NoSchedule")],
        _untolerated("foo", "bar"),
    ),
    (
        "The pod has a toleration that keys and values match the taint on the node, the effect "
        "of toleration is empty, and the effect of taint is NoSchedule. Pod can be scheduled "
        "onto the node",
        [{"key": "foo", "operator": "Equal", "value": "bar"}],
        [_t("foo", "bar", "NoSchedule")],
        None,
    ),
    (
        "The pod has a toleration that key and value don't match the taint on the node, but the "
        "effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
        [_eq("dedicated", "user2", "NoSchedule")],
        [_t("dedicated", "user1", PREFER)],
        None,
    ),
    (
        "The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can "
        "be scheduled onto the node",
        [],
        [_t("dedicated", "user1", PREFER)],
        None,
    ),
    # Not upstream cases: NoExecute counts, the first untolerated taint is reported, and an
    # empty key with Exists tolerates everything.
    (
        "NoExecute taint is not tolerated",
        [_eq("a", "b", "NoSchedule")],
        [_t("a", "b", "NoSchedule"), _t("c", "", "NoExecute"), _t("d", "e", "NoSchedule")],
        _untolerated("c", ""),
    ),
    (
        "empty key with Exists tolerates every taint",
        [{"operator": "Exists"}],
        [_t("a", "b", "NoSchedule"), _t("c", "", "NoExecute")],
        None,
    ),
]


@pytest.mark.parametrize(
    ("tolerations", "taints", "want"),
    [pytest.param(*case[1:], id=f"TestTaintTolerationFilter/{case[0]}") for case in FILTER_CASES],
)
def test_filter(
    tolerations: list[dict[str, str]], taints: list[dict[str, str]], want: Status | None
) -> None:
    pod = make_pod("pod1", spec={"tolerations": tolerations})
    snapshot = Snapshot.build([make_node("nodeA", taints=taints)])
    assert _plugin().filter(CycleState(), pod, snapshot.get("nodeA")) == want


def test_score_without_pre_score_fails() -> None:
    snapshot = Snapshot.build([make_node("nodeA")])
    with pytest.raises(LookupError, match="PreScoreTaintToleration"):
        _plugin().score(CycleState(), make_pod("p"), snapshot.get("nodeA"))


# helper.TestDefaultNormalizeScore
NORMALIZE_CASES = [
    (False, [1, 2, 3, 4], [25, 50, 75, 100]),
    (True, [1, 2, 3, 4], [75, 50, 25, 0]),
    (False, [1000, 10, 20, 30], [100, 1, 2, 3]),
    (True, [1000, 10, 20, 30], [0, 99, 98, 97]),
    (False, [1, 1, 1, 1], [100, 100, 100, 100]),
    (False, [1000, 1, 1, 1], [100, 0, 0, 0]),
    (True, [0, 1, 1, 1], [100, 0, 0, 0]),
    # all zero: unchanged, or all the maximum when reversed
    (False, [0, 0], [0, 0]),
    (True, [0, 0], [100, 100]),
]


@pytest.mark.parametrize(
    ("reverse", "raw", "expected"),
    [
        pytest.param(*c, id=f"TestDefaultNormalizeScore/case_{i}")
        for i, c in enumerate(NORMALIZE_CASES)
    ],
)
def test_default_normalize_score(reverse: bool, raw: list[int], expected: list[int]) -> None:
    scores = [NodeScore(f"n{i}", s) for i, s in enumerate(raw)]
    assert default_normalize_score(100, reverse, scores) is None
    assert [s.score for s in scores] == expected


@given(st.lists(st.integers(0, 10**12), max_size=20), st.booleans())
def test_normalized_scores_stay_in_range(raw: list[int], reverse: bool) -> None:
    scores = [NodeScore(f"n{i}", s) for i, s in enumerate(raw)]
    default_normalize_score(100, reverse, scores)
    assert all(0 <= s.score <= 100 for s in scores)
    # The order is kept (or reversed), never scrambled.
    for (a, sa), (b, sb) in itertools.pairwise(zip(raw, scores, strict=True)):
        if a < b:
            assert (sa.score >= sb.score) if reverse else (sa.score <= sb.score)


# --- toleration matching against a reference written from the API documentation ---------------

_KEYS = st.sampled_from(["", "a", "b", "node.kubernetes.io/unschedulable"])
_VALUES = st.sampled_from(["", "x", "y"])
_EFFECTS = st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"])


@st.composite
def _tolerations(draw: st.DrawFn) -> Toleration:
    body: dict[str, Any] = {}
    for field, values in (
        ("key", _KEYS),
        ("operator", st.sampled_from(["", "Equal", "Exists"])),
        ("value", _VALUES),
        ("effect", st.sampled_from(["", "NoSchedule", "PreferNoSchedule", "NoExecute"])),
    ):
        if draw(st.booleans()):
            body[field] = draw(values)
    return from_dict(body, Toleration)


@st.composite
def _taints(draw: st.DrawFn) -> Taint:
    body = {"key": draw(_KEYS), "effect": draw(_EFFECTS)}
    if draw(st.booleans()):
        body["value"] = draw(_VALUES)
    return from_dict(body, Taint)


def _reference(tol: Toleration, taint: Taint) -> bool:
    """The rules as the Toleration type documents them, spelled out case by case."""
    effect_ok = tol.effect in (None, "") or tol.effect == taint.effect
    key_ok = tol.key in (None, "") or tol.key == taint.key
    if not (effect_ok and key_ok):
        return False
    if tol.operator == "Exists":
        return True
    if tol.operator in (None, "", "Equal"):
        return (tol.value or "") == (taint.value or "")
    return False


@given(_tolerations(), _taints())
def test_tolerates_taint_matches_reference(tol: Toleration, taint: Taint) -> None:
    assert tolerates_taint(tol, taint) == _reference(tol, taint)


@given(st.lists(_tolerations(), max_size=4), st.lists(_taints(), max_size=4))
def test_filter_matches_reference(tols: list[Toleration], taints: list[Taint]) -> None:
    pod = make_pod("p", spec={"tolerations": [to_dict(t) for t in tols]})
    node = make_node("n", taints=[to_dict(t) for t in taints])
    got = _plugin().filter(CycleState(), pod, Snapshot.build([node]).get("n"))
    blocking = [
        t
        for t in taints
        if t.effect in ("NoSchedule", "NoExecute") and not any(_reference(x, t) for x in tols)
    ]
    if not blocking:
        assert got is None
    else:
        assert got == _untolerated(blocking[0].key or "", blocking[0].value or "")
