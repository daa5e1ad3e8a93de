"""NodeAffinity: a pod's nodeSelector and node affinity, plus the scheduler-enforced
``addedAffinity`` of the profile (upstream pkg/scheduler/framework/plugins/nodeaffinity).

PreFilter parses the pod's nodeSelector and required terms once (Skip when there is nothing to
check) and, when every required term names nodes with ``metadata.name In``, narrows the cycle to
those nodes. Filter rejects nodes that fail the added affinity or the pod's requirements
(UnschedulableAndUnresolvable). PreScore parses the preferred terms; Score sums the weights of
the matching terms (the added ones too); NormalizeScore scales the sums onto [0, 100].
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kframe.api import (
    NodeSelectorMatcher,
    PreferredSchedulingTermsMatcher,
    compile_node_selector,
    compile_preferred_scheduling_terms,
)
from kframe.api.models import NodeAffinity as NodeAffinityModel
from kframe.api.models import Pod
from kframe.scheduler import (
    MAX_NODE_SCORE,
    BatchFilterPlugin,
    BatchScoreExtensions,
    Code,
    ConfigError,
    CycleState,
    Handle,
    NodeInfo,
    NodeScore,
    PerNodeMemo,
    PluginFactory,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
    Status,
    default_normalize_score,
    default_normalize_scores,
)

from ..names import NODE_AFFINITY
from ._gofmt import aggregate
from ._required import RequiredNodeAffinity, node_labels, preferred_terms, required_terms

__all__ = [
    "ERR_REASON_CONFLICT",
    "ERR_REASON_ENFORCED",
    "ERR_REASON_POD",
    "FACTORIES",
    "PRE_FILTER_STATE_KEY",
    "PRE_SCORE_STATE_KEY",
    "NodeAffinity",
    "NodeAffinityArgs",
]

PRE_FILTER_STATE_KEY = "PreFilter" + NODE_AFFINITY
PRE_SCORE_STATE_KEY = "PreScore" + NODE_AFFINITY
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
ERR_REASON_CONFLICT = "pod affinity terms conflict"

_ADDED = "addedAffinity"

# filter_nodes' verdicts are kept for this many pod requirements (and, for nodes from outside
# the cycle's snapshot, up to MEMO_MAX generations each).
_MEMOS = 4
MEMO_MAX = 1 << 13


@attrs.frozen(kw_only=True)
class NodeAffinityArgs:
    """``NodeAffinityArgs`` (kubescheduler.config.k8s.io/v1): node affinity the scheduler adds
    to every pod of the profile."""

    added_affinity: NodeAffinityModel | None = attrs.field(
        default=None, metadata={"json": "addedAffinity"}
    )


class NodeAffinity:
    name = NODE_AFFINITY

    def __init__(self, args: NodeAffinityArgs | None = None) -> None:
        # filter_nodes' verdicts per node, per pod requirements (the last few).
        self._fits: PerNodeMemo[bool] = PerNodeMemo(keys=_MEMOS, generation_max=MEMO_MAX)
        self._added_selector: NodeSelectorMatcher | None = None
        self._added_preferred: PreferredSchedulingTermsMatcher | None = None
        added = args.added_affinity if args is not None else None
        if added is None:
            return
        # ValidateNodeAffinityArgs: every parse error of both halves, with their field paths.
        errors: list[str] = []
        required = added.required_during_scheduling_ignored_during_execution
        if required is not None:
            self._added_selector = compile_node_selector(
                required, f"{_ADDED}.requiredDuringSchedulingIgnoredDuringExecution"
            )
            errors.extend(self._added_selector.errors)
        preferred = added.preferred_during_scheduling_ignored_during_execution
        if preferred:
            self._added_preferred, errs = compile_preferred_scheduling_terms(
                preferred, f"{_ADDED}.preferredDuringSchedulingIgnoredDuringExecution"
            )
            errors.extend(errs)
        if errors:
            raise ConfigError(aggregate(errors))

    # -- filtering ----------------------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> PreFilterResult | Status | None:
        required = required_terms(pod)
        spec = pod.spec
        if required is None and self._added_selector is None and not (spec and spec.node_selector):
            return Status(Code.SKIP)
        state.write(PRE_FILTER_STATE_KEY, RequiredNodeAffinity(pod))
        if required is None or not required.node_selector_terms:
            return None
        # Affinity to specific nodes: each term's metadata.name In requirements are ANDed
        # (intersected), the terms ORed (united); a term without one allows every node.
        names: set[str] | None = None
        for term in required.node_selector_terms:
            term_names: set[str] | None = None
            for r in term.match_fields:
                if r.key == "metadata.name" and r.operator == "In":
                    values = set(r.values)
                    term_names = values if term_names is None else term_names & values
            if term_names is None:
                return None
            names = term_names if names is None else names | term_names
        if names is not None and not names:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_CONFLICT)
        if names:
            return PreFilterResult(frozenset(names))
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        labels = node_labels(node_info.node)
        name = node_info.name
        added = self._added_selector
        if added is not None and not added.matches(labels, name):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_ENFORCED)
        try:
            required: RequiredNodeAffinity = state.read(PRE_FILTER_STATE_KEY)
        except KeyError:
            # PreFilter is disabled: parse here, once for the cycle.
            required = RequiredNodeAffinity(pod)
            state.write(PRE_FILTER_STATE_KEY, required)
        if not required.matches(labels, name):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_POD)
        return None

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> list[Status | None] | None:
        """:meth:`filter` per node, with each node's verdict remembered.

        The verdict depends only on the node's labels and name (which change only with its
        ``generation``) and the pod's nodeSelector and required terms: for the next pod that
        asks the same (a ReplicaSet's pods do), only the nodes that changed since are matched
        again.
        """
        spec = pod.spec
        selector = spec.node_selector if spec is not None else None
        key = (tuple(sorted(selector.items())) if selector else (), required_terms(pod))
        fits = self._fits.get(
            key, nodes, lambda todo: [self.filter(state, pod, n) is None for n in todo]
        )
        if fits.count(True) == len(fits):  # all fit (True is one object: a C-speed count)
            return None
        out: list[Status | None] = [None] * len(nodes)
        for i, fit in enumerate(fits):
            if not fit:
                out[i] = self.filter(state, pod, nodes[i])
        return out

    # -- scoring ------------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        terms = preferred_terms(pod)
        preferred: PreferredSchedulingTermsMatcher | None = None
        if terms:
            preferred, errors = compile_preferred_scheduling_terms(terms)
            if errors:
                return Status(Code.ERROR, aggregate(errors))
        if preferred is None and self._added_preferred is None:
            return Status(Code.SKIP)
        state.write(PRE_SCORE_STATE_KEY, preferred)
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        try:
            preferred: PreferredSchedulingTermsMatcher | None = state.read(PRE_SCORE_STATE_KEY)
        except KeyError:
            # PreScore is disabled: parse here, once for the cycle.
            preferred, errors = compile_preferred_scheduling_terms(preferred_terms(pod))
            if errors:
                raise ValueError(aggregate(errors)) from None
            state.write(PRE_SCORE_STATE_KEY, preferred)
        labels = node_labels(node_info.node)
        count = 0
        if self._added_preferred is not None:
            count += self._added_preferred.score(labels, node_info.name)
        if preferred is not None:
            count += preferred.score(labels, node_info.name)
        return count

    def normalize_score(
        self, state: CycleState, pod: Pod, scores: list[NodeScore]
    ) -> Status | None:
        return default_normalize_score(MAX_NODE_SCORE, False, scores)

    def normalize_scores(self, state: CycleState, pod: Pod, scores: list[int]) -> Status | None:
        return default_normalize_scores(MAX_NODE_SCORE, False, scores)


def _new(args: NodeAffinityArgs, handle: Handle) -> NodeAffinity:
    return NodeAffinity(args)


_pre_filter: type[PreFilterPlugin] = NodeAffinity
_filter: type[BatchFilterPlugin] = NodeAffinity
_pre_score: type[PreScorePlugin] = NodeAffinity
_score: type[ScorePlugin] = NodeAffinity
_normalizer: type[BatchScoreExtensions] = NodeAffinity

FACTORIES = {NODE_AFFINITY: PluginFactory(new=_new, args_type=NodeAffinityArgs)}
