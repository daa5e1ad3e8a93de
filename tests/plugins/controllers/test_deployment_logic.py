"""The deployment controller's pure logic: the pod-template-hash, replica arithmetic (cases from
upstream's deployment util and sync tests), annotations, planning, status and conditions."""

from __future__ import annotations

import datetime as _dt

import attrs
import pytest

from kframe.api.models import DeploymentStatus
from kframe_plugins.controllers.deployment._annotations import (
    DESIRED_REPLICAS_ANNOTATION,
    LAST_APPLIED_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    max_revision,
    new_replica_set_annotations,
)
from kframe_plugins.controllers.deployment._hash import (
    POD_TEMPLATE_HASH_LABEL,
    compute_hash,
    equal_ignore_hash,
    fnv32a,
    safe_encode_string,
    template_json,
)
from kframe_plugins.controllers.deployment._plan import (
    cleanup_candidates,
    is_scaling_event,
    plan_old_replica_sets,
    plan_proportional_scale,
    plan_rolling,
)
from kframe_plugins.controllers.deployment._replicas import (
    find_active_or_latest,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    replica_set_fraction,
    resolve_fenceposts,
)
from kframe_plugins.controllers.deployment._replicasets import (
    find_new_replica_set,
    make_new_replica_set,
)
from kframe_plugins.controllers.deployment._status import (
    NEW_RS_AVAILABLE_REASON,
    PROGRESSING,
    RS_UPDATED_REASON,
    TIMED_OUT_REASON,
    calculate_status,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    get_condition,
    new_condition,
    paused_condition,
    rollout_status,
    set_condition,
    stuck_requeue_after,
)
from tests.plugins.controllers.deployment_objects import T0, deployment, replica_set

# -- the hash -----------------------------------------------------------------------------------


def test_fnv32a_vectors() -> None:
    # The FNV reference vectors (Go's hash/fnv tests).
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert fnv32a(b"ab") == 0x4D2505CA
    assert fnv32a(b"abc") == 0x1A47E90B
    assert fnv32a(b"bc", fnv32a(b"a")) == fnv32a(b"abc")  # a sum continues


def test_safe_encode_string() -> None:
    # Each character by its code modulo 27 into "bcdfghjklmnpqrstvwxz2456789".
    assert safe_encode_string("0123456789") == "456789bcdf"
    assert safe_encode_string("") == ""
    assert safe_encode_string("abc") == "vwx"  # 97 % 27 = 16


def test_compute_hash() -> None:
    d = deployment()
    template = d.spec.template  # type: ignore[union-attr]
    plain = compute_hash(template, None)
    assert plain == safe_encode_string(str(fnv32a(template_json(template))))
    assert set(plain) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert compute_hash(template, None) == plain  # stable
    # A collision count, even 0, is hashed in (8 bytes after the template).
    zero = compute_hash(template, 0)
    assert zero == safe_encode_string(str(fnv32a(b"\0" * 8, fnv32a(template_json(template)))))
    assert len({plain, zero, compute_hash(template, 1), compute_hash(template, 2)}) == 4
    other = deployment(image="nginx:2").spec.template  # type: ignore[union-attr]
    assert compute_hash(other, None) != plain


def test_equal_ignore_hash() -> None:
    d = deployment()
    rs = make_new_replica_set(d, [], 1)
    assert rs.metadata is not None and rs.spec is not None
    assert POD_TEMPLATE_HASH_LABEL in (rs.spec.template.metadata.labels or {})  # type: ignore[union-attr]
    assert equal_ignore_hash(rs.spec.template, d.spec.template)  # type: ignore[union-attr]
    assert not equal_ignore_hash(rs.spec.template, deployment(image="x").spec.template)  # type: ignore[union-attr]


