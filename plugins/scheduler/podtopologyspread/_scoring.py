"""PreScore, Score and NormalizeScore for the ScheduleAnyway constraints (upstream scoring.go).

PreScore counts matching pods per topology domain of the feasible nodes (hostname constraints
are counted per node in Score instead) and gives each constraint the weight ``log(size + 2)`` of
its number of domains; a node's raw score is ``sum(count * weight + maxSkew - 1)``, rounded, and
NormalizeScore turns fewer matching pods into a higher score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kframe.api.models import Pod
from kframe.scheduler import MAX_NODE_SCORE, NodeInfo, NodeScore

from ..names import POD_TOPOLOGY_SPREAD
from ._common import Constraint, count_matching, has_all_keys, node_labels, pod_namespace
from ._memo import Entry, NodeMemo, constraints_key
from ._nodeinclusion import RequiredNodeAffinity, Tolerations

__all__ = [
    "PRE_SCORE_STATE_KEY",
    "PreScoreState",
    "calc_pre_score_state",
    "go_round",
    "normalize",
    "score_node",
    "topology_normalizing_weight",
]

PRE_SCORE_STATE_KEY = "PreScore" + POD_TOPOLOGY_SPREAD
_INVALID_SCORE = -1


def go_round(x: float) -> int:
    """Go's math.Round: half away from zero (Python's round() is half to even)."""
    t = math.trunc(x)
    if abs(x - t) >= 0.5:
        t += 1 if x > 0 else -1
    return int(t)


def topology_normalizing_weight(size: int) -> float:
    """The weight of a topology with ``size`` domains, so that the counts of small topologies
    are not watered down by big ones."""
    return math.log(size + 2)


class PreScoreState:
    """Upstream preScoreState; never changes after PreScore, so clone() shares it."""

    __slots__ = ("constraints", "counts", "host_counts", "ignored_nodes", "namespace", "weights")

    def __init__(self, constraints: list[Constraint], namespace: str) -> None:
        self.constraints = constraints
        self.namespace = namespace
        #: Feasible nodes that miss a topology key (when all are required): scored 0.
        self.ignored_nodes: set[str] = set()
        #: Per constraint, matching pods by topology value (no entries for hostname ones).
        self.counts: list[dict[str, int]] = [{} for _ in constraints]
        self.weights: list[float] = []
        #: Per constraint, a hostname constraint's count by NodeInfo generation, shared by the
        #: cycles of pods with the same constraints (None: not memoised).
        self.host_counts: list[dict[int, int] | None] = [None] * len(constraints)

    def clone(self) -> PreScoreState:
        return self


def calc_pre_score_state(
    pod: Pod,
    constraints: list[Constraint],
    filtered: Sequence[NodeInfo],
    all_nodes: Sequence[NodeInfo],
    require_all_topologies: bool,
    memo: NodeMemo | None = None,
) -> PreScoreState:
    s = PreScoreState(constraints, pod_namespace(pod))
    keys = tuple(dict.fromkeys(c.topology_key for c in constraints))
    indexed = list(enumerate(constraints))
    # initPreScoreState: the domains the feasible nodes are in.
    sizes = [0] * len(constraints)
    for info in filtered:
        labels = node_labels(info.node)
        if require_all_topologies and not has_all_keys(labels, keys):
            s.ignored_nodes.add(info.name)
            continue
        for i, c in indexed:
            if c.is_hostname:  # counted per node in Score
                continue
            value = labels.get(c.topology_key, "")
            if value not in s.counts[i]:
                s.counts[i][value] = 0
                sizes[i] += 1
    hostnames = len(filtered) - len(s.ignored_nodes)
    s.weights = [
        topology_normalizing_weight(hostnames if c.is_hostname else sizes[i]) for i, c in indexed
    ]
    # Count the matching pods of every node in those domains.
    affinity = RequiredNodeAffinity(pod)
    tolerations = Tolerations(pod)
    ns = s.namespace
    key = (
        constraints_key(f"score/{require_all_topologies}", ns, constraints)
        if memo is not None
        and not any(
            c.honor_taints or (c.honor_affinity and not affinity.trivial) for c in constraints
        )
        else None
    )
    if memo is not None and key is not None:
        for i, c in indexed:
            if c.is_hostname:
                s.host_counts[i] = memo.counts((key, "hostname", i))
        sums = memo.sums(
            key,
            all_nodes,
            len(constraints),
            lambda info: _score_entry(info, constraints, keys, ns, require_all_topologies),
        )
        for tp, total in zip(s.counts, sums, strict=True):
            for value in tp:
                tp[value] = total.get(value, 0)
        return s
    for info in all_nodes:
        node = info.node
        if node is None:
            continue
        labels = node_labels(node)
        if require_all_topologies and not has_all_keys(labels, keys):
            continue
        affinity_ok: bool | None = None
        taints_ok: bool | None = None
        for i, c in indexed:
            tp = s.counts[i]
            value = labels.get(c.topology_key, "")
            if value not in tp:  # no feasible node there (or a hostname constraint)
                continue
            if c.honor_affinity and not affinity.trivial:
                if affinity_ok is None:
                    affinity_ok = affinity.matches_node(node)
                if not affinity_ok:
                    continue
            if c.honor_taints:
                if taints_ok is None:
                    taints_ok = tolerations.tolerate_all(node)
                if not taints_ok:
                    continue
            tp[value] += count_matching(info.pods, c, ns)
    return s


def _score_entry(
    info: NodeInfo,
    constraints: Sequence[Constraint],
    keys: Sequence[str],
    ns: str,
    require_all_topologies: bool,
) -> Entry:
    """The node's part of the counting when every node counts: its value and matching pods
    per constraint (hostname constraints, counted in Score, get 0)."""
    labels = node_labels(info.node)
    if require_all_topologies and not has_all_keys(labels, keys):
        return ()
    return tuple(
        (
            labels.get(c.topology_key, ""),
            0 if c.is_hostname else count_matching(info.pods, c, ns),
        )
        for c in constraints
    )


def score_node(s: PreScoreState, node_info: NodeInfo) -> int:
    """The node's raw score: the matching pods of its domains, weighted, plus maxSkew - 1 per
    constraint (which waters down small differences)."""
    if node_info.name in s.ignored_nodes:
        return 0
    labels = node_labels(node_info.node)
    score = 0.0
    for i, c in enumerate(s.constraints):
        value = labels.get(c.topology_key)
        if value is None:
            continue
        if c.is_hostname:
            # Each cycle changes one node: the count of every other node is the last one's.
            memo = s.host_counts[i]
            if memo is None:
                cnt = count_matching(node_info.pods, c, s.namespace)
            else:
                generation = node_info.generation
                cnt = memo.get(generation, -1)
                if cnt < 0:
                    cnt = memo[generation] = count_matching(node_info.pods, c, s.namespace)
        else:
            cnt = s.counts[i].get(value, 0)
        score += cnt * s.weights[i] + (c.max_skew - 1)
    return go_round(score)


def normalize(s: PreScoreState, scores: list[NodeScore]) -> None:
    """NormalizeScore: ``100 * (max + min - score) / max`` (integer division); ignored nodes get
    0, and every node 100 when no node has a matching pod."""
    min_score, max_score = 2**63 - 1, 0
    ignored = s.ignored_nodes
    for ns in scores:
        if ns.name in ignored:
            ns.score = _INVALID_SCORE
            continue
        min_score = min(min_score, ns.score)
        max_score = max(max_score, ns.score)
    for ns in scores:
        if ns.score == _INVALID_SCORE:
            ns.score = 0
        elif max_score == 0:
            ns.score = MAX_NODE_SCORE
        else:
            ns.score = MAX_NODE_SCORE * (max_score + min_score - ns.score) // max_score
