"""NodeAffinity, ported from upstream node_affinity_test.go (TestNodeAffinity,
TestNodeAffinityPriority) and validation_pluginargs_test.go (TestValidateNodeAffinityArgs), with
properties against a reference matcher."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import (
    Node,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
)
from kframe.api.models import NodeAffinity as NodeAffinityModel
from kframe.scheduler import (
    Code,
    ConfigError,
    CycleState,
    FilterPlugin,
    NodeInfo,
    NodeScore,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScoreExtensions,
    ScorePlugin,
    Snapshot,
    Status,
)
from kframe.testing.scheduler import StaticHandle, make_pod
from kframe_plugins.scheduler.names import NODE_AFFINITY
from kframe_plugins.scheduler.nodeaffinity import (
    ERR_REASON_CONFLICT,
    ERR_REASON_ENFORCED,
    ERR_REASON_POD,
    FACTORIES,
    NodeAffinity,
    NodeAffinityArgs,
)

FACTORY = FACTORIES[NODE_AFFINITY]


def _args(added: dict[str, Any] | NodeAffinityModel | None = None) -> NodeAffinityArgs:
    if isinstance(added, NodeAffinityModel):
        return NodeAffinityArgs(added_affinity=added)
    body = {} if added is None else {"addedAffinity": added}
    args = from_dict(body, NodeAffinityArgs, strict=True)
    assert isinstance(args, NodeAffinityArgs)
    return args


def _plugin(added: dict[str, Any] | NodeAffinityModel | None = None) -> NodeAffinity:
    plugin = FACTORY.new(_args(added), StaticHandle())
    assert isinstance(plugin, NodeAffinity)
    return plugin


def _node(name: str, labels: dict[str, str] | None = None) -> Node:
    meta: dict[str, Any] = {"labels": labels or {}}
    if name:
        meta["name"] = name
    return from_dict({"metadata": meta}, Node)


def _pod(spec: dict[str, Any]) -> Pod:
    return make_pod("p", spec=spec)


def _expr(key: str, op: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


def _name_in(*values: str) -> dict[str, Any]:
    return _expr("metadata.name", "In", *values)


def _required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}


def _affinity(*terms: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"affinity": {"nodeAffinity": _required(*terms)}, **spec}


def _exprs(*exprs: dict[str, Any]) -> dict[str, Any]:
    return {"matchExpressions": list(exprs)}


def _fields(*exprs: dict[str, Any]) -> dict[str, Any]:
    return {"matchFields": list(exprs)}


def test_conformance_and_defaults() -> None:
    plugin = _plugin()
    assert plugin.name == "NodeAffinity"
    for proto in (PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions):
        assert isinstance(plugin, proto)
    assert FACTORY.args_type is NodeAffinityArgs
    assert NodeAffinityArgs() == _args()


POD = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_POD)
SKIP = Status(Code.SKIP)
_GPU = {"GPU": "NVIDIA-GRID-K1"}
_ZONE_NODE2 = _required(_fields(_name_in("node2")))

# TestNodeAffinity: (name, pod spec, node labels, node name, Filter status, PreFilter answer
# (a Status, the node names of a PreFilterResult, or None), addedAffinity, run PreFilter).
FILTER_CASES: list[tuple[Any, ...]] = [
    ("missing labels", {"nodeSelector": {"foo": "bar"}}, {}, "", POD, None, None, True),
    ("same labels", {"nodeSelector": {"foo": "bar"}}, {"foo": "bar"}, "", None, None, None, True),
    (
        "node labels are superset",
        {"nodeSelector": {"foo": "bar"}},
        {"foo": "bar", "baz": "blah"},
        "",
        None,
        None,
        None,
        True,
    ),
    (
        "node labels are subset",
        {"nodeSelector": {"foo": "bar", "baz": "blah"}},
        {"foo": "bar"},
        "",
        POD,
        None,
        None,
        True,
    ),
    (
        "Pod with matchExpressions using In operator that matches the existing node",
        _affinity(_exprs(_expr("foo", "In", "bar", "value2"))),
        {"foo": "bar"},
        "",
        None,
        None,
        None,
        True,
    ),
    (
        "Pod with matchExpressions using Gt operator that matches the existing node",
        _affinity(_exprs(_expr("kernel-version", "Gt", "0204"))),
        {"kernel-version": "0206"},
        "",
        None,
        None,
        None,
        True,
    ),
    (
        "Pod with matchExpressions using NotIn operator that matches the existing node",
        _affinity(_exprs(_expr("mem-type", "NotIn", "DDR", "DDR2"))),
        {"mem-type": "DDR3"},
        "",
        None,
        None,
        None,
        True,
    ),
    (
        "Pod with matchExpressions using Exists operator that matches the existing node",
        _affinity(_exprs(_expr("GPU", "Exists"))),
        _GPU,
        "",
        None,
        None,
        None,
        True,
    ),
    (
        "Pod with affinity that don't match node's labels won't schedule onto the node",
        _affinity(_exprs(_expr("foo", "In", "value1", "value2"))),
        {"foo": "bar"},
        "",
        POD,
        None,
        None,
        True,
    ),
    (
        "Pod with empty MatchExpressions is not a valid value will match no objects and won't "
        "schedule onto the node",
        _affinity(_exprs()),
        {"foo": "bar"},
        "",
        POD,
        None,
        None,
        True,
    ),
    (
        "Pod with no Affinity will schedule onto a node",
        {},
        {"foo": "bar"},
        "",
        None,
        SKIP,
        None,
        True,
    ),
    (
        "Pod with Affinity but nil NodeSelector will schedule onto a node",
        {"affinity": {"nodeAffinity": {}}},
        {"foo": "bar"},
        "",
        None,
        SKIP,
        None,
        True,
    ),
    (
        "Pod with multiple matchExpressions ANDed that matches the existing node",
        _affinity(_exprs(_expr("GPU", "Exists"), _expr("GPU", "NotIn", "AMD", "INTER"))),
        _GPU,
        "",
        None,
        None,
        None,
        True,
    ),
    (
        "Pod with multiple matchExpressions ANDed that doesn't match the existing node",
        _affinity(_exprs(_expr("GPU", "Exists"), _expr("GPU", "In", "AMD", "INTER"))),
        _GPU,
        "",
        POD,
        None,
        None,
        True,
    ),
    (
        "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and "
        "will schedule onto the node",
        _affinity(
            _exprs(_expr("foo", "In", "bar", "value2")),
            _exprs(_expr("diffkey", "In", "wrong", "value2")),
        ),
        {"foo": "bar"},
        "",
        None,
        None,
        None,
        True,
    ),
    (
        "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) "
        "both are satisfied, will schedule onto the node",
        _affinity(_exprs(_expr("foo", "Exists")), nodeSelector={"foo": "bar"}),
        {"foo": "bar"},
        "",
        None,
        None,
        None,
        True,
    ),
    (
        "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing "
        "that we are deprecating) is not satisfied, won't schedule onto the node",
        _affinity(_exprs(_expr("foo", "Exists")), nodeSelector={"foo": "bar"}),
        {"foo": "barrrrrr"},
        "",
        POD,
        None,
        None,
        True,
    ),
    (
        "Pod with an invalid value in Affinity term won't be scheduled onto the node",
        _affinity(_exprs(_expr("foo", "NotIn", "invalid value: ___@#$%^"))),
        {"foo": "bar"},
        "",
        POD,
        None,
        None,
        True,
    ),
    (
        "Pod with matchFields using In operator that matches the existing node",
        _affinity(_fields(_name_in("node1"))),
        {},
        "node1",
        None,
        {"node1"},
        None,
        True,
    ),
    (
        "Pod with matchFields using In operator that does not match the existing node",
        _affinity(_fields(_name_in("node1"))),
        {},
        "node2",
        POD,
        {"node1"},
        None,
        True,
    ),
    (
        "Pod with two terms: matchFields does not match, but matchExpressions matches",
        _affinity(_fields(_name_in("node1"), _name_in("node2")), _exprs(_expr("foo", "In", "bar"))),
        {"foo": "bar"},
        "node2",
        None,
        None,
        None,
        True,
    ),
    (
        "Pod with one term: matchFields does not match, but matchExpressions matches",
        _affinity({**_fields(_name_in("node1")), **_exprs(_expr("foo", "In", "bar"))}),
        {"foo": "bar"},
        "node2",
        POD,
        {"node1"},
        None,
        True,
    ),
    (
        "Pod with one term: both matchFields and matchExpressions match",
        _affinity({**_fields(_name_in("node1")), **_exprs(_expr("foo", "In", "bar"))}),
        {"foo": "bar"},
        "node1",
        None,
        {"node1"},
        None,
        True,
    ),
    (
        "Pod with two terms: both matchFields and matchExpressions do not match",
        _affinity(_fields(_name_in("node1")), _exprs(_expr("foo", "In", "not-match-to-bar"))),
        {"foo": "bar"},
        "node2",
        POD,
        None,
        None,
        True,
    ),
    (
        "Pod with two terms of node.Name affinity",
        _affinity(_fields(_name_in("node1")), _fields(_name_in("node2"))),
        {},
        "node2",
        None,
        {"node1", "node2"},
        None,
        True,
    ),
    (
        "Pod with two conflicting mach field requirements",
        _affinity(_fields(_name_in("node1"), _name_in("node2"))),
        {"foo": "bar"},
        "node2",
        POD,
        Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_CONFLICT),
        None,
        True,
    ),
    (
        "Matches added affinity and Pod's node affinity",
        _affinity(_exprs(_expr("zone", "In", "foo"))),
        {"zone": "foo"},
        "node2",
        None,
        None,
        _ZONE_NODE2,
        True,
    ),
    (
        "Matches added affinity but not Pod's node affinity",
        _affinity(_exprs(_expr("zone", "In", "bar"))),
        {"zone": "foo"},
        "node2",
        POD,
        None,
        _ZONE_NODE2,
        True,
    ),
    (
        "Doesn't match added affinity",
        {},
        {"zone": "foo"},
        "node2",
        Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_ENFORCED),
        None,
        _required(_exprs(_expr("zone", "In", "bar"))),
        True,
    ),
    (
        "Matches node selector correctly even if PreFilter is not called",
        {"nodeSelector": {"foo": "bar"}},
        {"foo": "bar", "baz": "blah"},
        "",
        None,
        None,
        None,
        False,
    ),
    (
        "Matches node affinity correctly even if PreFilter is not called",
        _affinity(_exprs(_expr("GPU", "Exists"), _expr("GPU", "NotIn", "AMD", "INTER"))),
        _GPU,
        "",
        None,
        None,
        None,
        False,
    ),
    # Not in this version of the upstream table: a required selector without terms matches
    # nothing (but narrows nothing in PreFilter either).
    (
        "Pod with an Affinity with empty nodeSelectorTerms won't schedule onto the node",
        _affinity(),
        {"foo": "bar"},
        "node1",
        POD,
        None,
        None,
        True,
    ),
]


@pytest.mark.parametrize(
    ("spec", "labels", "node_name", "want", "want_pre_filter", "added", "run_pre_filter"),
    [pytest.param(*c[1:], id=f"TestNodeAffinity/{c[0]}") for c in FILTER_CASES],
)
def test_filter(
    spec: dict[str, Any],
    labels: dict[str, str],
    node_name: str,
    want: Status | None,
    want_pre_filter: Status | set[str] | None,
    added: dict[str, Any] | None,
    run_pre_filter: bool,
) -> None:
    plugin = _plugin(added)
    pod = _pod(spec)
    node_info = NodeInfo(_node(node_name, labels))
    state = CycleState()
    if run_pre_filter:
        got = plugin.pre_filter(state, pod, [node_info])
        if isinstance(want_pre_filter, set):
            assert isinstance(got, PreFilterResult)
            assert got.node_names == frozenset(want_pre_filter)
        else:
            assert got == want_pre_filter
    assert plugin.filter(state, pod, node_info) == want


_LABEL1 = {"foo": "bar"}
_LABEL2 = {"key": "value"}
_LABEL3 = {"az": "az1"}
_LABEL4 = {"abc": "az11", "def": "az22"}
_LABEL5 = {"foo": "bar", "key": "value", "az": "az1"}

_PREFERRED1 = [{"weight": 2, "preference": _exprs(_expr("foo", "In", "bar"))}]
_PREFERRED2 = [
    {"weight": 2, "preference": _exprs(_expr("foo", "In", "bar"))},
    {"weight": 4, "preference": _exprs(_expr("key", "In", "value"))},
    {
        "weight": 5,
        "preference": _exprs(
            _expr("foo", "In", "bar"), _expr("key", "In", "value"), _expr("az", "In", "az1")
        ),
    },
]


def _preferring(terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": terms}}
    }


_INVALID_KEY = (
    '[0].matchExpressions[0].key: Invalid value: "invalid key": name part must consist of '
    "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)

# TestNodeAffinityPriority: (name, pod spec, {node: labels}, expected scores, addedAffinity,
# run PreScore, PreScore status).
SCORE_CASES: list[tuple[Any, ...]] = [
    (
        "all nodes are same priority as NodeAffinity is nil",
        {},
        {"node1": _LABEL1, "node2": _LABEL2, "node3": _LABEL3},
        [0, 0, 0],
        None,
        False,
        None,
    ),
    (
        "Skip is returned in PreScore when NodeAffinity is nil",
        {},
        {"node1": _LABEL1},
        None,
        None,
        True,
        SKIP,
    ),
    (
        "PreScore returns error when an incoming Pod has a broken affinity",
        _preferring([{"weight": 2, "preference": _exprs(_expr("invalid key", "In", "bar"))}]),
        {"node1": _LABEL1},
        None,
        None,
        True,
        Status(Code.ERROR, _INVALID_KEY),
    ),
    (
        "no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' "
        "priority is zero",
        _preferring(_PREFERRED1),
        {"node1": _LABEL4, "node2": _LABEL2, "node3": _LABEL3},
        [0, 0, 0],
        None,
        True,
        None,
    ),
    (
        "only node1 matches the preferred scheduling requirements of pod",
        _preferring(_PREFERRED1),
        {"node1": _LABEL1, "node2": _LABEL2, "node3": _LABEL3},
        [100, 0, 0],
        None,
        True,
        None,
    ),
    (
        "all nodes matches the preferred scheduling requirements of pod but with different "
        "priorities ",
        _preferring(_PREFERRED2),
        {"node1": _LABEL1, "node5": _LABEL5, "node2": _LABEL2},
        [18, 100, 36],
        None,
        True,
        None,
    ),
    (
        "added affinity",
        {},
        {"node1": _LABEL1, "node2": _LABEL2},
        [100, 0],
        {"preferredDuringSchedulingIgnoredDuringExecution": _PREFERRED1},
        True,
        None,
    ),
    (
        "added affinity and pod has default affinity",
        _preferring(_PREFERRED1),
        {"node1": _LABEL1, "node2": _LABEL2, "node3": _LABEL5},
        [40, 60, 100],
        {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 3, "preference": _exprs(_expr("key", "In", "value"))}
            ]
        },
        True,
        None,
    ),
    (
        "calculate the priorities correctly even if PreScore is not called",
        _preferring(_PREFERRED2),
        {"node1": _LABEL1, "node5": _LABEL5, "node2": _LABEL2},
        [18, 100, 36],
        None,
        False,
        None,
    ),
]


@pytest.mark.parametrize(
    ("spec", "nodes", "expected", "added", "run_pre_score", "want_pre_score"),
    [pytest.param(*c[1:], id=f"TestNodeAffinityPriority/{c[0]}") for c in SCORE_CASES],
)
def test_score(
    spec: dict[str, Any],
    nodes: dict[str, dict[str, str]],
    expected: list[int] | None,
    added: dict[str, Any] | None,
    run_pre_score: bool,
    want_pre_score: Status | None,
) -> None:
    plugin = _plugin(added)
    pod = _pod(spec)
    snapshot = Snapshot.build([_node(n, labels) for n, labels in nodes.items()])
    infos = [snapshot.get(n) for n in nodes]
    state = CycleState()
    if run_pre_score:
        status = plugin.pre_score(state, pod, infos)
        assert status == want_pre_score
        if status is not None:
            return
    scores = [NodeScore(i.name, plugin.score(state, pod, i)) for i in infos]
    assert plugin.normalize_score(state, pod, scores) is None
    assert [s.score for s in scores] == expected


_QUALIFIED = (
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
    "subdomain prefix and '/' (e.g. 'example.com/MyName')"
)

# TestValidateNodeAffinityArgs: (name, addedAffinity, error message).
VALIDATION_CASES: list[tuple[str, dict[str, Any] | NodeAffinityModel | None, str | None]] = [
    ("empty", None, None),
    (
        "valid added affinity",
        {
            **_required(_exprs(_expr("label-1", "In", "label-1-val"))),
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": _fields(_name_in("node-1"))}
            ],
        },
        None,
    ),
    (
        "invalid added affinity",
        {
            **_required(_exprs(_expr("invalid/label/key", "In", "label-1-val"))),
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": _fields(_name_in("node-1", "node-2"))}
            ],
        },
        "[addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        f'.matchExpressions[0].key: Invalid value: "invalid/label/key": {_QUALIFIED}, '
        "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].matchFields[0].values: "
        'Invalid value: []string{"node-1", "node-2"}: must have one element]',
    ),
    # Not upstream cases: operators outside the supported ones.
    (
        "unsupported operators",
        # Built directly: the API decoder already rejects operators outside the enum.
        NodeAffinityModel(
            required_during_scheduling_ignored_during_execution=NodeSelector(
                node_selector_terms=(
                    NodeSelectorTerm(
                        match_expressions=(
                            NodeSelectorRequirement(key="a", operator="Foo"),  # type: ignore[arg-type]
                        ),
                        match_fields=(
                            NodeSelectorRequirement(key="metadata.name", operator="Exists"),
                        ),
                    ),
                )
            )
        ),
        "[addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        '.matchExpressions[0].operator: Unsupported value: "Foo": supported values: "In", '
        '"NotIn", "Exists", "DoesNotExist", "Gt", "Lt", '
        "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        '.matchFields[0].operator: Unsupported value: "Exists": supported values: "In", "NotIn"]',
    ),
    (
        "several errors of one requirement",
        _required(_exprs(_expr("a", "Gt", "x", "y"))),
        "[addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ".matchExpressions[0].values: Invalid value: []string{\"x\", \"y\"}: for 'Gt', 'Lt' "
        "operators, exactly one value is required, "
        "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ".matchExpressions[0].values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the "
        "value must be an integer, "
        "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ".matchExpressions[0].values[1]: Invalid value: \"y\": for 'Gt', 'Lt' operators, the "
        "value must be an integer]",
    ),
]


@pytest.mark.parametrize(
    ("added", "want"),
    [pytest.param(*c[1:], id=f"TestValidateNodeAffinityArgs/{c[0]}") for c in VALIDATION_CASES],
)
def test_validate_args(added: dict[str, Any] | NodeAffinityModel | None, want: str | None) -> None:
    if want is None:
        _plugin(added)
        return
    with pytest.raises(ConfigError) as info:
        _plugin(added)
    assert str(info.value) == want


# --- properties: Filter against a reference matcher, PreFilter's narrowing is sound ----------

_KEYS = ("a", "b", "c")
_LABEL_VALUES = ("1", "2", "10", "x", "y", "-3", "007")
_NAMES = ("n1", "n2", "n3")


@st.composite
def _requirements(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(_KEYS))
    op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]))
    if op in ("In", "NotIn"):
        values = draw(st.lists(st.sampled_from(["1", "2", "x", "y"]), min_size=1, max_size=3))
    elif op in ("Gt", "Lt"):
        values = [draw(st.sampled_from(["0", "1", "2", "5", "09"]))]
    else:
        values = []
    return _expr(key, op, *values)


@st.composite
def _terms(draw: st.DrawFn) -> dict[str, Any]:
    term: dict[str, Any] = {}
    if draw(st.booleans()):
        term["matchExpressions"] = draw(st.lists(_requirements(), max_size=3))
    if draw(st.booleans()):
        term["matchFields"] = [
            _expr("metadata.name", draw(st.sampled_from(["In", "NotIn"])), name)
            for name in draw(st.lists(st.sampled_from(_NAMES), max_size=2))
        ]
    return term


_node_labels = st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(_LABEL_VALUES), max_size=3)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _ref_requirement(req: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = req["key"], req["operator"], req.get("values", [])
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    have = _int(labels[key]) if key in labels else None
    want = int(values[0])
    return have is not None and (have > want if op == "Gt" else have < want)


def _ref_term(term: dict[str, Any], labels: dict[str, str], name: str) -> bool:
    exprs, fields = term.get("matchExpressions", []), term.get("matchFields", [])
    if not exprs and not fields:
        return False  # an empty term matches nothing
    return all(_ref_requirement(r, labels) for r in exprs) and all(
        (name == f["values"][0]) == (f["operator"] == "In") for f in fields
    )


@given(
    node_selector=st.dictionaries(
        st.sampled_from(_KEYS), st.sampled_from(_LABEL_VALUES), max_size=2
    ),
    terms=st.none() | st.lists(_terms(), max_size=3),
    nodes=st.lists(_node_labels, min_size=1, max_size=3),
)
def test_filter_matches_reference(
    node_selector: dict[str, str], terms: list[dict[str, Any]] | None, nodes: list[dict[str, str]]
) -> None:
    spec: dict[str, Any] = {"nodeSelector": node_selector}
    if terms is not None:
        spec.update(_affinity(*terms))
    pod = _pod(spec)
    plugin = _plugin()
    state = CycleState()
    infos = [NodeInfo(_node(name, labels)) for name, labels in zip(_NAMES, nodes, strict=False)]
    pre = plugin.pre_filter(state, pod, infos)
    for info in infos:
        labels = dict(info.node.metadata.labels) if info.node and info.node.metadata else {}
        want = all(labels.get(k) == v for k, v in node_selector.items()) and (
            terms is None or any(_ref_term(t, labels, info.name) for t in terms)
        )
        got = plugin.filter(state, pod, info)
        assert (got is None) == want, (labels, info.name)
        # PreFilter narrows soundly: a node it leaves out never passes Filter.
        if want and isinstance(pre, PreFilterResult):
            assert pre.node_names is not None and info.name in pre.node_names
        if want and isinstance(pre, Status):
            assert pre.code is Code.SKIP


@given(
    weights=st.lists(st.integers(1, 100), min_size=1, max_size=4),
    nodes=st.lists(_node_labels, min_size=1, max_size=3),
    data=st.data(),
)
def test_normalized_scores_in_range(
    weights: list[int], nodes: list[dict[str, str]], data: st.DataObject
) -> None:
    preferred = [
        {
            "weight": w,
            "preference": _exprs(*data.draw(st.lists(_requirements(), min_size=1, max_size=2))),
        }
        for w in weights
    ]
    pod = _pod(_preferring(preferred))
    snapshot = Snapshot.build([_node(n, labels) for n, labels in zip(_NAMES, nodes, strict=False)])
    plugin = _plugin()
    state = CycleState()
    assert plugin.pre_score(state, pod, snapshot.list()) is None
    scores = [NodeScore(i.name, plugin.score(state, pod, i)) for i in snapshot.list()]
    assert all(0 <= s.score <= sum(weights) for s in scores)
    plugin.normalize_score(state, pod, scores)
    assert all(0 <= s.score <= 100 for s in scores)


# -- filter_nodes: the batch path and its memo -------------------------------------------------


@given(
    st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 11), st.sampled_from(["a", "b", "c", None])), max_size=6),
    st.sampled_from([["a"], ["a", "b"], ["c"]]),
    st.booleans(),
)
def test_filter_nodes_agrees_with_filter_as_nodes_change(
    zones: list[str | None],
    changes: list[tuple[int, str | None]],
    wanted: list[str],
    with_selector: bool,
) -> None:
    """The verdicts remembered by generation follow label changes, for pods asking alike."""
    plugin = _plugin(
        {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [_expr("pool", "NotIn", "banned")]}]
            }
        }
    )
    spec: dict[str, Any] = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [_expr("zone", "In", *wanted)]}]
                }
            }
        }
    }
    if with_selector:
        spec["nodeSelector"] = {"disk": "ssd"}

    def labels(zone: str | None, i: int) -> dict[str, str]:
        out = {"zone": zone} if zone else {}
        if i % 2:
            out["disk"] = "ssd"
        if i % 5 == 4:
            out["pool"] = "banned"
        return out

    infos = [NodeInfo(_node(f"n{i}", labels(z, i))) for i, z in enumerate(zones)]
    rounds = [None, *changes]
    for change in rounds:
        if change is not None:
            i, zone = change
            if i < len(infos):
                infos[i].set_node(_node(f"n{i}", labels(zone, i)))
        pod = _pod(spec)  # a new pod object each time, asking the same
        state = CycleState()
        plugin.pre_filter(state, pod, infos)
        want = [plugin.filter(state, pod, n) for n in infos]
        got = plugin.filter_nodes(state, pod, infos)
        got_list = [None] * len(infos) if got is None else list(got)
        assert [(s.code, s.reasons) if s else None for s in got_list] == [
            (s.code, s.reasons) if s else None for s in want
        ]
