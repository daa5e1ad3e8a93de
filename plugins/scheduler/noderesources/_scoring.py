"""The resource-allocation scorer and the scoring functions over it.

Upstream resource_allocation.go (which requests and allocatables a score looks at),
least_allocated.go, most_allocated.go, requested_to_capacity_ratio.go (with
helper.BuildBrokenLinearFunction) and the scorer of balanced_allocation.go.

A :class:`ResourceAllocationScorer` turns the configured resources into the pod's requests once
per cycle (PreScore) and, per node, into ``(allocatable, requested, weight)`` triples for the
resources that count on that node: cpu, memory and ephemeral storage when the node has some,
a scalar resource only when the pod requests it and the node has it. The scoring functions take
those triples and do upstream's integer arithmetic (all operands are non-negative, so Python's
floor division is Go's truncation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from kframe.scheduler import MAX_NODE_SCORE, NodeInfo, PerNodeMemo, PodInfo

from ._args import MAX_CUSTOM_PRIORITY_SCORE, ResourceSpec, UtilizationShapePoint
from ._names import is_scalar_resource_name

__all__ = [
    "MEMO_MAX",
    "Pairs",
    "ResourceAllocationScorer",
    "Strategy",
    "balanced_allocation",
    "broken_linear",
    "least_allocated",
    "most_allocated",
    "requested_to_capacity_ratio",
]

Pairs = list[tuple[int, int, int]]  # (allocatable, requested incl. the pod, weight)
Strategy = Callable[[Pairs], int]

_CPU, _MEMORY, _EPHEMERAL, _SCALAR, _UNTRACKED = range(5)

# Remembered node scores and verdicts (by NodeInfo generation) are dropped past this many: a
# few times the nodes a cycle looks at, so the table each cycle probes stays in the CPU's cache
# (at 65,536 the lookups were a scoring pass's larger part).
MEMO_MAX = 1 << 13


def _kind(name: str) -> int:
    if name == "cpu":
        return _CPU
    if name == "memory":
        return _MEMORY
    if name == "ephemeral-storage":
        return _EPHEMERAL
    # Anything else the node's Resource only holds if it is a scalar resource name; others
    # (pods, storage, made-up names) never count.
    return _SCALAR if is_scalar_resource_name(name) else _UNTRACKED


class ResourceAllocationScorer:
    """``resourceAllocationScorer``. ``use_requested`` False (NodeResourcesFit) scores cpu and
    memory by the non-zero requests (100m / 200Mi for containers that request none), True
    (BalancedAllocation) by the requests as written."""

    __slots__ = ("_cpu_memory", "_entries", "_memo", "use_requested")

    def __init__(self, resources: Sequence[ResourceSpec], *, use_requested: bool) -> None:
        self._entries = tuple((_kind(r.name), r.name, r.weight) for r in resources)
        self.use_requested = use_requested
        # The weights when the resources are exactly cpu then memory (the default), for the
        # scoring functions' per-node loops written out over those two.
        kinds = tuple(kind for kind, _, _ in self._entries)
        weights = tuple(weight for _, _, weight in self._entries)
        self._cpu_memory = weights if kinds == (_CPU, _MEMORY) and sum(weights) > 0 else None
        self._memo: PerNodeMemo[int] = PerNodeMemo(keys=4, generation_max=MEMO_MAX)

    def pod_requests(self, pod: PodInfo) -> tuple[int, ...]:
        """``calculatePodResourceRequestList``: the pod's request of each configured resource."""
        requests = pod.requests
        out = []
        for kind, name, _ in self._entries:
            if kind == _CPU:
                out.append(requests.milli_cpu if self.use_requested else pod.non_zero_cpu)
            elif kind == _MEMORY:
                out.append(requests.memory if self.use_requested else pod.non_zero_memory)
            else:
                out.append(requests.get(name))
        return tuple(out)

    def pairs(self, node: NodeInfo, pod_requests: tuple[int, ...]) -> Pairs:
        """``calculateResourceAllocatableRequest`` per resource, leaving out the ones whose
        allocatable is 0 (every scorer skips those)."""
        alloc = node.allocatable
        requested = node.requested
        used = requested if self.use_requested else node.non_zero_requested
        out: Pairs = []
        for (kind, name, weight), pod in zip(self._entries, pod_requests, strict=True):
            if kind == _CPU:
                a, r = alloc.milli_cpu, used.milli_cpu + pod
            elif kind == _MEMORY:
                a, r = alloc.memory, used.memory + pod
            elif kind == _EPHEMERAL:
                a, r = alloc.ephemeral_storage, requested.ephemeral_storage + pod
            elif kind == _SCALAR and pod:  # a scalar resource the pod does not request is skipped
                a, r = alloc.scalar.get(name, 0), requested.scalar.get(name, 0) + pod
            else:
                continue
            if a:
                out.append((a, r, weight))
        return out

    def score_nodes(
        self, nodes: Sequence[NodeInfo], pod_requests: tuple[int, ...], strategy: Strategy
    ) -> list[int]:
        """``[strategy(self.pairs(n, pod_requests)) for n in nodes]``.

        A node's score depends only on its allocatable and requested totals, which change only
        with its ``generation``: scores are remembered per node for the last few pod requests
        (the next cycle's pod usually asks the same, and only the nodes that changed since are
        scored again).
        """
        return self._memo.get(
            (strategy, pod_requests),
            nodes,
            lambda todo: self._score_nodes(todo, pod_requests, strategy),
        )

    def _score_nodes(
        self, nodes: Sequence[NodeInfo], pod_requests: tuple[int, ...], strategy: Strategy
    ) -> list[int]:
        """The scores computed, with the arithmetic of :func:`least_allocated` and
        :func:`balanced_allocation` over cpu and memory written out per node (the same
        expressions, so the same results) when those are the resources."""
        pairs = self.pairs
        weights = self._cpu_memory
        if weights is not None and strategy is least_allocated:
            return _least_allocated_cpu_memory(self, nodes, pod_requests, weights)
        if weights is not None and strategy is balanced_allocation:
            return _balanced_cpu_memory(self, nodes, pod_requests)
        return [strategy(pairs(n, pod_requests)) for n in nodes]


