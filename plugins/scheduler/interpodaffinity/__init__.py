"""InterPodAffinity: pod affinity and anti-affinity between the incoming pod and existing pods
(upstream pkg/scheduler/framework/plugins/interpodaffinity).

Filter enforces the required terms: the incoming pod's affinity (a matching pod in the node's
topology domain) and anti-affinity (none there), and the existing pods' anti-affinity against
it. Score adds the preferred terms in both directions, and the existing pods' required affinity
terms weighted by ``hardPodAffinityWeight``. Namespace selectors are resolved against the
Namespace objects the handle lists, once per cycle.
"""

from __future__ import annotations

from kframe.scheduler import Handle, PluginFactory

from ..names import INTER_POD_AFFINITY
from ._args import InterPodAffinityArgs, validate_args
from ._filtering import (
    ERR_REASON_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
    PreFilterState,
)
from ._plugin import PRE_FILTER_STATE_KEY, PRE_SCORE_STATE_KEY, InterPodAffinity
from ._scoring import PreScoreState

__all__ = [
    "ERR_REASON_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH",
    "FACTORIES",
    "PRE_FILTER_STATE_KEY",
    "PRE_SCORE_STATE_KEY",
    "InterPodAffinity",
    "InterPodAffinityArgs",
    "PreFilterState",
    "PreScoreState",
]


def _new(args: InterPodAffinityArgs, handle: Handle) -> InterPodAffinity:
    validate_args(args)
    return InterPodAffinity(args, handle)


FACTORIES = {
    INTER_POD_AFFINITY: PluginFactory(new=_new, args_type=InterPodAffinityArgs),
}
