"""Upstream's ValidateNodeResourcesFitArgs and ValidateNodeResourcesBalancedAllocationArgs.

From apis/config/validation/validation_pluginargs.go, with each message worded as
``field.ErrorList.ToAggregate().Error()`` prints it (one error alone, several in brackets,
duplicates dropped): ``scoringStrategy.resources[0].weight: Invalid value: 101: resource weight
of cpu not in valid range (0, 100]``. The factories raise them as :class:`ConfigError`.
"""

from __future__ import annotations

from kframe.api import go_quote, is_qualified_name
from kframe.scheduler import ConfigError

from ._args import (
    LEAST_ALLOCATED,
    MAX_CUSTOM_PRIORITY_SCORE,
    MOST_ALLOCATED,
    REQUESTED_TO_CAPACITY_RATIO,
    NodeResourcesBalancedAllocationArgs,
    NodeResourcesFitArgs,
    ResourceSpec,
    UtilizationShapePoint,
)

__all__ = ["validate_balanced_allocation_args", "validate_fit_args"]

# sets.List order: sorted.
_SUPPORTED_STRATEGIES = sorted((LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO))

_quote = go_quote  # Go's %q, as field errors print bad values


def _invalid(path: str, value: int | str, detail: str) -> str:
    shown = _quote(value) if isinstance(value, str) else str(value)
    return f"{path}: Invalid value: {shown}: {detail}"


def _raise(errors: list[str]) -> None:
    unique = list(dict.fromkeys(errors))
    if unique:
        raise ConfigError(unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]")


def _label_name(path: str, value: str) -> list[str]:
    """``metav1validation.ValidateLabelName``: one Invalid error per qualified-name message."""
    return [_invalid(path, value, msg) for msg in is_qualified_name(value)]


def _resources(path: str, resources: tuple[ResourceSpec, ...]) -> list[str]:
    return [
        _invalid(
            f"{path}[{i}].weight",
            r.weight,
            f"resource weight of {r.name} not in valid range (0, 100]",
        )
        for i, r in enumerate(resources)
        if r.weight <= 0 or r.weight > 100
    ]


def _shape(path: str, shape: tuple[UtilizationShapePoint, ...]) -> list[str]:
    if not shape:
        return [f"{path}: Required value: at least one point must be specified"]
    errors = []
    for i in range(1, len(shape)):
        if shape[i - 1].utilization >= shape[i].utilization:
            errors.append(
                _invalid(
                    f"{path}[{i}].utilization",
                    shape[i].utilization,
                    "values must be sorted in increasing order",
                )
            )
            break
    for i, point in enumerate(shape):
        if not 0 <= point.utilization <= 100:
            errors.append(
                _invalid(
                    f"{path}[{i}].utilization", point.utilization, "not in valid range [0, 100]"
                )
            )
        if not 0 <= point.score <= MAX_CUSTOM_PRIORITY_SCORE:
            errors.append(
                _invalid(
                    f"{path}[{i}].score",
                    point.score,
                    f"not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]",
                )
            )
    return errors


def validate_fit_args(args: NodeResourcesFitArgs) -> None:
    """Raise :class:`ConfigError` with upstream's messages for invalid NodeResourcesFitArgs."""
    errors: list[str] = []
    for i, res in enumerate(args.ignored_resources):
        errors += _label_name(f"ignoredResources[{i}]", res)
    for i, group in enumerate(args.ignored_resource_groups):
        path = f"ignoredResourceGroups[{i}]"
        if "/" in group:
            errors.append(_invalid(path, group, "resource group name can't contain '/'"))
        errors += _label_name(path, group)
    strategy = args.scoring_strategy
    if strategy is None:
        errors.append("scoringStrategy: Required value: ScoringStrategy field is required")
    else:
        if strategy.type not in _SUPPORTED_STRATEGIES:
            supported = ", ".join(_quote(s) for s in _SUPPORTED_STRATEGIES)
            errors.append(
                f"scoringStrategy.type: Unsupported value: {_quote(strategy.type)}: "
                f"supported values: {supported}"
            )
        errors += _resources("scoringStrategy.resources", strategy.resources)
        ratio = strategy.requested_to_capacity_ratio
        ratio_path = "scoringStrategy.requestedToCapacityRatio"
        if strategy.type == REQUESTED_TO_CAPACITY_RATIO:
            if ratio is None:
                errors.append(
                    f"{ratio_path}: Required value: "
                    "must be specified when type is RequestedToCapacityRatio"
                )
            else:
                errors += _shape(f"{ratio_path}.shape", ratio.shape)
        elif ratio is not None:
            errors.append(
                f"{ratio_path}: Forbidden: must be nil when type is not RequestedToCapacityRatio"
            )
    _raise(errors)


def validate_balanced_allocation_args(args: NodeResourcesBalancedAllocationArgs) -> None:
    """Raise :class:`ConfigError` for a repeated resource or a weight other than 1."""
    errors: list[str] = []
    seen: set[str] = set()
    for i, res in enumerate(args.resources):
        if res.name in seen:
            errors.append(f"resources[{i}].name: Duplicate value: {_quote(res.name)}")
        else:
            seen.add(res.name)
        if res.weight != 1:
            errors.append(_invalid(f"resources[{i}].weight", res.weight, "must be 1"))
    _raise(errors)
