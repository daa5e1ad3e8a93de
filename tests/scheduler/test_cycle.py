"""The cycle algorithm: how many nodes to check, the FitError message, host selection."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from kframe.scheduler import (
    Code,
    CycleState,
    Diagnosis,
    FitError,
    Framework,
    NoNodesAvailableError,
    PluginConfig,
    PluginRef,
    Plugins,
    PluginSet,
    Profile,
    Snapshot,
    Status,
    find_nodes_that_fit,
    num_feasible_nodes_to_find,
    schedule_pod,
    select_host,
)
from kframe.testing.scheduler import make_node, make_pod
from tests.scheduler import toyplugins as toy


@pytest.mark.parametrize(
    ("percentage", "nodes", "expected"),
    [
        # upstream TestNumFeasibleNodesToFind
        (None, 10, 10),
        (40, 10, 10),
        (None, 1000, 420),
        (40, 1000, 400),
        (None, 6000, 300),
        (40, 6000, 2400),
        (None, 5000, 500),
        (None, 100, 100),
        (10, 150, 100),
        (100, 7, 7),
    ],
)
def test_num_feasible_nodes_to_find(percentage: int | None, nodes: int, expected: int) -> None:
    assert num_feasible_nodes_to_find(percentage, nodes) == expected


def test_fit_error_message_counts_reasons_as_upstream() -> None:
    d = Diagnosis(
        node_statuses={
            "a": Status(Code.UNSCHEDULABLE, "Insufficient cpu", "Insufficient memory"),
            "b": Status(Code.UNSCHEDULABLE, "Insufficient cpu"),
            "c": Status(
                Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "node(s) had untolerated taint {k: v}"
            ),
        }
    )
    error = FitError(make_pod("p"), 3, d)
    assert str(error) == (
        "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint "
        "{k: v}, 2 Insufficient cpu."
    )
    d.post_filter_msg = "preemption: 0/3 nodes are available: 3 No preemption victims found "
    d.post_filter_msg += "for incoming pod."
    assert str(FitError(make_pod("p"), 3, d)).endswith("for incoming pod..")


def test_fit_error_says_a_pre_filter_rejection_once() -> None:
    d = Diagnosis(pre_filter_msg="node(s) didn't satisfy plugin NodeAffinity")
    assert str(FitError(make_pod("p"), 5, d)) == (
        "0/5 nodes are available: node(s) didn't satisfy plugin NodeAffinity."
    )


def test_absent_nodes_count_with_the_absent_status() -> None:
    d = Diagnosis(
        node_statuses={"a": Status(Code.UNSCHEDULABLE, "x")},
        absent_status=Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "node(s) didn't satisfy y"),
    )
    assert str(FitError(make_pod("p"), 4, d)) == (
        "0/4 nodes are available: 1 x, 3 node(s) didn't satisfy y."
    )


def test_select_host_picks_uniformly_among_ties_and_repeats_with_a_seed() -> None:
    snap = Snapshot.build([make_node(f"n{i}") for i in range(4)])
    nodes = snap.list()
    totals = [5, 9, 9, 1]
    picks = Counter(select_host(nodes, totals, random.Random(i)) for i in range(400))
    assert set(picks) == {"n1", "n2"}
    assert min(picks.values()) > 120
    assert select_host(nodes, totals, random.Random(3)) == select_host(
        nodes, totals, random.Random(3)
    )


def _framework(reject: list[str]) -> Framework:
    p = Profile(
        plugins=Plugins(
            multi_point=PluginSet(
                enabled=tuple(PluginRef(name=n) for n in ("Sort", "Binder", "RejectNode", "ByName"))
            )
        ),
        plugin_config=(PluginConfig(name="RejectNode", args={"names": reject}),),
    )
    return Framework(p, toy.lookup(toy.factories()))


def test_round_robin_start_and_sampling_over_100_nodes() -> None:
    snap = Snapshot.build([make_node(f"n{i:03}") for i in range(200)])
    fwk = _framework([])
    feasible, _, processed = find_nodes_that_fit(
        fwk, CycleState(), make_pod("p"), snap, start_index=150
    )
    # 200 nodes: the adaptive 49% gives 98, raised to the 100 minimum; starting at node 150.
    assert len(feasible) == processed == 100
    assert feasible[0].name == "n150" and feasible[60].name == "n010"


def test_schedule_pod_picks_the_best_and_raises_fit_error() -> None:
    snap = Snapshot.build([make_node(n) for n in ("n1", "n2", "n3")])
    fwk = _framework(["n3"])
    result, _ = schedule_pod(fwk, CycleState(), make_pod("p"), snap, random.Random(0))
    assert result.suggested_host == "n2"
    assert (result.evaluated_nodes, result.feasible_nodes) == (3, 2)
    fwk = _framework(["n1", "n2", "n3"])
    with pytest.raises(FitError) as info:
        schedule_pod(fwk, CycleState(), make_pod("p"), snap, random.Random(0))
    assert str(info.value) == (
        "0/3 nodes are available: 1 rejected n1, 1 rejected n2, 1 rejected n3."
    )


def test_schedule_pod_with_no_nodes_raises_upstreams_no_nodes_available() -> None:
    with pytest.raises(NoNodesAvailableError) as info:
        schedule_pod(
            _framework([]), CycleState(), make_pod("p"), Snapshot.build([]), random.Random(0)
        )
    assert isinstance(info.value, FitError)
    assert str(info.value) == info.value.message == "no nodes available to schedule pods"
