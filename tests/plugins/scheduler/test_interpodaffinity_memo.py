"""InterPodAffinity's remembered per-node counts against the plain passes: with pods placed one
after another (some with affinity or anti-affinity), the existing anti-affinity counts, the
incoming pod's affinity and anti-affinity counts and the PreScore sums are the same either way."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.scheduler import PodInfo
from kframe.scheduler._cache import SchedulerCache
from kframe.testing.scheduler import StaticHandle, make_node, make_pod
from kframe_plugins.scheduler.interpodaffinity._filtering import (
    NodeMemo,
    existing_anti_affinity_counts,
    incoming_counts,
)
from kframe_plugins.scheduler.interpodaffinity._scoring import topology_scores
from kframe_plugins.scheduler.interpodaffinity._terms import Namespaces, parse_pod_terms

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def _pod(name: str, app: str, kind: str | None, key: str) -> Any:
    spec: dict[str, Any] = {}
    if kind is not None:
        spec["affinity"] = {
            kind: {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": key}
                ],
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 3,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": {"app": "db"}},
                            "topologyKey": ZONE,
                        },
                    }
                ],
            }
        }
    return make_pod(name, labels={"app": app}, spec=spec)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_remembered_counts_are_the_plain_passes(data: st.DataObject) -> None:
    zones = data.draw(st.lists(st.sampled_from(["a", "b", None]), min_size=1, max_size=10))
    cache = SchedulerCache()
    for i, zone in enumerate(zones):
        labels = {HOST: f"n{i}", **({ZONE: zone} if zone else {})}
        cache.add_node(make_node(f"n{i}", labels=labels))
    memo = NodeMemo()
    running_memo = NodeMemo()
    for step in range(data.draw(st.integers(1, 12))):
        pod = _pod(
            f"p{step}",
            data.draw(st.sampled_from(["web", "db"])),
            data.draw(st.sampled_from([None, "podAffinity", "podAntiAffinity"])),
            data.draw(st.sampled_from([ZONE, HOST])),
        )
        snapshot = cache.snapshot()
        terms = parse_pod_terms(pod, Namespaces(StaticHandle(snapshot)))
        affinity, anti = terms.required_affinity, terms.required_anti_affinity
        nodes = snapshot.list()
        with_anti = snapshot.have_pods_with_required_anti_affinity()
        assert existing_anti_affinity_counts(pod, {}, with_anti, memo) == (
            existing_anti_affinity_counts(pod, {}, with_anti)
        )
        assert incoming_counts(affinity, anti, nodes, memo) == incoming_counts(
            affinity, anti, nodes
        )
        # Kept from step to step over the snapshot's list (the scheduler's cycle).
        assert existing_anti_affinity_counts(pod, {}, with_anti, memo, all_nodes=nodes) == (
            existing_anti_affinity_counts(pod, {}, with_anti)
        )
        assert incoming_counts(affinity, anti, nodes, running_memo, running=True) == (
            incoming_counts(affinity, anti, nodes)
        )
        for all_pods in (False, True):
            fast = topology_scores(pod, terms, {}, 1, nodes, all_pods, memo)
            assert fast == topology_scores(pod, terms, {}, 1, nodes, all_pods)
        target = f"n{data.draw(st.integers(0, len(zones) - 1))}"
        assert pod.spec is not None
        placed = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=target))
        cache.assume_pod(PodInfo(placed), target)
        if step and data.draw(st.integers(0, 3)) == 0:  # and sometimes one goes away
            cache.forget_pod(f"default/p{data.draw(st.integers(0, step - 1))}")
