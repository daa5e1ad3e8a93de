"""PreFilter and Filter of InterPodAffinity: topology pairs counted once, checked per node.

Upstream filtering.go. PreFilter counts, per ``(topologyKey, value)`` pair: existing pods whose
required anti-affinity terms match the incoming pod, and existing pods matching the incoming
pod's required affinity and anti-affinity terms. Filter then reads only the node's labels.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from kframe.api.models import Pod
from kframe.scheduler import AffinityTerm, NodeInfo, PodInfo

from ._terms import IncomingTerm, matches_all

__all__ = [
    "NodeMemo",
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
# A node's part of some counts: its nonzero (pair, count) items.
Entry = tuple[tuple[tuple[str, str], int], ...]
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
    pod: Pod,
    namespace_labels: Mapping[str, str],
    nodes: Sequence[NodeInfo],
    memo: NodeMemo | None = None,
    all_nodes: Sequence[NodeInfo] | None = None,
) -> Counts:
    """``getExistingAntiAffinityCounts`` over the nodes hosting pods with required
    anti-affinity: the pairs where an existing pod's term matches the incoming pod.

    With ``memo`` and ``all_nodes`` (every node of the snapshot, of which ``nodes`` are those
    with such pods), the counts are kept from the last call over the same list, only nodes
    whose generation changed looked at again (see :meth:`NodeMemo.running`)."""
    counts: Counts = {}
    table = None
    if memo is not None:
        meta = pod.metadata
        key = (
            "existing",
            (meta.namespace if meta else None) or "default",
            tuple(sorted((meta.labels if meta else {}).items())),
            tuple(sorted(namespace_labels.items())),
        )
        table = memo.table(key)
        get = table.get

        def entry_of(info: NodeInfo) -> tuple[Entry, ...]:
            if not info.pods_with_required_anti_affinity:
                return _NOTHING
            entry = get(info.generation)
            if entry is None:
                entry = table[info.generation] = _existing_entry(pod, namespace_labels, info)
            return (entry,)

        if all_nodes is not None:
            return memo.running(key, all_nodes, entry_of, 1)[0]
    for info in nodes:
        if table is not None:
            entry = table.get(info.generation)
            if entry is None:
                entry = table[info.generation] = _existing_entry(pod, namespace_labels, info)
            for pair, num in entry:
                counts[pair] = counts.get(pair, 0) + num
            continue
        labels = node_labels(info)
        for existing in info.pods_with_required_anti_affinity:
            terms: tuple[AffinityTerm, ...] = existing.required_anti_affinity_terms
            for t in terms:
                if t.matches(pod, namespace_labels):
                    _add(counts, labels, t.topology_key)
    return counts


def _existing_entry(pod: Pod, namespace_labels: Mapping[str, str], info: NodeInfo) -> Entry:
    counts: Counts = {}
    labels = node_labels(info)
    for existing in info.pods_with_required_anti_affinity:
        for t in existing.required_anti_affinity_terms:
            if t.matches(pod, namespace_labels):
                _add(counts, labels, t.topology_key)
    return tuple(counts.items())


def incoming_key(
    affinity_terms: tuple[IncomingTerm, ...], anti_affinity_terms: tuple[IncomingTerm, ...]
) -> Hashable:
    """What a node's part of :func:`incoming_counts` depends on besides the node (None if it
    cannot be hashed)."""
    key = (
        "incoming",
        *(
            tuple((t.selector, t.topology_key, t.all_namespaces, t.namespaces) for t in terms)
            for terms in (affinity_terms, anti_affinity_terms)
        ),
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


def incoming_counts(
    affinity_terms: tuple[IncomingTerm, ...],
    anti_affinity_terms: tuple[IncomingTerm, ...],
    nodes: Sequence[NodeInfo],
    memo: NodeMemo | None = None,
    *,
    running: bool = False,
) -> tuple[Counts, Counts]:
    """``getIncomingAffinityAntiAffinityCounts``: per pair, existing pods matching all of the
    incoming pod's affinity terms (once per term) and matching each anti-affinity term.

    With ``memo``, each node's part is remembered by its generation for these terms; with
    ``running`` too (``nodes`` being the snapshot's list), the counts are kept from the last
    call over the same list (see :meth:`NodeMemo.running`)."""
    affinity: Counts = {}
    anti: Counts = {}
    if not affinity_terms and not anti_affinity_terms:
        return affinity, anti
    key = incoming_key(affinity_terms, anti_affinity_terms) if memo is not None else None
    if memo is not None and key is not None:
        table = memo.table(key)
        get = table.get

        def entry_of(info: NodeInfo) -> tuple[Entry, ...]:
            if not info.pods:
                return _NOTHING2
            entry = get(info.generation)
            if entry is None:
                a, b = _incoming_one(affinity_terms, anti_affinity_terms, info, {}, {})
                entry = table[info.generation] = (tuple(a.items()), tuple(b.items()))
            return entry

        if running:
            totals = memo.running(key, nodes, entry_of, 2)
            return totals[0], totals[1]
        for info in nodes:
            if not info.pods:
                continue
            entry = get(info.generation)
            if entry is None:
                a, b = _incoming_one(affinity_terms, anti_affinity_terms, info, {}, {})
                entry = table[info.generation] = (tuple(a.items()), tuple(b.items()))
            for pair, num in entry[0]:
                affinity[pair] = affinity.get(pair, 0) + num
            for pair, num in entry[1]:
                anti[pair] = anti.get(pair, 0) + num
        return affinity, anti
    for info in nodes:
        if info.pods:
            _incoming_one(affinity_terms, anti_affinity_terms, info, affinity, anti)
    return affinity, anti


def _incoming_one(
    affinity_terms: tuple[IncomingTerm, ...],
    anti_affinity_terms: tuple[IncomingTerm, ...],
    info: NodeInfo,
    affinity: Counts,
    anti: Counts,
) -> tuple[Counts, Counts]:
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


class NodeMemo:
    """Per key (what the incoming pod brings), nodes' parts of the counts by NodeInfo
    generation: a node's pods and labels change only with its generation, so for the next pod
    with the same terms (a workload's replicas) only changed nodes are matched again."""

    _MAX_ENTRIES = 1 << 14  # a few times a large cluster's nodes: the table stays in cache
    _MAX_KEYS = 8

    def __init__(self) -> None:
        self._tables: dict[Hashable, dict[int, Any]] = {}
        self._running: dict[Hashable, _Running] = {}

    def running(
        self,
        key: Hashable,
        nodes: Sequence[NodeInfo],
        entry_of: Callable[[NodeInfo], tuple[Entry, ...]],
        width: int,
    ) -> list[Counts]:
        """The sums over ``nodes`` of each node's ``width`` entries (``entry_of``), as fresh
        dicts. Called again with the same list object (a snapshot's node list lives until
        nodes change), the sums of the last call are brought up to date from the nodes whose
        generation changed since, found by comparing the generations in blocks at C speed,
        rather than summed again over every node."""
        gens = list(map(_GENERATION, nodes))
        r = self._running.get(key)
        if r is None or r.nodes is not nodes or len(r.gens) != len(gens):
            entries = [entry_of(info) for info in nodes]
            totals: list[Counts] = [{} for _ in range(width)]
            for entry in entries:
                for counts, items in zip(totals, entry, strict=True):
                    for pair, num in items:
                        counts[pair] = counts.get(pair, 0) + num
            if r is None and len(self._running) >= self._MAX_KEYS:
                del self._running[next(iter(self._running))]
            self._running[key] = _Running(nodes, gens, entries, totals)
            return [dict(c) for c in totals]
        old_gens, entries = r.gens, r.entries
        for i in _changed(old_gens, gens):
            before, after = entries[i], entry_of(nodes[i])
            if before == after:
                continue
            for counts, old_items, new_items in zip(r.totals, before, after, strict=True):
                for pair, num in old_items:
                    left = counts[pair] - num
                    if left:
                        counts[pair] = left
                    else:
                        del counts[pair]
                for pair, num in new_items:
                    counts[pair] = counts.get(pair, 0) + num
            entries[i] = after
        r.gens = gens
        return [dict(c) for c in r.totals]

    def table(self, key: Hashable) -> dict[int, Any]:
        tables = self._tables
        table = tables.get(key)
        if table is None or len(table) > self._MAX_ENTRIES:
            if table is None and len(tables) >= self._MAX_KEYS:
                del tables[next(iter(tables))]
            table = tables[key] = {}
        return table


_GENERATION = operator.attrgetter("generation")
_NOTHING: tuple[Entry, ...] = ((),)
_NOTHING2: tuple[Entry, ...] = ((), ())
_BLOCK = 64


class _Running:
    """Sums kept over one node list: its generations and entries when last summed."""

    __slots__ = ("entries", "gens", "nodes", "totals")

    def __init__(
        self,
        nodes: Sequence[NodeInfo],
        gens: list[int],
        entries: list[tuple[Entry, ...]],
        totals: list[Counts],
    ) -> None:
        self.nodes = nodes  # held, so the identity check is never fooled by a reused id
        self.gens = gens
        self.entries = entries
        self.totals = totals


def _changed(old: list[int], new: list[int]) -> list[int]:
    """Where two equally long lists of generations differ: blocks compared at C speed, and
    only a differing block looked into."""
    out: list[int] = []
    for start in range(0, len(new), _BLOCK):
        end = start + _BLOCK
        if old[start:end] != new[start:end]:
            out.extend(i for i in range(start, min(end, len(new))) if old[i] != new[i])
    return out


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
