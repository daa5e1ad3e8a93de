"""The scheduling algorithm of one cycle: feasible nodes, their scores, and the chosen host.

Upstream schedule_one.go (schedulePod, findNodesThatFitPod, findNodesThatPassFilters,
prioritizeNodes, selectHost) and the FitError message users read in ``FailedScheduling``
events. Shared by the scheduler and by ``kframe scheduler explain``, so both decide alike.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from time import perf_counter

import attrs

from kframe.api.models import Pod

from ._cycle_state import CycleState
from ._framework import Framework, PluginScores, SchedulingError
from ._nodeinfo import NodeInfo
from ._nodelist import NodeList
from ._snapshot import NodeNotFoundError, Snapshot
from ._status import Code, Status

__all__ = [
    "Diagnosis",
    "FitError",
    "NoNodesAvailableError",
    "ScheduleResult",
    "find_nodes_that_fit",
    "num_feasible_nodes_to_find",
    "prioritize_nodes",
    "schedule_pod",
    "select_host",
]

# Below this many nodes every node is checked; above, at least this many feasible ones.
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
# Filter runs over at least this many nodes at a time (the verdicts of nodes past the ones
# needed are dropped, as if never asked for).
MIN_FILTER_CHUNK = 32


def num_feasible_nodes_to_find(percentage: int | None, num_all_nodes: int) -> int:
    """How many feasible nodes are enough (upstream numFeasibleNodesToFind).

    With no percentage set (0), the adaptive default: 50% minus 1% per 125 nodes, at least 5%.
    """
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    pct = percentage or 0
    if pct == 0:
        pct = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * pct // 100, MIN_FEASIBLE_NODES_TO_FIND)


@attrs.define
class Diagnosis:
    """Why nodes were rejected: each rejected node's status, plus what PreFilter said."""

    node_statuses: dict[str, Status] = attrs.field(factory=dict)
    # The status of nodes a PreFilter plugin ruled out without naming them (absent nodes).
    absent_status: Status | None = None
    unschedulable_plugins: set[str] = attrs.field(factory=set)
    pending_plugins: set[str] = attrs.field(factory=set)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""

    def add_plugin_status(self, status: Status) -> None:
        if status.plugin is None:
            return
        if status.code is Code.PENDING:
            self.pending_plugins.add(status.plugin)
        elif status.rejected:
            self.unschedulable_plugins.add(status.plugin)

    def status_of(self, node: str) -> Status | None:
        return self.node_statuses.get(node, self.absent_status)


class FitError(Exception):
    """No node fits: the message is upstream's ``0/N nodes are available: ...``."""

    def __init__(self, pod: Pod, num_all_nodes: int, diagnosis: Diagnosis) -> None:
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.diagnosis = diagnosis
        super().__init__(self.message)

    @property
    def message(self) -> str:
        d = self.diagnosis
        msg = f"0/{self.num_all_nodes} nodes are available:"
        if d.pre_filter_msg:
            # Every node has the PreFilter status then; counting it per node says it N times.
            msg += f" {d.pre_filter_msg}."
        else:
            counts: dict[str, int] = {}
            for status in d.node_statuses.values():
                for reason in status.reasons:
                    counts[reason] = counts.get(reason, 0) + 1
            absent = self.num_all_nodes - len(d.node_statuses)
            if d.absent_status is not None and absent > 0:
                for reason in d.absent_status.reasons:
                    counts[reason] = counts.get(reason, 0) + absent
            msg += f" {', '.join(sorted(f'{n} {r}' for r, n in counts.items()))}."
        if d.post_filter_msg:
            msg += f" {d.post_filter_msg}."
        return msg


class NoNodesAvailableError(FitError):
    """The cluster has no nodes at all: upstream's ErrNoNodesAvailable, whose message (not
    ``0/0 nodes are available``) is what ``FailedScheduling`` says. PostFilter is not run."""

    MESSAGE = "no nodes available to schedule pods"

    def __init__(self, pod: Pod) -> None:
        super().__init__(pod, 0, Diagnosis())

    @property
    def message(self) -> str:
        return self.MESSAGE


@attrs.define
class ScheduleResult:
    suggested_host: str
    evaluated_nodes: int
    feasible_nodes: int


