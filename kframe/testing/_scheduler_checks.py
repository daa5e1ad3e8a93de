"""The checks the scheduler plugin conformance suite runs on one plugin and one cluster.

:mod:`kframe.testing.scheduler_conformance` draws the clusters and calls these; each check
raises ``AssertionError`` naming the plugin (``where``) and what it did. A plugin's optional
batch fast paths (``filter_nodes``, ``score_nodes``, ``normalize_scores``) are held to the
per-node answers here, on every generated cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kframe.api import to_dict
from kframe.api.models import Pod
from kframe.scheduler import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    BatchFilterPlugin,
    BatchScoreExtensions,
    BatchScorePlugin,
    BindPlugin,
    Code,
    CycleState,
    FilterPlugin,
    NodeInfo,
    NodeScore,
    PermitPlugin,
    Plugin,
    PodInfo,
    PostBindPlugin,
    PostFilterPlugin,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    QueuedPodInfo,
    QueueSortPlugin,
    ReservePlugin,
    ScoreExtensions,
    ScorePlugin,
    Snapshot,
    Status,
)
from kframe.testing.scheduler import make_pod

# The extension-point Protocols a plugin may implement, with upstream's interface names.
EXTENSION_POINTS: tuple[tuple[type, str], ...] = (
    (PreEnqueuePlugin, "PreEnqueuePlugin"),
    (QueueSortPlugin, "QueueSortPlugin"),
    (PreFilterPlugin, "PreFilterPlugin"),
    (FilterPlugin, "FilterPlugin"),
    (PostFilterPlugin, "PostFilterPlugin"),
    (PreScorePlugin, "PreScorePlugin"),
    (ScorePlugin, "ScorePlugin"),
    (ReservePlugin, "ReservePlugin"),
    (PermitPlugin, "PermitPlugin"),
    (PreBindPlugin, "PreBindPlugin"),
    (BindPlugin, "BindPlugin"),
    (PostBindPlugin, "PostBindPlugin"),
)

_REJECTIONS = frozenset({Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING})
_FILTER_CODES = _REJECTIONS | {Code.SUCCESS}
_PRE_FILTER_CODES = _FILTER_CODES | {Code.SKIP}
_PRE_SCORE_CODES = frozenset({Code.SUCCESS, Code.SKIP})
_SUCCESS = frozenset({Code.SUCCESS})

# A status as comparable data: (code label, reasons), None for success.
_Verdict = tuple[str, tuple[str, ...]] | None


def as_verdict(where: str, point: str, status: object, allowed: frozenset[Code]) -> _Verdict:
    """Check a point's answer against the codes it may give; the answer as data."""
    if status is None:
        return None
    assert isinstance(status, Status), f"{where}: {point} returned {status!r}, not a Status"
    assert status.code in allowed, (
        f"{where}: {point} answered {status.code.label} {list(status.reasons)} "
        f"(allowed: None or {', '.join(sorted(c.label for c in allowed))})"
    )
    if status.rejected:
        assert status.reasons, f"{where}: {point} rejected without a reason"
    return status.code.label, tuple(status.reasons)


def check_empty_node_lists(where: str, plugin: Plugin) -> None:
    pod = make_pod("pending")
    if isinstance(plugin, PreFilterPlugin):
        answer = plugin.pre_filter(CycleState(), pod, [])
        if not isinstance(answer, PreFilterResult):
            as_verdict(where, "PreFilter with no nodes", answer, _PRE_FILTER_CODES)
    if isinstance(plugin, PreScorePlugin):
        answer = plugin.pre_score(CycleState(), pod, [])
        as_verdict(where, "PreScore with no nodes", answer, _PRE_SCORE_CODES)


def run_cycle(where: str, plugin: Plugin, pod: Pod, snapshot: Snapshot) -> dict[str, Any]:
    """One cycle through the plugin's filter and score points; what it answered, as data."""
    state = CycleState()
    nodes = snapshot.list()
    feasible: list[NodeInfo] = list(nodes)
    outcome: dict[str, Any] = {}
    if isinstance(plugin, PreFilterPlugin):
        answer = plugin.pre_filter(state, pod, nodes)
        if isinstance(answer, PreFilterResult):
            outcome["pre_filter"] = answer.node_names
            if answer.node_names is not None:
                feasible = [n for n in nodes if n.name in answer.node_names]
        else:
            verdict = outcome["pre_filter"] = as_verdict(
                where, "PreFilter", answer, _PRE_FILTER_CODES
            )
            if verdict is not None and verdict[0] == Code.SKIP.label:
                state.skip_filter_plugins.add(plugin.name)
            elif verdict is not None and verdict[0] != Code.SUCCESS.label:
                return outcome  # the pod is rejected for every node
    if isinstance(plugin, FilterPlugin) and plugin.name not in state.skip_filter_plugins:
        verdicts = {n.name: _filter(where, plugin, state, pod, n) for n in feasible}
        for node in feasible:
            again = _filter(where, plugin, state, pod, node)
            assert again == verdicts[node.name], (
                f"{where}: Filter on node {node.name!r} answered {verdicts[node.name]}, then "
                f"{again} in the same cycle"
            )
        if isinstance(plugin, BatchFilterPlugin):
            _check_filter_nodes(where, plugin, state, pod, feasible, verdicts)
        outcome["filter"] = verdicts
        feasible = [n for n in feasible if verdicts[n.name] in (None, ("Success", ()))]
    if not feasible:
        return outcome
    if isinstance(plugin, PreScorePlugin):
        answer = plugin.pre_score(state, pod, feasible)
        verdict = outcome["pre_score"] = as_verdict(where, "PreScore", answer, _PRE_SCORE_CODES)
        if verdict is not None and verdict[0] == Code.SKIP.label:
            return outcome
    if isinstance(plugin, ScorePlugin):
        outcome["scores"] = _scores(where, plugin, state, pod, feasible)
    return outcome