def _least_allocated_cpu_memory(
    scorer: ResourceAllocationScorer,
    nodes: Sequence[NodeInfo],
    pod_requests: tuple[int, ...],
    weights: tuple[int, ...],
) -> list[int]:
    pc, pm = pod_requests
    wc, wm = weights
    weight_sum = wc + wm
    use_requested = scorer.use_requested
    out: list[int] = []
    append = out.append
    for n in nodes:
        alloc = n.allocatable
        ac = alloc.milli_cpu
        am = alloc.memory
        if ac and am:
            used = n.requested if use_requested else n.non_zero_requested
            r = used.milli_cpu + pc
            score = (0 if r > ac else (ac - r) * MAX_NODE_SCORE // ac) * wc
            r = used.memory + pm
            score += (0 if r > am else (am - r) * MAX_NODE_SCORE // am) * wm
            append(score // weight_sum)
        else:  # a resource left out of the mean
            append(least_allocated(scorer.pairs(n, pod_requests)))
    return out


def _balanced_cpu_memory(
    scorer: ResourceAllocationScorer, nodes: Sequence[NodeInfo], pod_requests: tuple[int, ...]
) -> list[int]:
    pc, pm = pod_requests
    use_requested = scorer.use_requested
    max_score = float(MAX_NODE_SCORE)
    out: list[int] = []
    append = out.append
    for n in nodes:
        alloc = n.allocatable
        ac = alloc.milli_cpu
        am = alloc.memory
        if ac and am:
            used = n.requested if use_requested else n.non_zero_requested
            f0 = float(used.milli_cpu + pc) / float(ac)
            if f0 > 1:
                f0 = 1.0
            f1 = float(used.memory + pm) / float(am)
            if f1 > 1:
                f1 = 1.0
            append(int((1 - abs((f0 - f1) / 2)) * max_score))
        else:  # one resource or none: no deviation
            append(balanced_allocation(scorer.pairs(n, pod_requests)))
    return out


def least_allocated(pairs: Pairs) -> int:
    """Weighted mean of ``(allocatable - requested) * 100 / allocatable`` (0 when over)."""
    node_score = weight_sum = 0
    for a, r, w in pairs:
        node_score += (0 if r > a else (a - r) * MAX_NODE_SCORE // a) * w
        weight_sum += w
    return node_score // weight_sum if weight_sum else 0


def most_allocated(pairs: Pairs) -> int:
    """Weighted mean of ``requested * 100 / allocatable``, requested capped at allocatable
    (pods without requests count their non-zero defaults, which can exceed a small node)."""
    node_score = weight_sum = 0
    for a, r, w in pairs:
        node_score += (min(r, a) * MAX_NODE_SCORE // a) * w
        weight_sum += w
    return node_score // weight_sum if weight_sum else 0


def broken_linear(shape: Sequence[tuple[int, int]]) -> Callable[[int], int]:
    """``helper.BuildBrokenLinearFunction`` over ``(utilization, score)`` points: the first
    score below the first point, the last above the last, linear in between (Go's integer
    division, which truncates toward zero on a falling segment)."""

    def f(p: int) -> int:
        for i, (u, s) in enumerate(shape):
            if p <= u:
                if i == 0:
                    return s
                pu, ps = shape[i - 1]
                num = (s - ps) * (p - pu)
                du = u - pu
                return ps + (num // du if num >= 0 else -(-num // du))
        return shape[-1][1]

    return f


def requested_to_capacity_ratio(shape: Sequence[UtilizationShapePoint]) -> Strategy:
    """The shape's scores scaled from 0-10 to 0-100, applied to each resource's utilization
    percentage; resources scoring 0 are left out of the weighted mean, which is rounded half
    away from zero (Go's ``math.Round``)."""
    scale = MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE
    raw = broken_linear([(p.utilization, p.score * scale) for p in shape])
    # The utilization is always a whole percentage in [0, 100]: precompute the function.
    table = [raw(p) for p in range(101)]

    def score(pairs: Pairs) -> int:
        node_score = weight_sum = 0
        for a, r, w in pairs:
            s = table[100] if r > a else table[r * 100 // a]
            if s > 0:
                node_score += s * w
                weight_sum += w
        if not weight_sum:
            return 0
        return (2 * node_score + weight_sum) // (2 * weight_sum)

    return score


def balanced_allocation(pairs: Pairs) -> int:
    """``(1 - std) * 100`` truncated, std the standard deviation of the requested fractions
    (each capped at 1); for two resources ``|f1 - f2| / 2``, for one or none 0."""
    fractions = []
    total = 0.0
    for a, r, _ in pairs:
        fraction = float(r) / float(a)
        if fraction > 1:
            fraction = 1.0
        total += fraction
        fractions.append(fraction)
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = total / len(fractions)
        acc = 0.0
        for fraction in fractions:
            acc = acc + (fraction - mean) * (fraction - mean)
        std = math.sqrt(acc / len(fractions))
    return int((1 - std) * float(MAX_NODE_SCORE))