def test_make_new_replica_set() -> None:
    d = deployment(
        replicas=4, annotations={"kubernetes.io/change-cause": "v2", LAST_APPLIED_ANNOTATION: "{}"}
    )
    rs = make_new_replica_set(d, [], 3)
    assert rs.metadata is not None and rs.spec is not None and rs.spec.selector is not None
    hash_ = compute_hash(d.spec.template, None)  # type: ignore[union-attr]
    assert rs.metadata.name == f"web-{hash_}"
    assert rs.metadata.labels == {"app": "web", POD_TEMPLATE_HASH_LABEL: hash_}
    assert rs.spec.selector.match_labels == {"app": "web", POD_TEMPLATE_HASH_LABEL: hash_}
    assert rs.metadata.owner_references[0].uid == "uid-web"
    assert rs.metadata.owner_references[0].controller is True
    # A fresh Deployment: all replicas at once (nothing else holds pods).
    assert rs.spec.replicas == 4
    assert rs.metadata.annotations == {
        "kubernetes.io/change-cause": "v2",
        REVISION_ANNOTATION: "3",
        DESIRED_REPLICAS_ANNOTATION: "4",
        MAX_REPLICAS_ANNOTATION: "5",
    }
    collided = make_new_replica_set(
        attrs.evolve(d, status=DeploymentStatus(collision_count=1)), [], 1
    )
    assert collided.metadata.name != rs.metadata.name  # type: ignore[union-attr]


def test_find_new_replica_set_is_the_oldest_match() -> None:
    d = deployment(image="nginx:0")
    a = replica_set("a", replicas=1, age=5)
    b = replica_set("b", replicas=1, age=1)
    c = replica_set("c", replicas=1, age=0, image="other")
    assert find_new_replica_set(d, [a, b, c]) is b
    assert find_new_replica_set(deployment(image="none"), [a, b, c]) is None


# -- replica arithmetic (upstream deployment_util_test.go) --------------------------------------


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("0%", "0%", 0, (0, 1)),
        ("39%", "39%", 10, (4, 3)),
        (None, "39%", 10, (0, 3)),
        ("39%", None, 10, (4, 0)),
        (None, None, 10, (0, 1)),
        ("25%", "25%", 1, (1, 0)),
        ("25%", "25%", 3, (1, 0)),
        ("25%", "25%", 4, (1, 1)),
        (2, 0, 5, (2, 0)),
    ],
)
def test_resolve_fenceposts(
    surge: str | None, unavailable: str | None, desired: int, expected: tuple[int, int]
) -> None:
    assert resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(("surge", "unavailable"), [("oops", "39%"), ("55%", "urg")])
