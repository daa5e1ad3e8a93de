"""Node lists that know where their nodes sit in the cycle's snapshot, and per-node answers
kept across cycles by that position.

A plugin's answer for a node (does the pod fit, what does it score) usually depends only on
what the pod asks and on the node's state, and one bind changes one node. The scheduler's cache
notes which nodes of the snapshot's node list changed (:class:`NodeChanges`); the cycle hands
plugins :class:`NodeList` s that carry their nodes' positions in that list; and a
:class:`PerNodeMemo` keeps one answer per position for each of a few questions, forgetting only
the positions that changed. Reading 500 remembered answers is then a slice of a list rather
than 500 lookups through each node's object, which at 5,000 nodes miss the CPU's caches.

Nodes from anywhere else (a snapshot built for ``explain``, the clones preemption simulates
on) have no change log: the memo then keeps answers by each node's ``generation``, as before.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

from ._nodeinfo import NodeInfo

__all__ = ["NodeChanges", "NodeList", "PerNodeMemo"]

V = TypeVar("V")

# Past this many logged changes the cache starts a new log for the same nodes (the memos start
# over once, rather than the log growing without bound).
LOG_MAX = 1 << 16


class NodeChanges:
    """Positions in one snapshot node list of the nodes whose pods changed, in order.

    The cache writes it (:meth:`note`); a memo remembers how much of it it has read. It lives
    as long as its node list: when nodes come, go or change, the snapshot gets a new list and
    a new log, and every memo starts over.
    """

    __slots__ = ("_index", "log", "nodes")

    def __init__(self, nodes: Sequence[NodeInfo]) -> None:
        self.nodes = nodes
        self._index = {info.name: i for i, info in enumerate(nodes)}
        self.log: list[int] = []

    def note(self, name: str) -> None:
        at = self._index.get(name)
        if at is not None:
            self.log.append(at)

    def renewed(self) -> NodeChanges:
        """The same nodes with an empty log (which every memo takes as new)."""
        other = NodeChanges.__new__(NodeChanges)
        other.nodes, other._index, other.log = self.nodes, self._index, []
        return other


class NodeList(list[NodeInfo]):
    """A list of nodes that also says where each sits in its snapshot's node list.

    It is a plain ``list`` to any plugin; :class:`PerNodeMemo` reads ``positions`` and
    ``changes``. ``changes`` is None when nothing tracks the snapshot's nodes.
    """

    __slots__ = ("changes", "positions")

    changes: NodeChanges | None
    positions: Sequence[int]

    @classmethod
    def of(
        cls, nodes: Iterable[NodeInfo], changes: NodeChanges | None, positions: Sequence[int]
    ) -> NodeList:
        out = cls(nodes)
        out.changes = changes
        out.positions = positions
        return out

    def span(self, start: int, size: int) -> NodeList:
        """``size`` nodes from ``start``, going round to the front past the end."""
        end = start + size
        pos = self.positions
        if end <= len(self):
            return NodeList.of(self[start:end], self.changes, pos[start:end])
        rest = end - len(self)
        return NodeList.of([*self[start:], *self[:rest]], self.changes, [*pos[start:], *pos[:rest]])

    def take(self, indexes: Sequence[int]) -> NodeList:
        """The nodes at ``indexes`` (positions in this list), in that order."""
        pos = self.positions
        return NodeList.of([self[i] for i in indexes], self.changes, [pos[i] for i in indexes])


def positions_of(nodes: Sequence[NodeInfo]) -> tuple[NodeChanges, Sequence[int]] | None:
    """The change log and positions of ``nodes`` if they are a tracked :class:`NodeList`."""
    if type(nodes) is NodeList and nodes.changes is not None:
        return nodes.changes, nodes.positions
    return None


class _Entry:
    __slots__ = ("changes", "missing", "missing_peak", "seen", "values")

    def __init__(self, changes: NodeChanges) -> None:
        self.changes = changes
        self.seen = len(changes.log)
        size = len(changes.nodes)
        self.values: list[object] = [None] * size
        # The positions without an answer (None in values): looking for None among a few
        # hundred answers costs about 18 ns each (no answer is None, so every comparison
        # falls through to the slow path), and once the memo is warm only a few are missing.
        self.missing = set(range(size))
        # A set keeps its table when emptied, and walking it walks the table: made anew when
        # it has shrunk well below the most it held.
        self.missing_peak = size


class PerNodeMemo(Generic[V]):
    """A plugin's answers per node, for each of the last few questions (``key``).

    ``get(key, nodes, compute)`` is ``compute(nodes)``, where ``compute`` answers for a list of
    nodes (never None for a node) and each answer depends only on ``key`` and the node's state
    (its NodeInfo, which changes only with its ``generation``). Only the nodes not answered
    for ``key`` since they last changed are passed to ``compute``.
    """

    __slots__ = ("_by_generation", "_by_position", "_generation_max", "_keys")

    def __init__(self, keys: int = 8, generation_max: int = 1 << 13) -> None:
        self._keys = keys
        self._generation_max = generation_max
        self._by_position: dict[Hashable, _Entry] = {}
        self._by_generation: dict[Hashable, dict[int, V]] = {}

    def get(
        self,
        key: Hashable,
        nodes: Sequence[NodeInfo],
        compute: Callable[[list[NodeInfo]], Iterable[V]],
    ) -> list[V]:
        tracked = positions_of(nodes)
        if tracked is None:
            return self._by_generations(key, nodes, compute)
        changes, pos = tracked
        entries = self._by_position
        entry = entries.get(key)
        if entry is None or entry.changes is not changes:
            if entry is None and len(entries) >= self._keys:
                del entries[next(iter(entries))]
            entry = entries[key] = _Entry(changes)
        else:
            log = changes.log
            if len(log) != entry.seen:
                values = entry.values
                new = log[entry.seen :]
                for at in new:
                    values[at] = None
                entry.missing.update(new)
                entry.missing_peak = max(entry.missing_peak, len(entry.missing))
                entry.seen = len(log)
        values = entry.values
        missing = entry.missing
        got: list[object]
        todo: list[int]
        if type(pos) is range and pos.step == 1:
            start, stop = pos.start, pos.stop
            got = values[start:stop]
            if not missing:
                todo = []
            elif len(missing) <= len(got) >> 3:  # a few: found without looking at the answers
                todo = sorted([p - start for p in missing if start <= p < stop])
            else:
                todo = _indexes_of_none(got)
        else:
            if len(pos) > 1:
                got = list(operator.itemgetter(*pos)(values))
            else:
                got = [values[p] for p in pos]
            todo = _indexes_of_none(got) if missing else []
        if todo:
            answers = compute([nodes[i] for i in todo])
            discard = missing.discard
            for i, answer in zip(todo, answers, strict=True):
                p = pos[i]
                got[i] = values[p] = answer
                discard(p)
            if len(missing) << 3 < entry.missing_peak:
                entry.missing = set(missing)
                entry.missing_peak = len(missing)
        return got  # type: ignore[return-value]  # every None was answered

    def _by_generations(
        self,
        key: Hashable,
        nodes: Sequence[NodeInfo],
        compute: Callable[[list[NodeInfo]], Iterable[V]],
    ) -> list[V]:
        tables = self._by_generation
        table = tables.get(key)
        if table is None or len(table) > self._generation_max:
            if table is None and len(tables) >= self._keys:
                del tables[next(iter(tables))]
            table = tables[key] = {}
        get = table.get
        got: list[V | None] = [get(n.generation) for n in nodes]
        missing = _indexes_of_none(got)
        if missing:
            todo = [nodes[i] for i in missing]
            for i, info, answer in zip(missing, todo, compute(todo), strict=True):
                got[i] = table[info.generation] = answer
        return got  # type: ignore[return-value]  # every None was answered

    def clear(self) -> None:
        self._by_position.clear()
        self._by_generation.clear()


def _indexes_of_none(values: Sequence[object]) -> list[int]:
    """Where ``values`` holds None, found at C speed (usually a few places)."""
    out = []
    find = values.index
    i = -1
    with contextlib.suppress(ValueError):
        while True:
            i = find(None, i + 1)
            out.append(i)
    return out
