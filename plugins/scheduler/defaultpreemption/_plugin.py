"""The DefaultPreemption PostFilter plugin (upstream defaultpreemption/default_preemption.go).

When no node fits a pod, it looks for a node where evicting pods of lower priority makes room,
evicts the fewest it can (PodDisruptionBudget-violating ones last), and nominates the node; the
pod is retried there once the victims are gone. The rules live here; the Evaluator runs them.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from kframe.api.models import Pod
from kframe.scheduler import (
    Code,
    ConfigError,
    CycleState,
    FrameworkHandle,
    Handle,
    NodeInfo,
    NodeNotFoundError,
    PodInfo,
    PostFilterPlugin,
    PostFilterResult,
    Status,
    metrics_of,
)

from ..names import DEFAULT_PREEMPTION
from ._args import DefaultPreemptionArgs, validate_args
from ._evaluator import Evaluator, PreemptionInterface
from ._executor import Executor
from ._victims import (
    DisruptionBudget,
    ScoreFunc,
    Victims,
    filter_pods_with_pdb_violation,
    more_important_pod,
    pod_priority,
    pod_terminating_by_preemption,
)

__all__ = ["DefaultPreemption", "IsEligiblePodFunc", "MoreImportantPodFunc", "new"]

# Whether ``victim`` on the node may be preempted by ``preemptor``, on top of the rule that it
# has a lower priority (upstream IsEligiblePodFunc).
IsEligiblePodFunc = Callable[[NodeInfo, PodInfo, Pod], bool]
# Whether the first pod is more important (preempted later) than the second.
MoreImportantPodFunc = Callable[[Pod, Pod], bool]

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."

# What the plugin calls on its handle: the scheduler's Framework has all of it.
_HANDLE_METHODS = (
    "snapshot",
    "list_objects",
    "nominated_pods_for_node",
    "run_filter_plugins_with_nominated_pods",
    "run_pre_filter_extension_add_pod",
    "run_pre_filter_extension_remove_pod",
    "get_waiting_pod",
)
_HANDLE_ATTRIBUTES = ("client", "rng")


def _always_eligible(node_info: NodeInfo, victim: PodInfo, preemptor: Pod) -> bool:
    return True


def _failed(status: Status | None) -> bool:
    return status is not None and not status.success


def _as_error(status: Status | None) -> Status | None:
    """A failed PreFilter extension call as upstream's ``AsStatus(status.AsError())``."""
    if status is None or status.success:
        return None
    return Status(Code.ERROR, status.message, error=status.error)


