"""TaintToleration: keeps pods off nodes whose NoSchedule/NoExecute taints they do not tolerate,
and prefers nodes with fewer untolerated PreferNoSchedule taints
(upstream pkg/scheduler/framework/plugins/tainttoleration).

Filter rejects a node with an untolerated NoSchedule or NoExecute taint as
UnschedulableAndUnresolvable. PreScore keeps the pod's tolerations that can match a
PreferNoSchedule taint; Score counts the node's PreferNoSchedule taints none of them tolerates;
NormalizeScore reverses that count onto [0, 100], so the node with the fewest scores highest.
"""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api import (
    CompiledToleration,
    compile_tolerations,
    compiled_toleration_tolerates,
    find_untolerated_taint,
)

# The plugin's name for it since before it moved to kframe.api.
from kframe.api import toleration_tolerates_taint as tolerates_taint
from kframe.api.models import Pod, Taint
from kframe.scheduler import (
    MAX_NODE_SCORE,
    BatchFilterPlugin,
    BatchScoreExtensions,
    BatchScorePlugin,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    NodeScore,
    PerNodeMemo,
    PluginFactory,
    PreScorePlugin,
    Status,
    default_normalize_score,
    default_normalize_scores,
)

from ..names import TAINT_TOLERATION

__all__ = [
    "FACTORIES",
    "PRE_SCORE_STATE_KEY",
    "TaintToleration",
    "tolerates_taint",
]

PRE_SCORE_STATE_KEY = "PreScore" + TAINT_TOLERATION
_PREFER_NO_SCHEDULE = "PreferNoSchedule"
_PREFER = frozenset({_PREFER_NO_SCHEDULE})


class TaintToleration:
    name = TAINT_TOLERATION

    def __init__(self) -> None:
        # The last pod Filter saw and its compiled tolerations: Filter runs once per node for the
        # same pod object, and upstream has no PreFilter to compute them in.
        self._pod: Pod | None = None
        self._tolerations: tuple[CompiledToleration, ...] = ()
        # Per node, for the tolerations at hand: whether its taints are tolerated (Filter),
        # and how many PreferNoSchedule taints are not (Score).
        self._passes: PerNodeMemo[bool] = PerNodeMemo()
        self._counts: PerNodeMemo[int] = PerNodeMemo()

    def _filter_tolerations(self, pod: Pod) -> tuple[CompiledToleration, ...]:
        if pod is not self._pod:
            spec = pod.spec
            self._tolerations = compile_tolerations(spec.tolerations if spec else ())
            self._pod = pod
        return self._tolerations

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        node = node_info.node
        spec = node.spec if node is not None else None
        if spec is None or not spec.taints:
            return None
        taint = find_untolerated_taint(spec.taints, self._filter_tolerations(pod))
        if taint is None:
            return None
        return Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
            f"node(s) had untolerated taint {{{taint.key or ''}: {taint.value or ''}}}",
        )

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> list[Status | None] | None:
        # Whether each node's taints are tolerated, remembered per node for these
        # tolerations (most clusters' nodes have none, and a workload's pods tolerate alike).
        tolerations = self._filter_tolerations(pod)
        passes = self._passes.get(
            tolerations,
            nodes,
            lambda todo: [self.filter(state, pod, n) is None for n in todo],
        )
        if passes.count(True) == len(passes):  # True is one object: a C-speed count
            return None
        out: list[Status | None] = [None] * len(nodes)
        for i, ok in enumerate(passes):
            if not ok:
                out[i] = self.filter(state, pod, nodes[i])
        return out

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        # Only tolerations with an empty or PreferNoSchedule effect can tolerate the taints
        # Score counts (getAllTolerationPreferNoSchedule).
        spec = pod.spec
        tolerations = spec.tolerations if spec else ()
        state.write(PRE_SCORE_STATE_KEY, compile_tolerations(tolerations, effects=_PREFER))
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        tolerations = _read_pre_score(state)
        node = node_info.node
        spec = node.spec if node is not None else None
        if spec is None or not spec.taints:
            return 0
        return _count_intolerable(spec.taints, tolerations)

    def score_nodes(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> list[int]:
        tolerations = _read_pre_score(state)
        return self._counts.get(
            tolerations,
            nodes,
            lambda todo: [
                _count_intolerable(t, tolerations) if (t := n.taints) else 0 for n in todo
            ],
        )

    def normalize_score(
        self, state: CycleState, pod: Pod, scores: list[NodeScore]
    ) -> Status | None:
        return default_normalize_score(MAX_NODE_SCORE, True, scores)

    def normalize_scores(self, state: CycleState, pod: Pod, scores: list[int]) -> Status | None:
        return default_normalize_scores(MAX_NODE_SCORE, True, scores)


def _read_pre_score(state: CycleState) -> tuple[CompiledToleration, ...]:
    try:
        tolerations: tuple[CompiledToleration, ...] = state.read(PRE_SCORE_STATE_KEY)
    except KeyError:
        raise LookupError(
            f'failed to read "{PRE_SCORE_STATE_KEY}" from cycleState: not found'
        ) from None
    return tolerations


def _count_intolerable(taints: Sequence[Taint], tolerations: tuple[CompiledToleration, ...]) -> int:
    """The PreferNoSchedule taints none of ``tolerations`` tolerates."""
    count = 0
    for taint in taints:
        if taint.effect != _PREFER_NO_SCHEDULE:
            continue
        key, value = taint.key or "", taint.value or ""
        for tol in tolerations:
            if compiled_toleration_tolerates(tol, key, value, _PREFER_NO_SCHEDULE):
                break
        else:
            count += 1
    return count


def _new(args: None, handle: Handle) -> TaintToleration:
    return TaintToleration()


_filter: type[BatchFilterPlugin] = TaintToleration
_pre_score: type[PreScorePlugin] = TaintToleration
_score: type[BatchScorePlugin] = TaintToleration
_normalizer: type[BatchScoreExtensions] = TaintToleration

FACTORIES = {TAINT_TOLERATION: PluginFactory(new=_new)}
