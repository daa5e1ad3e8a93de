"""What the all-node passes of PreFilter and PreScore take from each node, remembered.

Both passes visit every node of the cluster each cycle (upstream calPreFilterState and
initPreScoreState's counting): the node's topology values and its count of matching pods. Those
depend only on the node (labels, pods) and on the pod's constraints and namespace, so they are
kept by NodeInfo ``generation`` for the constraints at hand, and a later pod with the same
constraints (a workload's replicas) reads them rather than counting again. Only when the pod's
own node affinity or tolerations decide which nodes count (nodeAffinityPolicy with a non-trivial
affinity, nodeTaintsPolicy Honor) is nothing remembered.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Hashable, Sequence

from kframe.scheduler import NodeInfo

from ._common import Constraint

__all__ = ["NodeMemo", "constraints_key"]

# Per key, the entries are dropped past this many (stale generations pile up); few keys kept.
_MAX_ENTRIES = 1 << 14  # a few times a large cluster's nodes: the table stays in cache
_MAX_KEYS = 8

#: Per node: () when the node does not count at all, else (value, count) per constraint.
Entry = tuple[tuple[str, int], ...]


def constraints_key(kind: str, namespace: str, constraints: Sequence[Constraint]) -> Hashable:
    """What a node's entry depends on besides the node, or None if it cannot be hashed."""
    key = (
        kind,
        namespace,
        tuple((c.topology_key, c.selector, c.counts_pods) for c in constraints),
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


_GENERATION = operator.attrgetter("generation")


class _Totals:
    """The last pass for one key: its nodes, their generations and entries, the sums."""

    __slots__ = ("entries", "generations", "nodes", "sums")

    def __init__(
        self,
        nodes: list[NodeInfo],
        generations: list[int],
        entries: list[Entry],
        sums: list[dict[str, int]],
    ) -> None:
        self.nodes = nodes
        self.generations = generations
        self.entries = entries
        self.sums = sums


class NodeMemo:
    """Entries by NodeInfo generation, and the last sums, per constraints key."""

    def __init__(self) -> None:
        self._tables: dict[Hashable, dict[int, Entry]] = {}
        self._totals: dict[Hashable, _Totals] = {}
        self._counts: dict[Hashable, dict[int, int]] = {}

    def _table(self, key: Hashable) -> dict[int, Entry]:
        tables = self._tables
        table = tables.get(key)
        if table is None or len(table) > _MAX_ENTRIES:
            if table is None and len(tables) >= _MAX_KEYS:
                del tables[next(iter(tables))]
                self._totals = {k: v for k, v in self._totals.items() if k in tables}
            table = tables[key] = {}
        return table

    def counts(self, key: Hashable) -> dict[int, int]:
        """A count per NodeInfo generation for ``key`` (the caller fills it), bounded as the
        entry tables are."""
        counts = self._counts.get(key)
        if counts is None or len(counts) > _MAX_ENTRIES:
            if counts is None and len(self._counts) >= _MAX_KEYS:
                del self._counts[next(iter(self._counts))]
            counts = self._counts[key] = {}
        return counts

    def sums(
        self,
        key: Hashable,
        nodes: Sequence[NodeInfo],
        width: int,
        entry_of: Callable[[NodeInfo], Entry],
    ) -> list[dict[str, int]]:
        """Per constraint, the counts of ``nodes``' entries summed by topology value, the
        values in the order the nodes first have them (as a pass over the nodes makes them).

        The caller must not change them. When the nodes are those of the last pass for this
        key, only the nodes whose generation moved are looked at again, and their counts
        change the sums in place while their values stay; otherwise the sums are made anew.
        """
        table = self._table(key)
        get = table.get
        generations = list(map(_GENERATION, nodes))
        last = self._totals.get(key)
        if last is not None and len(last.nodes) == len(nodes) and last.nodes == nodes:
            moved = list(map(operator.ne, generations, last.generations))
            find = moved.index
            entries = last.entries
            moved_at: list[int] = []
            i = -1
            with contextlib.suppress(ValueError):  # index() past the last moved node
                while True:
                    i = find(True, i + 1)
                    moved_at.append(i)
            complete = True
            for i in moved_at:
                info = nodes[i]
                new = get(info.generation)
                if new is None:
                    new = table[info.generation] = entry_of(info)
                old = entries[i]
                if len(new) != len(old) or any(n[0] != o[0] for n, o in zip(new, old, strict=True)):
                    complete = False  # a value changed: the first occurrences may move
                    break
                if new:  # () both times counts nothing
                    for tp, (value, num), (_, was) in zip(last.sums, new, old, strict=True):
                        if num != was:
                            tp[value] += num - was
                entries[i] = new
            if complete:
                last.generations = generations
                return last.sums
        entries = []
        sums: list[dict[str, int]] = [{} for _ in range(width)]
        for info in nodes:
            entry = get(info.generation)
            if entry is None:
                entry = table[info.generation] = entry_of(info)
            entries.append(entry)
            for tp, (value, num) in zip(sums, entry, strict=False):  # () counts nothing
                tp[value] = tp.get(value, 0) + num
        self._totals[key] = _Totals(list(nodes), generations, entries, sums)
        return sums
