"""PodTopologySpread: spreads pods over topology domains (zones, nodes, ...) as their
``topologySpreadConstraints`` ask (upstream pkg/scheduler/framework/plugins/podtopologyspread).

- PreFilter/Filter enforce the ``DoNotSchedule`` constraints: placing the pod on a node must keep
  ``matching pods in the node's domain + 1 - global minimum <= maxSkew`` (with ``minDomains``,
  ``nodeAffinityPolicy``, ``nodeTaintsPolicy`` and ``matchLabelKeys``); PreFilterExtensions keep
  the counts right for preemption and nominated pods.
- PreScore/Score/NormalizeScore prefer nodes whose domains have fewer matching pods for the
  ``ScheduleAnyway`` constraints, or for the default constraints (``PodTopologySpreadArgs``) when
  the pod has none, with a selector from the Services, ReplicaSets and StatefulSets selecting it.
"""

from __future__ import annotations

from kframe.scheduler import PluginFactory

from ..names import POD_TOPOLOGY_SPREAD
from ._args import SYSTEM_DEFAULT_CONSTRAINTS, PodTopologySpreadArgs
from ._filtering import ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH
from ._plugin import PodTopologySpread, new

__all__ = [
    "ERR_REASON_CONSTRAINTS_NOT_MATCH",
    "ERR_REASON_NODE_LABEL_NOT_MATCH",
    "FACTORIES",
    "SYSTEM_DEFAULT_CONSTRAINTS",
    "PodTopologySpread",
    "PodTopologySpreadArgs",
]

FACTORIES = {POD_TOPOLOGY_SPREAD: PluginFactory(new=new, args_type=PodTopologySpreadArgs)}
