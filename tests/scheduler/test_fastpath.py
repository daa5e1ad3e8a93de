"""The framework's fast paths against a straightforward reference, on random clusters.

The scheduler filters nodes in chunks (``BatchFilterPlugin.filter_nodes``, each plugin over the
nodes the ones before it passed) and scores them in batches (``BatchScorePlugin.score_nodes``,
a ``NodeScore`` list only for plugins that normalize). The reference below is the plain version
kept as it was before the fast paths: every Filter plugin called per node in order, every Score
plugin's ``score`` per node into a ``NodeScore`` list, ``random.randrange`` per tie. Both must
agree exactly: the same feasible nodes, verdicts, reasons and plugins, raw and normalized
scores, totals, the number of nodes processed, and the same host for a seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kframe.api.models import Node, Pod
from kframe.registry import build_registry
from kframe.scheduler import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    BatchFilterPlugin,
    BatchScorePlugin,
    Code,
    CycleState,
    Diagnosis,
    Framework,
    NodeInfo,
    NodeScore,
    PodInfo,
    SchedulingError,
    Snapshot,
    Status,
    find_nodes_that_fit,
    num_feasible_nodes_to_find,
    parse_config,
    prioritize_nodes,
    registry_factories,
    select_host,
)
from kframe.scheduler._cache import SchedulerCache
from kframe.scheduler._podinfo import _NON_ZERO
from kframe.testing import pods
from kframe.testing.scheduler import make_node, make_pod

CONFIG = parse_config({})
FACTORIES = registry_factories(build_registry())
ZONES = ["a", "b", "c"]


# -- the reference ------------------------------------------------------------------------------


def ref_run_filter_plugins(
    fwk: Framework, state: CycleState, pod: Pod, node: NodeInfo
) -> Status | None:
    skip = state.skip_filter_plugins
    for pl in fwk.filter_plugins:
        if skip and pl.name in skip:
            continue
        try:
            status = pl.filter(state, pod, node)
        except Exception as exc:
            return Status(
                Code.ERROR, f"running {pl.name!r} filter plugin: {exc}", plugin=pl.name, error=exc
            )
        if status is not None and status.code is not Code.SUCCESS:
            if not status.rejected:
                return Status(
                    Code.ERROR,
                    f"running {pl.name!r} filter plugin: {status.message}",
                    plugin=pl.name,
                )
            return status.with_plugin(pl.name)
    return None


def ref_pass_filters(
    fwk: Framework,
    state: CycleState,
    pod: Pod,
    nodes: Sequence[NodeInfo],
    diagnosis: Diagnosis,
    start_index: int,
    percentage: int | None,
) -> list[NodeInfo]:
    count = len(nodes)
    if not count:
        return []
    wanted = num_feasible_nodes_to_find(percentage, count)
    start = start_index % count
    if not fwk.filter_plugins:
        return [nodes[(start + i) % count] for i in range(wanted)]
    feasible: list[NodeInfo] = []
    for i in range(count):
        node = nodes[(start + i) % count]
        status = ref_run_filter_plugins(fwk, state, pod, node)
        if status is None:
            feasible.append(node)
            if len(feasible) >= wanted:
                break
        elif status.code is Code.ERROR:
            raise SchedulingError(status.message)
        else:
            diagnosis.node_statuses[node.name] = status
            diagnosis.add_plugin_status(status)
    return feasible


def ref_find_nodes_that_fit(
    fwk: Framework, state: CycleState, pod: Pod, snapshot: Snapshot, start_index: int
) -> tuple[list[NodeInfo], Diagnosis, int]:
    diagnosis = Diagnosis()
    all_nodes = snapshot.list()
    result, status, narrowing = fwk.run_pre_filter_plugins(state, pod, all_nodes)
    diagnosis.unschedulable_plugins = set(narrowing)
    if status is not None:
        if not status.rejected:
            raise SchedulingError(status.message)
        diagnosis.absent_status = status
        diagnosis.pre_filter_msg = status.message
        diagnosis.add_plugin_status(status)
        return [], diagnosis, 0
    nodes = all_nodes
    if result is not None and result.node_names is not None:
        names = result.node_names
        nodes = [n for n in all_nodes if n.name in names]
        plugins = " ".join(sorted(narrowing))
        diagnosis.absent_status = Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"node(s) didn't satisfy plugin(s) [{plugins}]"
        )
    percentage = fwk.percentage_of_nodes_to_score
    feasible = ref_pass_filters(fwk, state, pod, nodes, diagnosis, start_index, percentage)
    return feasible, diagnosis, len(feasible) + len(diagnosis.node_statuses)


def ref_score(
    fwk: Framework, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
) -> tuple[list[int], list[tuple[str, int, list[int], list[int]]]]:
    status = fwk.run_pre_score_plugins(state, pod, nodes)
    if status is not None:
        raise SchedulingError(status.message)
    totals = [0] * len(nodes)
    details = []
    for pl in fwk.score_plugins:
        if pl.name in state.skip_score_plugins:
            continue
        scores = [NodeScore(n.name, pl.score(state, pod, n)) for n in nodes]
        raw = [s.score for s in scores]
        normalize = getattr(pl, "normalize_score", None)
        if normalize is not None:
            status = normalize(state, pod, scores)
            assert status is None or status.success
        weight = fwk.score_weights[pl.name]
        normalized = []
        for i, s in enumerate(scores):
            assert MIN_NODE_SCORE <= s.score <= MAX_NODE_SCORE
            totals[i] += s.score * weight
            normalized.append(s.score)
        details.append((pl.name, weight, raw, normalized))
    return totals, details


def ref_select_host(nodes: Sequence[NodeInfo], totals: Sequence[int], rng: random.Random) -> str:
    best = max(totals)
    ties = [node.name for node, total in zip(nodes, totals, strict=True) if total == best]
    return ties[rng.randrange(len(ties))] if len(ties) > 1 else ties[0]


# -- one cycle both ways ------------------------------------------------------------------------


def _statuses(diagnosis: Diagnosis) -> dict[str, tuple[Any, ...]]:
    return {name: (s.code, s.reasons, s.plugin) for name, s in diagnosis.node_statuses.items()}


def _cycle(
    fast: Framework,
    ref: Framework,
    pod: Pod,
    snapshot: Snapshot,
    start: int,
    rngs: tuple[random.Random, random.Random],
) -> tuple[str | None, int]:
    """Schedule ``pod`` both ways, assert they agree, and return the host and processed count."""
    fast.set_snapshot(snapshot)
    ref.set_snapshot(snapshot)
    info = PodInfo(pod)
    s_fast, s_ref = CycleState(info), CycleState(info)
    feasible, diagnosis, processed = find_nodes_that_fit(
        fast, s_fast, pod, snapshot, start_index=start, percentage=fast.percentage_of_nodes_to_score
    )
    r_feasible, r_diagnosis, r_processed = ref_find_nodes_that_fit(ref, s_ref, pod, snapshot, start)
    assert [n.name for n in feasible] == [n.name for n in r_feasible]
    assert _statuses(diagnosis) == _statuses(r_diagnosis)
    assert diagnosis.unschedulable_plugins == r_diagnosis.unschedulable_plugins
    assert processed == r_processed
    if not feasible:
        return None, processed
    totals, details = prioritize_nodes(fast, s_fast, pod, feasible, keep_raw=True)
    r_totals, r_details = ref_score(ref, s_ref, pod, r_feasible)
    assert [(d.plugin, d.weight, d.raw, d.normalized) for d in details] == r_details
    assert totals == r_totals
    host = select_host(feasible, totals, rngs[0])
    assert host == ref_select_host(r_feasible, r_totals, rngs[1])
    return host, processed


# -- random clusters ----------------------------------------------------------------------------

TAINTS = [
    {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
    {"key": "spot", "value": "true", "effect": "PreferNoSchedule"},
    {"key": "slow", "effect": "PreferNoSchedule"},
    {"key": "drain", "effect": "NoExecute"},
]
IMAGES = [
    {"names": ["nginx:latest", "nginx"], "sizeBytes": 300 * 1024 * 1024},
    {"names": ["registry.k8s.io/pause:3.10"], "sizeBytes": 700 * 1024},
    {"names": ["big:1"], "sizeBytes": 2000 * 1024 * 1024},
]


@st.composite
def node_specs(draw: st.DrawFn, i: int) -> dict[str, Any]:
    return {
        "cpu": draw(st.sampled_from(["0", "1", "2", "4", "500m", None])),
        "memory": draw(st.sampled_from(["0", "1Gi", "4Gi", "32Gi", None])),
        "pods": draw(st.sampled_from(["2", "3", "110"])),
        "labels": {"topology.kubernetes.io/zone": draw(st.sampled_from(ZONES))}
        if draw(st.booleans())
        else {},
        "taints": draw(st.lists(st.sampled_from(TAINTS), max_size=2, unique_by=lambda t: t["key"])),
        "unschedulable": draw(st.integers(0, 5)) == 0,
        "images": draw(st.lists(st.sampled_from(IMAGES), max_size=2, unique_by=str)),
    }


@st.composite
def clusters(draw: st.DrawFn) -> list[Node]:
    """A few node shapes, each repeated: sometimes more than 100 nodes, so only some are
    evaluated and the round-robin start matters."""
    shapes = draw(st.lists(node_specs(0), min_size=1, max_size=5))
    count = draw(st.sampled_from([1, 2, 5, 12, 130, 260]))
    return [
        make_node(f"n{i}", **shapes[draw(st.integers(0, len(shapes) - 1))]) for i in range(count)
    ]


@st.composite
def pod_streams(draw: st.DrawFn, node_count: int) -> list[Pod]:
    out = []
    for i in range(draw(st.integers(1, 8))):
        spec: dict[str, Any] = {}
        tolerations = draw(
            st.lists(
                st.sampled_from(
                    [
                        {"key": "dedicated", "operator": "Exists"},
                        {"key": "spot", "operator": "Equal", "value": "true"},
                        {"operator": "Exists", "effect": "PreferNoSchedule"},
                        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
                    ]
                ),
                max_size=2,
                unique_by=str,
            )
        )
        if tolerations:
            spec["tolerations"] = tolerations
        if draw(st.integers(0, 5)) == 0:
            spec["nodeName"] = f"n{draw(st.integers(0, node_count))}"
        if draw(st.integers(0, 4)) == 0:
            spec["nodeSelector"] = {"topology.kubernetes.io/zone": draw(st.sampled_from(ZONES))}
        app = draw(st.sampled_from(["web", "db"]))
        if draw(st.integers(0, 5)) == 0:
            spec["affinity"] = {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "labelSelector": {"matchLabels": {"app": app}},
                            "topologyKey": "kubernetes.io/hostname",
                        }
                    ]
                }
            }
        if draw(st.integers(0, 5)) == 0:
            spec["topologySpreadConstraints"] = [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": draw(st.sampled_from(["DoNotSchedule", "ScheduleAnyway"])),
                    "labelSelector": {"matchLabels": {"app": app}},
                }
            ]
        if draw(st.integers(0, 4)) == 0:
            zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True))
            spec.setdefault("affinity", {})["nodeAffinity"] = {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "topology.kubernetes.io/zone",
                                    "operator": draw(st.sampled_from(["In", "NotIn"])),
                                    "values": zones,
                                }
                            ]
                        }
                    ]
                }
            }
        if draw(st.integers(0, 5)) == 0:
            spec["containers"] = [
                {
                    "name": "c",
                    "image": draw(st.sampled_from(["nginx", "big:1", "other"])),
                    "ports": [{"containerPort": 80, "hostPort": 8080}]
                    if draw(st.booleans())
                    else [],
                    "resources": {"requests": {"cpu": "100m"}} if draw(st.booleans()) else {},
                }
            ]
        out.append(
            make_pod(
                f"p{i}",
                cpu=draw(st.sampled_from([None, "0", "100m", "250m", "1", "3"])),
                memory=draw(st.sampled_from([None, "0", "256Mi", "1Gi", "8Gi"])),
                labels={"app": app},
                priority=draw(st.integers(0, 2)),
                spec=spec,
            )
        )
    return out


@settings(max_examples=80, deadline=None)
@given(st.data(), st.integers(0, 5))
def test_the_fast_paths_decide_as_the_reference_does(data: st.DataObject, seed: int) -> None:
    cluster = data.draw(clusters())
    stream = data.draw(pod_streams(len(cluster)))
    profile = CONFIG.profiles[0]
    fast, ref = Framework(profile, FACTORIES), Framework(profile, FACTORIES)
    cache = SchedulerCache()
    for node in cluster:
        cache.add_node(node)
    rngs = (random.Random(seed), random.Random(seed))
    start = data.draw(st.integers(0, len(cluster)))
    for pod in stream:
        snapshot = cache.snapshot()
        host, processed = _cycle(fast, ref, pod, snapshot, start, rngs)
        start = (start + processed) % len(snapshot)
        if host is not None:
            assert pod.spec is not None
            placed = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=host))
            cache.assume_pod(PodInfo(placed), host)


def test_the_in_tree_batch_plugins_are_batch_plugins() -> None:
    fwk = Framework(CONFIG.profiles[0], FACTORIES)
    batch_scores = {pl.name for pl in fwk.score_plugins if isinstance(pl, BatchScorePlugin)}
    assert {
        "NodeResourcesFit",
        "NodeResourcesBalancedAllocation",
        "TaintToleration",
        "ImageLocality",
    } <= batch_scores
    batch_filters = {pl.name for pl in fwk.filter_plugins if isinstance(pl, BatchFilterPlugin)}
    assert {
        "NodeUnschedulable",
        "NodeName",
        "TaintToleration",
        "NodeResourcesFit",
        "NodeAffinity",
    } <= batch_filters


def test_a_plugin_with_score_only_scores_through_the_per_node_fallback() -> None:
    """A third-party Score plugin without score_nodes is scored node by node, normalized and
    weighted as before."""

    class Count:
        name = "Count"

        def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
            return len(node_info.pods)

        def normalize_score(
            self, state: CycleState, pod: Pod, scores: list[NodeScore]
        ) -> Status | None:
            for s in scores:
                s.score = 100 - min(s.score * 10, 100)
            return None

    from kframe.scheduler import PluginFactory

    def factories(name: str) -> PluginFactory:
        if name == "Count":
            return PluginFactory(new=lambda args, handle: Count())
        return FACTORIES(name)

    config = parse_config(
        {
            "profiles": [
                {
                    "schedulerName": "default-scheduler",
                    "plugins": {"score": {"enabled": [{"name": "Count", "weight": 3}]}},
                }
            ]
        }
    )
    fwk = Framework(config.profiles[0], factories)
    nodes = [make_node(f"n{i}") for i in range(3)]
    bound = [make_pod(f"b{i}", node=f"n{i % 2}") for i in range(3)]
    snapshot = Snapshot.build(nodes, bound)
    fwk.set_snapshot(snapshot)
    pod = make_pod("p")
    state = CycleState()
    feasible, _, _ = find_nodes_that_fit(fwk, state, pod, snapshot, percentage=100)
    _, details = prioritize_nodes(fwk, state, pod, feasible, keep_raw=True)
    count = next(d for d in details if d.plugin == "Count")
    by_name = dict(
        zip([n.name for n in feasible], zip(count.raw, count.normalized, strict=True), strict=True)
    )
    assert by_name == {"n0": (2, 80), "n1": (1, 90), "n2": (0, 100)}
    assert count.weight == 3


def test_an_out_of_range_score_is_still_an_error() -> None:
    class Bad:
        name = "Bad"

        def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
            return 101 if node_info.name == "n1" else 5

    from kframe.scheduler import PluginFactory

    def factories(name: str) -> PluginFactory:
        if name == "Bad":
            return PluginFactory(new=lambda args, handle: Bad())
        return FACTORIES(name)

    config = parse_config(
        {
            "profiles": [
                {
                    "schedulerName": "default-scheduler",
                    "plugins": {"score": {"enabled": [{"name": "Bad"}]}},
                }
            ]
        }
    )
    fwk = Framework(config.profiles[0], factories)
    snapshot = Snapshot.build([make_node("n0"), make_node("n1")])
    fwk.set_snapshot(snapshot)
    pod = make_pod("p")
    state = CycleState()
    feasible, _, _ = find_nodes_that_fit(fwk, state, pod, snapshot, percentage=100)
    message = (
        "plugin 'Bad' returns an invalid score 101, it should in the range of [0, 100] "
        "after normalizing"
    )
    with pytest.raises(SchedulingError, match=re.escape(message)):
        prioritize_nodes(fwk, state, pod, feasible)


def _with_filter(plugin: object, *, filters: Sequence[str] = ()) -> Framework:
    from kframe.scheduler import PluginFactory

    name = plugin.name  # type: ignore[attr-defined]

    def factories(wanted: str) -> PluginFactory:
        if wanted == name:
            return PluginFactory(new=lambda args, handle: plugin)  # type: ignore[arg-type,return-value]
        return FACTORIES(wanted)

    config = parse_config(
        {
            "profiles": [
                {
                    "schedulerName": "default-scheduler",
                    "plugins": {
                        "filter": {"enabled": [{"name": name}, *({"name": f} for f in filters)]}
                    },
                }
            ]
        }
    )
    return Framework(config.profiles[0], factories)


class _Odd:
    """A third-party Filter plugin without filter_nodes: raises on n3, rejects odd nodes, and
    answers Wait (not a rejection: an Error) on n8."""

    name = "Odd"

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        number = int(node_info.name[1:])
        if number == 3:
            raise RuntimeError("boom")
        if number == 8:
            return Status(Code.WAIT, "later")
        if number % 2:
            return Status(Code.UNSCHEDULABLE, "odd")
        return None


class _BatchRaises(_Odd):
    """The same verdicts, with a filter_nodes that raises: asked again node by node."""

    name = "BatchRaises"

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> list[Status | None] | None:
        raise RuntimeError("batch boom")


@pytest.mark.parametrize("plugin", [_Odd(), _BatchRaises()])
@pytest.mark.parametrize(("count", "start"), [(3, 0), (3, 1), (10, 4), (150, 0), (150, 140)])
def test_third_party_filters_errors_and_rejections_as_node_by_node(
    plugin: object, count: int, start: int
) -> None:
    nodes = [make_node(f"n{i}") for i in range(count)]
    fast, ref = _with_filter(plugin), _with_filter(plugin)
    snapshot = Snapshot.build(nodes)
    pod = make_pod("p")
    outcome = []
    for fwk, find in (
        (fast, lambda f, s: find_nodes_that_fit(f, s, pod, snapshot, start_index=start)),
        (ref, lambda f, s: ref_find_nodes_that_fit(f, s, pod, snapshot, start)),
    ):
        fwk.set_snapshot(snapshot)
        try:
            feasible, diagnosis, processed = find(fwk, CycleState())
        except SchedulingError as err:
            outcome.append(("error", str(err)))
        else:
            outcome.append(([n.name for n in feasible], _statuses(diagnosis), processed))
    assert outcome[0] == outcome[1]


def _derived(info: PodInfo) -> tuple[Any, ...]:
    return (
        info.key,
        info.requests,
        info.non_zero_cpu,
        info.non_zero_memory,
        info.host_ports,
        len(info.required_affinity_terms),
        len(info.required_anti_affinity_terms),
        len(info.preferred_affinity_terms),
        len(info.preferred_anti_affinity_terms),
    )


def test_the_bound_pod_keeps_the_assumed_pods_derivation_only_when_its_spec_is_the_same() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1"))
    pending = make_pod("p", cpu="500m", memory="1Gi")
    assert pending.spec is not None
    assumed = PodInfo(pending).with_pod(
        attrs.evolve(pending, spec=attrs.evolve(pending.spec, node_name="n1"))
    )
    assert _derived(assumed) == _derived(PodInfo(assumed.pod))
    cache.assume_pod(assumed, "n1")
    bound = make_pod("p", cpu="500m", memory="1Gi", node="n1")
    cache.add_pod(bound)
    (info,) = cache.snapshot().get("n1").pods
    assert info.pod is bound
    assert info.requests is assumed.requests  # reused
    assert not cache.is_assumed("default/p")
    changed = make_pod("p", cpu="1", memory="1Gi", node="n1")
    cache.update_pod(changed)
    (info,) = cache.snapshot().get("n1").pods
    assert info.pod is changed
    assert _derived(info) == _derived(PodInfo(changed))
    assert cache.snapshot().get("n1").requested.milli_cpu == 1000


@given(st.lists(st.integers(0, 10**6), max_size=30), st.booleans(), st.integers(1, 100))
def test_default_normalize_scores_is_default_normalize_score(
    raw: list[int], reverse: bool, max_priority: int
) -> None:
    from kframe.scheduler import default_normalize_score, default_normalize_scores

    node_scores = [NodeScore(f"n{i}", s) for i, s in enumerate(raw)]
    default_normalize_score(max_priority, reverse, node_scores)
    scores = list(raw)
    default_normalize_scores(max_priority, reverse, scores)
    assert scores == [s.score for s in node_scores]


def test_remembered_resource_scores_follow_the_nodes_changes() -> None:
    """NodeResourcesFit and BalancedAllocation remember scores by NodeInfo generation: a node
    that changed (a pod added, its Node replaced) is scored again."""
    fwk = Framework(CONFIG.profiles[0], FACTORIES)
    cache = SchedulerCache()
    for i in range(3):
        cache.add_node(make_node(f"n{i}", cpu="4", memory="8Gi"))
    by_name = {pl.name: pl for pl in fwk.score_plugins}
    pod = make_pod("p", cpu="500m", memory="1Gi")

    def scores() -> dict[str, tuple[list[int], list[int]]]:
        snapshot = cache.snapshot()
        fwk.set_snapshot(snapshot)
        state = CycleState(PodInfo(pod))
        nodes = snapshot.list()
        fwk.run_pre_score_plugins(state, pod, nodes)
        out = {}
        for name in ("NodeResourcesFit", "NodeResourcesBalancedAllocation"):
            pl = by_name[name]
            assert isinstance(pl, BatchScorePlugin)
            out[name] = (
                pl.score_nodes(state, pod, nodes),
                [pl.score(state, pod, n) for n in nodes],
            )
        return out

    first = scores()
    assert all(fast == slow for fast, slow in first.values())
    cache.add_pod(make_pod("b", cpu="2", memory="1Gi", node="n1"))
    cache.update_node(make_node("n2", cpu="8", memory="8Gi"))
    second = scores()
    assert all(fast == slow for fast, slow in second.values())
    assert second != first


def test_remembered_fit_verdicts_follow_the_nodes_changes() -> None:
    """NodeResourcesFit remembers filter_nodes' verdicts by NodeInfo generation and pod
    requests: a node that filled up, or whose Node was replaced, is tested again, and pods of
    other shapes in between keep their own verdicts."""
    fwk = Framework(CONFIG.profiles[0], FACTORIES)
    fit = next(pl for pl in fwk.filter_plugins if pl.name == "NodeResourcesFit")
    assert isinstance(fit, BatchFilterPlugin)
    cache = SchedulerCache()
    for i in range(3):
        cache.add_node(make_node(f"n{i}", cpu="2", memory="8Gi", pods="110"))
    small, large = make_pod("s", cpu="1", memory="1Gi"), make_pod("l", cpu="3", memory="1Gi")

    def verdicts(pod: Pod) -> list[tuple[Any, ...] | None]:
        snapshot = cache.snapshot()
        fwk.set_snapshot(snapshot)
        state = CycleState(PodInfo(pod))
        nodes = snapshot.list()
        assert fwk.run_pre_filter_plugins(state, pod, nodes)[1] is None
        fast = fit.filter_nodes(state, pod, nodes) or [None] * len(nodes)
        slow = [fit.filter(state, pod, n) for n in nodes]
        out = [(s.code, s.reasons) if s is not None else None for s in fast]
        assert out == [(s.code, s.reasons) if s is not None else None for s in slow]
        return out

    assert verdicts(small) == [None, None, None]
    assert all(v is not None for v in verdicts(large))
    cache.add_pod(make_pod("b", cpu="1500m", memory="1Gi", node="n1"))
    assert verdicts(small)[1] == (Code.UNSCHEDULABLE, ("Insufficient cpu",))
    cache.update_node(make_node("n2", cpu="4", memory="8Gi"))
    assert verdicts(large)[2] is None
    assert verdicts(small) == [None, (Code.UNSCHEDULABLE, ("Insufficient cpu",)), None]


@settings(max_examples=60, deadline=None)
@given(pods())
def test_the_pods_requests_are_derived_as_from_its_json(pod: Pod) -> None:
    """PodInfo sums requests from the part of the spec pod_requests reads, not the whole
    spec's JSON: the same totals either way."""
    from kframe.api import pod_requests, to_dict
    from kframe.scheduler import Resource

    assume(pod.spec is not None and pod.metadata is not None)
    assert pod.spec is not None
    info = PodInfo(pod)
    spec = to_dict(pod.spec)
    assert info.requests == Resource.from_list(pod_requests(spec))
    non_zero = pod_requests(spec, non_missing=_NON_ZERO)
    assert info.non_zero_cpu == (non_zero["cpu"].milli_value() if "cpu" in non_zero else 0)
    assert info.non_zero_memory == (non_zero["memory"].value() if "memory" in non_zero else 0)
