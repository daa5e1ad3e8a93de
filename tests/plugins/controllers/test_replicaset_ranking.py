"""Which pods a ReplicaSet deletes first: upstream's TestSortingActivePodsWithRanks cases
(controller_utils_test.go) and properties of the order."""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Pod
from kframe_plugins.controllers.replicaset import (
    POD_DELETION_COST,
    deletion_precedes,
    pod_facts,
    pods_to_delete,
)
from kframe_plugins.controllers.replicaset._ranking import PodFacts, deletion_cost

NOW = _dt.datetime(2026, 6, 1, 12, 0, 0, tzinfo=_dt.UTC)
MONTH_AGO = NOW - _dt.timedelta(days=31)
HOURS_2 = NOW - _dt.timedelta(hours=2)
HOURS_5 = NOW - _dt.timedelta(hours=5)
HOURS_8 = NOW - _dt.timedelta(hours=8)


def _time(t: _dt.datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(
    name: str,
    node: str,
    phase: str,
    ready: bool,
    restarts: int = 0,
    ready_since: _dt.datetime | None = None,
    created: _dt.datetime | None = None,
    annotations: Mapping[str, str] | None = None,
    uid: str = "",
) -> Pod:
    status: dict[str, object] = {"phase": phase}
    if ready:
        cond: dict[str, object] = {"type": "Ready", "status": "True"}
        if ready_since is not None:
            cond["lastTransitionTime"] = _time(ready_since)
        status["conditions"] = [cond]
        status["containerStatuses"] = [
            {"name": "c", "image": "i", "imageID": "", "ready": True, "restartCount": restarts}
        ]
    meta: dict[str, object] = {"name": name, "namespace": "default"}
    if created is not None:
        meta["creationTimestamp"] = _time(created)
    if annotations:
        meta["annotations"] = dict(annotations)
    if uid:
        meta["uid"] = uid
    body = {
        "metadata": meta,
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
        "status": status,
    }
    return from_dict(body, Pod)


UNSCHEDULED = pod("unscheduled", "", "Pending", False)
SCHEDULED_PENDING = pod("pending", "node", "Pending", False)
UNKNOWN_PHASE = pod("unknown-phase", "node", "Unknown", False)
RUNNING_NOT_READY = pod("not-ready", "node", "Running", False)
READY_NO_TRANSITION = pod("ready-no-last-transition-time", "node", "Running", True)
READY_NOW = pod("ready-now", "node", "Running", True, 0, NOW, NOW)
READY_THEN = pod("ready-then", "node", "Running", True, 0, MONTH_AGO, MONTH_AGO)
READY_HIGH_RESTARTS = pod("ready-high-restarts", "node", "Running", True, 9001, NOW, NOW)
READY_NOW_CREATED_THEN = pod("ready-now-created-then", "node", "Running", True, 0, NOW, MONTH_AGO)
LOW_COST = pod(
    "low-deletion-cost", "node", "Running", True, 0, NOW, MONTH_AGO, {POD_DELETION_COST: "10"}
)
HIGH_COST = pod(
    "high-deletion-cost", "node", "Running", True, 0, NOW, MONTH_AGO, {POD_DELETION_COST: "100"}
)
UNSCHEDULED_5H = pod("unscheduled-5-hours", "", "Pending", False, 0, HOURS_5, HOURS_5)
UNSCHEDULED_8H = pod("unscheduled-10-hours", "", "Pending", False, 0, HOURS_8, HOURS_8)
READY_2H = pod("ready-2-hours", "", "Running", True, 0, HOURS_2, MONTH_AGO)
READY_5H = pod("ready-5-hours", "", "Running", True, 0, HOURS_5, MONTH_AGO)
READY_8H = pod("ready-10-hours", "", "Running", True, 0, HOURS_8, MONTH_AGO)


def less(a: Pod, rank_a: int, b: Pod, rank_b: int) -> bool:
    return deletion_precedes(pod_facts(a, rank_a), pod_facts(b, rank_b), NOW)


@pytest.mark.parametrize(
    ("p1", "p2"),
    [
        (UNSCHEDULED, UNSCHEDULED),
        (SCHEDULED_PENDING, SCHEDULED_PENDING),
        (UNKNOWN_PHASE, UNKNOWN_PHASE),
        (RUNNING_NOT_READY, RUNNING_NOT_READY),
        (READY_NOW_CREATED_THEN, READY_NOW_CREATED_THEN),
        (READY_NOW, READY_NOW),
        (READY_THEN, READY_THEN),
        (READY_HIGH_RESTARTS, READY_HIGH_RESTARTS),
        # Same log2 bucket of age, same (empty) uid: equivalent.
        (UNSCHEDULED_5H, UNSCHEDULED_8H),
        (READY_5H, READY_8H),
    ],
)
def test_equivalent_pods(p1: Pod, p2: Pod) -> None:
    assert not less(p1, 1, p2, 1) and not less(p2, 1, p1, 1)


@pytest.mark.parametrize(
    ("lesser", "lesser_rank", "greater", "greater_rank"),
    [
        (UNSCHEDULED, 1, SCHEDULED_PENDING, 2),
        (UNSCHEDULED, 2, SCHEDULED_PENDING, 1),
        (SCHEDULED_PENDING, 1, UNKNOWN_PHASE, 2),
        (UNKNOWN_PHASE, 1, RUNNING_NOT_READY, 2),
        (RUNNING_NOT_READY, 1, READY_NO_TRANSITION, 1),
        (READY_NO_TRANSITION, 1, READY_NOW, 1),
        (READY_NOW, 2, READY_NO_TRANSITION, 1),
        (READY_NOW, 1, READY_THEN, 1),
        (READY_NOW, 2, READY_THEN, 1),
        (READY_HIGH_RESTARTS, 1, READY_NOW, 1),
        (READY_NOW, 2, READY_HIGH_RESTARTS, 1),
        (READY_NOW, 1, READY_NOW_CREATED_THEN, 1),
        (READY_NOW_CREATED_THEN, 2, READY_NOW, 1),
        (LOW_COST, 2, HIGH_COST, 1),
        (READY_2H, 1, READY_5H, 1),
    ],
)
def test_deleted_first(lesser: Pod, lesser_rank: int, greater: Pod, greater_rank: int) -> None:
    assert less(lesser, lesser_rank, greater, greater_rank)
    assert not less(greater, greater_rank, lesser, lesser_rank)


def test_a_tie_in_log_bucket_goes_by_uid() -> None:
    a = pod("a", "node", "Running", True, 0, HOURS_5, MONTH_AGO, uid="aaa")
    b = pod("b", "node", "Running", True, 0, HOURS_8, MONTH_AGO, uid="bbb")
    assert less(a, 1, b, 1) and not less(b, 1, a, 1)


@pytest.mark.parametrize(
    ("raw", "cost"),
    [("10", 10), ("-5", -5), ("+7", 7), ("x", 0), (" 1", 0), ("1_0", 0), (str(2**31), 0)],
)
def test_deletion_cost_annotation(raw: str, cost: int) -> None:
    p = pod("p", "node", "Running", True, annotations={POD_DELETION_COST: raw})
    assert deletion_cost(p) == cost


def test_pods_doubled_up_on_a_node_go_first() -> None:
    """getPodsRankedByRelatedPodsOnSameNode: the rank counts the related pods on the node."""
    pods = [
        pod(f"p{i}", node, "Running", True, 0, MONTH_AGO, MONTH_AGO, uid=f"u{i}")
        for i, node in enumerate(["a", "a", "b", "c"])
    ]
    victims = pods_to_delete(pods, pods, 1, NOW)
    assert victims[0].metadata.name in ("p0", "p1")  # type: ignore[union-attr]
    # Related pods of a sibling ReplicaSet on node c make c the most crowded.
    sibling = [pod(f"s{i}", "c", "Running", True, uid=f"s{i}") for i in range(3)]
    victims = pods_to_delete(pods, [*pods, *sibling], 1, NOW)
    assert [v.metadata.name for v in victims] == ["p3"]  # type: ignore[union-attr]
    # Deleting all of them needs no order.
    assert pods_to_delete(pods, pods, 4, NOW) == pods


# -- properties -------------------------------------------------------------------------------

_seconds = st.integers(min_value=0, max_value=90 * 86_400)


@st.composite
def facts_lists(draw: st.DrawFn) -> list[PodFacts]:
    """Pods with distinct uids, ready times and creation times (equal times among distinct
    pods are where upstream's comparison stops being a weak order: see the note below)."""
    n = draw(st.integers(min_value=1, max_value=8))
    ready_ages = draw(st.lists(_seconds, min_size=n, max_size=n, unique=True))
    created_ages = draw(st.lists(_seconds, min_size=n, max_size=n, unique=True))
    out = []
    for i in range(n):
        ready = draw(st.booleans())
        out.append(
            PodFacts(
                node=draw(st.sampled_from(["", "a", "b"])),
                phase=draw(st.sampled_from([0, 1, 2])),
                ready=ready,
                cost=draw(st.sampled_from([0, 0, -1, 5])),
                ready_since=(
                    NOW - _dt.timedelta(seconds=ready_ages[i])
                    if ready and draw(st.booleans())
                    else None
                ),
                restarts=draw(st.sampled_from([0, 0, 1, 3])),
                created=(
                    NOW - _dt.timedelta(seconds=created_ages[i]) if draw(st.booleans()) else None
                ),
                uid=f"uid-{i:02d}",
                rank=draw(st.integers(min_value=0, max_value=3)),
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(facts_lists())
def test_the_order_is_a_strict_weak_order(facts: list[PodFacts]) -> None:
    """Irreflexive, asymmetric, transitive, and incomparability is transitive. (Upstream's
    Less is not one when two pods share a ready or creation time but differ in uid within a
    log bucket: Go's sort tolerates that, and so does Python's.)"""

    def lt(a: PodFacts, b: PodFacts) -> bool:
        return deletion_precedes(a, b, NOW)

    for a in facts:
        assert not lt(a, a)
    for a, b in itertools.permutations(facts, 2):
        assert not (lt(a, b) and lt(b, a))
    for a, b, c in itertools.permutations(facts, 3):
        if lt(a, b) and lt(b, c):
            assert lt(a, c)
        incomparable_ab = not lt(a, b) and not lt(b, a)
        incomparable_bc = not lt(b, c) and not lt(c, b)
        if incomparable_ab and incomparable_bc:
            assert not lt(a, c) and not lt(c, a)


@st.composite
def replica_pods(draw: st.DrawFn) -> list[Pod]:
    """Pods as the kubelet leaves them: only a running, scheduled pod is ready."""
    n = draw(st.integers(min_value=1, max_value=10))
    out = []
    for i in range(n):
        node = draw(st.sampled_from(["", "n1", "n2"]))
        phase = "Pending" if not node else draw(st.sampled_from(["Pending", "Unknown", "Running"]))
        ready = phase == "Running" and draw(st.booleans())
        since = NOW - _dt.timedelta(seconds=draw(_seconds)) if ready else None
        created = NOW - _dt.timedelta(seconds=draw(_seconds))
        annotations = (
            {POD_DELETION_COST: str(draw(st.integers(-3, 3)))} if draw(st.booleans()) else None
        )
        restarts = draw(st.integers(0, 3))
        out.append(
            pod(f"p{i}", node, phase, ready, restarts, since, created, annotations, uid=f"u{i:02d}")
        )
    return out


@settings(max_examples=200, deadline=None)
@given(replica_pods(), st.data())
def test_scale_down_never_deletes_a_ready_pod_while_an_unready_one_remains(
    pods: list[Pod], data: st.DataObject
) -> None:
    diff = data.draw(st.integers(min_value=0, max_value=len(pods)))
    victims = pods_to_delete(pods, pods, diff, NOW)
    assert len(victims) == diff
    names = {v.metadata.name for v in victims}  # type: ignore[union-attr]
    kept = [p for p in pods if p.metadata.name not in names]  # type: ignore[union-attr]
    if any(pod_facts(v, 0).ready for v in victims):
        assert all(pod_facts(k, 0).ready for k in kept)
