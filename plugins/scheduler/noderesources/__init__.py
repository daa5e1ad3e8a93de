"""NodeResourcesFit and NodeResourcesBalancedAllocation: the resource plugins
(upstream pkg/scheduler/framework/plugins/noderesources, Kubernetes 1.33).

NodeResourcesFit filters out nodes without room for the pod's requests (cpu, memory, ephemeral
storage, extended and hugepages resources, and a pod slot; ``ignoredResources`` and
``ignoredResourceGroups`` exempt extended resources) and scores nodes with its
``scoringStrategy``: LeastAllocated (the default: spread), MostAllocated (bin-pack) or
RequestedToCapacityRatio (a piecewise-linear function of utilization). Scores use the non-zero
cpu and memory requests, so pods that request nothing still count.
NodeResourcesBalancedAllocation scores how evenly the node's resources would be used.
"""

from __future__ import annotations

from kframe.scheduler import Handle, PluginFactory

from ..names import NODE_RESOURCES_BALANCED_ALLOCATION, NODE_RESOURCES_FIT
from ._args import (
    DEFAULT_RESOURCES,
    LEAST_ALLOCATED,
    MAX_CUSTOM_PRIORITY_SCORE,
    MOST_ALLOCATED,
    REQUESTED_TO_CAPACITY_RATIO,
    NodeResourcesBalancedAllocationArgs,
    NodeResourcesFitArgs,
    RequestedToCapacityRatioParam,
    ResourceSpec,
    ScoringStrategy,
    UtilizationShapePoint,
    balanced_allocation_defaults,
    fit_defaults,
)
from ._balanced import BALANCED_ALLOCATION_PRE_SCORE_STATE_KEY, BalancedAllocation
from ._fit import PRE_FILTER_STATE_KEY, PRE_SCORE_STATE_KEY, Fit, PreFilterState
from ._validation import validate_balanced_allocation_args, validate_fit_args

__all__ = [
    # plugins
    "Fit",
    "BalancedAllocation",
    "FACTORIES",
    "PreFilterState",
    "PRE_FILTER_STATE_KEY",
    "PRE_SCORE_STATE_KEY",
    "BALANCED_ALLOCATION_PRE_SCORE_STATE_KEY",
    # args
    "NodeResourcesFitArgs",
    "NodeResourcesBalancedAllocationArgs",
    "ScoringStrategy",
    "ResourceSpec",
    "RequestedToCapacityRatioParam",
    "UtilizationShapePoint",
    "LEAST_ALLOCATED",
    "MOST_ALLOCATED",
    "REQUESTED_TO_CAPACITY_RATIO",
    "MAX_CUSTOM_PRIORITY_SCORE",
    "DEFAULT_RESOURCES",
    "fit_defaults",
    "balanced_allocation_defaults",
    "validate_fit_args",
    "validate_balanced_allocation_args",
]


def _new_fit(args: NodeResourcesFitArgs, handle: Handle) -> Fit:
    args = fit_defaults(args)
    validate_fit_args(args)
    return Fit(args)


def _new_balanced_allocation(
    args: NodeResourcesBalancedAllocationArgs, handle: Handle
) -> BalancedAllocation:
    args = balanced_allocation_defaults(args)
    validate_balanced_allocation_args(args)
    return BalancedAllocation(args)


FACTORIES = {
    NODE_RESOURCES_FIT: PluginFactory(new=_new_fit, args_type=NodeResourcesFitArgs),
    NODE_RESOURCES_BALANCED_ALLOCATION: PluginFactory(
        new=_new_balanced_allocation, args_type=NodeResourcesBalancedAllocationArgs
    ),
}
