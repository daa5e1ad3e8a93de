"""The PodTopologySpread plugin: its extension points, wired to the filtering and scoring
computations (upstream plugin.go)."""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api import SelectorError
from kframe.api.models import Pod
from kframe.scheduler import (
    Code,
    CycleState,
    FilterPlugin,
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

from ..names import POD_TOPOLOGY_SPREAD
from ._args import (
    DO_NOT_SCHEDULE,
    SCHEDULE_ANYWAY,
    SYSTEM_DEFAULT_CONSTRAINTS,
    SYSTEM_DEFAULTING,
    PodTopologySpreadArgs,
    validate_args,
)
from ._common import Constraint, build_constraints, default_selector
from ._filtering import (
    PRE_FILTER_STATE_KEY,
    PreFilterState,
    calc_pre_filter_state,
    filter_node,
    update_with_pod,
)
from ._memo import NodeMemo
from ._scoring import (
    PRE_SCORE_STATE_KEY,
    PreScoreState,
    calc_pre_score_state,
    normalize,
    score_node,
)

__all__ = ["PodTopologySpread", "new"]


def _not_found(key: str) -> Status:
    return Status(Code.ERROR, f'reading "{key}" from cycleState: not found')


class PodTopologySpread:
    """Spreads pods over topology domains: DoNotSchedule constraints filter, ScheduleAnyway
    constraints (and the default constraints for pods without any) score."""

    name = POD_TOPOLOGY_SPREAD

    def __init__(self, args: PodTopologySpreadArgs, handle: Handle) -> None:
        self._handle = handle
        self._memo = NodeMemo()
        self.system_defaulted = args.defaulting_type == SYSTEM_DEFAULTING
        self.default_constraints = (
            SYSTEM_DEFAULT_CONSTRAINTS if self.system_defaulted else args.default_constraints
        )

    # -- constraints ------------------------------------------------------------------------

    def get_constraints(self, pod: Pod, action: str) -> list[Constraint]:
        """The pod's constraints with this whenUnsatisfiable, or the default ones (with the
        selector of the pod's Services and controller) when the pod has none of its own."""
        spec, meta = pod.spec, pod.metadata
        labels = meta.labels if meta else {}
        if spec is not None and spec.topology_spread_constraints:
            return build_constraints(spec.topology_spread_constraints, labels, action)
        constraints = build_constraints(self.default_constraints, labels, action)
        if not constraints:
            return constraints
        selector = default_selector(pod, self._handle)
        if selector.empty():
            return []
        for c in constraints:
            c.set_selector(selector)
        return constraints

    # -- filtering --------------------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> PreFilterResult | Status | None:
        try:
            constraints = self.get_constraints(pod, DO_NOT_SCHEDULE)
        except SelectorError as err:
            what = (
                "obtaining pod's hard"
                if pod.spec and pod.spec.topology_spread_constraints
                else "setting default hard"
            )
            return Status(
                Code.ERROR,
                f"get constraints from pod: {what} topology spread constraints: {err}",
            )
        if not constraints:
            return Status(Code.SKIP)
        state.write(
            PRE_FILTER_STATE_KEY, calc_pre_filter_state(pod, constraints, nodes, self._memo)
        )
        return None

    def _pre_filter_state(self, state: CycleState) -> PreFilterState | Status:
        try:
            s = state.read(PRE_FILTER_STATE_KEY)
        except KeyError:
            return _not_found(PRE_FILTER_STATE_KEY)
        if not isinstance(s, PreFilterState):
            return Status(Code.ERROR, f"{s!r} convert to podtopologyspread.preFilterState error")
        return s

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        s = self._pre_filter_state(state)
        if isinstance(s, Status):
            return s
        return filter_node(s, node_info)

    def add_pod(
        self, state: CycleState, pod: Pod, pod_to_add: PodInfo, node_info: NodeInfo
    ) -> Status | None:
        s = self._pre_filter_state(state)
        if isinstance(s, Status):
            return s
        update_with_pod(s, pod_to_add.pod, pod, node_info.node, 1)
        return None

    def remove_pod(
        self, state: CycleState, pod: Pod, pod_to_remove: PodInfo, node_info: NodeInfo
    ) -> Status | None:
        s = self._pre_filter_state(state)
        if isinstance(s, Status):
            return s
        update_with_pod(s, pod_to_remove.pod, pod, node_info.node, -1)
        return None

    # -- scoring ----------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        all_nodes = self._handle.snapshot().list()
        if not all_nodes:
            return Status(Code.SKIP)
        own = bool(pod.spec and pod.spec.topology_spread_constraints)
        try:
            constraints = self.get_constraints(pod, SCHEDULE_ANYWAY)
        except SelectorError as err:
            what = "obtaining pod's soft" if own else "setting default soft"
            return Status(
                Code.ERROR,
                f"calculating preScoreState: {what} topology spread constraints: {err}",
            )
        if not constraints:
            return Status(Code.SKIP)
        # Only non-system-default spreading requires nodes to have every topology key, so that
        # nodes without a zone label still get hostname spreading.
        require_all = own or not self.system_defaulted
        s = calc_pre_score_state(pod, constraints, nodes, all_nodes, require_all, self._memo)
        state.write(PRE_SCORE_STATE_KEY, s)
        return None

    def _pre_score_state(self, state: CycleState) -> PreScoreState:
        """The PreScore state; RuntimeError (upstream's error text) if PreScore did not run."""
        try:
            s = state.read(PRE_SCORE_STATE_KEY)
        except KeyError:
            raise RuntimeError(
                f'error reading "{PRE_SCORE_STATE_KEY}" from cycleState: not found'
            ) from None
        if not isinstance(s, PreScoreState):
            raise RuntimeError(f"{s!r} convert to podtopologyspread.preScoreState error")
        return s

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        return score_node(self._pre_score_state(state), node_info)

    def normalize_score(
        self, state: CycleState, pod: Pod, scores: list[NodeScore]
    ) -> Status | None:
        try:
            s = self._pre_score_state(state)
        except RuntimeError as err:
            return Status(Code.ERROR, str(err))
        normalize(s, scores)
        return None


def new(args: PodTopologySpreadArgs | None, handle: Handle) -> PodTopologySpread:
    """The plugin's factory: validates the args (ConfigError with upstream's message)."""
    args = args if args is not None else PodTopologySpreadArgs()
    if not args.defaulting_type:  # SetDefaults_PodTopologySpreadArgs
        args = PodTopologySpreadArgs(
            default_constraints=args.default_constraints, defaulting_type=SYSTEM_DEFAULTING
        )
    validate_args(args)
    return PodTopologySpread(args, handle)


_filter: type[FilterPlugin] = PodTopologySpread
_pre_filter: type[PreFilterPlugin] = PodTopologySpread
_extensions: type[PreFilterExtensions] = PodTopologySpread
_pre_score: type[PreScorePlugin] = PodTopologySpread
_score: type[ScorePlugin] = PodTopologySpread
_normalize: type[ScoreExtensions] = PodTopologySpread
