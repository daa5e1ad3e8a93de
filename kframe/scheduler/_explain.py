"""``kframe scheduler explain``: why one pod would go where, evaluated offline on every node.

Runs the profile the pod names (``spec.schedulerName``) over a snapshot of the given nodes and
bound pods, with no sampling: each node gets its Filter verdict (the first rejecting PreFilter or
Filter plugin) and, if feasible, every Score plugin's raw, normalized and weighted score. The
chosen node is picked exactly as the scheduler picks it (same tie-break for the same seed).
The JSON shape is documented in docs/scheduler.md and kept stable.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kframe.api.models import Node, Pod

from ._config import ConfigError, KubeSchedulerConfiguration
from ._cycle import find_nodes_that_fit, prioritize_nodes, select_host
from ._cycle_state import CycleState
from ._framework import Framework
from ._interfaces import PluginFactory
from ._podinfo import pod_key
from ._snapshot import Snapshot
from ._status import Code, Status

__all__ = ["explain", "explain_objects"]


def _verdict(status: Status | None) -> dict[str, Any]:
    if status is None:
        return {"code": Code.SUCCESS.label, "plugin": None, "reasons": []}
    return {"code": status.code.label, "plugin": status.plugin, "reasons": list(status.reasons)}


def _profile_for(pod: Pod, config: KubeSchedulerConfiguration) -> Any:
    name = (pod.spec.scheduler_name if pod.spec else None) or "default-scheduler"
    for profile in config.profiles:
        if profile.scheduler_name == name:
            return profile
    known = ", ".join(p.scheduler_name for p in config.profiles)
    raise ConfigError(f"no profile has schedulerName {name!r} (profiles: {known})")


def explain(
    pod: Pod,
    nodes: Sequence[Node],
    bound_pods: Iterable[Pod],
    *,
    config: KubeSchedulerConfiguration,
    factories: Callable[[str], PluginFactory],
    objects: Sequence[object] = (),
    seed: int = 0,
) -> dict[str, Any]:
    """The explain document for ``pod`` on these nodes (see the module docstring)."""
    snapshot = Snapshot.build(nodes, bound_pods)
    fwk = Framework(
        _profile_for(pod, config),
        factories,
        percentage_of_nodes_to_score=config.percentage_of_nodes_to_score,
        objects=lambda cls: [o for o in objects if isinstance(o, cls)],
    )
    fwk.set_snapshot(snapshot)
    order = [n.metadata.name for n in nodes if n.metadata and n.metadata.name]
    verdicts: dict[str, dict[str, Any]] = {}
    selected: str | None = None
    gate = fwk.run_pre_enqueue_plugins(pod)
    if gate is not None:
        verdicts = {name: _rejected(gate) for name in order}
        return _document(pod, selected, order, verdicts)
    state = CycleState()
    feasible, diagnosis, _ = find_nodes_that_fit(fwk, state, pod, snapshot, percentage=100)
    for name in order:
        status = diagnosis.status_of(name)
        if status is not None and status.plugin is None and diagnosis.unschedulable_plugins:
            # Ruled out by a PreFilter plugin's node set: name the plugin that narrowed it.
            status = Status(
                status.code, *status.reasons, plugin=sorted(diagnosis.unschedulable_plugins)[0]
            )
        verdicts[name] = _rejected(status) if status is not None else {}
    if feasible:
        totals, details = prioritize_nodes(fwk, state, pod, feasible, keep_raw=True)
        for i, node in enumerate(feasible):
            verdicts[node.name] = {
                "filter": _verdict(None),
                "scores": {
                    d.plugin: {
                        "raw": d.raw[i],
                        "normalized": d.normalized[i],
                        "weighted": d.normalized[i] * d.weight,
                    }
                    for d in details
                },
                "finalScore": totals[i],
            }
        selected = (
            feasible[0].name
            if len(feasible) == 1
            else select_host(feasible, totals, random.Random(seed))
        )
    return _document(pod, selected, order, verdicts)


def _rejected(status: Status) -> dict[str, Any]:
    return {"filter": _verdict(status), "scores": {}, "finalScore": None}


def _document(
    pod: Pod, selected: str | None, order: list[str], verdicts: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    return {
        "pod": pod_key(pod),
        "selectedNode": selected,
        "nodes": {name: verdicts[name] for name in order if verdicts.get(name)},
    }


def explain_objects(
    objects: Sequence[object],
    pod_ref: str,
    *,
    config: KubeSchedulerConfiguration,
    factories: Callable[[str], PluginFactory],
    seed: int = 0,
) -> dict[str, Any]:
    """Explain for a decoded cluster file: Nodes, Pods (bound ones have ``spec.nodeName``) and
    any other objects plugins list (Namespaces, Services, ...). ``pod_ref`` is
    ``namespace/name`` (or ``name`` in ``default``). Raises ValueError with a user message."""
    ns, _, name = pod_ref.rpartition("/")
    key = f"{ns or 'default'}/{name}"
    nodes = [o for o in objects if isinstance(o, Node)]
    pods = [o for o in objects if isinstance(o, Pod)]
    target = [p for p in pods if p.metadata and pod_key(p) == key]
    if not target:
        raise ValueError(f"pod {key} is not in the cluster file")
    pod = target[0]
    if pod.spec is None:
        raise ValueError(f"pod {key} has no spec")
    if pod.spec.node_name:
        raise ValueError(f"pod {key} is already bound to node {pod.spec.node_name!r}")
    bound = [p for p in pods if p is not pod and p.spec and p.spec.node_name]
    others = [o for o in objects if not isinstance(o, Node | Pod)]
    return explain(pod, nodes, bound, config=config, factories=factories, objects=others, seed=seed)