def test_resolve_fenceposts_rejects_bad_values(surge: str, unavailable: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        resolve_fenceposts(surge, unavailable, 10)


@pytest.mark.parametrize(
    ("strategy", "replicas", "new_replicas", "surge", "expected"),
    [
        ("RollingUpdate", 1, 5, 1, 5),  # can not scale up - to newRSReplicas
        ("RollingUpdate", 6, 2, 10, 6),  # scale up - to depReplicas
        ("Recreate", 3, 1, 1, 3),  # recreate - to depReplicas
    ],
)
def test_new_rs_new_replicas(
    strategy: str, replicas: int, new_replicas: int, surge: int, expected: int
) -> None:
    d = deployment(replicas=replicas, strategy=strategy, max_surge=surge, max_unavailable=1)
    rs5 = replica_set("rs5", replicas=5)
    new = replica_set("new", replicas=new_replicas)
    assert new_rs_new_replicas(d, [rs5], new) == expected


@pytest.mark.parametrize(
    ("replicas", "unavailable", "expected"),
    [(10, 5, 5), (10, 10, 10), (5, 10, 5), (0, 10, 0), (10, "60%", 6), (5, "100%", 5)],
)
def test_max_unavailable(replicas: int, unavailable: int | str, expected: int) -> None:
    assert (
        max_unavailable(deployment(replicas=replicas, max_surge=1, max_unavailable=unavailable))
        == expected
    )


def test_recreate_has_no_surge_nor_unavailability() -> None:
    d = deployment(strategy="Recreate", replicas=10)
    assert (max_surge(d), max_unavailable(d)) == (0, 0)


@pytest.mark.parametrize(
    ("replicas", "status_replicas", "surge", "rs_replicas", "annotations", "expected"),
    [
        (0, 0, 0, 10, {}, -10),  # empty deployment always scales to 0
        (10, 0, 0, 5, {}, 0),  # unsynced, max-replicas missing
        (10, 0, 0, 5, {MAX_REPLICAS_ANNOTATION: "0"}, 0),  # ... or zeroed
        (120, 100, 0, 50, {}, 10),  # missing: by status.replicas
        (120, 100, 0, 50, {MAX_REPLICAS_ANNOTATION: "0"}, 10),
        (120, 0, 0, 50, {MAX_REPLICAS_ANNOTATION: "100"}, 10),  # scale up by 1/5
        (120, 0, 10, 50, {MAX_REPLICAS_ANNOTATION: "110"}, 9),  # with maxSurge
        (10, 0, 0, 6, {MAX_REPLICAS_ANNOTATION: "12"}, -1),  # scale down by 1/6
        (100, 0, 10, 50, {MAX_REPLICAS_ANNOTATION: "130"}, -8),
    ],
)
def test_replica_set_fraction(
    replicas: int,
    status_replicas: int,
    surge: int,
    rs_replicas: int,
    annotations: dict[str, str],
    expected: int,
) -> None:
    d = deployment(
        replicas=replicas, max_surge=surge, max_unavailable=1, status={"replicas": status_replicas}
    )
    rs = replica_set("rs", replicas=rs_replicas, annotations=annotations)
    assert replica_set_fraction(rs, d) == expected


def _sized(name: str, replicas: int, age: int, was: int, surge: int = 0) -> object:
    return replica_set(
        name,
        replicas=replicas,
        age=age,
        annotations={
            DESIRED_REPLICAS_ANNOTATION: str(was),
            MAX_REPLICAS_ANNOTATION: str(was + surge),
        },
    )


@pytest.mark.parametrize(
    ("was", "now", "new", "olds", "expected_new", "expected_olds"),
    [
        (10, 12, 10, [], 12, []),  # normal scaling event
        (5, 10, 2, [3], 4, [6]),  # proportional scaling: 5 -> 10
        (5, 3, 2, [3], 1, [2]),  # 5 -> 3
        (9, 4, 8, [1], 4, [0]),  # 9 -> 4
        (7, 10, 2, [3, 2], 3, [4, 3]),  # 7 -> 10
        (13, 8, 2, [8, 3], 1, [5, 2]),  # 13 -> 8
    ],
)
def test_proportional_scale(
    was: int, now: int, new: int, olds: list[int], expected_new: int, expected_olds: list[int]
) -> None:
    """Upstream sync_test.go TestScale: the sizes after a scaling event mid-rollout."""
    d = deployment(replicas=now, max_surge=0, max_unavailable=1, image="nginx:9")
    new_rs = replica_set(
        "new",
        replicas=new,
        age=100,
        annotations=_sized("x", 0, 0, was).metadata.annotations,
        image="nginx:9",
    )  # type: ignore[attr-defined]
    old_rss = [_sized(f"old{i}", n, i, was) for i, n in enumerate(olds)]
    steps = plan_proportional_scale(d, new_rs, old_rss)  # type: ignore[arg-type]
    sizes = {s.rs.metadata.name: s.replicas for s in steps}  # type: ignore[union-attr]
    assert sizes.get("new", new) == expected_new
    assert [sizes.get(f"old{i}", n) for i, n in enumerate(olds)] == expected_olds


def test_saturated_new_replica_set_scales_old_ones_to_zero() -> None:
    d = deployment(replicas=3, image="nginx:9")
    new_rs = replica_set(
        "new", replicas=3, annotations={DESIRED_REPLICAS_ANNOTATION: "3"}, image="nginx:9"
    )
    old = replica_set("old", replicas=1)
    steps = plan_proportional_scale(d, new_rs, [old])
    assert [(s.rs.metadata.name, s.replicas) for s in steps] == [("old", 0)]  # type: ignore[union-attr]


def test_find_active_or_latest() -> None:
    new = replica_set("new", replicas=0, age=10)
    a = replica_set("a", replicas=0, age=1)
    b = replica_set("b", replicas=0, age=2)
    assert find_active_or_latest(new, [a, b]) is new
    assert find_active_or_latest(None, [a, b]) is b
    c = replica_set("c", replicas=2, age=3)
    assert find_active_or_latest(new, [a, c]) is c
    assert find_active_or_latest(replica_set("n", replicas=1), [c]) is None


def test_is_scaling_event() -> None:
    d = deployment(replicas=5)
    rs = replica_set("rs", replicas=3, annotations={DESIRED_REPLICAS_ANNOTATION: "3"})
    assert is_scaling_event(d, rs, [])
    assert not is_scaling_event(deployment(replicas=3), rs, [])
    assert not is_scaling_event(d, replica_set("rs", replicas=3), [])  # no annotation


# -- rolling update planning --------------------------------------------------------------------


def test_rolling_scales_up_within_surge_then_down_within_unavailability() -> None:
    d = deployment(replicas=10, max_surge=3, max_unavailable=2, image="nginx:9")
    old = replica_set("old", replicas=10, age=0)
    new = replica_set("new", replicas=0, age=1, image="nginx:9")
    kind, steps = plan_rolling(d, new, [old])
    assert kind == "new" and [s.replicas for s in steps] == [3]
    new = replica_set("new", replicas=3, available=0, age=1, image="nginx:9")
    kind, steps = plan_rolling(d, new, [old])
    # 13 pods, 8 must stay available, 3 new are unavailable: 2 old may go.
    assert kind == "old" and [(s.rs.metadata.name, s.replicas) for s in steps] == [("old", 8)]  # type: ignore[union-attr]


def test_unhealthy_old_replicas_go_first() -> None:
    """Upstream's case 1 in reconcileOldReplicaSets: unavailable new pods block further
    scale-down; unhealthy old pods are cleaned up within the budget."""
    d = deployment(replicas=10, max_surge=3, max_unavailable=2, image="nginx:9")
    old = replica_set("old", replicas=8, available=7, age=0)
    new = replica_set("new", replicas=5, available=0, age=1, image="nginx:9")
    assert plan_old_replica_sets(d, [old, new], [old], new) == []  # 13 - 8 - 5 = 0
    new = replica_set("new", replicas=5, available=4, age=1, image="nginx:9")
    steps = plan_old_replica_sets(d, [old, new], [old], new)
    # Budget 13 - 8 - 1 = 4: the unhealthy one goes (8 -> 7), then 11 available - 8 = 3 more.
    assert [s.replicas for s in steps] == [7, 4]


# -- annotations --------------------------------------------------------------------------------


def test_new_replica_set_annotations_revision_and_history() -> None:
    out, changed = new_replica_set_annotations(
        {"a": "1", LAST_APPLIED_ANNOTATION: "{}", REVISION_ANNOTATION: "9"},
        {REVISION_ANNOTATION: "1"},
        3,
        exists=True,
        desired=3,
        max_replicas=4,
    )
    assert changed
    assert out == {"a": "1", REVISION_ANNOTATION: "3", REVISION_HISTORY_ANNOTATION: "1"}
    again, _ = new_replica_set_annotations(
        {}, {**out, REVISION_ANNOTATION: "3"}, 5, exists=True, desired=3, max_replicas=4
    )
    assert again[REVISION_HISTORY_ANNOTATION] == "1,3"
    same, changed = new_replica_set_annotations(
        {"a": "1"}, out, 3, exists=True, desired=3, max_replicas=4
    )
    assert not changed and same == out
    # The history keeps the latest ones within the character limit.
    long, _ = new_replica_set_annotations(
        {},
        {REVISION_ANNOTATION: "7", REVISION_HISTORY_ANNOTATION: "1,2,3,4,5"},
        8,
        exists=True,
        desired=1,
        max_replicas=1,
        history_limit=9,
    )
    assert long[REVISION_HISTORY_ANNOTATION] == "2,3,4,5,7"  # 9 characters


def test_max_revision_skips_unparsable() -> None:
    rss = [
        replica_set("a", replicas=0, annotations={REVISION_ANNOTATION: "2"}),
        replica_set("b", replicas=0, annotations={REVISION_ANNOTATION: "x"}),
        replica_set("c", replicas=0, annotations={REVISION_ANNOTATION: "10"}),
    ]
    assert max_revision(rss) == 10


def test_cleanup_candidates() -> None:
    d = deployment(revisionHistoryLimit=1)
    olds = [
        replica_set(f"r{i}", replicas=0, age=i, annotations={REVISION_ANNOTATION: str(i)})
        for i in range(1, 5)
    ]
    names = [rs.metadata.name for rs in cleanup_candidates(d, olds)]  # type: ignore[union-attr]
    assert names == ["r1", "r2", "r3"]
    busy = [replica_set("busy", replicas=1, annotations={REVISION_ANNOTATION: "0"}), *olds[1:]]
    assert [rs.metadata.name for rs in cleanup_candidates(d, busy)] == ["r2", "r3"]  # type: ignore[union-attr]
    unobserved = [replica_set("u", replicas=0, generation=2, observed=1), *olds[1:]]
    assert [rs.metadata.name for rs in cleanup_candidates(d, unobserved)] == ["r2", "r3"]  # type: ignore[union-attr]
    assert cleanup_candidates(deployment(revisionHistoryLimit=10), olds) == []
    assert cleanup_candidates(deployment(revisionHistoryLimit=2**31 - 1), olds) == []


# -- status and conditions (upstream deployment_util_test.go, progress_test.go) ----------------


def _status(total: int, updated: int, ready: int, available: int, **kw: object) -> DeploymentStatus:
    return DeploymentStatus(
        replicas=total,
        updated_replicas=updated,
        ready_replicas=ready,
        available_replicas=available,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("desired", "current", "updated", "available", "unavailable", "surge", "expected"),
    [
        (5, 5, 5, 4, 1, 0, False),
        (5, 5, 5, 3, 1, 0, False),
        (5, 5, 5, 5, 0, 0, True),
        (5, 5, 4, 5, 0, 0, False),
        (1, 2, 1, 1, 0, 1, False),
        (1, 1, 1, 0, 1, 1, False),
    ],
)
def test_deployment_complete(
    desired: int,
    current: int,
    updated: int,
    available: int,
    unavailable: int,
    surge: int,
    expected: bool,
) -> None:
    d = deployment(replicas=desired, max_surge=surge, max_unavailable=unavailable, generation=0)
    assert deployment_complete(d, _status(current, updated, 0, available)) is expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ((10, 4, 4, 4), (10, 6, 4, 4), True),
        ((10, 4, 4, 4), (10, 4, 4, 4), False),
        ((10, 4, 6, 6), (8, 4, 6, 6), True),
        ((10, 7, 3, 3), (10, 6, 3, 3), False),
        ((10, 4, 7, 7), (8, 8, 5, 5), True),
        ((10, 10, 9, 8), (10, 10, 10, 8), True),
        ((10, 10, 10, 9), (10, 10, 10, 10), True),
    ],
)
def test_deployment_progressing(
    old: tuple[int, int, int, int], new: tuple[int, int, int, int], expected: bool
) -> None:
    d = attrs.evolve(deployment(), status=_status(*old))
    assert deployment_progressing(d, _status(*new)) is expected


