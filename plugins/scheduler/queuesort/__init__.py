"""PrioritySort: the active queue's order, higher ``spec.priority`` first (a pod without one has
priority 0), then the pod that entered the queue earlier
(upstream pkg/scheduler/framework/plugins/queuesort)."""

from __future__ import annotations

from kframe.api.models import Pod
from kframe.scheduler import Handle, PluginFactory, QueuedPodInfo, QueueSortPlugin

from ..names import PRIORITY_SORT

__all__ = ["FACTORIES", "PrioritySort", "pod_priority"]


def pod_priority(pod: Pod) -> int:
    """``corev1helpers.PodPriority``: ``spec.priority``, or 0 when it is not set."""
    priority = pod.spec.priority if pod.spec is not None else None
    return priority if priority is not None else 0


class PrioritySort:
    name = PRIORITY_SORT

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        p1, p2 = pod_priority(a.pod), pod_priority(b.pod)
        return p1 > p2 or (p1 == p2 and a.timestamp < b.timestamp)

    def sort_key(self, qpi: QueuedPodInfo) -> tuple[int, float]:
        # Higher priority first, then earlier: ``less`` as a tuple comparison.
        return (-pod_priority(qpi.pod), qpi.timestamp)


def _new(args: None, handle: Handle) -> PrioritySort:
    return PrioritySort()


_queue_sort: type[QueueSortPlugin] = PrioritySort

FACTORIES = {PRIORITY_SORT: PluginFactory(new=_new)}
