"""PreFilter, Filter and the PreFilter extensions for the DoNotSchedule constraints (upstream
filtering.go).

PreFilter counts, per constraint, the matching pods in every topology domain of the eligible
nodes and keeps the two smallest counts (the critical paths); Filter then checks
``count(domain of the node) + self-match - global minimum <= maxSkew`` with a dict lookup per
constraint. AddPod/RemovePod adjust the counts when preemption or nominated pods change a node.
"""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api.models import Node, Pod
from kframe.scheduler import Code, NodeInfo, Status

from ..names import POD_TOPOLOGY_SPREAD
from ._common import Constraint, count_matching, has_all_keys, node_labels, pod_namespace
from ._memo import Entry, NodeMemo, constraints_key
from ._nodeinclusion import RequiredNodeAffinity, Tolerations

__all__ = [
    "ERR_REASON_CONSTRAINTS_NOT_MATCH",
    "ERR_REASON_NODE_LABEL_NOT_MATCH",
    "PRE_FILTER_STATE_KEY",
    "CriticalPaths",
    "PreFilterState",
    "calc_pre_filter_state",
    "filter_node",
    "update_with_pod",
]

PRE_FILTER_STATE_KEY = "PreFilter" + POD_TOPOLOGY_SPREAD
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"

_MAX_INT32 = 2**31 - 1


class CriticalPaths:
    """The two domains with the fewest matching pods (upstream criticalPaths).

    ``num0`` is always the minimum; ``num1 >= num0`` but, after AddPod/RemovePod, not
    necessarily the second minimum. That is enough because preemption only ever changes one
    node (one domain per constraint) of a cloned state.
    """

    __slots__ = ("num0", "num1", "value0", "value1")

    def __init__(self) -> None:
        self.value0, self.num0 = "", _MAX_INT32
        self.value1, self.num1 = "", _MAX_INT32

    def update(self, value: str, num: int) -> None:
        if value == self.value0:
            self.num0 = num
        elif value == self.value1:
            self.num1 = num
        elif num < self.num0:
            self.value1, self.num1 = self.value0, self.num0
            self.value0, self.num0 = value, num
            return
        elif num < self.num1:
            self.value1, self.num1 = value, num
            return
        else:
            return
        if self.num0 > self.num1:
            self.value0, self.num0, self.value1, self.num1 = (
                self.value1,
                self.num1,
                self.value0,
                self.num0,
            )

    def copy(self) -> CriticalPaths:
        other = CriticalPaths.__new__(CriticalPaths)
        other.value0, other.num0 = self.value0, self.num0
        other.value1, other.num1 = self.value1, self.num1
        return other

    def __repr__(self) -> str:
        return f"CriticalPaths(({self.value0!r}, {self.num0}), ({self.value1!r}, {self.num1}))"


class PreFilterState:
    """Upstream preFilterState: per constraint, matching pods by topology value and the critical
    paths; plus what the incoming pod contributes (self-match) and its node inclusion rules."""

    __slots__ = (
        "affinity",
        "constraints",
        "counts",
        "keys",
        "paths",
        "self_match",
        "tolerations",
    )

    def __init__(self, pod: Pod, constraints: list[Constraint]) -> None:
        self.constraints = constraints
        self.keys = tuple(dict.fromkeys(c.topology_key for c in constraints))
        self.counts: list[dict[str, int]] = [{} for _ in constraints]
        self.paths = [CriticalPaths() for _ in constraints]
        meta = pod.metadata
        labels = meta.labels if meta else {}
        self.self_match = [1 if c.matches(labels) else 0 for c in constraints]
        self.affinity = RequiredNodeAffinity(pod)
        self.tolerations = Tolerations(pod)

    def clone(self) -> PreFilterState:
        # Constraints and the pod-derived parts do not change; counts and paths do.
        other = PreFilterState.__new__(PreFilterState)
        other.constraints = self.constraints
        other.keys = self.keys
        other.self_match = self.self_match
        other.affinity = self.affinity
        other.tolerations = self.tolerations
        other.counts = [dict(m) for m in self.counts]
        other.paths = [p.copy() for p in self.paths]
        return other

    def min_match_num(self, i: int) -> int:
        """The global minimum for constraint ``i``: 0 while there are fewer eligible domains than
        minDomains."""
        if len(self.counts[i]) < self.constraints[i].min_domains:
            return 0
        return self.paths[i].num0

    def included(self, c: Constraint, node: Node, cache: list[bool | None]) -> bool:
        """matchNodeInclusionPolicies, each check done at most once per node (``cache``)."""
        if c.honor_affinity and not self.affinity.trivial:
            if cache[0] is None:
                cache[0] = self.affinity.matches_node(node)
            if not cache[0]:
                return False
        if c.honor_taints:
            if cache[1] is None:
                cache[1] = self.tolerations.tolerate_all(node)
            if not cache[1]:
                return False
        return True


