"""Which nodes count towards a spread constraint: the pod's required node affinity
(``nodeAffinityPolicy: Honor``) and the node's untolerated taints (``nodeTaintsPolicy: Honor``).

Upstream component-helpers nodeaffinity.GetRequiredNodeAffinity and
v1helper.FindMatchingUntoleratedTaint with helper.DoNotScheduleTaintsFilterFunc, which kframe.api
holds for every component (:class:`RequiredNodeAffinity`, :func:`find_untolerated_taint`). Both
are parsed once per pod, so checking a node is attribute reads and string compares.
"""

from __future__ import annotations

from kframe.api import RequiredNodeAffinity, compile_tolerations, find_untolerated_taint
from kframe.api.models import Node, Pod

__all__ = ["RequiredNodeAffinity", "Tolerations"]


class Tolerations:
    """A pod's tolerations, for finding a NoSchedule or NoExecute taint it does not tolerate."""

    __slots__ = ("_items",)

    def __init__(self, pod: Pod) -> None:
        spec = pod.spec
        self._items = compile_tolerations(spec.tolerations if spec else ())

    def tolerate_all(self, node: Node) -> bool:
        """No NoSchedule/NoExecute taint of the node is left untolerated."""
        spec = node.spec
        return spec is None or find_untolerated_taint(spec.taints, self._items) is None
