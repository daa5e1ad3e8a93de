"""The NodeResourcesBalancedAllocation plugin: favour nodes whose requested fractions of the
configured resources stay close to each other.

Upstream balanced_allocation.go (Kubernetes 1.33). It scores the requests as written, not the
non-zero defaults, and since 1.33 a pod that requests none of the resources (best effort) is
skipped in PreScore, so it does not pile up on one node (kubernetes#129138).
"""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api.models import Pod
from kframe.scheduler import BatchScorePlugin, Code, CycleState, NodeInfo, PreScorePlugin, Status

from ..names import NODE_RESOURCES_BALANCED_ALLOCATION
from ._args import NodeResourcesBalancedAllocationArgs
from ._names import pod_info
from ._scoring import ResourceAllocationScorer, balanced_allocation

__all__ = ["BALANCED_ALLOCATION_PRE_SCORE_STATE_KEY", "BalancedAllocation"]

BALANCED_ALLOCATION_PRE_SCORE_STATE_KEY = "PreScore" + NODE_RESOURCES_BALANCED_ALLOCATION


class BalancedAllocation:
    """Score = ``(1 - std) * 100`` over the requested fractions on the node, the pod included.
    ``args`` must be defaulted and valid (the factory does both)."""

    name = NODE_RESOURCES_BALANCED_ALLOCATION

    def __init__(self, args: NodeResourcesBalancedAllocationArgs) -> None:
        self.args = args
        self._scorer = ResourceAllocationScorer(args.resources, use_requested=True)

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        requests = self._scorer.pod_requests(pod_info(state, pod))
        if not any(requests):
            return Status(Code.SKIP)
        state.write(BALANCED_ALLOCATION_PRE_SCORE_STATE_KEY, requests)
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        try:
            requests = state.read(BALANCED_ALLOCATION_PRE_SCORE_STATE_KEY)
        except KeyError:  # PreScore was not run: compute it here, as upstream does
            requests = self._scorer.pod_requests(pod_info(state, pod))
            if not any(requests):
                return 0
        return balanced_allocation(self._scorer.pairs(node_info, requests))

    def score_nodes(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> list[int]:
        try:
            requests = state.read(BALANCED_ALLOCATION_PRE_SCORE_STATE_KEY)
        except KeyError:
            requests = self._scorer.pod_requests(pod_info(state, pod))
            if not any(requests):
                return [0] * len(nodes)
        return self._scorer.score_nodes(nodes, requests, balanced_allocation)


_ps: type[PreScorePlugin] = BalancedAllocation
_s: type[BatchScorePlugin] = BalancedAllocation
