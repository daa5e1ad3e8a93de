"""InterPodAffinity: its args and factory, the Protocols it claims, and properties over random
small clusters (Filter and Score against a straightforward evaluation of the rules, and
PreFilterExtensions against a PreFilter that saw the pod). Upstream's table cases are in
test_interpodaffinity_filtering.py and test_interpodaffinity_scoring.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Namespace, Node, Pod
from kframe.scheduler import (
    MAX_NODE_SCORE,
    Code,
    ConfigError,
    CycleState,
    FilterPlugin,
    NodeScore,
    PodInfo,
    PreFilterExtensions,
    PreFilterPlugin,
    PreScorePlugin,
    ScoreExtensions,
    ScorePlugin,
    Snapshot,
    Status,
)
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
from kframe_plugins.scheduler.names import INTER_POD_AFFINITY

FACTORY = FACTORIES[INTER_POD_AFFINITY]

# -- args and factory -------------------------------------------------------------------------


def test_default_args_are_upstreams_v1_defaults() -> None:
    assert FACTORY.args_type is InterPodAffinityArgs
    args = InterPodAffinityArgs()
    assert args.hard_pod_affinity_weight == 1
    assert args.ignore_preferred_terms_of_existing_pods is False


def test_args_decode_from_plugin_config() -> None:
    body = {"hardPodAffinityWeight": 5, "ignorePreferredTermsOfExistingPods": True}
    args = from_dict(body, InterPodAffinityArgs, strict=True)
    assert args == InterPodAffinityArgs(
        hard_pod_affinity_weight=5, ignore_preferred_terms_of_existing_pods=True
    )


@pytest.mark.parametrize("weight", [0, 1, 100])
def test_valid_hard_pod_affinity_weight(weight: int) -> None:
    args = InterPodAffinityArgs(hard_pod_affinity_weight=weight)
    assert isinstance(FACTORY.new(args, StaticHandle()), InterPodAffinity)


@pytest.mark.parametrize("weight", [-1, 101])
def test_invalid_hard_pod_affinity_weight(weight: int) -> None:
    """ValidateInterPodAffinityArgs: field.Invalid(hardPodAffinityWeight, ...)."""
    args = InterPodAffinityArgs(hard_pod_affinity_weight=weight)
    want = f"hardPodAffinityWeight: Invalid value: {weight}: not in valid range [0, 100]"
    with pytest.raises(ConfigError) as err:
        FACTORY.new(args, StaticHandle())
    assert str(err.value) == want


@pytest.mark.parametrize(
    "protocol",
    [
        PreFilterPlugin,
        PreFilterExtensions,
        FilterPlugin,
        PreScorePlugin,
        ScorePlugin,
        ScoreExtensions,
    ],
)
def test_implements(protocol: type) -> None:
    plugin = FACTORY.new(InterPodAffinityArgs(), StaticHandle())
    assert plugin.name == INTER_POD_AFFINITY
    assert isinstance(plugin, protocol)


# -- random small clusters ----------------------------------------------------------------------

LABEL_VALUES = {"app": ("a", "b"), "tier": ("x", "y")}
TOPOLOGY_KEYS = ("zone", "region", "hostname", "rack")  # no node has "rack"
NAMESPACE_NAMES = ("ns1", "ns2", "ns3")  # ns3 has no Namespace object
NAMESPACE_LABELS = {"ns1": {"team": "t1"}, "ns2": {"team": "t2"}}
NAMESPACES = [
    from_dict({"metadata": {"name": n, "labels": labels}}, Namespace)
    for n, labels in NAMESPACE_LABELS.items()
]

Json = dict[str, Any]


@st.composite
def requirements(draw: st.DrawFn) -> Json:
    key = draw(st.sampled_from(sorted(LABEL_VALUES)))
    op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
    out: Json = {"key": key, "operator": op}
    if op in ("In", "NotIn"):
        values = st.sampled_from(LABEL_VALUES[key])
        out["values"] = draw(st.lists(values, min_size=1, max_size=2, unique=True))
    return out


@st.composite
def terms(draw: st.DrawFn) -> Json:
    out: Json = {"topologyKey": draw(st.sampled_from(TOPOLOGY_KEYS))}
    if draw(st.integers(0, 9)):  # a missing labelSelector matches nothing
        out["labelSelector"] = {"matchExpressions": draw(st.lists(requirements(), max_size=2))}
    scope = draw(st.sampled_from(["own", "names", "selector", "names+selector", "all"]))
    if "names" in scope:
        names = st.sampled_from(NAMESPACE_NAMES)
        out["namespaces"] = draw(st.lists(names, min_size=1, max_size=2, unique=True))
    if "selector" in scope:
        op = draw(st.sampled_from(["In", "NotIn"]))
        team = draw(st.sampled_from(["t1", "t2"]))
        out["namespaceSelector"] = {
            "matchExpressions": [{"key": "team", "operator": op, "values": [team]}]
        }
    if scope == "all":
        out["namespaceSelector"] = {}
    return out


def weighted_terms() -> st.SearchStrategy[list[tuple[int, Json]]]:
    return st.lists(st.tuples(st.integers(1, 100), terms()), max_size=2)


@dataclass
class PodSpec:
    """A pod of the random cluster, in the JSON the reference evaluates."""

    namespace: str
    labels: dict[str, str]
    node: str | None = None
    required_affinity: list[Json] = field(default_factory=list)
    required_anti_affinity: list[Json] = field(default_factory=list)
    preferred_affinity: list[tuple[int, Json]] = field(default_factory=list)
    preferred_anti_affinity: list[tuple[int, Json]] = field(default_factory=list)

    def build(self, name: str) -> Pod:
        pa: Json = {
            "requiredDuringSchedulingIgnoredDuringExecution": self.required_affinity,
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": w, "podAffinityTerm": t} for w, t in self.preferred_affinity
            ],
        }
        paa: Json = {
            "requiredDuringSchedulingIgnoredDuringExecution": self.required_anti_affinity,
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": w, "podAffinityTerm": t} for w, t in self.preferred_anti_affinity
            ],
        }
        spec = {"affinity": {"podAffinity": pa, "podAntiAffinity": paa}}
        return make_pod(name, self.namespace, labels=self.labels, node=self.node, spec=spec)


@st.composite
def pod_labels(draw: st.DrawFn) -> dict[str, str]:
    out = {}
    for key, values in LABEL_VALUES.items():
        value = draw(st.sampled_from((None, *values)))
        if value is not None:
            out[key] = value
    return out


@st.composite
def pod_specs(draw: st.DrawFn, node_names: list[str] | None) -> PodSpec:
    return PodSpec(
        namespace=draw(st.sampled_from(NAMESPACE_NAMES)),
        labels=draw(pod_labels()),
        node=draw(st.sampled_from(node_names)) if node_names else None,
        required_affinity=draw(st.lists(terms(), max_size=2)),
        required_anti_affinity=draw(st.lists(terms(), max_size=2)),
        preferred_affinity=draw(weighted_terms()),
        preferred_anti_affinity=draw(weighted_terms()),
    )


@dataclass
class Cluster:
    node_labels: dict[str, dict[str, str]]
    pods: list[PodSpec]
    incoming: PodSpec

    def nodes(self) -> list[Node]:
        return [
            from_dict({"metadata": {"name": n, "labels": labels}}, Node)
            for n, labels in self.node_labels.items()
        ]


@st.composite
def clusters(draw: st.DrawFn) -> Cluster:
    node_labels: dict[str, dict[str, str]] = {}
    for i in range(draw(st.integers(1, 4))):
        name = f"n{i}"
        labels = {"hostname": name}
        for key, values in (("zone", ("z1", "z2")), ("region", ("r1", "r2"))):
            value = draw(st.sampled_from((None, *values)))
            if value is not None:
                labels[key] = value
        node_labels[name] = labels
    names = sorted(node_labels)
    pods = draw(st.lists(pod_specs(names), max_size=6))
    return Cluster(node_labels, pods, draw(pod_specs(None)))


# -- the reference: the rules evaluated directly on the JSON ------------------------------------


def _selector_matches(selector: Json | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for r in selector.get("matchExpressions", []):
        key, op, values = r["key"], r["operator"], r.get("values", [])
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _scope(t: Json, owner: PodSpec) -> tuple[list[str], Json | None]:
    names, selector = t.get("namespaces", []), t.get("namespaceSelector")
    if not names and selector is None:
        names = [owner.namespace]
    return names, selector


def incoming_term_matches(t: Json, incoming: PodSpec, target: PodSpec) -> bool:
    """The incoming pod's term: its namespaceSelector means the Namespace objects it selects
    (or every namespace when empty)."""
    names, selector = _scope(t, incoming)
    in_scope = target.namespace in names or (
        selector is not None
        and (
            not selector
            or (
                target.namespace in NAMESPACE_LABELS
                and _selector_matches(selector, NAMESPACE_LABELS[target.namespace])
            )
        )
    )
    return in_scope and _selector_matches(t.get("labelSelector"), target.labels)


def existing_term_matches(t: Json, owner: PodSpec, incoming: PodSpec) -> bool:
    """An existing pod's term against the incoming pod and its namespace's labels."""
    names, selector = _scope(t, owner)
    in_scope = incoming.namespace in names or (
        selector is not None
        and _selector_matches(selector, NAMESPACE_LABELS.get(incoming.namespace, {}))
    )
    return in_scope and _selector_matches(t.get("labelSelector"), incoming.labels)


def reference_filter(c: Cluster, node: str) -> Status | None:
    inc, labels = c.incoming, c.node_labels[node]

    def domain(p: PodSpec, key: str) -> str | None:
        assert p.node is not None
        return c.node_labels[p.node].get(key)

    aff = inc.required_affinity
    if aff:
        if any(t["topologyKey"] not in labels for t in aff):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_AFFINITY_RULES_NOT_MATCH)
        matching = [p for p in c.pods if all(incoming_term_matches(t, inc, p) for t in aff)]
        key_of = [t["topologyKey"] for t in aff]
        if not all(any(domain(p, k) == labels[k] for p in matching) for k in key_of):
            # The first pod of a group: nothing matched anywhere, and it matches itself.
            counted = any(domain(p, k) is not None for p in matching for k in key_of)
            if counted or not all(incoming_term_matches(t, inc, inc) for t in aff):
                return Status(
                    Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_AFFINITY_RULES_NOT_MATCH
                )
    for t in inc.required_anti_affinity:
        key = t["topologyKey"]
        if key in labels and any(
            incoming_term_matches(t, inc, p) and domain(p, key) == labels[key] for p in c.pods
        ):
            return Status(Code.UNSCHEDULABLE, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH)
    for p in c.pods:
        for t in p.required_anti_affinity:
            key = t["topologyKey"]
            if key in labels and existing_term_matches(t, p, inc) and domain(p, key) == labels[key]:
                return Status(Code.UNSCHEDULABLE, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)
    return None


def reference_raw_score(c: Cluster, node: str, hard_weight: int) -> int:
    inc, labels = c.incoming, c.node_labels[node]
    total = 0
    for p in c.pods:
        assert p.node is not None
        there = c.node_labels[p.node]

        def same(t: Json, there: dict[str, str] = there) -> bool:
            key = t["topologyKey"]
            return key in there and there[key] == labels.get(key)

        for w, t in inc.preferred_affinity:
            total += w if incoming_term_matches(t, inc, p) and same(t) else 0
        for w, t in inc.preferred_anti_affinity:
            total -= w if incoming_term_matches(t, inc, p) and same(t) else 0
        if hard_weight > 0:
            for t in p.required_affinity:
                total += hard_weight if existing_term_matches(t, p, inc) and same(t) else 0
        for w, t in p.preferred_affinity:
            total += w if existing_term_matches(t, p, inc) and same(t) else 0
        for w, t in p.preferred_anti_affinity:
            total -= w if existing_term_matches(t, p, inc) and same(t) else 0
    return total


def _setup(c: Cluster, pods: list[PodSpec] | None = None) -> tuple[InterPodAffinity, Snapshot]:
    snapshot = Snapshot.build(
        c.nodes(), [p.build(f"p{i}") for i, p in enumerate(c.pods if pods is None else pods)]
    )
    plugin = FACTORY.new(InterPodAffinityArgs(), StaticHandle(snapshot, NAMESPACES))
    assert isinstance(plugin, InterPodAffinity)
    return plugin, snapshot


@settings(deadline=None)  # no timing in the fast tier
@given(clusters())
def test_filter_agrees_with_the_rules(c: Cluster) -> None:
    plugin, snapshot = _setup(c)
    incoming = c.incoming.build("incoming")
    state = CycleState()
    pre = plugin.pre_filter(state, incoming, snapshot.list())
    for name in c.node_labels:
        want = reference_filter(c, name)
        if pre == Status(Code.SKIP):
            assert want is None
        else:
            assert pre is None
            assert plugin.filter(state, incoming, snapshot.get(name)) == want


@settings(deadline=None)  # no timing in the fast tier
@given(clusters(), st.integers(0, 5))
def test_add_and_remove_pod_match_pre_filter(c: Cluster, which: int) -> None:
    assume(c.pods)
    x = c.pods[which % len(c.pods)]
    others = [p for p in c.pods if p is not x]
    incoming = c.incoming.build("incoming")

    def counts(state: CycleState) -> tuple[object, ...]:
        s = state.read(PRE_FILTER_STATE_KEY)
        assert isinstance(s, PreFilterState)
        return s.existing_anti_affinity_counts, s.affinity_counts, s.anti_affinity_counts

    plugin, snapshot = _setup(c)
    with_x = CycleState()
    pre_with = plugin.pre_filter(with_x, incoming, snapshot.list())
    plugin, snapshot = _setup(c, others)
    without_x = CycleState()
    pre_without = plugin.pre_filter(without_x, incoming, snapshot.list())
    assume(pre_with is None and pre_without is None)

    before = without_x.clone()
    assert x.node is not None
    x_info, node_info = PodInfo(x.build("px")), snapshot.get(x.node)
    assert plugin.add_pod(without_x, incoming, x_info, node_info) is None
    assert counts(without_x) == counts(with_x)
    assert plugin.remove_pod(without_x, incoming, x_info, node_info) is None
    assert counts(without_x) == counts(before)


@settings(deadline=None)  # no timing in the fast tier
@given(clusters())
def test_scores_agree_with_the_rules(c: Cluster) -> None:
    plugin, snapshot = _setup(c)
    incoming = c.incoming.build("incoming")
    state = CycleState()
    names = list(c.node_labels)
    raw = [reference_raw_score(c, n, 1) for n in names]
    status = plugin.pre_score(state, incoming, snapshot.list())
    if status is not None:
        assert status == Status(Code.SKIP)
        assert raw == [0] * len(raw)
        return
    scores = [NodeScore(n, plugin.score(state, incoming, snapshot.get(n))) for n in names]
    assert [s.score for s in scores] == raw
    assert plugin.normalize_score(state, incoming, scores) is None
    lo, hi = min(raw), max(raw)
    for s, r in zip(scores, raw, strict=True):
        assert 0 <= s.score <= MAX_NODE_SCORE
        assert s.score == (int(MAX_NODE_SCORE * ((r - lo) / (hi - lo))) if hi > lo else 0)
