"""What preemption weighs: pod importance, PodDisruptionBudgets, and the choice among candidate
nodes.

Upstream scheduler/util (``MoreImportantPod``, ``GetPodStartTime``, ``GetEarliestPodStartTime``),
defaultpreemption (``filterPodsWithPDBViolation``, ``podTerminatingByPreemption``) and
preemption (``Candidate``, ``pickOneNodeForPreemption``). Called by the Evaluator and by
:class:`DefaultPreemption`; pure functions, no API calls.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from kframe.api import SelectorError, selector_from_label_selector
from kframe.api.models import Pod
from kframe.api.models.policy_v1 import PodDisruptionBudget
from kframe.scheduler import PodInfo

__all__ = [
    "Candidate",
    "DisruptionBudget",
    "ScoreFunc",
    "Victims",
    "disruption_budgets",
    "earliest_pod_start_time",
    "filter_pods_with_pdb_violation",
    "more_important_pod",
    "pick_one_node_for_preemption",
    "pod_priority",
    "pod_start_time",
    "pod_terminating_by_preemption",
]

# Condition type and reason upstream marks a preemption victim with.
DISRUPTION_TARGET = "DisruptionTarget"
PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MIN_INT64 = -(2**63)
_MAX_INT32 = 2**31 - 1

ScoreFunc = Callable[[str], int]


def pod_priority(pod: Pod) -> int:
    """``corev1helpers.PodPriority``: ``spec.priority``, 0 when unset."""
    priority = pod.spec.priority if pod.spec is not None else None
    return priority if priority is not None else 0


def _unix_nanos(t: _dt.datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return (t - _EPOCH) // _dt.timedelta(microseconds=1) * 1000


def pod_start_time(pod: Pod, now: _dt.datetime) -> _dt.datetime:
    """``GetPodStartTime``: ``status.startTime``, or ``now`` for a pod that has not started
    (assumed and just-bound pods). Callers take ``now`` once, so unstarted pods tie."""
    start = pod.status.start_time if pod.status is not None else None
    if start is None:
        return now
    return start if start.tzinfo is not None else start.replace(tzinfo=_dt.UTC)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def more_important_pod(pod1: Pod, pod2: Pod) -> bool:
    """``util.MoreImportantPod``: higher priority first, then the one that started earlier."""
    p1, p2 = pod_priority(pod1), pod_priority(pod2)
    if p1 != p2:
        return p1 > p2
    now = _now()
    return pod_start_time(pod1, now) < pod_start_time(pod2, now)


def pod_terminating_by_preemption(pod: Pod) -> bool:
    """Whether the pod is being deleted because the scheduler preempted it: it has a deletion
    timestamp and its first DisruptionTarget condition is True with reason
    PreemptionByScheduler."""
    if pod.metadata is None or pod.metadata.deletion_timestamp is None:
        return False
    for condition in pod.status.conditions if pod.status is not None else ():
        if condition.type == DISRUPTION_TARGET:
            return condition.status == "True" and condition.reason == PREEMPTION_BY_SCHEDULER
    return False


class DisruptionBudget:
    """A PodDisruptionBudget with its selector parsed once per preemption attempt.

    ``selector`` is None for a PDB that matches no pod: a missing, empty or invalid selector.
    """

    __slots__ = ("disrupted_pods", "disruptions_allowed", "namespace", "pdb", "selector")

    def __init__(self, pdb: PodDisruptionBudget) -> None:
        self.pdb = pdb
        self.namespace = (pdb.metadata.namespace if pdb.metadata else None) or "default"
        status = pdb.status
        self.disruptions_allowed = (status.disruptions_allowed if status else None) or 0
        self.disrupted_pods = frozenset(status.disrupted_pods if status else ())
        raw = pdb.spec.selector if pdb.spec else None
        selector = None
        if raw is not None:
            try:
                parsed = selector_from_label_selector(raw.match_labels, raw.match_expressions)
            except SelectorError:
                parsed = None  # an invalid selector does not match the pod
            # A PDB with a nil or empty selector matches nothing.
            if parsed is not None and not parsed.empty():
                selector = parsed
        self.selector = selector

    def __repr__(self) -> str:
        name = self.pdb.metadata.name if self.pdb.metadata else None
        return f"DisruptionBudget({self.namespace}/{name})"


def disruption_budgets(pdbs: Iterable[PodDisruptionBudget]) -> list[DisruptionBudget]:
    return [DisruptionBudget(pdb) for pdb in pdbs]


def filter_pods_with_pdb_violation(
    pod_infos: Sequence[PodInfo], pdbs: Sequence[DisruptionBudget]
) -> tuple[list[PodInfo], list[PodInfo]]:
    """``filterPodsWithPDBViolation``: the pods whose eviction would take a matching PDB below
    zero allowed disruptions, and the others, each group in the input order."""
    allowed = [pdb.disruptions_allowed for pdb in pdbs]
    violating: list[PodInfo] = []
    non_violating: list[PodInfo] = []
    for info in pod_infos:
        meta = info.pod.metadata
        labels = meta.labels if meta is not None else {}
        violated = False
        # A pod with no labels will not match any PDB.
        if labels and meta is not None:
            namespace = meta.namespace or "default"
            for i, pdb in enumerate(pdbs):
                if pdb.namespace != namespace or pdb.selector is None:
                    continue
                if not pdb.selector.matches(labels):
                    continue
                # Already in DisruptedPods: the API server has processed it, not a violation
                # (and not decremented, or the budget would be counted twice).
                if meta.name in pdb.disrupted_pods:
                    continue
                allowed[i] -= 1
                if allowed[i] < 0:
                    violated = True
        (violating if violated else non_violating).append(info)
    return violating, non_violating


@attrs.frozen
class Victims:
    """The pods to preempt on a node (most important first) and how many of them violate a
    PodDisruptionBudget (upstream extenderv1.Victims)."""

    pods: tuple[Pod, ...]
    num_pdb_violations: int = 0


@attrs.frozen
class Candidate:
    """A node the preemptor fits on once ``victims`` are gone."""

    name: str
    victims: Victims


def earliest_pod_start_time(victims: Victims, now: _dt.datetime) -> _dt.datetime | None:
    """``GetEarliestPodStartTime``: the earliest start among the highest-priority victims."""
    if not victims.pods:
        return None
    earliest = pod_start_time(victims.pods[0], now)
    max_priority = pod_priority(victims.pods[0])
    for pod in victims.pods:
        priority = pod_priority(pod)
        if priority == max_priority:
            start = pod_start_time(pod, now)
            if start < earliest:
                earliest = start
        elif priority > max_priority:
            max_priority = priority
            earliest = pod_start_time(pod, now)
    return earliest


def default_score_funcs(nodes_to_victims: Mapping[str, Victims]) -> list[ScoreFunc]:
    """Upstream's criteria, each a score where higher is better, applied in turn to break ties:
    fewest PDB violations, lowest highest-priority victim, smallest sum of priorities (each
    shifted by MaxInt32+1 so negative priorities do not reward more victims), fewest victims,
    latest start of the highest-priority victims."""
    now = _now()

    def min_pdb_violations(node: str) -> int:
        return -nodes_to_victims[node].num_pdb_violations

    def min_highest_priority(node: str) -> int:
        return -pod_priority(nodes_to_victims[node].pods[0])

    def min_sum_priorities(node: str) -> int:
        return -sum(pod_priority(p) + _MAX_INT32 + 1 for p in nodes_to_victims[node].pods)

    def min_num_pods(node: str) -> int:
        return -len(nodes_to_victims[node].pods)

    def latest_start_time(node: str) -> int:
        earliest = earliest_pod_start_time(nodes_to_victims[node], now)
        return _MIN_INT64 if earliest is None else _unix_nanos(earliest)

    return [
        min_pdb_violations,
        min_highest_priority,
        min_sum_priorities,
        min_num_pods,
        latest_start_time,
    ]


def pick_one_node_for_preemption(
    nodes_to_victims: Mapping[str, Victims], score_funcs: Sequence[ScoreFunc] | None = None
) -> str:
    """``pickOneNodeForPreemption``: the node with the best score of the first function, the
    next function breaking ties among those, and so on; the first remaining node in the end.

    Victims are expected most important first. Upstream walks a Go map (no order); the
    candidates' order is kept here, so the last tie-break is deterministic.
    """
    if not nodes_to_victims:
        return ""
    candidates = list(nodes_to_victims)
    funcs = score_funcs or default_score_funcs(nodes_to_victims)
    for func in funcs:
        best = -math.inf
        selected: list[str] = []
        for node in candidates:
            score = func(node)
            if score > best:
                best, selected = score, [node]
            elif score == best:
                selected.append(node)
        if len(selected) == 1:
            return selected[0]
        candidates = selected
    return candidates[0]
