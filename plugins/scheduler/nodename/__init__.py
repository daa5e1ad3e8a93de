"""NodeName: a pod with ``spec.nodeName`` set fits only the node of that name
(upstream pkg/scheduler/framework/plugins/nodename)."""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api.models import Pod
from kframe.scheduler import (
    BatchFilterPlugin,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    PluginFactory,
    Status,
)

from ..names import NODE_NAME

__all__ = ["ERR_REASON", "FACTORIES", "NodeName", "fits"]

ERR_REASON = "node(s) didn't match the requested node name"


def fits(pod: Pod, node_info: NodeInfo) -> bool:
    """Whether the pod names no node, or this one."""
    wanted = pod.spec.node_name if pod.spec is not None else None
    return not wanted or wanted == node_info.name


class NodeName:
    name = NODE_NAME

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        if fits(pod, node_info):
            return None
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON)

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> list[Status | None] | None:
        if not (pod.spec.node_name if pod.spec is not None else None):
            return None  # a pod that names no node fits every node
        return [self.filter(state, pod, n) for n in nodes]


def _new(args: None, handle: Handle) -> NodeName:
    return NodeName()


_filter: type[BatchFilterPlugin] = NodeName

FACTORIES = {NODE_NAME: PluginFactory(new=_new)}
