"""Schedule a list of pods onto nodes offline, one after another, as the scheduler would.

For property tests and what-if questions: no API server and no binding; each pod is placed (or
not) with the same cycle code the scheduler runs, and counts on its node for the next pods.
Permit and the binding cycle are not run; PostFilter (preemption) is not either, since it would
delete pods.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

import attrs

from kframe.api.models import Node, Pod

from ._cache import SchedulerCache
from ._config import KubeSchedulerConfiguration
from ._cycle import FitError, schedule_pod
from ._cycle_state import CycleState
from ._framework import Framework
from ._interfaces import PluginFactory
from ._podinfo import PodInfo, pod_key

__all__ = ["Placement", "simulate"]


@attrs.frozen
class Placement:
    """Where a pod went (``node``), or why it did not (``message``, a FitError's)."""

    pod: str
    node: str | None
    message: str = ""


def simulate(
    nodes: Iterable[Node],
    pods: Sequence[Pod],
    *,
    config: KubeSchedulerConfiguration,
    factories: Callable[[str], PluginFactory],
    bound: Iterable[Pod] = (),
    objects: Sequence[object] = (),
    seed: int = 0,
) -> list[Placement]:
    """Place ``pods`` in order on ``nodes`` already running ``bound``; one Placement each."""
    cache = SchedulerCache()
    for node in nodes:
        cache.add_node(node)
    for pod in bound:
        cache.add_pod(pod)
    profiles = {
        p.scheduler_name: Framework(
            p,
            factories,
            percentage_of_nodes_to_score=config.percentage_of_nodes_to_score,
            objects=lambda cls: [o for o in objects if isinstance(o, cls)],
        )
        for p in config.profiles
    }
    rng = random.Random(seed)
    start = 0
    out: list[Placement] = []
    for pod in pods:
        name = (pod.spec.scheduler_name if pod.spec else None) or "default-scheduler"
        fwk = profiles.get(name)
        key = pod_key(pod)
        if fwk is None:
            out.append(Placement(key, None, f"no profile has schedulerName {name!r}"))
            continue
        gate = fwk.run_pre_enqueue_plugins(pod)
        if gate is not None:
            out.append(Placement(key, None, gate.message))
            continue
        snapshot = cache.snapshot()
        fwk.set_snapshot(snapshot)
        state = CycleState()
        try:
            result, processed = schedule_pod(fwk, state, pod, snapshot, rng, start_index=start)
        except FitError as err:
            out.append(Placement(key, None, err.message))
            continue
        start = (start + processed) % max(len(snapshot), 1)
        host = result.suggested_host
        assert pod.spec is not None
        placed = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=host))
        status = fwk.run_reserve_plugins(state, pod, host)
        if status is not None:
            fwk.run_unreserve_plugins(state, pod, host)
            out.append(Placement(key, None, status.message))
            continue
        cache.assume_pod(PodInfo(placed), host)
        out.append(Placement(key, host))
    return out