def _at(minute: int, second: int) -> _dt.datetime:
    return _dt.datetime(2016, 1, 1, 0, minute, second, tzinfo=_dt.UTC)


@pytest.mark.parametrize(
    ("deadline", "reason", "since", "expected"),
    [
        (None, "", _at(1, 9), False),
        (2**31 - 1, "", _at(1, 9), False),
        (10, "", _at(1, 9), True),
        (10, "", _at(1, 11), False),
        (10, NEW_RS_AVAILABLE_REASON, _at(0, 0), False),
        (10, TIMED_OUT_REASON, _at(1, 19), True),
    ],
)
def test_deployment_timed_out(
    deadline: int | None, reason: str, since: _dt.datetime, expected: bool
) -> None:
    cond = new_condition(PROGRESSING, "True", reason, "", since)
    d = deployment(progressDeadlineSeconds=deadline)
    status = DeploymentStatus(conditions=(cond,))
    assert deployment_timed_out(d, status, _at(1, 20)) is expected


def test_set_condition_keeps_transition_time() -> None:
    first = new_condition(PROGRESSING, "True", "A", "m", T0)
    status = set_condition(DeploymentStatus(), first)
    later = T0 + _dt.timedelta(minutes=1)
    same = set_condition(status, new_condition(PROGRESSING, "True", "A", "other", later))
    assert same is status  # same status and reason: untouched
    moved = set_condition(status, new_condition(PROGRESSING, "True", "B", "m", later))
    cond = get_condition(moved, PROGRESSING)
    assert cond is not None and cond.reason == "B"
    assert cond.last_transition_time == T0 and cond.last_update_time == later
    flipped = get_condition(
        set_condition(status, new_condition(PROGRESSING, "False", "C", "m", later)), PROGRESSING
    )
    assert flipped is not None and flipped.last_transition_time == later


