"""The NodeResourcesFit plugin: whether the node has room for the pod's requests, and the
configured resource-allocation score.

Upstream fit.go (Kubernetes 1.33). PreFilter sums up the pod's requests once (containers, init
containers and sidecars, overhead: ``PodInfo.requests``) and decides which extended resources
Filter checks; Filter compares them with what the node has left. PreScore takes the pod's
requests of the scored resources (cpu and memory by their non-zero values); Score applies
LeastAllocated, MostAllocated or RequestedToCapacityRatio.
"""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api.models import Pod
from kframe.scheduler import (
    BatchFilterPlugin,
    BatchScorePlugin,
    Code,
    CycleState,
    NodeInfo,
    PerNodeMemo,
    PodInfo,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    Status,
)

from ..names import NODE_RESOURCES_FIT
from ._args import (
    LEAST_ALLOCATED,
    MOST_ALLOCATED,
    REQUESTED_TO_CAPACITY_RATIO,
    NodeResourcesFitArgs,
    ScoringStrategy,
)
from ._names import is_extended_resource_name, is_scalar_resource_name, pod_info
from ._scoring import (
    MEMO_MAX,
    ResourceAllocationScorer,
    Strategy,
    least_allocated,
    most_allocated,
    requested_to_capacity_ratio,
)

__all__ = ["PRE_FILTER_STATE_KEY", "PRE_SCORE_STATE_KEY", "Fit", "PreFilterState"]

PRE_FILTER_STATE_KEY = "PreFilter" + NODE_RESOURCES_FIT
PRE_SCORE_STATE_KEY = "PreScore" + NODE_RESOURCES_FIT

TOO_MANY_PODS = "Too many pods"

# How many pod requests filter_nodes remembers verdicts for: pods of a few shapes interleave
# (the Unschedulable workload's 9-CPU pods among small ones) without each clearing the others'.
_FIT_MEMOS = 4


class PreFilterState:
    """The pod's requests as Filter checks them: cpu, memory, ephemeral storage, and the
    nonzero scalar requests that are not ignored, each with its failure reason."""

    __slots__ = ("ephemeral_storage", "memory", "milli_cpu", "scalars")

    def __init__(
        self,
        milli_cpu: int,
        memory: int,
        ephemeral_storage: int,
        scalars: tuple[tuple[str, int, str], ...],
    ) -> None:
        self.milli_cpu = milli_cpu
        self.memory = memory
        self.ephemeral_storage = ephemeral_storage
        self.scalars = scalars

    @classmethod
    def of(
        cls, pod: PodInfo, ignored: frozenset[str], ignored_groups: frozenset[str]
    ) -> PreFilterState:
        r = pod.requests
        scalars = []
        # framework.Resource keeps only scalar resource names; a zero request is never short.
        for name, quantity in r.scalar.items():
            if not quantity or not is_scalar_resource_name(name):
                continue
            if is_extended_resource_name(name) and (
                name in ignored or name.split("/", 1)[0] in ignored_groups
            ):
                continue
            scalars.append((name, quantity, f"Insufficient {name}"))
        return cls(r.milli_cpu, r.memory, r.ephemeral_storage, tuple(scalars))

    def __repr__(self) -> str:
        return (
            f"PreFilterState(milli_cpu={self.milli_cpu}, memory={self.memory}, "
            f"ephemeral_storage={self.ephemeral_storage}, scalars={self.scalars})"
        )


def insufficient_resources(s: PreFilterState, node: NodeInfo) -> list[str]:
    """``fitsRequest``: the reasons the pod does not fit, in upstream's order (pods, cpu,
    memory, ephemeral storage, then scalar resources in the pod's order)."""
    alloc = node.allocatable
    reasons = []
    if len(node.pods) + 1 > alloc.allowed_pod_number:
        reasons.append(TOO_MANY_PODS)
    used = node.requested
    # Only what the pod requests is checked: an overcommitted resource it does not ask for
    # does not reject it.
    if s.milli_cpu > 0 and s.milli_cpu > alloc.milli_cpu - used.milli_cpu:
        reasons.append("Insufficient cpu")
    if s.memory > 0 and s.memory > alloc.memory - used.memory:
        reasons.append("Insufficient memory")
    if s.ephemeral_storage > 0 and s.ephemeral_storage > (
        alloc.ephemeral_storage - used.ephemeral_storage
    ):
        reasons.append("Insufficient ephemeral-storage")
    if s.scalars:
        have, taken = alloc.scalar, used.scalar
        for name, quantity, reason in s.scalars:
            if quantity > have.get(name, 0) - taken.get(name, 0):
                reasons.append(reason)
    return reasons