class DefaultPreemption:
    """PostFilter: preempt lower-priority pods to make room (upstream DefaultPreemption).

    ``is_eligible_pod`` and ``more_important_pod`` may be replaced, as upstream allows, to
    narrow which pods may be victims and to order them. ``rng`` picks the node to start the
    dry run at (upstream: a random offset).
    """

    name = DEFAULT_PREEMPTION

    def __init__(
        self,
        args: DefaultPreemptionArgs,
        handle: FrameworkHandle,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.args = args
        self.handle = handle
        # None: the handle's, read at each use (the scheduler seeds it after building plugins).
        self._rng = rng
        self.is_eligible_pod: IsEligiblePodFunc = _always_eligible
        self.more_important_pod: MoreImportantPodFunc = more_important_pod
        self.executor = Executor(handle)
        self.evaluator = Evaluator(self.name, handle, self, self.executor)

    @property
    def rng(self) -> random.Random:
        return self._rng if self._rng is not None else self.handle.rng

    @rng.setter
    def rng(self, value: random.Random) -> None:
        self._rng = value

    async def post_filter(
        self, state: CycleState, pod: Pod, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status | None]:
        try:
            result, status = await self.evaluator.preempt(state, pod, statuses)
        finally:
            # Upstream counts every DefaultPreemption PostFilter call as an attempt.
            metrics = metrics_of(self.handle)
            if metrics is not None:
                metrics.preemption_attempt()
        if status.message:
            return result, Status(status.code, "preemption: " + status.message, error=status.error)
        return result, status

    # -- the preemption.Interface the Evaluator calls ---------------------------------------

    def calculate_num_candidates(self, num_nodes: int) -> int:
        """At least ``minCandidateNodesPercentage`` percent of the nodes and at least
        ``minCandidateNodesAbsolute`` of them, but no more than there are."""
        n = num_nodes * self.args.min_candidate_nodes_percentage // 100
        n = max(n, self.args.min_candidate_nodes_absolute)
        return min(n, num_nodes)

    def get_offset_and_num_candidates(self, num_nodes: int) -> tuple[int, int]:
        return self.rng.randrange(num_nodes), self.calculate_num_candidates(num_nodes)

    def ordered_score_funcs(self, nodes_to_victims: Mapping[str, Victims]) -> list[ScoreFunc]:
        return []  # upstream's default criteria

    def is_preemption_allowed(self, node_info: NodeInfo, victim: PodInfo, preemptor: Pod) -> bool:
        """A victim must have a lower priority than the preemptor, and pass ``is_eligible_pod``."""
        return pod_priority(victim.pod) < pod_priority(preemptor) and self.is_eligible_pod(
            node_info, victim, preemptor
        )

    def pod_eligible_to_preempt_others(
        self, pod: Pod, nominated_node_status: Status | None
    ) -> tuple[bool, str]:
        """Not with ``preemptionPolicy: Never``, nor while victims of an earlier preemption are
        still terminating on the pod's nominated node (unless that node became
        UnschedulableAndUnresolvable: then the pod looks again)."""
        if pod.spec is not None and pod.spec.preemption_policy == "Never":
            return False, NOT_ELIGIBLE_NEVER
        nominated = pod.status.nominated_node_name if pod.status else None
        if nominated:
            if (
                nominated_node_status is not None
                and nominated_node_status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
            ):
                return True, ""
            try:
                node_info = self.handle.snapshot().get(nominated)
            except NodeNotFoundError:
                return True, ""
            for info in node_info.pods:
                if self.is_preemption_allowed(
                    node_info, info, pod
                ) and pod_terminating_by_preemption(info.pod):
                    return False, NOT_ELIGIBLE_TERMINATING
        return True, ""

    def _sorted(self, infos: Sequence[PodInfo]) -> list[PodInfo]:
        """Most important first, by ``more_important_pod`` (a stable sort)."""
        less = self.more_important_pod

        def compare(a: PodInfo, b: PodInfo) -> int:
            return -1 if less(a.pod, b.pod) else (1 if less(b.pod, a.pod) else 0)

        return sorted(infos, key=functools.cmp_to_key(compare))

    def select_victims_on_node(
        self,
        state: CycleState,
        pod: Pod,
        node_info: NodeInfo,
        pdbs: Sequence[DisruptionBudget],
    ) -> tuple[list[Pod], int, Status | None]:
        """``SelectVictimsOnNode``: take every pod the preemptor may preempt off the (copied)
        node; if the preemptor then fits, put back as many as still let it fit, most important
        first, PDB-violating ones before the others. The rest are the victims."""
        handle = self.handle

        def remove(info: PodInfo) -> Status | None:
            node_info.remove_pod(info.key)
            return _as_error(
                handle.run_pre_filter_extension_remove_pod(state, pod, info, node_info)
            )

        def add(info: PodInfo) -> Status | None:
            node_info.add_pod(info)
            return _as_error(handle.run_pre_filter_extension_add_pod(state, pod, info, node_info))

        potential = [p for p in node_info.pods if self.is_preemption_allowed(node_info, p, pod)]
        for info in potential:
            if (error := remove(info)) is not None:
                return [], 0, error
        if not potential:
            return [], 0, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, NO_VICTIMS)
        # If the pod does not fit even without them, this node cannot help. (Upstream does not
        # look for affinity of the pod to its victims: not worth it, and not recommended.)
        status = handle.run_filter_plugins_with_nominated_pods(state, pod, node_info)
        if _failed(status):
            return [], 0, status
        potential = self._sorted(potential)
        violating, non_violating = filter_pods_with_pdb_violation(potential, pdbs)
        victims: list[PodInfo] = []

        def reprieve(info: PodInfo) -> tuple[bool, Status | None]:
            if (error := add(info)) is not None:
                return False, error
            fits = not _failed(handle.run_filter_plugins_with_nominated_pods(state, pod, node_info))
            if not fits:
                if (error := remove(info)) is not None:
                    return False, error
                victims.append(info)
            return fits, None

        num_violating = 0
        for info in violating:
            fits, error = reprieve(info)
            if error is not None:
                return [], 0, error
            if not fits:
                num_violating += 1
        for info in non_violating:
            _, error = reprieve(info)
            if error is not None:
                return [], 0, error
        if violating and non_violating:
            victims = self._sorted(victims)
        return [v.pod for v in victims], num_violating, None


def new(args: DefaultPreemptionArgs, handle: Handle) -> DefaultPreemption:
    """The factory: validates the args; the handle must be the scheduler's framework (a
    :class:`FrameworkHandle`), which runs the profile's filters on what-if copies of nodes.
    The handle's ``rng`` (the scheduler's, seeded by ``--seed``) picks the dry-run offset."""
    validate_args(args)
    missing = [m for m in _HANDLE_METHODS if not callable(getattr(handle, m, None))]
    missing += [a for a in _HANDLE_ATTRIBUTES if not hasattr(handle, a)]
    if missing:
        raise ConfigError(
            f"plugin {DEFAULT_PREEMPTION!r} needs the scheduler framework as its handle "
            f"(kframe.scheduler.FrameworkHandle); {type(handle).__name__} has no "
            + ", ".join(missing)
        )
    return DefaultPreemption(args, cast(FrameworkHandle, handle))


_: type[PostFilterPlugin] = DefaultPreemption
_interface: type[PreemptionInterface] = DefaultPreemption
