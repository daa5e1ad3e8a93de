"""PreFilter and Filter of InterPodAffinity: topology pairs counted once, checked per node.

Upstream filtering.go. PreFilter counts, per ``(topologyKey, value)`` pair: existing pods whose
required anti-affinity terms match the incoming pod, and existing pods matching the incoming
pod's required affinity and anti-affinity terms. Filter then reads only the node's labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kframe.api.models import Pod
from kframe.scheduler import AffinityTerm, NodeInfo, PodInfo

from ._terms import IncomingTerm, matches_all

__all__ = [
    "ERR_REASON_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH",
    "PreFilterState",
    "existing_anti_affinity_counts",
    "incoming_counts",
    "node_labels",
    "satisfy_existing_pods_anti_affinity",
    "satisfy_pod_affinity",
    "satisfy_pod_anti_affinity",
]

ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = (
    "node(s) didn't satisfy existing pods anti-affinity rules"
)
ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"

# (topologyKey, value) -> number of matching pods (or terms); never holds a zero.
Counts = dict[tuple[str, str], int]
_NO_LABELS: Mapping[str, str] = {}


def node_labels(info: NodeInfo) -> Mapping[str, str]:
    node = info.node
    meta = node.metadata if node is not None else None
    return meta.labels if meta is not None else _NO_LABELS


def _update(counts: Counts, labels: Mapping[str, str], key: str, value: int) -> None:
    tv = labels.get(key)
    if tv is not None:
        pair = (key, tv)
        n = counts.get(pair, 0) + value
        if n:
            counts[pair] = n
        else:
            del counts[pair]


class PreFilterState:
    """What Filter reads; :meth:`clone` copies the counts (preemption changes them)."""

    __slots__ = (
        "affinity_counts",
        "affinity_terms",
        "anti_affinity_counts",
        "anti_affinity_terms",
        "existing_anti_affinity_counts",
        "matches_own_affinity",
        "namespace_labels",
        "pod",
    )

    def __init__(
        self,
        pod: Pod,
        affinity_terms: tuple[IncomingTerm, ...],
        anti_affinity_terms: tuple[IncomingTerm, ...],
        namespace_labels: Mapping[str, str],
        existing_anti_affinity_counts: Counts,
        affinity_counts: Counts,
        anti_affinity_counts: Counts,
    ) -> None:
        self.pod = pod
        self.affinity_terms = affinity_terms
        self.anti_affinity_terms = anti_affinity_terms
        self.namespace_labels = namespace_labels
        self.existing_anti_affinity_counts = existing_anti_affinity_counts
        self.affinity_counts = affinity_counts
        self.anti_affinity_counts = anti_affinity_counts
        # For the first pod of a group with affinity to itself (see satisfy_pod_affinity).
        self.matches_own_affinity = matches_all(affinity_terms, pod)

    def clone(self) -> PreFilterState:
        other = PreFilterState.__new__(PreFilterState)
        other.pod = self.pod
        other.affinity_terms = self.affinity_terms
        other.anti_affinity_terms = self.anti_affinity_terms
        other.namespace_labels = self.namespace_labels
        other.matches_own_affinity = self.matches_own_affinity
        other.existing_anti_affinity_counts = dict(self.existing_anti_affinity_counts)
        other.affinity_counts = dict(self.affinity_counts)
        other.anti_affinity_counts = dict(self.anti_affinity_counts)
        return other

    def update_with_pod(self, pod_info: PodInfo, node_info: NodeInfo, multiplier: int) -> None:
        """Count (``multiplier`` 1) or uncount (-1) a pod placed on ``node_info``."""
        labels = node_labels(node_info)
        other = pod_info.pod
        for t in pod_info.required_anti_affinity_terms:
            if t.matches(self.pod, self.namespace_labels):
                _update(self.existing_anti_affinity_counts, labels, t.topology_key, multiplier)
        if matches_all(self.affinity_terms, other):
            for it in self.affinity_terms:
                _update(self.affinity_counts, labels, it.topology_key, multiplier)
        for it in self.anti_affinity_terms:
            if it.matches(other):
                _update(self.anti_affinity_counts, labels, it.topology_key, multiplier)

    def __repr__(self) -> str:
        return (
            f"PreFilterState(existing_anti_affinity={self.existing_anti_affinity_counts}, "
            f"affinity={self.affinity_counts}, anti_affinity={self.anti_affinity_counts})"
        )


def _add(counts: Counts, labels: Mapping[str, str], key: str) -> None:
    tv = labels.get(key)
    if tv is not None:
        pair = (key, tv)
        counts[pair] = counts.get(pair, 0) + 1


def existing_anti_affinity_counts(
    pod: Pod, namespace_labels: Mapping[str, str], nodes: Sequence[NodeInfo]
) -> Counts:
    """``getExistingAntiAffinityCounts`` over the nodes hosting pods with required
    anti-affinity: the pairs where an existing pod's term matches the incoming pod."""
    counts: Counts = {}
    for info in nodes:
        labels = node_labels(info)
        for existing in info.pods_with_required_anti_affinity:
            terms: tuple[AffinityTerm, ...] = existing.required_anti_affinity_terms
            for t in terms:
                if t.matches(pod, namespace_labels):
                    _add(counts, labels, t.topology_key)
    return counts


def incoming_counts(
    affinity_terms: tuple[IncomingTerm, ...],
    anti_affinity_terms: tuple[IncomingTerm, ...],
    nodes: Sequence[NodeInfo],
) -> tuple[Counts, Counts]:
    """``getIncomingAffinityAntiAffinityCounts``: per pair, existing pods matching all of the
    incoming pod's affinity terms (once per term) and matching each anti-affinity term."""
    affinity: Counts = {}
    anti: Counts = {}
    if not affinity_terms and not anti_affinity_terms:
        return affinity, anti
    for info in nodes:
        if not info.pods:
            continue
        labels = node_labels(info)
        for existing in info.pods:
            other = existing.pod
            if affinity_terms and matches_all(affinity_terms, other):
                for it in affinity_terms:
                    _add(affinity, labels, it.topology_key)
            for it in anti_affinity_terms:
                if it.matches(other):
                    _add(anti, labels, it.topology_key)
    return affinity, anti


def satisfy_existing_pods_anti_affinity(state: PreFilterState, labels: Mapping[str, str]) -> bool:
    counts = state.existing_anti_affinity_counts
    if counts:
        for pair in labels.items():
            if counts.get(pair, 0) > 0:
                return False
    return True


def satisfy_pod_anti_affinity(state: PreFilterState, labels: Mapping[str, str]) -> bool:
    counts = state.anti_affinity_counts
    if counts:
        for t in state.anti_affinity_terms:
            tv = labels.get(t.topology_key)
            if tv is not None and counts.get((t.topology_key, tv), 0) > 0:
                return False
    return True


def satisfy_pod_affinity(state: PreFilterState, labels: Mapping[str, str]) -> bool:
    pods_exist = True
    counts = state.affinity_counts
    for t in state.affinity_terms:
        tv = labels.get(t.topology_key)
        if tv is None:
            # All topology labels must exist on the node.
            return False
        if counts.get((t.topology_key, tv), 0) <= 0:
            pods_exist = False
    if not pods_exist:
        # The pod may be the first of a group with affinity to itself: when no pod anywhere
        # matches its terms and it matches them itself, a node with all the topology keys fits.
        return not counts and state.matches_own_affinity
    return True