def _fits(s: PreFilterState, n: NodeInfo) -> bool:
    """:meth:`Fit.filter`'s test: no reason to reject."""
    alloc = n.allocatable
    used = n.requested
    cpu, memory, storage = s.milli_cpu, s.memory, s.ephemeral_storage
    return (
        len(n.pods) < alloc.allowed_pod_number
        and (cpu <= 0 or cpu <= alloc.milli_cpu - used.milli_cpu)
        and (memory <= 0 or memory <= alloc.memory - used.memory)
        and (storage <= 0 or storage <= alloc.ephemeral_storage - used.ephemeral_storage)
        and (not s.scalars or _scalars_fit(s.scalars, alloc.scalar, used.scalar))
    )


def _scalars_fit(
    scalars: tuple[tuple[str, int, str], ...], have: dict[str, int], taken: dict[str, int]
) -> bool:
    return all(quantity <= have.get(name, 0) - taken.get(name, 0) for name, quantity, _ in scalars)


def _strategy(strategy: ScoringStrategy) -> Strategy:
    if strategy.type == LEAST_ALLOCATED:
        return least_allocated
    if strategy.type == MOST_ALLOCATED:
        return most_allocated
    assert strategy.type == REQUESTED_TO_CAPACITY_RATIO  # validated before
    assert strategy.requested_to_capacity_ratio is not None
    return requested_to_capacity_ratio(strategy.requested_to_capacity_ratio.shape)


class Fit:
    """Filter: the node has the pod's requests free (and a pod slot); Score: the configured
    strategy over the configured resources. ``args`` must be defaulted and valid (the factory
    does both)."""

    name = NODE_RESOURCES_FIT

    def __init__(self, args: NodeResourcesFitArgs) -> None:
        strategy = args.scoring_strategy
        assert strategy is not None, "defaulted args always have a scoring strategy"
        self.args = args
        self._ignored = frozenset(args.ignored_resources)
        self._ignored_groups = frozenset(args.ignored_resource_groups)
        self._scorer = ResourceAllocationScorer(strategy.resources, use_requested=False)
        self._score = _strategy(strategy)
        # filter_nodes' verdicts per node, per pod requests (the last few).
        self._fits: PerNodeMemo[bool] = PerNodeMemo(keys=_FIT_MEMOS, generation_max=MEMO_MAX)

    # -- PreFilter / Filter -----------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> PreFilterResult | Status | None:
        s = PreFilterState.of(pod_info(state, pod), self._ignored, self._ignored_groups)
        state.write(PRE_FILTER_STATE_KEY, s)
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        try:
            s = state.read(PRE_FILTER_STATE_KEY)
        except KeyError:
            return Status(
                Code.ERROR, f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found'
            )
        if _fits(s, node_info):
            return None
        # Kubernetes 1.33 answers Unschedulable even when the request exceeds the node's whole
        # allocatable (UnschedulableAndUnresolvable for that came in 1.34).
        return Status(Code.UNSCHEDULABLE, *insufficient_resources(s, node_info))

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> list[Status | None] | None:
        """:meth:`filter` per node, with each node's verdict remembered.

        The verdict depends only on the pod's requests and the node's allocatable, pod count
        and requested totals, which change only with its ``generation``: for the next pod with
        the same requests (a ReplicaSet's pods ask alike) only the nodes that changed since are
        tested again. Verdicts are kept for the last few requests (``PerNodeMemo``).
        """
        try:
            s = state.read(PRE_FILTER_STATE_KEY)
        except KeyError:
            return [self.filter(state, pod, n) for n in nodes]
        key = (s.milli_cpu, s.memory, s.ephemeral_storage, s.scalars)
        fits = self._fits.get(key, nodes, lambda todo: [_fits(s, n) for n in todo])
        if fits.count(True) == len(fits):  # all fit (True is one object: a C-speed count)
            return None
        out: list[Status | None] = [None] * len(nodes)
        for i, fit in enumerate(fits):
            if not fit:
                out[i] = self.filter(state, pod, nodes[i])
        return out

    # -- PreScore / Score -------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        state.write(PRE_SCORE_STATE_KEY, self._scorer.pod_requests(pod_info(state, pod)))
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        try:
            requests = state.read(PRE_SCORE_STATE_KEY)
        except KeyError:  # PreScore was not run: compute it here, as upstream does
            requests = self._scorer.pod_requests(pod_info(state, pod))
        return self._score(self._scorer.pairs(node_info, requests))

    def score_nodes(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> list[int]:
        try:
            requests = state.read(PRE_SCORE_STATE_KEY)
        except KeyError:
            requests = self._scorer.pod_requests(pod_info(state, pod))
        return self._scorer.score_nodes(nodes, requests, self._score)


_pf: type[PreFilterPlugin] = Fit
_f: type[BatchFilterPlugin] = Fit
_ps: type[PreScorePlugin] = Fit
_s: type[BatchScorePlugin] = Fit
