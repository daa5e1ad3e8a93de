"""PodTopologySpread's remembered per-node counts against the plain all-node passes.

PreFilter and PreScore keep each node's topology values and matching-pod counts by NodeInfo
generation, and the last sums, updating only the nodes that changed. On random clusters, with
pods placed one after another (and nodes relabelled in between), both passes must give exactly
what the plain loop gives: the same counts in the same order, and the same critical paths.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import TopologySpreadConstraint
from kframe.scheduler import PodInfo
from kframe.scheduler._cache import SchedulerCache
from kframe.testing.scheduler import make_node, make_pod
from kframe_plugins.scheduler.podtopologyspread._common import build_constraints
from kframe_plugins.scheduler.podtopologyspread._filtering import calc_pre_filter_state
from kframe_plugins.scheduler.podtopologyspread._memo import NodeMemo
from kframe_plugins.scheduler.podtopologyspread._scoring import calc_pre_score_state

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def _constraint(key: str, when: str, app: str) -> TopologySpreadConstraint:
    return from_dict(
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"app": app}},
        },
        TopologySpreadConstraint,
    )


def _state(s: Any) -> tuple[Any, ...]:
    paths = [(p.value0, p.num0, p.value1, p.num1) for p in getattr(s, "paths", [])]
    return [list(c.items()) for c in s.counts], paths


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_remembered_counts_are_the_plain_passes(data: st.DataObject) -> None:
    zones = data.draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=12))
    cache = SchedulerCache()

    def node(i: int, zone: str | None) -> Any:
        labels = {HOST: f"n{i}", **({ZONE: zone} if zone else {})}
        return make_node(f"n{i}", labels=labels)

    for i, zone in enumerate(zones):
        cache.add_node(node(i, zone))
    memo = NodeMemo()
    keys = data.draw(st.lists(st.sampled_from([ZONE, HOST]), min_size=1, max_size=2, unique=True))
    for step in range(data.draw(st.integers(1, 12))):
        app = data.draw(st.sampled_from(["web", "db"]))
        pod = make_pod(
            f"p{step}",
            labels={"app": app},
            namespace=data.draw(st.sampled_from(["default", "other"])),
        )
        snapshot = cache.snapshot()
        nodes = snapshot.list()
        for when in ("DoNotSchedule", "ScheduleAnyway"):
            spec = [_constraint(k, when, "web") for k in keys]
            constraints = build_constraints(spec, {"app": app}, when)
            if when == "DoNotSchedule":
                fast = calc_pre_filter_state(pod, constraints, nodes, memo)
                plain = calc_pre_filter_state(pod, constraints, nodes)
            else:
                fast = calc_pre_score_state(pod, constraints, nodes[::2], nodes, True, memo)
                plain = calc_pre_score_state(pod, constraints, nodes[::2], nodes, True)
            assert _state(fast) == _state(plain)
        action = data.draw(st.sampled_from(["place", "place", "relabel"]))
        target = data.draw(st.integers(0, len(zones) - 1))
        if action == "place":
            assert pod.spec is not None
            placed = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=f"n{target}"))
            cache.assume_pod(PodInfo(placed), f"n{target}")
        else:
            cache.update_node(node(target, data.draw(st.sampled_from(["a", "b", "d", None]))))
