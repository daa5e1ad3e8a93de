"""NodePorts: a pod's host ports must be free on the node
(upstream pkg/scheduler/framework/plugins/nodeports).

PreFilter collects the pod's host ports (``hostIP``/``protocol``/``hostPort`` of its regular
containers, defaults 0.0.0.0 and TCP, as :attr:`kframe.scheduler.PodInfo.host_ports`) and Skips
when there are none; Filter rejects a node where one of them is taken (``Unschedulable``: evicting
the pod that holds the port can help).
"""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api.models import Pod
from kframe.scheduler import (
    Code,
    CycleState,
    FilterPlugin,
    Handle,
    NodeInfo,
    PluginFactory,
    PreFilterPlugin,
    PreFilterResult,
    Status,
)

from ..names import NODE_PORTS

__all__ = ["ERR_REASON", "FACTORIES", "PRE_FILTER_STATE_KEY", "NodePorts"]

PRE_FILTER_STATE_KEY = "PreFilter" + NODE_PORTS
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"

HostPort = tuple[str, str, int]


class NodePorts:
    name = NODE_PORTS

    def pre_filter(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> PreFilterResult | Status | None:
        ports = state.pod_info(pod).host_ports
        if not ports:
            return Status(Code.SKIP)
        state.write(PRE_FILTER_STATE_KEY, ports)
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        try:
            wanted: tuple[HostPort, ...] = state.read(PRE_FILTER_STATE_KEY)
        except KeyError:
            return Status(
                Code.ERROR, f'reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found'
            )
        used = node_info.used_ports
        for port in wanted:
            if used.conflicts(port):
                return Status(Code.UNSCHEDULABLE, ERR_REASON)
        return None


def _new(args: None, handle: Handle) -> NodePorts:
    return NodePorts()


_pre_filter: type[PreFilterPlugin] = NodePorts
_filter: type[FilterPlugin] = NodePorts

FACTORIES = {NODE_PORTS: PluginFactory(new=_new)}