def test_calculate_status() -> None:
    d = deployment(replicas=4, max_surge=1, max_unavailable=1, generation=3, image="nginx:9")
    old = replica_set("old", replicas=2, available=2)
    new = replica_set("new", replicas=3, available=1, image="nginx:9")
    status = calculate_status([old, new], new, d)
    assert (status.observed_generation, status.replicas, status.updated_replicas) == (3, 5, 3)
    assert (status.ready_replicas, status.available_replicas, status.unavailable_replicas) == (
        3,
        3,
        2,
    )
    available = get_condition(status, "Available")
    assert available is not None and available.reason == "MinimumReplicasAvailable"
    assert available.message == "Deployment has minimum availability."
    low = calculate_status([replica_set("new", replicas=4, available=2)], None, d)
    cond = get_condition(low, "Available")
    assert cond is not None and cond.status == "False"
    assert cond.message == "Deployment does not have minimum availability."
    # Zeros are left out, as upstream's omitempty int32s.
    assert calculate_status([], None, deployment(replicas=0)).replicas is None


def test_rollout_status_messages() -> None:
    d = deployment(replicas=2, generation=1, image="nginx:9")
    new = replica_set("web-abc", replicas=2, available=1, image="nginx:9")
    moving = rollout_status([new], new, d, T0)
    cond = get_condition(moving, PROGRESSING)
    assert cond is not None and (cond.reason, cond.message) == (
        RS_UPDATED_REASON,
        'ReplicaSet "web-abc" is progressing.',
    )
    done = rollout_status(
        [replica_set("web-abc", replicas=2, image="nginx:9")],
        new,
        attrs.evolve(d, status=moving),
        T0,
    )
    cond = get_condition(done, PROGRESSING)
    assert cond is not None and cond.reason == NEW_RS_AVAILABLE_REASON
    assert cond.message == 'ReplicaSet "web-abc" has successfully progressed.'
    # Stuck: no progress for longer than the deadline.
    stuck_d = attrs.evolve(
        deployment(replicas=2, progressDeadlineSeconds=5, image="nginx:9"), status=moving
    )
    later = T0 + _dt.timedelta(seconds=6)
    assert stuck_requeue_after(stuck_d, rollout_status([new], new, stuck_d, T0), T0) == 6.0
    timed = get_condition(rollout_status([new], new, stuck_d, later), PROGRESSING)
    assert timed is not None and (timed.status, timed.reason) == ("False", TIMED_OUT_REASON)
    assert timed.message == 'ReplicaSet "web-abc" has timed out progressing.'


