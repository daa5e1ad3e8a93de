"""InterPodAffinityArgs: the plugin's configuration, with upstream's v1 defaults and validation
(upstream apis/config InterPodAffinityArgs, ValidateInterPodAffinityArgs)."""

from __future__ import annotations

import attrs

from kframe.scheduler import ConfigError

__all__ = ["InterPodAffinityArgs", "validate_args"]

MIN_HARD_POD_AFFINITY_WEIGHT, MAX_HARD_POD_AFFINITY_WEIGHT = 0, 100


@attrs.frozen(kw_only=True)
class InterPodAffinityArgs:
    """``hardPodAffinityWeight`` scores the incoming pod's match of an existing pod's required
    affinity term; ``ignorePreferredTermsOfExistingPods`` skips the existing pods' preferences
    when the incoming pod has none of its own."""

    hard_pod_affinity_weight: int = attrs.field(
        default=1, metadata={"json": "hardPodAffinityWeight"}
    )
    ignore_preferred_terms_of_existing_pods: bool = attrs.field(
        default=False, metadata={"json": "ignorePreferredTermsOfExistingPods"}
    )


def validate_args(args: InterPodAffinityArgs) -> None:
    """Raise :class:`ConfigError` with upstream's message for an out-of-range weight."""
    w = args.hard_pod_affinity_weight
    if w < MIN_HARD_POD_AFFINITY_WEIGHT or w > MAX_HARD_POD_AFFINITY_WEIGHT:
        raise ConfigError(
            f"hardPodAffinityWeight: Invalid value: {w}: not in valid range "
            f"[{MIN_HARD_POD_AFFINITY_WEIGHT}, {MAX_HARD_POD_AFFINITY_WEIGHT}]"
        )
