"""The InterPodAffinity plugin: its extension points, wired to the filtering and scoring modules.

Upstream plugin.go with the PreFilter/Filter entry points of filtering.go and the
PreScore/Score/NormalizeScore ones of scoring.go. The framework builds one per profile.
"""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api.models import Pod
from kframe.scheduler import (
    BatchFilterPlugin,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    NodeScore,
    PodInfo,
    PreFilterExtensions,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScoreExtensions,
    ScorePlugin,
    Status,
)

from ..names import INTER_POD_AFFINITY
from ._args import InterPodAffinityArgs
from ._filtering import (
    ERR_REASON_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
    NodeMemo,
    PreFilterState,
    existing_anti_affinity_counts,
    incoming_counts,
    node_labels,
    satisfy_existing_pods_anti_affinity,
    satisfy_pod_affinity,
    satisfy_pod_anti_affinity,
)
from ._scoring import PreScoreState, normalize, score_node, topology_scores
from ._terms import Namespaces, TermsError, parse_pod_terms

__all__ = ["PRE_FILTER_STATE_KEY", "PRE_SCORE_STATE_KEY", "InterPodAffinity"]

PRE_FILTER_STATE_KEY = "PreFilter" + INTER_POD_AFFINITY
PRE_SCORE_STATE_KEY = "PreScore" + INTER_POD_AFFINITY


def _namespace(pod: Pod) -> str:
    return (pod.metadata.namespace if pod.metadata else None) or "default"


