"""PodTopologySpreadArgs: the plugin's configuration, its v1 defaults and upstream's validation
(upstream apis/config PodTopologySpreadArgs, SetDefaults_PodTopologySpreadArgs,
ValidatePodTopologySpreadArgs)."""

from __future__ import annotations

from typing import Final

import attrs

from kframe.api import go_quote, is_qualified_name
from kframe.api.models import TopologySpreadConstraint
from kframe.scheduler import ConfigError

__all__ = [
    "LIST_DEFAULTING",
    "SYSTEM_DEFAULTING",
    "SYSTEM_DEFAULT_CONSTRAINTS",
    "PodTopologySpreadArgs",
    "validate_args",
]

SYSTEM_DEFAULTING, LIST_DEFAULTING = "System", "List"
DO_NOT_SCHEDULE: Final = "DoNotSchedule"
SCHEDULE_ANYWAY: Final = "ScheduleAnyway"

# What defaultingType System means (upstream systemDefaultConstraints), in upstream's order: the
# order fixes the order scores are summed in.
SYSTEM_DEFAULT_CONSTRAINTS: tuple[TopologySpreadConstraint, ...] = (
    TopologySpreadConstraint(
        topology_key="kubernetes.io/hostname", when_unsatisfiable=SCHEDULE_ANYWAY, max_skew=3
    ),
    TopologySpreadConstraint(
        topology_key="topology.kubernetes.io/zone", when_unsatisfiable=SCHEDULE_ANYWAY, max_skew=5
    ),
)


@attrs.frozen(kw_only=True)
class PodTopologySpreadArgs:
    """``defaultConstraints`` apply to pods that have no ``topologySpreadConstraints`` of their
    own, with a selector built from the Services, ReplicaSets and StatefulSets that select the pod;
    ``defaultingType: System`` uses the built-in constraints instead (and then
    ``defaultConstraints`` must be empty), ``List`` uses ``defaultConstraints``."""

    default_constraints: tuple[TopologySpreadConstraint, ...] = attrs.field(
        default=(), metadata={"json": "defaultConstraints"}
    )
    defaulting_type: str = attrs.field(
        default=SYSTEM_DEFAULTING, metadata={"json": "defaultingType"}
    )


_quote = go_quote  # Go's %q, as field errors print bad values


def _constraint_errors(path: str, c: TopologySpreadConstraint) -> list[str]:
    errs: list[str] = []
    max_skew = c.max_skew or 0
    if max_skew <= 0:
        errs.append(f"{path}.maxSkew: Invalid value: {max_skew}: not in valid range (0, inf)")
    key = c.topology_key or ""
    if not key:
        errs.append(f"{path}.topologyKey: Required value: can not be empty")
    else:
        errs.extend(
            f"{path}.topologyKey: Invalid value: {_quote(key)}: {msg}"
            for msg in is_qualified_name(key)
        )
    action = c.when_unsatisfiable or ""
    if not action:
        errs.append(f"{path}.whenUnsatisfiable: Required value: can not be empty")
    elif action not in (DO_NOT_SCHEDULE, SCHEDULE_ANYWAY):
        errs.append(
            f"{path}.whenUnsatisfiable: Unsupported value: {_quote(action)}: "
            f'supported values: "{DO_NOT_SCHEDULE}", "{SCHEDULE_ANYWAY}"'
        )
    if c.label_selector is not None:
        errs.append(
            f"{path}.labelSelector: Forbidden: constraint must not define a selector, "
            "as they deduced for each pod"
        )
    return errs


def validate_args(args: PodTopologySpreadArgs) -> None:
    """Raise :class:`ConfigError` with upstream's aggregated message (field paths relative to the
    args, as the plugin's New validates them)."""
    errs: list[str] = []
    kind = args.defaulting_type
    if kind not in (SYSTEM_DEFAULTING, LIST_DEFAULTING):
        errs.append(
            f"defaultingType: Unsupported value: {_quote(kind)}: "
            f'supported values: "{SYSTEM_DEFAULTING}", "{LIST_DEFAULTING}"'
        )
    elif kind == SYSTEM_DEFAULTING and args.default_constraints:
        errs.append(
            f"defaultingType: Invalid value: {_quote(kind)}: when .defaultConstraints are not empty"
        )
    for i, c in enumerate(args.default_constraints):
        path = f"defaultConstraints[{i}]"
        errs.extend(_constraint_errors(path, c))
        for other in args.default_constraints[:i]:
            if (other.topology_key, other.when_unsatisfiable) == (
                c.topology_key,
                c.when_unsatisfiable,
            ):
                shown = _quote(f"{{{c.topology_key or ''}, {c.when_unsatisfiable or ''}}}")
                errs.append(f"{path}: Duplicate value: {shown}")
                break
    if errs:
        unique = list(dict.fromkeys(errs))
        raise ConfigError(unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]")