def find_nodes_that_fit(
    fwk: Framework,
    state: CycleState,
    pod: Pod,
    snapshot: Snapshot,
    *,
    start_index: int = 0,
    percentage: int | None = None,
) -> tuple[list[NodeInfo], Diagnosis, int]:
    """Feasible nodes (at most the number needed), the diagnosis, and how many nodes were
    processed (for the next cycle's round-robin start). Raises SchedulingError on Error."""
    diagnosis = Diagnosis()
    all_nodes = snapshot.list()
    metrics = fwk.metrics
    t0 = perf_counter()
    result, status, narrowing = fwk.run_pre_filter_plugins(state, pod, all_nodes)
    if metrics is not None:
        code = status.code.label if status is not None else "Success"
        metrics.extension_point("PreFilter", code, fwk.profile_name, perf_counter() - t0)
    diagnosis.unschedulable_plugins = set(narrowing)
    if status is not None:
        if not status.rejected:
            raise SchedulingError(status.message)
        diagnosis.absent_status = status
        diagnosis.pre_filter_msg = status.message
        diagnosis.add_plugin_status(status)
        return [], diagnosis, 0
    nominated = pod.status.nominated_node_name if pod.status else None
    if nominated:
        # A node preemption made room on is tried alone first (upstream evaluateNominatedNode).
        try:
            node = snapshot.get(nominated)
        except NodeNotFoundError:
            node = None
        if node is not None and (
            result is None or result.node_names is None or nominated in result.node_names
        ):
            first = _timed_filters(fwk, state, pod, [node], Diagnosis(), 0, 100)
            if first:
                return first, diagnosis, 1
    nodes = all_nodes
    if result is not None and result.node_names is not None:
        names = result.node_names
        nodes = all_nodes.take([i for i, n in enumerate(all_nodes) if n.name in names])
        plugins = " ".join(sorted(narrowing))
        diagnosis.absent_status = Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"node(s) didn't satisfy plugin(s) [{plugins}]"
        )
    feasible = _timed_filters(fwk, state, pod, nodes, diagnosis, start_index, percentage)
    processed = len(feasible) + len(diagnosis.node_statuses)
    return feasible, diagnosis, processed


def _timed_filters(
    fwk: Framework,
    state: CycleState,
    pod: Pod,
    nodes: Sequence[NodeInfo],
    diagnosis: Diagnosis,
    start_index: int,
    percentage: int | None,
) -> list[NodeInfo]:
    """_pass_filters, its latency recorded as upstream's findNodesThatPassFilters does: once
    for all the nodes (not per node), Success unless a filter errored."""
    metrics = fwk.metrics
    if metrics is None or not fwk.has_filter_plugins():
        return _pass_filters(fwk, state, pod, nodes, diagnosis, start_index, percentage)
    t0 = perf_counter()
    code = "Error"
    try:
        feasible = _pass_filters(fwk, state, pod, nodes, diagnosis, start_index, percentage)
        code = "Success"
    finally:
        metrics.extension_point("Filter", code, fwk.profile_name, perf_counter() - t0)
    return feasible


def _pass_filters(
    fwk: Framework,
    state: CycleState,
    pod: Pod,
    nodes: Sequence[NodeInfo],
    diagnosis: Diagnosis,
    start_index: int,
    percentage: int | None,
) -> list[NodeInfo]:
    count = len(nodes)
    if not count:
        return []
    wanted = num_feasible_nodes_to_find(percentage, count)
    start = start_index % count
    if not isinstance(nodes, NodeList):
        nodes = NodeList.of(nodes, None, range(count))
    if not fwk.has_filter_plugins():
        return nodes.span(start, wanted)
    statuses = diagnosis.node_statuses
    if fwk.nominator:
        # The nominated-pods pass costs a clone per node with nominations: node by node.
        run = fwk.run_filter_plugins_with_nominated_pods
        passed: list[int] = []
        for i in range(count):
            at = (start + i) % count
            node = nodes[at]
            status = run(state, pod, node)
            if status is None:
                passed.append(at)
                if len(passed) >= wanted:
                    break
            elif status.code is Code.ERROR:
                raise SchedulingError(status.message)
            else:
                statuses[node.name] = status
                diagnosis.add_plugin_status(status)
        return nodes.take(passed)
    # In chunks of the nodes still needed, in round-robin order from ``start``: as node by
    # node, a node's verdict is recorded only if the loop reached it. The feasible nodes keep
    # their positions in ``nodes`` (for the Score plugins' memos).
    fit_at: list[int] = []
    done = 0
    while done < count:
        needed = wanted - len(fit_at)
        size = min(max(needed, MIN_FILTER_CHUNK), count - done)
        first = (start + done) % count
        chunk = nodes.span(first, size)
        verdicts = fwk.run_filter_plugins_on_nodes(state, pod, chunk)
        if verdicts is None:
            if not fit_at and size >= needed:  # the common case: the first nodes all pass
                return chunk if size == needed else nodes.span(first, needed)
            taken = min(size, needed)
            fit_at.extend((first + i) % count for i in range(taken))
            if taken == needed:
                return nodes.take(fit_at)
            done += size
            continue
        for i, status in enumerate(verdicts):
            if status is None:
                fit_at.append((first + i) % count)
                if len(fit_at) >= wanted:
                    return nodes.take(fit_at)
            elif status.code is Code.ERROR:
                raise SchedulingError(status.message)
            else:
                statuses[chunk[i].name] = status
                diagnosis.add_plugin_status(status)
        done += size
    return nodes.take(fit_at)