class InterPodAffinity:
    """Required pod affinity and anti-affinity in Filter (both directions for anti-affinity),
    preferred terms in Score (both directions, plus existing pods' required affinity)."""

    name = INTER_POD_AFFINITY

    def __init__(self, args: InterPodAffinityArgs, handle: Handle) -> None:
        self.args = args
        self._handle = handle
        self._memo = NodeMemo()

    # -- PreFilter / Filter -----------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> PreFilterResult | Status | None:
        snapshot = self._handle.snapshot()
        with_anti_affinity = snapshot.have_pods_with_required_anti_affinity()
        namespaces = Namespaces(self._handle)
        try:
            terms = parse_pod_terms(pod, namespaces)
        except TermsError as err:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"parsing pod: {err}")
        affinity, anti = terms.required_affinity, terms.required_anti_affinity
        if not with_anti_affinity and not affinity and not anti:
            return Status(Code.SKIP)  # nothing can count: the same Skip as below, sooner
        ns_labels = namespaces.labels_of(_namespace(pod))
        everything = snapshot.list()
        existing = existing_anti_affinity_counts(
            pod, ns_labels, with_anti_affinity, self._memo, all_nodes=everything
        )
        # Counted over the snapshot's every node, kept from cycle to cycle, when ``nodes`` is
        # that list (the scheduler's cycle); over ``nodes`` as given otherwise.
        affinity_counts, anti_counts = incoming_counts(
            affinity, anti, nodes, self._memo, running=nodes is everything
        )
        if not existing and not affinity and not anti:
            return Status(Code.SKIP)
        state.write(
            PRE_FILTER_STATE_KEY,
            PreFilterState(pod, affinity, anti, ns_labels, existing, affinity_counts, anti_counts),
        )
        return None

    def _pre_filter_state(self, state: CycleState) -> PreFilterState | Status:
        try:
            s = state.read(PRE_FILTER_STATE_KEY)
        except KeyError:
            return Status(
                Code.ERROR, f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found'
            )
        if not isinstance(s, PreFilterState):
            return Status(Code.ERROR, f"{s!r}  convert to interpodaffinity.state error")
        return s

    def add_pod(
        self, state: CycleState, pod: Pod, pod_to_add: PodInfo, node_info: NodeInfo
    ) -> Status | None:
        s = self._pre_filter_state(state)
        if isinstance(s, Status):
            return s
        s.update_with_pod(pod_to_add, node_info, 1)
        return None

    def remove_pod(
        self, state: CycleState, pod: Pod, pod_to_remove: PodInfo, node_info: NodeInfo
    ) -> Status | None:
        s = self._pre_filter_state(state)
        if isinstance(s, Status):
            return s
        s.update_with_pod(pod_to_remove, node_info, -1)
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        s = self._pre_filter_state(state)
        if isinstance(s, Status):
            return s
        labels = node_labels(node_info)
        if not satisfy_pod_affinity(s, labels):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_AFFINITY_RULES_NOT_MATCH)
        if not satisfy_pod_anti_affinity(s, labels):
            return Status(Code.UNSCHEDULABLE, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH)
        if not satisfy_existing_pods_anti_affinity(s, labels):
            return Status(Code.UNSCHEDULABLE, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)
        return None

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> list[Status | None] | None:
        """:meth:`filter` for each node: the state read once, statuses made only for the
        nodes that fail."""
        s = self._pre_filter_state(state)
        if isinstance(s, Status):
            return [self.filter(state, pod, n) for n in nodes]
        out: list[Status | None] | None = None
        for i, n in enumerate(nodes):
            labels = node_labels(n)
            if (
                satisfy_pod_affinity(s, labels)
                and satisfy_pod_anti_affinity(s, labels)
                and satisfy_existing_pods_anti_affinity(s, labels)
            ):
                continue
            if out is None:
                out = [None] * len(nodes)
            out[i] = self.filter(state, pod, n)
        return out

    # -- PreScore / Score / NormalizeScore --------------------------------------------------

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        spec = pod.spec
        affinity = spec.affinity if spec is not None else None
        pa = affinity.pod_affinity if affinity is not None else None
        paa = affinity.pod_anti_affinity if affinity is not None else None
        has_constraints = bool(
            (pa is not None and pa.preferred_during_scheduling_ignored_during_execution)
            or (paa is not None and paa.preferred_during_scheduling_ignored_during_execution)
        )
        if self.args.ignore_preferred_terms_of_existing_pods and not has_constraints:
            return Status(Code.SKIP)
        # Upstream walks the snapshot's nodes (not only the feasible ones): every node when the
        # pod has preferences of its own, else only the nodes hosting pods with affinity.
        snapshot = self._handle.snapshot()
        candidates = snapshot.list() if has_constraints else snapshot.have_pods_with_affinity()
        namespaces = Namespaces(self._handle)
        try:
            terms = parse_pod_terms(pod, namespaces)
        except TermsError as err:
            return Status(Code.ERROR, f"failed to parse pod: {err}")
        ns_labels = namespaces.labels_of(_namespace(pod)) if candidates else {}
        scores = topology_scores(
            pod,
            terms,
            ns_labels,
            self.args.hard_pod_affinity_weight,
            candidates,
            has_constraints,
            self._memo,
        )
        if not scores:
            return Status(Code.SKIP)
        state.write(PRE_SCORE_STATE_KEY, PreScoreState(scores))
        return None

    def _pre_score_state(self, state: CycleState) -> PreScoreState:
        try:
            s = state.read(PRE_SCORE_STATE_KEY)
        except KeyError:
            raise LookupError(
                f'failed to read "{PRE_SCORE_STATE_KEY}" from cycleState: not found'
            ) from None
        if not isinstance(s, PreScoreState):
            raise TypeError(f"{s!r}  convert to interpodaffinity.preScoreState error")
        return s

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        return score_node(self._pre_score_state(state), node_labels(node_info))

    def normalize_score(
        self, state: CycleState, pod: Pod, scores: list[NodeScore]
    ) -> Status | None:
        try:
            s = self._pre_score_state(state)
        except (LookupError, TypeError) as err:
            return Status(Code.ERROR, str(err))
        if s.topology_score:
            normalize(scores)
        return None


_pre_filter: type[PreFilterPlugin] = InterPodAffinity
_extensions: type[PreFilterExtensions] = InterPodAffinity
_filter: type[BatchFilterPlugin] = InterPodAffinity
_pre_score: type[PreScorePlugin] = InterPodAffinity
_score: type[ScorePlugin] = InterPodAffinity
_normalize: type[ScoreExtensions] = InterPodAffinity