def test_rollout_status_copies_replica_failure() -> None:
    d = deployment(replicas=1, image="nginx:9")
    new = replica_set("new", replicas=1, available=0, image="nginx:9")
    failing = attrs.evolve(
        new,
        status=attrs.evolve(
            new.status,  # type: ignore[arg-type]
            conditions=(
                __import__(
                    "kframe.api.models", fromlist=["ReplicaSetCondition"]
                ).ReplicaSetCondition(
                    type="ReplicaFailure",
                    status="True",
                    reason="FailedCreate",
                    message="quota",
                    last_transition_time=T0,
                ),
            ),
        ),
    )
    status = rollout_status([failing], failing, d, T0)
    cond = get_condition(status, "ReplicaFailure")
    assert cond is not None and (cond.reason, cond.message, cond.last_update_time) == (
        "FailedCreate",
        "quota",
        T0,
    )
    cleared = rollout_status([new], new, attrs.evolve(d, status=status), T0)
    assert get_condition(cleared, "ReplicaFailure") is None


def test_paused_condition() -> None:
    d = deployment(paused=True, progressDeadlineSeconds=600)
    cond = paused_condition(d)
    assert cond is not None and (cond.status, cond.reason, cond.message) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    paused = attrs.evolve(d, status=DeploymentStatus(conditions=(cond,)))
    assert paused_condition(paused) is None
    resumed = attrs.evolve(paused, spec=attrs.evolve(paused.spec, paused=False))  # type: ignore[arg-type]
    cond = paused_condition(resumed)
    assert cond is not None and (cond.reason, cond.message) == (
        "DeploymentResumed",
        "Deployment is resumed",
    )
    timed = attrs.evolve(
        d,
        status=DeploymentStatus(
            conditions=(new_condition(PROGRESSING, "False", TIMED_OUT_REASON, ""),)
        ),
    )
    assert paused_condition(timed) is None


def test_a_stale_status_does_not_scale_down_twice() -> None:
    """Right after old 10 -> 8, its status still counts 10 available pods; a sync then must
    not take those 2 (about to be deleted) as room to scale down further (not upstream)."""
    d = deployment(replicas=10, max_surge=3, max_unavailable=2, image="nginx:9")
    old = replica_set("old", replicas=8, available=10, actual=10, age=0)
    new = replica_set("new", replicas=5, available=3, age=1, image="nginx:9")
    steps = plan_old_replica_sets(d, [old, new], [old], new)
    # 8 + 3 = 11 will stay available: 3 may go, leaving 5 + 3 = 8 = 10 - maxUnavailable.
    assert [s.replicas for s in steps] == [5]