def calc_pre_filter_state(
    pod: Pod,
    constraints: list[Constraint],
    nodes: Sequence[NodeInfo],
    memo: NodeMemo | None = None,
) -> PreFilterState:
    """calPreFilterState over every node of the snapshot (each node's part from ``memo`` when
    which nodes count does not depend on the pod's affinity or tolerations)."""
    s = PreFilterState(pod, constraints)
    ns = pod_namespace(pod)
    keys = s.keys
    indexed = list(enumerate(constraints))
    counts = s.counts
    key = (
        constraints_key("filter", ns, constraints)
        if memo is not None
        and not any(
            c.honor_taints or (c.honor_affinity and not s.affinity.trivial) for c in constraints
        )
        else None
    )
    if memo is not None and key is not None:
        sums = memo.sums(
            key, nodes, len(constraints), lambda info: _filter_entry(info, constraints, keys, ns)
        )
        s.counts = [dict(tp) for tp in sums]
        _set_paths(s)
        return s
    for info in nodes:
        node = info.node
        if node is None:
            continue
        labels = node_labels(node)
        if not has_all_keys(labels, keys):
            continue
        cache: list[bool | None] = [None, None]
        for i, c in indexed:
            if not s.included(c, node, cache):
                continue
            value = labels[c.topology_key]
            tp = counts[i]
            tp[value] = tp.get(value, 0) + count_matching(info.pods, c, ns)
    _set_paths(s)
    return s


def _filter_entry(
    info: NodeInfo, constraints: Sequence[Constraint], keys: Sequence[str], ns: str
) -> Entry:
    """The node's part of calPreFilterState when every node with the keys counts."""
    if info.node is None:
        return ()
    labels = node_labels(info.node)
    if not has_all_keys(labels, keys):
        return ()
    return tuple((labels[c.topology_key], count_matching(info.pods, c, ns)) for c in constraints)


def _set_paths(s: PreFilterState) -> None:
    for paths, counts in zip(s.paths, s.counts, strict=True):
        for value, num in counts.items():
            paths.update(value, num)


def filter_node(s: PreFilterState, node_info: NodeInfo) -> Status | None:
    """Filter: every constraint's skew on this node's domain stays within maxSkew."""
    labels = node_labels(node_info.node)
    for i, c in enumerate(s.constraints):
        value = labels.get(c.topology_key)
        if value is None:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_NODE_LABEL_NOT_MATCH)
        # 'existing matching num' + 'if self-match (1 or 0)' - 'global minimum' <= 'maxSkew'
        skew = s.counts[i].get(value, 0) + s.self_match[i] - s.min_match_num(i)
        if skew > c.max_skew:
            return Status(Code.UNSCHEDULABLE, ERR_REASON_CONSTRAINTS_NOT_MATCH)
    return None


def update_with_pod(
    s: PreFilterState, updated: Pod, preemptor: Pod, node: Node | None, delta: int
) -> None:
    """updateWithPod: count ``updated`` in (``delta=1``) or out (``-1``) of the node's domains."""
    if node is None or pod_namespace(updated) != pod_namespace(preemptor):
        return
    labels = node_labels(node)
    if not has_all_keys(labels, s.keys):
        return
    meta = updated.metadata
    pod_labels = meta.labels if meta else {}
    cache: list[bool | None] = [None, None]
    for i, c in enumerate(s.constraints):
        if not c.matches(pod_labels) or not s.included(c, node, cache):
            continue
        value = labels[c.topology_key]
        tp = s.counts[i]
        tp[value] = tp.get(value, 0) + delta
        s.paths[i].update(value, tp[value])