def prioritize_nodes(
    fwk: Framework,
    state: CycleState,
    pod: Pod,
    nodes: Sequence[NodeInfo],
    *,
    keep_raw: bool = False,
) -> tuple[list[int], list[PluginScores]]:
    """Each feasible node's total score; with no Score plugins every node scores 1."""
    if not fwk.has_score_plugins():
        return [1] * len(nodes), []
    metrics = fwk.metrics
    t0 = perf_counter()
    status = fwk.run_pre_score_plugins(state, pod, nodes)
    if metrics is not None:
        t1 = perf_counter()
        code = status.code.label if status is not None else "Success"
        metrics.extension_point("PreScore", code, fwk.profile_name, t1 - t0)
    if status is not None:
        raise SchedulingError(status.message)
    if metrics is None:
        return fwk.run_score_plugins(state, pod, nodes, keep_raw=keep_raw)
    code = "Error"
    try:
        scores = fwk.run_score_plugins(state, pod, nodes, keep_raw=keep_raw)
        code = "Success"
    finally:
        metrics.extension_point("Score", code, fwk.profile_name, perf_counter() - t1)
    return scores


def select_host(nodes: Sequence[NodeInfo], totals: Sequence[int], rng: random.Random) -> str:
    """A node with the highest total, chosen uniformly among ties.

    Upstream walks the nodes with reservoir sampling, one draw per tie; the choice is the same
    in distribution with one draw of which tie (in node order) to take, and the node-by-node
    walk with a draw per tie was the larger part of a cycle with hundreds of equal scores.
    """
    if len(nodes) != len(totals):
        raise ValueError(f"{len(nodes)} nodes and {len(totals)} totals")
    if not totals:
        raise SchedulingError("empty priorityList")
    best = max(totals)
    ties = totals.count(best)
    find = totals.index
    at = find(best)
    for _ in range(rng.randrange(ties) if ties > 1 else 0):
        at = find(best, at + 1)
    return nodes[at].name


def schedule_pod(
    fwk: Framework,
    state: CycleState,
    pod: Pod,
    snapshot: Snapshot,
    rng: random.Random,
    *,
    start_index: int = 0,
) -> tuple[ScheduleResult, int]:
    """The node to assume the pod on and the number of nodes processed; FitError if none
    (NoNodesAvailableError, a FitError, when there are no nodes at all)."""
    if not len(snapshot):
        raise NoNodesAvailableError(pod)
    feasible, diagnosis, processed = find_nodes_that_fit(
        fwk,
        state,
        pod,
        snapshot,
        start_index=start_index,
        percentage=fwk.percentage_of_nodes_to_score,
    )
    if not feasible:
        raise FitError(pod, len(snapshot), diagnosis)
    evaluated = len(feasible) + len(diagnosis.node_statuses)
    if len(feasible) == 1:
        return ScheduleResult(feasible[0].name, evaluated, 1), processed
    totals, _ = prioritize_nodes(fwk, state, pod, feasible)
    host = select_host(feasible, totals, rng)
    return ScheduleResult(host, evaluated, len(feasible)), processed
