"""PreScore, Score and NormalizeScore of InterPodAffinity: weights summed per topology value.

Upstream scoring.go. PreScore walks the existing pods once and adds, per ``topologyKey`` and
value of the existing pod's node, the weights of the preferred terms that match in either
direction (and ``hardPodAffinityWeight`` for existing pods' required affinity terms the incoming
pod matches). Score sums the entries for the node's labels; NormalizeScore maps them to [0, 100].
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from kframe.api.models import Pod
from kframe.scheduler import MAX_NODE_SCORE, AffinityTerm, NodeInfo, NodeScore, PodInfo

from ._filtering import NodeMemo, node_labels
from ._terms import PodTerms

__all__ = ["PreScoreState", "normalize", "score_node", "topology_scores"]

# topologyKey -> topology value -> summed weight.
ScoreMap = dict[str, dict[str, int]]


class PreScoreState:
    """What Score and NormalizeScore read; not copied on clone, as upstream."""

    __slots__ = ("topology_score",)

    def __init__(self, topology_score: ScoreMap) -> None:
        self.topology_score = topology_score

    def clone(self) -> PreScoreState:
        return self

    def __repr__(self) -> str:
        return f"PreScoreState({self.topology_score})"


def _add(scores: ScoreMap, labels: Mapping[str, str], key: str, weight: int) -> None:
    tv = labels.get(key)
    if tv is not None:
        values = scores.get(key)
        if values is None:
            values = scores[key] = {}
        values[tv] = values.get(tv, 0) + weight


def _process_existing_pod(
    scores: ScoreMap,
    terms: PodTerms,
    pod: Pod,
    namespace_labels: Mapping[str, str],
    hard_weight: int,
    existing: PodInfo,
    labels: Mapping[str, str],
) -> None:
    other = existing.pod
    # The incoming pod's preferred terms, matched against the existing pod.
    for w, it in terms.preferred_affinity:
        if it.matches(other):
            _add(scores, labels, it.topology_key, w)
    for w, it in terms.preferred_anti_affinity:
        if it.matches(other):
            _add(scores, labels, it.topology_key, -w)
    # The existing pod's terms, matched against the incoming pod in its namespace.
    if hard_weight > 0:
        required: tuple[AffinityTerm, ...] = existing.required_affinity_terms
        for t in required:
            if t.matches(pod, namespace_labels):
                _add(scores, labels, t.topology_key, hard_weight)
    for wt in existing.preferred_affinity_terms:
        if wt.term.matches(pod, namespace_labels):
            _add(scores, labels, wt.term.topology_key, wt.weight)
    for wt in existing.preferred_anti_affinity_terms:
        if wt.term.matches(pod, namespace_labels):
            _add(scores, labels, wt.term.topology_key, -wt.weight)


def topology_scores(
    pod: Pod,
    terms: PodTerms,
    namespace_labels: Mapping[str, str],
    hard_weight: int,
    nodes: Sequence[NodeInfo],
    all_pods: bool,
    memo: NodeMemo | None = None,
) -> ScoreMap:
    """The summed weights over ``nodes``: every pod on them when the incoming pod has preferred
    terms of its own (``all_pods``), otherwise only the pods with affinity terms.

    With ``memo``, each node's additions are remembered by its generation for what the
    incoming pod brings (Score only sums them, so their order does not matter)."""
    scores: ScoreMap = {}
    key = _memo_key(pod, terms, namespace_labels, hard_weight, all_pods) if memo else None
    if memo is not None and key is not None:
        table = memo.table(key)
        get = table.get
        for info in nodes:
            entry = get(info.generation)
            if entry is None:
                one: ScoreMap = {}
                labels = node_labels(info)
                if labels:
                    for existing in info.pods if all_pods else info.pods_with_affinity:
                        _process_existing_pod(
                            one, terms, pod, namespace_labels, hard_weight, existing, labels
                        )
                entry = table[info.generation] = tuple(
                    (k, tv, w) for k, values in one.items() for tv, w in values.items()
                )
            for k, tv, w in entry:
                values = scores.get(k)
                if values is None:
                    values = scores[k] = {}
                values[tv] = values.get(tv, 0) + w
        return scores
    for info in nodes:
        labels = node_labels(info)
        if not labels:
            continue
        for existing in info.pods if all_pods else info.pods_with_affinity:
            _process_existing_pod(
                scores, terms, pod, namespace_labels, hard_weight, existing, labels
            )
    return scores


def _memo_key(
    pod: Pod,
    terms: PodTerms,
    namespace_labels: Mapping[str, str],
    hard_weight: int,
    all_pods: bool,
) -> Hashable:
    """What a node's additions depend on besides the node (None if it cannot be hashed)."""
    meta = pod.metadata
    key = (
        "score",
        *(
            tuple(
                (w, t.selector, t.topology_key, t.all_namespaces, t.namespaces) for w, t in weighted
            )
            for weighted in (terms.preferred_affinity, terms.preferred_anti_affinity)
        ),
        (meta.namespace if meta else None) or "default",
        tuple(sorted((meta.labels if meta else {}).items())),
        tuple(sorted(namespace_labels.items())),
        hard_weight,
        all_pods,
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


def score_node(state: PreScoreState, labels: Mapping[str, str]) -> int:
    score = 0
    for key, values in state.topology_score.items():
        tv = labels.get(key)
        if tv is not None:
            score += values.get(tv, 0)
    return score


def normalize(scores: list[NodeScore]) -> None:
    """Min-max to [0, MAX_NODE_SCORE] with Go's float64 math and int64 truncation."""
    if not scores:
        return
    lo = min(s.score for s in scores)
    hi = max(s.score for s in scores)
    diff = hi - lo
    for s in scores:
        f = 0.0
        if diff > 0:
            f = float(MAX_NODE_SCORE) * (float(s.score - lo) / float(diff))
        s.score = int(f)
