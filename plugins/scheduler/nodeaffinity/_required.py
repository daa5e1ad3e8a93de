"""The pod's node affinity terms and the node's labels, as NodeAffinity reads them.

The matching itself is kframe.api's (upstream component-helpers): :class:`RequiredNodeAffinity`
for ``nodeSelector`` and the required terms, the compiled selectors for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kframe.api import RequiredNodeAffinity
from kframe.api.models import Node, NodeSelector, Pod, PreferredSchedulingTerm

__all__ = ["NO_LABELS", "RequiredNodeAffinity", "node_labels", "preferred_terms", "required_terms"]

NO_LABELS: Mapping[str, str] = {}


def required_terms(pod: Pod) -> NodeSelector | None:
    """``spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution``."""
    spec = pod.spec
    affinity = spec.affinity if spec is not None else None
    node_affinity = affinity.node_affinity if affinity is not None else None
    if node_affinity is None:
        return None
    return node_affinity.required_during_scheduling_ignored_during_execution


def preferred_terms(pod: Pod) -> Sequence[PreferredSchedulingTerm]:
    """``spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution``."""
    spec = pod.spec
    affinity = spec.affinity if spec is not None else None
    node_affinity = affinity.node_affinity if affinity is not None else None
    if node_affinity is None:
        return ()
    return node_affinity.preferred_during_scheduling_ignored_during_execution


def node_labels(node: Node | None) -> Mapping[str, str]:
    meta = node.metadata if node is not None else None
    return meta.labels if meta is not None else NO_LABELS
