"""Which nodes a DaemonSet's pod belongs on, and how its pods are pinned there (upstream
daemon_controller.go NodeShouldRunDaemonPod and daemon/util)."""

from __future__ import annotations

from typing import Any

import attrs

from kframe.api import RequiredNodeAffinity, compile_tolerations, find_untolerated_taint
from kframe.api.models import (
    Affinity,
    DaemonSet,
    Node,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodSpec,
    Toleration,
)

__all__ = [
    "add_daemon_tolerations",
    "node_should_run",
    "pin_to_node",
    "pod_sort_key",
    "target_node_name",
]

_NO_EXECUTE = frozenset({"NoExecute"})

# util.AddOrUpdateDaemonPodTolerations: daemons survive node problems and cordons.
_DEFAULT_TOLERATIONS = (
    Toleration(key="node.kubernetes.io/not-ready", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/disk-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/memory-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/pid-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/unschedulable", operator="Exists", effect="NoSchedule"),
)
_NETWORK_UNAVAILABLE = Toleration(
    key="node.kubernetes.io/network-unavailable", operator="Exists", effect="NoSchedule"
)


def _same(a: Toleration, b: Toleration) -> bool:
    # Toleration.MatchToleration: the same key, operator, value and effect.
    return (a.key or "", a.operator or "", a.value or "", a.effect or "") == (
        b.key or "",
        b.operator or "",
        b.value or "",
        b.effect or "",
    )


def add_daemon_tolerations(spec: PodSpec) -> PodSpec:
    """The spec with upstream's default daemon tolerations added (AddOrUpdateTolerationInPodSpec:
    an equal one already there is kept, not duplicated)."""
    tolerations = list(spec.tolerations or ())
    extra = [*_DEFAULT_TOLERATIONS, *((_NETWORK_UNAVAILABLE,) if spec.host_network else ())]
    for tol in extra:
        if not any(_same(tol, t) for t in tolerations):
            tolerations.append(tol)
    return attrs.evolve(spec, tolerations=tuple(tolerations))


def node_should_run(node: Node, ds: DaemonSet) -> tuple[bool, bool]:
    """(shouldRun, shouldContinueRunning) of NodeShouldRunDaemonPod: the node name, required
    node affinity and nodeSelector must fit; untolerated NoSchedule/NoExecute taints keep a new
    pod off, and only untolerated NoExecute ones evict a running one."""
    template = ds.spec.template if ds.spec is not None else None
    tspec = template.spec if template is not None and template.spec is not None else PodSpec()
    name = node.metadata.name if node.metadata is not None else ""
    if tspec.node_name and tspec.node_name != name:
        return False, False
    spec = add_daemon_tolerations(tspec)
    if not RequiredNodeAffinity(Pod(spec=spec)).matches_node(node):
        return False, False
    taints = (node.spec.taints if node.spec is not None else None) or ()
    tolerations = compile_tolerations(spec.tolerations or ())
    if find_untolerated_taint(taints, tolerations) is None:
        return True, True
    return False, find_untolerated_taint(taints, tolerations, _NO_EXECUTE) is None


def pin_to_node(affinity: Affinity | None, node_name: str) -> Affinity:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: required node affinity ``metadata.name In
    [node]`` in place of any other required terms (the controller has checked them), so the
    scheduler binds the pod to that node."""
    selector = NodeSelector(
        node_selector_terms=(
            NodeSelectorTerm(
                match_fields=(
                    NodeSelectorRequirement(
                        key="metadata.name", operator="In", values=(node_name,)
                    ),
                )
            ),
        )
    )
    if affinity is None:
        return Affinity(
            node_affinity=NodeAffinity(required_during_scheduling_ignored_during_execution=selector)
        )
    node_affinity = affinity.node_affinity or NodeAffinity()
    return attrs.evolve(
        affinity,
        node_affinity=attrs.evolve(
            node_affinity, required_during_scheduling_ignored_during_execution=selector
        ),
    )


def target_node_name(pod: Pod) -> str | None:
    """util.GetTargetNodeName: ``spec.nodeName``, else the node the required affinity pins."""
    spec = pod.spec
    if spec is None:
        return None
    if spec.node_name:
        return str(spec.node_name)
    affinity = spec.affinity
    node_affinity = affinity.node_affinity if affinity is not None else None
    required = (
        node_affinity.required_during_scheduling_ignored_during_execution
        if node_affinity is not None
        else None
    )
    for term in (required.node_selector_terms if required is not None else None) or ():
        for req in term.match_fields or ():
            if req.key == "metadata.name" and req.operator == "In":
                values = req.values or ()
                return values[0] if len(values) == 1 else None
    return None


def pod_sort_key(pod: Pod) -> tuple[bool, str, str]:
    """podByCreationTimestampAndPhase: scheduled pods first, then the oldest, then by name."""
    meta: Any = pod.metadata
    scheduled = bool(pod.spec is not None and pod.spec.node_name)
    return (not scheduled, str(meta.creation_timestamp or ""), meta.name or "")
