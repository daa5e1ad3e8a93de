"""Cluster-level properties of the default profile, for random clusters and pod streams:
nothing is overcommitted, every placed pod passes every filter on its node, explain agrees
with the scheduler, and a seed fixes the placements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api.models import Node, Pod
from kframe.registry import build_registry
from kframe.scheduler import (
    CycleState,
    Framework,
    PodInfo,
    Snapshot,
    explain,
    parse_config,
    registry_factories,
    simulate,
)
from kframe.testing.scheduler import make_node, make_pod

CONFIG = parse_config({})
FACTORIES = registry_factories(build_registry())
ZONES = ["a", "b"]


@st.composite
def nodes(draw: st.DrawFn) -> list[Node]:
    count = draw(st.integers(1, 6))
    out = []
    for i in range(count):
        taints = (
            [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
            if draw(st.booleans()) and i
            else []
        )
        out.append(
            make_node(
                f"n{i}",
                cpu=draw(st.sampled_from(["1", "2", "4"])),
                memory=draw(st.sampled_from(["1Gi", "4Gi"])),
                pods=draw(st.sampled_from(["3", "110"])),
                labels={"topology.kubernetes.io/zone": draw(st.sampled_from(ZONES))},
                taints=taints,
            )
        )
    return out


@st.composite
def pods(draw: st.DrawFn) -> list[Pod]:
    out = []
    for i in range(draw(st.integers(1, 10))):
        spec: dict[str, Any] = {}
        if draw(st.booleans()):
            spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
        if draw(st.integers(0, 3)) == 0:
            spec["nodeSelector"] = {"topology.kubernetes.io/zone": draw(st.sampled_from(ZONES))}
        app = draw(st.sampled_from(["web", "db"]))
        if draw(st.integers(0, 3)) == 0:
            spec["affinity"] = {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "labelSelector": {"matchLabels": {"app": app}},
                            "topologyKey": "kubernetes.io/hostname",
                        }
                    ]
                }
            }
        if draw(st.integers(0, 4)) == 0:
            spec["containers"] = [
                {
                    "name": "c",
                    "image": "nginx",
                    "ports": [{"containerPort": 80, "hostPort": 8080}],
                    "resources": {"requests": {"cpu": "100m"}},
                }
            ]
        out.append(
            make_pod(
                f"p{i}",
                cpu=draw(st.sampled_from([None, "250m", "500m", "1"])),
                memory=draw(st.sampled_from([None, "256Mi", "1Gi"])),
                labels={"app": app},
                priority=draw(st.integers(0, 2)),
                spec=spec,
            )
        )
    return out


def _placed(pods: Sequence[Pod], placements: Sequence[Any]) -> list[Pod]:
    by_key = {p.pod: p.node for p in placements}
    out = []
    for pod in pods:
        node = by_key[f"default/{pod.metadata.name}"]  # type: ignore[union-attr]
        if node is not None:
            out.append(attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=node)))
    return out


@settings(max_examples=60)
@given(nodes(), pods(), st.integers(0, 3))
def test_no_node_is_overcommitted_and_each_pod_passes_every_filter_on_its_node(
    cluster: list[Node], stream: list[Pod], seed: int
) -> None:
    placements = simulate(cluster, stream, config=CONFIG, factories=FACTORIES, seed=seed)
    placed = _placed(stream, placements)
    snapshot = Snapshot.build(cluster, placed)
    for info in snapshot.list():
        assert info.requested.milli_cpu <= info.allocatable.milli_cpu
        assert info.requested.memory <= info.allocatable.memory
        assert len(info.pods) <= info.allocatable.allowed_pod_number
    fwk = Framework(CONFIG.profiles[0], FACTORIES)
    for pod in placed:
        assert pod.spec is not None and pod.spec.node_name is not None
        others = [p for p in placed if p is not pod]
        without = Snapshot.build(cluster, others)
        fwk.set_snapshot(without)
        unbound = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=None))
        state = CycleState(PodInfo(unbound))
        _, status, _ = fwk.run_pre_filter_plugins(state, unbound, without.list())
        assert status is None, status
        verdict = fwk.run_filter_plugins(state, unbound, without.get(pod.spec.node_name))
        assert verdict is None, (pod.metadata.name if pod.metadata else "", verdict)


@settings(max_examples=60)
@given(nodes(), pods(), st.integers(0, 3))
def test_explain_agrees_with_the_scheduler_and_a_seed_fixes_placements(
    cluster: list[Node], stream: list[Pod], seed: int
) -> None:
    first = simulate(cluster, stream, config=CONFIG, factories=FACTORIES, seed=seed)
    assert simulate(cluster, stream, config=CONFIG, factories=FACTORIES, seed=seed) == first
    # The last pod, scheduled onto the cluster the others made: explain picks the same node.
    *before, last = stream
    bound = _placed(before, first[:-1])
    doc = explain(last, cluster, bound, config=CONFIG, factories=FACTORIES, seed=seed)
    alone = simulate(cluster, [last], config=CONFIG, factories=FACTORIES, bound=bound, seed=seed)
    assert doc["selectedNode"] == alone[0].node
    feasible = [n for n, v in doc["nodes"].items() if v["filter"]["code"] == "Success"]
    if doc["selectedNode"] is not None:
        best = max(doc["nodes"][n]["finalScore"] for n in feasible)
        assert doc["nodes"][doc["selectedNode"]]["finalScore"] == best
    else:
        assert not feasible