def _check_filter_nodes(
    where: str,
    plugin: BatchFilterPlugin,
    state: CycleState,
    pod: Pod,
    nodes: list[NodeInfo],
    verdicts: dict[str, _Verdict],
) -> None:
    """``filter_nodes`` agrees with Filter node by node, whatever the other nodes passed."""
    # The framework may hand it any slice of the node list, so reversed and halved lists
    # must give each node the same answer as the full one.
    for label, chosen in (
        ("all nodes", nodes),
        ("the nodes reversed", nodes[::-1]),
        ("every other node", nodes[::2]),
    ):
        answers = plugin.filter_nodes(state, pod, chosen)
        if answers is None:
            answers = [None] * len(chosen)
        assert len(answers) == len(chosen), (
            f"{where}: filter_nodes on {label} gave {len(answers)} answers for {len(chosen)} nodes"
        )
        for node, status in zip(chosen, answers, strict=True):
            got = as_verdict(where, f"filter_nodes on node {node.name!r}", status, _FILTER_CODES)
            if got == ("Success", ()):
                got = None
            want = verdicts[node.name]
            want = None if want == ("Success", ()) else want
            assert got == want, (
                f"{where}: on node {node.name!r} filter_nodes ({label}) answered {got}, "
                f"Filter {want}"
            )


def _filter(
    where: str, plugin: FilterPlugin, state: CycleState, pod: Pod, node: NodeInfo
) -> _Verdict:
    status = plugin.filter(state, pod, node)
    return as_verdict(where, f"Filter on node {node.name!r}", status, _FILTER_CODES)


def _scores(
    where: str, plugin: ScorePlugin, state: CycleState, pod: Pod, nodes: list[NodeInfo]
) -> tuple[list[int], list[int]]:
    scores = []
    for node in nodes:
        score = plugin.score(state, pod, node)
        assert isinstance(score, int) and not isinstance(score, bool), (
            f"{where}: Score on node {node.name!r} returned {score!r}, not an int"
        )
        scores.append(NodeScore(node.name, score))
    raw = [s.score for s in scores]
    if isinstance(plugin, BatchScorePlugin):
        batch = plugin.score_nodes(state, pod, nodes)
        assert list(batch) == raw, (
            f"{where}: score_nodes answered {list(batch)}, Score node by node {raw} "
            f"(nodes {[n.name for n in nodes]})"
        )
    if isinstance(plugin, ScoreExtensions):
        status = plugin.normalize_score(state, pod, scores)
        as_verdict(where, "NormalizeScore", status, _SUCCESS)
        _check_normalize_scores(where, plugin, state, pod, raw, [s.score for s in scores])
    assert [s.name for s in scores] == [n.name for n in nodes], (
        f"{where}: NormalizeScore changed the list of nodes: {scores!r}"
    )
    final = [s.score for s in scores]
    assert all(MIN_NODE_SCORE <= s <= MAX_NODE_SCORE for s in final), (
        f"{where}: scores {dict(zip([n.name for n in nodes], final, strict=True))} are not "
        f"within [{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing (raw: {raw})"
    )
    return raw, final


def _check_normalize_scores(
    where: str, plugin: object, state: CycleState, pod: Pod, raw: list[int], want: list[int]
) -> None:
    """``normalize_scores`` rescales the bare scores exactly as NormalizeScore does."""
    if not isinstance(plugin, BatchScoreExtensions):
        return
    alone = list(raw)
    status = plugin.normalize_scores(state, pod, alone)
    as_verdict(where, "normalize_scores", status, _SUCCESS)
    assert alone == want, (
        f"{where}: normalize_scores made {raw} into {alone}, NormalizeScore into {want}"
    )


def check_queue_points(where: str, plugin: Plugin, pod: Pod, bound_pods: Sequence[Pod]) -> None:
    if isinstance(plugin, PreEnqueuePlugin):
        first = as_verdict(where, "PreEnqueue", plugin.pre_enqueue(pod), _FILTER_CODES)
        again = as_verdict(where, "PreEnqueue", plugin.pre_enqueue(pod), _FILTER_CODES)
        assert first == again, f"{where}: PreEnqueue answered {first}, then {again}"
    if isinstance(plugin, QueueSortPlugin):
        pods = (pod, *bound_pods)
        queued = [QueuedPodInfo(PodInfo(p), timestamp=float(i % 2)) for i, p in enumerate(pods)]
        for a in queued:
            assert not plugin.less(a, a), f"{where}: QueueSort puts {a.pod_info.key} before itself"
            for b in queued:
                assert not (plugin.less(a, b) and plugin.less(b, a)), (
                    f"{where}: QueueSort puts {a.pod_info.key} and {b.pod_info.key} each before "
                    "the other"
                )


def fingerprint(pod: Pod, snapshot: Snapshot) -> list[Any]:
    """What a plugin must not change: the pod, and each NodeInfo's node, pods and totals."""
    out: list[Any] = [id(pod), to_dict(pod)]
    for info in snapshot.list():
        out.append(
            (
                info.name,
                id(info.node),
                to_dict(info.node),
                info.generation,
                [id(p) for p in info.pods],
                info.requested.clone(),
                info.non_zero_requested.clone(),
                info.allocatable.clone(),
                len(info.used_ports),
                sorted(info.image_states),
            )
        )
    return out
