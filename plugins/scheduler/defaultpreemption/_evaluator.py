"""The preemption Evaluator: find nodes where evicting lower-priority pods makes room, pick one,
evict its victims and nominate it (upstream pkg/scheduler/framework/preemption/preemption.go).

The Evaluator is generic; what a preemption plugin decides (who may preempt, which victims on a
node, how many nodes to try) comes from a :class:`PreemptionInterface`, which
:class:`DefaultPreemption` implements. A plugin with other rules can reuse the Evaluator with its
own implementation, as upstream's out-of-tree preemption plugins do.

Upstream dry-runs nodes in parallel goroutines; here they are tried one by one from the offset,
stopping as soon as upstream's parallel loop would be cancelled (enough candidates, at least one
without PDB violations), so results equal upstream's with parallelism 1.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from kframe.api.models import Pod
from kframe.api.models.policy_v1 import PodDisruptionBudget
from kframe.scheduler import (
    Code,
    CycleState,
    Diagnosis,
    FitError,
    FrameworkHandle,
    NodeInfo,
    PostFilterResult,
    Status,
    metrics_of,
)

from ._args import aggregate
from ._executor import Executor
from ._victims import (
    Candidate,
    DisruptionBudget,
    ScoreFunc,
    Victims,
    disruption_budgets,
    pick_one_node_for_preemption,
    pod_priority,
)

__all__ = ["Evaluator", "PreemptionInterface", "lower_priority_nominated_pods"]

log = logging.getLogger("kframe.scheduler")

# A node the PostFilter statuses do not mention counts as UnschedulableAndUnresolvable, as
# upstream's default NodeToStatus absent status.
_ABSENT = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
NOT_HELPFUL = "Preemption is not helpful for scheduling"


class PreemptionInterface(Protocol):
    """What a preemption plugin decides (upstream preemption.Interface)."""

    def get_offset_and_num_candidates(self, num_nodes: int) -> tuple[int, int]:
        """Where to start among the nodes worth trying, and how many candidates are enough."""
        ...

    def pod_eligible_to_preempt_others(
        self, pod: Pod, nominated_node_status: Status | None
    ) -> tuple[bool, str]:
        """Whether the pod may preempt at all, and why not."""
        ...

    def select_victims_on_node(
        self,
        state: CycleState,
        pod: Pod,
        node_info: NodeInfo,
        pdbs: Sequence[DisruptionBudget],
    ) -> tuple[list[Pod], int, Status | None]:
        """The fewest pods to evict from this node (``state`` and ``node_info`` are copies the
        method may change), how many of them violate a PDB, and None or why not."""
        ...

    def ordered_score_funcs(self, nodes_to_victims: Mapping[str, Victims]) -> list[ScoreFunc]:
        """Scores to choose among candidate nodes (empty: upstream's default criteria)."""
        ...


def lower_priority_nominated_pods(handle: FrameworkHandle, pod: Pod, node_name: str) -> list[Pod]:
    """``getLowerPriorityNominatedPods``: pods nominated to the node with a lower priority than
    ``pod``; they may no longer fit once it takes the room."""
    priority = pod_priority(pod)
    return [
        info.pod
        for info in handle.nominated_pods_for_node(node_name)
        if pod_priority(info.pod) < priority
    ]


class Evaluator:
    """Runs one preemption attempt for a plugin (upstream preemption.Evaluator)."""

    def __init__(
        self,
        plugin_name: str,
        handle: FrameworkHandle,
        interface: PreemptionInterface,
        executor: Executor,
    ) -> None:
        self.plugin_name = plugin_name
        self.handle = handle
        self.interface = interface
        self.executor = executor

    async def preempt(
        self, state: CycleState, pod: Pod, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status]:
        """``Preempt``: ``(None, Error)`` for a transient failure, ``(None, Unschedulable)``
        when the pod may not preempt now, ``(PostFilterResult(""), Unschedulable)`` when no
        node would fit even with preemption (clearing a stale nomination), and the nominated
        node with Success once its victims are evicted."""
        nominated = (pod.status.nominated_node_name if pod.status else None) or ""
        ok, msg = self.interface.pod_eligible_to_preempt_others(
            pod, statuses.get(nominated, _ABSENT)
        )
        if not ok:
            return None, Status(Code.UNSCHEDULABLE, msg)
        all_nodes = self.handle.snapshot().list()
        candidates, node_statuses, error = self.find_candidates(state, all_nodes, pod, statuses)
        if error is not None and not candidates:
            return None, Status(Code.ERROR, error)
        if not candidates:
            diagnosis = Diagnosis(
                node_statuses=node_statuses,
                absent_status=Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, NOT_HELPFUL),
            )
            message = FitError(pod, len(all_nodes), diagnosis).message
            return PostFilterResult(nominated_node_name=""), Status(Code.UNSCHEDULABLE, message)
        best = self.select_candidate(candidates)
        if best is None or not best.name:
            return None, Status(Code.UNSCHEDULABLE, "no candidate node for preemption")
        status = await self.prepare_candidate(best, pod)
        if status is not None:
            return None, status
        return PostFilterResult(nominated_node_name=best.name), Status(Code.SUCCESS)

    def pdbs(self) -> list[DisruptionBudget]:
        return disruption_budgets(self.handle.list_objects(PodDisruptionBudget))

    def find_candidates(
        self,
        state: CycleState,
        all_nodes: Sequence[NodeInfo],
        pod: Pod,
        statuses: Mapping[str, Status],
    ) -> tuple[list[Candidate], dict[str, Status], str | None]:
        """``findCandidates``: dry-run preemption on the nodes whose Filter status was
        Unschedulable (UnschedulableAndUnresolvable ones cannot be helped)."""
        if not all_nodes:
            return [], {}, "no nodes available"
        potential = [
            n for n in all_nodes if statuses.get(n.name, _ABSENT).code is Code.UNSCHEDULABLE
        ]
        if not potential:
            return [], {}, None
        offset, num_candidates = self.interface.get_offset_and_num_candidates(len(potential))
        return self.dry_run_preemption(state, pod, potential, self.pdbs(), offset, num_candidates)

    def dry_run_preemption(
        self,
        state: CycleState,
        pod: Pod,
        potential_nodes: Sequence[NodeInfo],
        pdbs: Sequence[DisruptionBudget],
        offset: int,
        num_candidates: int,
    ) -> tuple[list[Candidate], dict[str, Status], str | None]:
        """``DryRunPreemption``: candidates (those without PDB violations first), the status of
        each node that is not one, and the aggregated errors, if any.

        Each node is tried on a copy of its NodeInfo and of the cycle state, starting at
        ``offset`` and wrapping around; at most ``num_candidates`` of each kind are kept, and
        the search stops once there are enough with at least one non-violating.
        """
        non_violating: list[Candidate] = []
        violating: list[Candidate] = []
        node_statuses: dict[str, Status] = {}
        errors: list[str] = []
        count = len(potential_nodes)
        for i in range(count):
            node = potential_nodes[(offset + i) % count].clone()
            pods, num_violations, status = self.interface.select_victims_on_node(
                state.clone(), pod, node, pdbs
            )
            if (status is None or status.success) and pods:
                found = Candidate(node.name, Victims(tuple(pods), num_violations))
                kept = non_violating if num_violations == 0 else violating
                if len(kept) < num_candidates:
                    kept.append(found)
                if non_violating and len(non_violating) + len(violating) >= num_candidates:
                    break
                continue
            if status is None or status.success:
                message = f'expected at least one victim pod on node "{node.name}"'
                status = Status(Code.ERROR, message)
            if status.code is Code.ERROR:
                errors.append(status.message)
            node_statuses[node.name] = status
        return non_violating + violating, node_statuses, aggregate(errors) if errors else None

    def select_candidate(self, candidates: Sequence[Candidate]) -> Candidate | None:
        """``SelectCandidate``: the best candidate by the plugin's score functions (upstream's
        criteria by default)."""
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        victims = {c.name: c.victims for c in candidates}
        node = pick_one_node_for_preemption(victims, self.interface.ordered_score_funcs(victims))
        if node in victims:
            return Candidate(node, victims[node])
        log.error("preemption: no candidate selected among %s", [c.name for c in candidates])
        return candidates[0]

    async def prepare_candidate(self, candidate: Candidate, pod: Pod) -> Status | None:
        """``prepareCandidate``: evict the victims (or reject them while they wait at Permit),
        then clear the nomination of lower-priority pods nominated to the node, so they look
        for room elsewhere. None when done; an Error status when an eviction failed."""
        status = await self.executor.preempt_victims(candidate, pod, self.plugin_name)
        if status is not None:
            return status
        metrics = metrics_of(self.handle)
        if metrics is not None:
            metrics.preemption_victims(len(candidate.victims.pods))
        nominated = lower_priority_nominated_pods(self.handle, pod, candidate.name)
        await self.executor.clear_nominated_node_name(nominated)
        return None
