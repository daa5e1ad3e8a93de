"""What a pod requires of a node's labels and name, parsed once per pod.

Upstream component-helpers ``nodeaffinity.GetRequiredNodeAffinity``: the pod's ``nodeSelector``
(every label equal) and its required node affinity (terms ORed), both of which must hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kframe.api.models import Node, NodeSelector, Pod, PreferredSchedulingTerm

from ._selector import CompiledSelector, compile_selector

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


class RequiredNodeAffinity:
    """The pod's nodeSelector and required node affinity; parse errors never match
    (upstream ignores them here for backwards compatibility)."""

    __slots__ = ("affinity", "selector")

    def __init__(self, pod: Pod) -> None:
        spec = pod.spec
        node_selector = spec.node_selector if spec is not None else {}
        self.selector: tuple[tuple[str, str], ...] = tuple(node_selector.items())
        required = required_terms(pod)
        self.affinity: CompiledSelector | None = (
            compile_selector(required) if required is not None else None
        )

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        for key, value in self.selector:
            if labels.get(key) != value:
                return False
        if self.affinity is not None:
            return self.affinity.matches(labels, name)
        return True
