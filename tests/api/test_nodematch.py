"""kframe.api's node-affinity and taint matchers (upstream component-helpers), shared by the
scheduler plugins and the kubelet: examples from upstream's tables, and a property against a
reference built from kframe.api's label Selector."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kframe.api import (
    DO_NOT_SCHEDULE_TAINT_EFFECTS,
    RequiredNodeAffinity,
    Requirement,
    Selector,
    SelectorError,
    compile_node_selector,
    compile_preferred_scheduling_terms,
    compile_tolerations,
    find_untolerated_taint,
    from_dict,
    toleration_tolerates_taint,
)
from kframe.api.models import Node, NodeSelector, Pod, Taint, Toleration


def _pod(spec: dict[str, object]) -> Pod:
    return from_dict(
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}], **spec}}, Pod
    )


def _node(name: str, labels: Mapping[str, str]) -> Node:
    return from_dict({"metadata": {"name": name, "labels": dict(labels)}}, Node)


def _required(*terms: Mapping[str, Any]) -> dict[str, object]:
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
            }
        }
    }


def test_node_selector_and_required_terms_must_both_hold() -> None:
    pod = _pod(
        {
            "nodeSelector": {"disk": "ssd"},
            **_required(
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]},
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n9"]}]},
            ),
        }
    )
    required = RequiredNodeAffinity(pod)
    assert not required.trivial
    assert required.matches_node(_node("n1", {"disk": "ssd", "zone": "a"}))
    assert required.matches_node(_node("n9", {"disk": "ssd"}))  # the second term, by name
    assert not required.matches_node(_node("n9", {"disk": "hdd"}))
    assert not required.matches_node(_node("n1", {"disk": "ssd", "zone": "c"}))
    assert RequiredNodeAffinity(_pod({})).trivial


def test_gt_lt_parse_both_sides_as_int64_and_bad_terms_never_match() -> None:
    gt = {"matchExpressions": [{"key": "cpus", "operator": "Gt", "values": ["4"]}]}
    bad = {"matchExpressions": [{"key": "x", "operator": "Gt", "values": ["four"]}]}
    required = RequiredNodeAffinity(_pod(_required(gt, bad)))
    assert required.matches_node(_node("n", {"cpus": "8"}))
    assert not required.matches_node(_node("n", {"cpus": "08x"}))
    assert not required.matches_node(_node("n", {"x": "9"}))
    selector = compile_node_selector(from_dict({"nodeSelectorTerms": [bad]}, NodeSelector))
    assert selector.errors and selector.errors[0].startswith(
        "nodeSelectorTerms[0].matchExpressions[0].values[0]: Invalid value: "
    )


def test_an_empty_term_list_matches_nothing() -> None:
    assert not RequiredNodeAffinity(_pod(_required())).matches_node(_node("n", {}))
    assert not RequiredNodeAffinity(_pod(_required({}))).matches_node(_node("n", {}))


def test_preferred_terms_sum_the_weights_of_the_matching_ones() -> None:
    terms = from_dict(
        {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 3, "preference": {"matchExpressions": [
                    {"key": "zone", "operator": "Exists"}]}},
                {"weight": 5, "preference": {"matchFields": [
                    {"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}]}},
            ]
        },
        __import__("kframe.api.models", fromlist=["NodeAffinity"]).NodeAffinity,
    ).preferred_during_scheduling_ignored_during_execution  # fmt: skip
    preferred, errors = compile_preferred_scheduling_terms(terms)
    assert errors == []
    assert preferred.score({"zone": "a"}, "n1") == 3
    assert preferred.score({"zone": "a"}, "n2") == 8


def test_tolerations_as_upstream_tolerates_taint() -> None:
    taint = Taint(key="dedicated", value="gpu", effect="NoSchedule")
    assert toleration_tolerates_taint(Toleration(key="dedicated", operator="Exists"), taint)
    assert toleration_tolerates_taint(Toleration(key="dedicated", value="gpu"), taint)
    assert not toleration_tolerates_taint(Toleration(key="dedicated", value="cpu"), taint)
    assert not toleration_tolerates_taint(
        Toleration(key="dedicated", operator="Exists", effect="NoExecute"), taint
    )
    assert toleration_tolerates_taint(Toleration(operator="Exists"), taint)  # every key
    # An operator the API refuses (Gt without its feature gate) tolerates nothing.
    gt = Toleration(key="dedicated", operator="Gt")  # type: ignore[arg-type]
    assert not toleration_tolerates_taint(gt, taint)
    taints = [Taint(key="soft", effect="PreferNoSchedule"), taint]
    assert find_untolerated_taint(taints, ()) is taint
    assert (
        find_untolerated_taint(taints, compile_tolerations([Toleration(operator="Exists")])) is None
    )
    assert find_untolerated_taint(taints, (), frozenset({"NoExecute"})) is None
    assert {"NoSchedule", "NoExecute"} == DO_NOT_SCHEDULE_TAINT_EFFECTS


# -- the property: the compiled matcher against kframe.api's Selector ----------------------------

_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!", "Gt": "gt",
        "Lt": "lt"}  # fmt: skip
_keys = st.sampled_from(["a", "b", "metadata.name"])
_values = st.lists(st.sampled_from(["1", "2", "x", "n1", "-3"]), max_size=2)
_exprs = st.lists(
    st.fixed_dictionaries(
        {"key": _keys, "operator": st.sampled_from(list(_OPS)), "values": _values}
    ),
    max_size=2,
)
_terms = st.lists(
    st.fixed_dictionaries({"matchExpressions": _exprs, "matchFields": _exprs}), max_size=3
)
_labels = st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "2", "x", "10"]))


def _reference(pod: Pod, node: Node) -> bool:
    """GetRequiredNodeAffinity(pod).Match(node), written with Selector, term by term."""
    labels = dict(node.metadata.labels) if node.metadata else {}
    name = (node.metadata.name if node.metadata else "") or ""
    spec = pod.spec
    assert spec is not None
    if any(labels.get(k) != v for k, v in spec.node_selector.items()):
        return False
    affinity = spec.affinity.node_affinity if spec.affinity else None
    required = affinity.required_during_scheduling_ignored_during_execution if affinity else None
    if required is None:
        return True
    for term in required.node_selector_terms:
        if not term.match_expressions and not term.match_fields:
            continue
        try:
            reqs = []
            for e in term.match_expressions:
                if e.operator not in _OPS:
                    raise SelectorError("operator")
                reqs.append(Requirement(e.key or "", _OPS[e.operator], e.values))  # type: ignore[arg-type]
            fields = []
            for e in term.match_fields:
                if e.operator not in ("In", "NotIn") or len(e.values) != 1:
                    raise SelectorError("field")
                fields.append((e.key, e.operator == "In", e.values[0]))
        except SelectorError:
            continue
        if term.match_expressions and not Selector(tuple(reqs)).matches(labels):
            continue
        node_fields = {"metadata.name": name} if name else {}
        if (
            term.match_fields
            and node_fields
            and not all((node_fields.get(k or "", "") == v) == eq for k, eq, v in fields)
        ):
            continue
        return True
    return False


@given(
    terms=_terms,
    selector=st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "x"]), max_size=1),
    labels=_labels,
    name=st.sampled_from(["n1", "n2", ""]),
    has_affinity=st.booleans(),
)
def test_required_node_affinity_matches_the_selector_reference(
    terms: list[dict[str, object]],
    selector: dict[str, str],
    labels: dict[str, str],
    name: str,
    has_affinity: bool,
) -> None:
    pod = _pod({"nodeSelector": selector, **(_required(*terms) if has_affinity else {})})
    node = from_dict({"metadata": {"name": name, "labels": labels}}, Node)
    assert RequiredNodeAffinity(pod).matches_node(node) == _reference(pod, node)
