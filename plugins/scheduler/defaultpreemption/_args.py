"""DefaultPreemptionArgs with upstream's v1 defaults, and upstream's ValidateDefaultPreemptionArgs.

Upstream apis/config types_pluginargs.go, v1/defaults.go (``SetDefaults_DefaultPreemptionArgs``:
10 percent, 100 nodes) and validation/validation_pluginargs.go, each message worded as
``field.ErrorList.ToAggregate().Error()`` prints it (one error alone, several in brackets).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kframe.scheduler import ConfigError

__all__ = ["DefaultPreemptionArgs", "aggregate", "validate_args"]


@attrs.frozen(kw_only=True)
class DefaultPreemptionArgs:
    """How many nodes preemption dry-runs before it stops looking: at least this percentage of
    the nodes worth trying, and at least this many (upstream caps both by the node count)."""

    min_candidate_nodes_percentage: int = attrs.field(
        default=10, metadata={"json": "minCandidateNodesPercentage"}
    )
    min_candidate_nodes_absolute: int = attrs.field(
        default=100, metadata={"json": "minCandidateNodesAbsolute"}
    )


def aggregate(messages: Sequence[str]) -> str:
    """``utilerrors.NewAggregate(errs).Error()``: duplicates dropped, several in brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _invalid(path: str, value: int, detail: str) -> str:
    return f"{path}: Invalid value: {value}: {detail}"


def validate_args(args: DefaultPreemptionArgs) -> None:
    """Raise :class:`ConfigError` with upstream's message when the args are out of range."""
    pct, absolute = args.min_candidate_nodes_percentage, args.min_candidate_nodes_absolute
    pct_path, abs_path = "minCandidateNodesPercentage", "minCandidateNodesAbsolute"
    errors = []
    if pct < 0 or pct > 100:
        errors.append(_invalid(pct_path, pct, "not in valid range [0, 100]"))
    if absolute < 0:
        errors.append(_invalid(abs_path, absolute, "not in valid range [0, inf)"))
    if pct == 0 and absolute == 0:
        both = "cannot be zero at the same time as"
        errors.append(_invalid(pct_path, pct, f"{both} {abs_path}"))
        errors.append(_invalid(abs_path, absolute, f"{both} {pct_path}"))
    if errors:
        raise ConfigError(aggregate(errors))
