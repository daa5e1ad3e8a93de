"""NodeResourcesFitArgs and NodeResourcesBalancedAllocationArgs, with upstream's v1 defaults.

Upstream apis/config types_pluginargs.go (the v1 JSON names) and v1/defaults.go
(``SetDefaults_NodeResourcesFitArgs``, ``SetDefaults_NodeResourcesBalancedAllocationArgs``).
The attrs defaults are the defaults of an absent ``args:`` block; :func:`fit_defaults` and
:func:`balanced_allocation_defaults` apply the rest of upstream's defaulting (an empty resource
list, a zero weight) to decoded args, and the plugins' factories call them before validating.
"""

from __future__ import annotations

import attrs

__all__ = [
    "DEFAULT_RESOURCES",
    "LEAST_ALLOCATED",
    "MAX_CUSTOM_PRIORITY_SCORE",
    "MOST_ALLOCATED",
    "REQUESTED_TO_CAPACITY_RATIO",
    "NodeResourcesBalancedAllocationArgs",
    "NodeResourcesFitArgs",
    "RequestedToCapacityRatioParam",
    "ResourceSpec",
    "ScoringStrategy",
    "UtilizationShapePoint",
    "balanced_allocation_defaults",
    "fit_defaults",
]

# ScoringStrategyType values.
LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"
REQUESTED_TO_CAPACITY_RATIO = "RequestedToCapacityRatio"

# Shape scores run from 0 to this; the scorer scales them to MAX_NODE_SCORE (config package).
MAX_CUSTOM_PRIORITY_SCORE = 10


@attrs.frozen(kw_only=True)
class ResourceSpec:
    """A resource to score by and its weight (0 means "unset" and is defaulted to 1)."""

    name: str = attrs.field(default="", metadata={"json": "name"})
    weight: int = attrs.field(default=0, metadata={"json": "weight"})


@attrs.frozen(kw_only=True)
class UtilizationShapePoint:
    """A point of the RequestedToCapacityRatio function: utilization 0-100, score 0-10."""

    utilization: int = attrs.field(default=0, metadata={"json": "utilization"})
    score: int = attrs.field(default=0, metadata={"json": "score"})


@attrs.frozen(kw_only=True)
class RequestedToCapacityRatioParam:
    shape: tuple[UtilizationShapePoint, ...] = attrs.field(default=(), metadata={"json": "shape"})


@attrs.frozen(kw_only=True)
class ScoringStrategy:
    """How NodeResourcesFit scores: the strategy type, the resources and their weights, and the
    shape for RequestedToCapacityRatio (which must be absent for the other types)."""

    type: str = attrs.field(default="", metadata={"json": "type"})
    resources: tuple[ResourceSpec, ...] = attrs.field(default=(), metadata={"json": "resources"})
    requested_to_capacity_ratio: RequestedToCapacityRatioParam | None = attrs.field(
        default=None, metadata={"json": "requestedToCapacityRatio"}
    )


DEFAULT_RESOURCES = (ResourceSpec(name="cpu", weight=1), ResourceSpec(name="memory", weight=1))


@attrs.frozen(kw_only=True)
class NodeResourcesFitArgs:
    """``ignoredResources`` / ``ignoredResourceGroups`` (extended resources Filter does not
    check, by full name or by the part before the ``/``) and the scoring strategy."""

    ignored_resources: tuple[str, ...] = attrs.field(
        default=(), metadata={"json": "ignoredResources"}
    )
    ignored_resource_groups: tuple[str, ...] = attrs.field(
        default=(), metadata={"json": "ignoredResourceGroups"}
    )
    scoring_strategy: ScoringStrategy | None = attrs.field(
        default=ScoringStrategy(type=LEAST_ALLOCATED, resources=DEFAULT_RESOURCES),
        metadata={"json": "scoringStrategy"},
    )


@attrs.frozen(kw_only=True)
class NodeResourcesBalancedAllocationArgs:
    """The resources whose requested fractions are balanced (every weight must be 1)."""

    resources: tuple[ResourceSpec, ...] = attrs.field(
        default=DEFAULT_RESOURCES, metadata={"json": "resources"}
    )


def _weights_defaulted(resources: tuple[ResourceSpec, ...]) -> tuple[ResourceSpec, ...]:
    return tuple(attrs.evolve(r, weight=1) if r.weight == 0 else r for r in resources)


def fit_defaults(args: NodeResourcesFitArgs) -> NodeResourcesFitArgs:
    """``SetDefaults_NodeResourcesFitArgs``: LeastAllocated over cpu and memory when there is no
    strategy, cpu and memory when it lists no resources, weight 1 where it is 0."""
    strategy = args.scoring_strategy
    if strategy is None:
        strategy = ScoringStrategy(type=LEAST_ALLOCATED, resources=DEFAULT_RESOURCES)
    resources = strategy.resources or DEFAULT_RESOURCES
    strategy = attrs.evolve(strategy, resources=_weights_defaulted(resources))
    return attrs.evolve(args, scoring_strategy=strategy)


def balanced_allocation_defaults(
    args: NodeResourcesBalancedAllocationArgs,
) -> NodeResourcesBalancedAllocationArgs:
    """``SetDefaults_NodeResourcesBalancedAllocationArgs``: cpu and memory when no resources are
    listed, weight 1 where it is 0."""
    resources = args.resources or DEFAULT_RESOURCES
    return attrs.evolve(args, resources=_weights_defaulted(resources))
