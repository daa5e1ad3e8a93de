"""NodeUnschedulable: keeps pods off cordoned nodes (``spec.unschedulable``) unless they tolerate
the ``node.kubernetes.io/unschedulable:NoSchedule`` taint
(upstream pkg/scheduler/framework/plugins/nodeunschedulable)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kframe.api.models import Pod, Toleration
from kframe.scheduler import (
    BatchFilterPlugin,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    PerNodeMemo,
    PluginFactory,
    Status,
)

from ..names import NODE_UNSCHEDULABLE

__all__ = [
    "ERR_REASON_UNSCHEDULABLE",
    "FACTORIES",
    "TAINT_NODE_UNSCHEDULABLE",
    "NodeUnschedulable",
    "tolerates_unschedulable",
]

ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


def tolerates_unschedulable(tolerations: Iterable[Toleration]) -> bool:
    """``TolerationsTolerateTaint`` for the taint ``{key: node.kubernetes.io/unschedulable,
    effect: NoSchedule}`` (no value), with ``ToleratesTaint``'s rules."""
    for t in tolerations:
        if t.effect and t.effect != "NoSchedule":
            continue
        if t.key and t.key != TAINT_NODE_UNSCHEDULABLE:
            continue
        op = t.operator or ""
        # An empty operator means Equal: the taint's value is empty.
        if op == "Exists" or (op in ("", "Equal") and not t.value):
            return True
    return False


class NodeUnschedulable:
    name = NODE_UNSCHEDULABLE

    def __init__(self) -> None:
        self._cordoned: PerNodeMemo[bool] = PerNodeMemo(keys=1)

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        node = node_info.node
        spec = node.spec if node is not None else None
        if spec is None or not spec.unschedulable:
            return None
        # A pod that tolerates the unschedulable taint also tolerates spec.unschedulable.
        if tolerates_unschedulable(pod.spec.tolerations if pod.spec is not None else ()):
            return None
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_UNSCHEDULABLE)

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> list[Status | None] | None:
        # Only a cordoned node can reject: filter answers for those. Most clusters have none;
        # which nodes are is remembered per node.
        flags = self._cordoned.get(None, nodes, lambda todo: [n.unschedulable for n in todo])
        if flags.count(False) == len(flags):  # False is one object: a C-speed count
            return None
        cordoned = [i for i, flag in enumerate(flags) if flag]
        out: list[Status | None] = [None] * len(nodes)
        for i in cordoned:
            out[i] = self.filter(state, pod, nodes[i])
        return out


def _new(args: None, handle: Handle) -> NodeUnschedulable:
    return NodeUnschedulable()


_filter: type[BatchFilterPlugin] = NodeUnschedulable

FACTORIES = {NODE_UNSCHEDULABLE: PluginFactory(new=_new)}
