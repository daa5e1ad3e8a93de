"""SchedulingGates: a pod with ``spec.schedulingGates`` stays out of the active queue until they
are all removed (upstream pkg/scheduler/framework/plugins/schedulinggates)."""

from __future__ import annotations

from kframe.api.models import Pod
from kframe.scheduler import Code, Handle, PluginFactory, PreEnqueuePlugin, Status

from ..names import SCHEDULING_GATES

__all__ = ["FACTORIES", "SchedulingGates"]


class SchedulingGates:
    name = SCHEDULING_GATES

    def pre_enqueue(self, pod: Pod) -> Status | None:
        gates = pod.spec.scheduling_gates if pod.spec is not None else ()
        if not gates:
            return None
        # Go's %v of a []string: "[gate1 gate2]".
        names = " ".join(gate.name or "" for gate in gates)
        return Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"waiting for scheduling gates: [{names}]"
        )


def _new(args: None, handle: Handle) -> SchedulingGates:
    return SchedulingGates()


_pre_enqueue: type[PreEnqueuePlugin] = SchedulingGates

FACTORIES = {SCHEDULING_GATES: PluginFactory(new=_new)}
