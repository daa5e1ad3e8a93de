"""DefaultPreemption: when no node fits a pod, evict lower-priority pods from one node to make
room and nominate that node (upstream pkg/scheduler/framework/plugins/defaultpreemption and
pkg/scheduler/framework/preemption, Kubernetes 1.33).

A PostFilter plugin. A pod with ``preemptionPolicy: Never``, or whose victims from an earlier
preemption are still terminating on its nominated node, does not preempt. Otherwise the nodes
whose Filter status was ``Unschedulable`` are dry-run, from a random offset, until
``minCandidateNodesPercentage``/``minCandidateNodesAbsolute`` candidates are found: on a copy of
the node all lower-priority pods are removed, the profile's filters are run (with nominated
pods), and as many pods as still let the pod fit are put back, most important first and
PodDisruptionBudget-violating ones before the others. The node is chosen by fewest PDB
violations, then lowest highest victim priority, smallest sum of priorities, fewest victims,
latest start of the highest-priority victims. Its victims get a ``DisruptionTarget`` condition
and are deleted, lower-priority pods nominated there lose their nomination, and the pod is
nominated to the node.
"""

from __future__ import annotations

from kframe.scheduler import PluginFactory

from ..names import DEFAULT_PREEMPTION
from ._args import DefaultPreemptionArgs, validate_args
from ._evaluator import Evaluator, PreemptionInterface, lower_priority_nominated_pods
from ._executor import Executor
from ._plugin import (
    NO_VICTIMS,
    NOT_ELIGIBLE_NEVER,
    NOT_ELIGIBLE_TERMINATING,
    DefaultPreemption,
    IsEligiblePodFunc,
    MoreImportantPodFunc,
    new,
)
from ._victims import (
    Candidate,
    DisruptionBudget,
    Victims,
    filter_pods_with_pdb_violation,
    more_important_pod,
    pick_one_node_for_preemption,
    pod_terminating_by_preemption,
)

__all__ = [
    "FACTORIES",
    "DefaultPreemption",
    "DefaultPreemptionArgs",
    "validate_args",
    "IsEligiblePodFunc",
    "MoreImportantPodFunc",
    # the Evaluator, for preemption plugins with their own rules
    "Evaluator",
    "Executor",
    "PreemptionInterface",
    "Candidate",
    "Victims",
    "DisruptionBudget",
    "filter_pods_with_pdb_violation",
    "lower_priority_nominated_pods",
    "more_important_pod",
    "pick_one_node_for_preemption",
    "pod_terminating_by_preemption",
    # messages
    "NO_VICTIMS",
    "NOT_ELIGIBLE_NEVER",
    "NOT_ELIGIBLE_TERMINATING",
]

FACTORIES = {DEFAULT_PREEMPTION: PluginFactory(new=new, args_type=DefaultPreemptionArgs)}
