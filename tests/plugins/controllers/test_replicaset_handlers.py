"""The replicaset controller's informer handlers (what wakes which ReplicaSet, what counts
against its expectations), and the remembered pod facts against a plain recount."""

from __future__ import annotations

import asyncio
import datetime as _dt
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Pod, ReplicaSet
from kframe.client import object_key
from kframe.controller import ControllerContext, SharedInformers
from kframe_plugins.controllers.replicaset import ReplicaSetController
from kframe_plugins.controllers.replicaset._status import count_replicas
from tests.plugins.controllers.replicaset_objects import replica_set

NOW = _dt.datetime(2026, 6, 1, 12, 0, 0, tzinfo=_dt.UTC)


class Recorder:
    def __init__(self) -> None:
        self.added: list[str] = []
        self.after: list[tuple[str, float]] = []

    def add(self, key: str) -> None:
        self.added.append(key)

    def add_after(self, key: str, delay: float) -> None:
        self.after.append((key, delay))


def make() -> tuple[ReplicaSetController, Recorder]:
    client: Any = object()
    ctx = ControllerContext("replicaset-controller", client, SharedInformers(client))
    queue = Recorder()
    ctx.queue = queue  # type: ignore[assignment]
    return ReplicaSetController(ctx), queue


def stored(rsc: ReplicaSetController, rs: ReplicaSet, uid: str) -> ReplicaSet:
    assert rs.metadata is not None
    rs = attrs.evolve(rs, metadata=attrs.evolve(rs.metadata, uid=uid))
    rsc.sets.store.put(rs)
    return rs


def a_pod(
    name: str,
    labels: dict[str, str],
    *,
    owner: ReplicaSet | None = None,
    rv: str = "1",
    ready: bool = False,
    deleting: bool = False,
) -> Pod:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "uid": f"uid-{name}",
        "labels": labels,
        "resourceVersion": rv,
    }
    if owner is not None:
        assert owner.metadata is not None
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": owner.metadata.name,
                "uid": owner.metadata.uid,
                "controller": True,
            }
        ]
    if deleting:
        meta["deletionTimestamp"] = "2026-06-01T12:00:00Z"
    status: dict[str, Any] = {"phase": "Running"}
    if ready:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-06-01T11:59:00Z"}
        ]
    body = {
        "metadata": meta,
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
        "status": status,
    }
    return from_dict(body, Pod)


def test_a_pod_added_is_a_creation_observed_by_its_owner_only() -> None:
    rsc, queue = make()
    web = stored(rsc, replica_set("web"), "w")
    key = object_key(web)
    rsc.expectations.expect_creations(key, 2)
    rsc._pod_observed(a_pod("p1", {"app": "web"}, owner=web))
    assert rsc.expectations.pending(key) == (1, 0) and queue.added == [key]
    # A controller reference naming another uid under the same name: not ours.
    impostor = attrs.evolve(web, metadata=attrs.evolve(web.metadata, uid="other"))  # type: ignore[arg-type]
    rsc._pod_observed(a_pod("p2", {"app": "web"}, owner=impostor))
    assert rsc.expectations.pending(key) == (1, 0) and queue.added == [key]


def test_a_pod_first_seen_being_deleted_counts_as_a_deletion() -> None:
    rsc, _queue = make()
    web = stored(rsc, replica_set("web"), "w")
    key = object_key(web)
    rsc.expectations.expect(key, adds=1, deletes=1)
    rsc.deleting[key] = {"default/p1"}
    rsc._pod_observed(a_pod("p1", {"app": "web"}, owner=web, deleting=True))
    assert rsc.expectations.pending(key) == (1, 0)


def test_an_orphan_wakes_every_replica_set_selecting_it() -> None:
    rsc, queue = make()
    stored(rsc, replica_set("web"), "w")
    stored(rsc, replica_set("web2", labels={"app": "web"}), "w2")
    stored(rsc, replica_set("db"), "d")
    rsc._pod_observed(a_pod("p", {"app": "web"}))
    assert sorted(queue.added) == ["default/web", "default/web2"]
    queue.added.clear()
    rsc._pod_observed(a_pod("bare", {}))
    assert queue.added == []  # no labels: no ReplicaSet matches


def test_marked_for_deletion_is_the_deletion_observed() -> None:
    rsc, _queue = make()
    web = stored(rsc, replica_set("web"), "w")
    key = object_key(web)
    old = a_pod("p", {"app": "web"}, owner=web, rv="1")
    rsc._pod_observed(old)
    other = a_pod("q", {"app": "web"}, owner=web)
    rsc._pod_observed(other)
    rsc.expectations.expect_deletions(key, 2)
    rsc.deleting[key] = {"default/p", "default/q"}
    marked = a_pod("p", {"app": "web"}, owner=web, rv="2", deleting=True)
    rsc._pod_changed(old, marked)
    assert rsc.expectations.pending(key) == (0, 1)
    # Later updates and the final removal of the same pod count no more (upstream tracks the
    # keys of the pods it deletes: UIDTrackingControllerExpectations).
    rsc._pod_changed(marked, a_pod("p", {"app": "web"}, owner=web, rv="3", deleting=True))
    rsc._pod_gone(marked)
    assert rsc.expectations.pending(key) == (0, 1)
    # Nor does a pod deleted by someone else.
    stranger = a_pod("s", {"app": "web"}, owner=web)
    rsc._pod_observed(stranger)
    rsc._pod_gone(stranger)
    assert rsc.expectations.pending(key) == (0, 1)
    rsc._pod_gone(other)
    assert rsc.expectations.satisfied(key)


def test_a_resync_of_the_same_version_wakes_nobody() -> None:
    rsc, queue = make()
    web = stored(rsc, replica_set("web"), "w")
    pod = a_pod("p", {"app": "web"}, owner=web)
    rsc._pod_changed(pod, pod)
    assert queue.added == []


def test_a_relabelled_orphan_wakes_the_replica_sets_it_matches_now() -> None:
    rsc, queue = make()
    stored(rsc, replica_set("web"), "w")
    stored(rsc, replica_set("db"), "d")
    rsc._pod_changed(a_pod("p", {"app": "web"}, rv="1"), a_pod("p", {"app": "db"}, rv="2"))
    assert queue.added == ["default/db"]


def test_a_changed_controller_wakes_the_old_and_the_new_owner() -> None:
    rsc, queue = make()
    web = stored(rsc, replica_set("web"), "w")
    db = stored(rsc, replica_set("db"), "d")
    rsc._pod_changed(
        a_pod("p", {"app": "web"}, owner=web, rv="1"),
        a_pod("p", {"app": "web"}, owner=db, rv="2"),
    )
    assert queue.added == ["default/web", "default/db"]


def test_becoming_ready_wakes_again_after_min_ready_seconds_and_a_second() -> None:
    rsc, queue = make()
    web = stored(rsc, replica_set("web", minReadySeconds=10), "w")
    rsc._pod_changed(
        a_pod("p", {"app": "web"}, owner=web, rv="1"),
        a_pod("p", {"app": "web"}, owner=web, rv="2", ready=True),
    )
    assert queue.added == ["default/web"] and queue.after == [("default/web", 11.0)]
    plain = stored(rsc, replica_set("plain"), "p")
    rsc._pod_changed(
        a_pod("q", {"app": "plain"}, owner=plain, rv="1"),
        a_pod("q", {"app": "plain"}, owner=plain, rv="2", ready=True),
    )
    assert queue.after == [("default/web", 11.0)]


def test_a_deleted_pod_is_observed_and_forgotten() -> None:
    rsc, _queue = make()
    web = stored(rsc, replica_set("web"), "w")
    key = object_key(web)
    pod = a_pod("p", {"app": "web"}, owner=web)
    rsc._pod_observed(pod)
    assert [e.pod for e in rsc.facts.owned("w")] == [pod]
    rsc.expectations.expect_deletions(key, 1)
    rsc.deleting[key] = {"default/p"}
    rsc._pod_gone(pod)
    assert rsc.expectations.satisfied(key) and list(rsc.facts.owned("w")) == []
    assert len(rsc.facts) == 0


def test_a_deleted_replica_set_forgets_its_expectations() -> None:
    rsc, queue = make()
    web = stored(rsc, replica_set("web"), "w")
    key = object_key(web)
    rsc.expectations.expect_creations(key, 3)
    rsc.deleting[key] = {"default/p"}
    rsc._rs_deleted(web)
    assert rsc.expectations.pending(key) == (0, 0) and queue.added == [key]
    assert key not in rsc.deleting


# -- remembered facts against a plain recount ---------------------------------------------------


@st.composite
def pod_histories(draw: st.DrawFn) -> list[Pod]:
    """Versions of a few pods, in the order the informer would see them."""
    out = []
    for i in range(draw(st.integers(0, 12))):
        name = f"p{draw(st.integers(0, 4))}"
        labels = draw(st.sampled_from([{"app": "web"}, {"app": "web", "tier": "x"}, {"app": "no"}]))
        status: dict[str, Any] = {"phase": draw(st.sampled_from(["Running", "Pending", "Failed"]))}
        if draw(st.booleans()):
            since = NOW - _dt.timedelta(seconds=draw(st.integers(0, 20)))
            status["conditions"] = [
                {
                    "type": "Ready",
                    "status": "True",
                    "lastTransitionTime": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ]
        meta: dict[str, Any] = {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "labels": labels,
            "resourceVersion": str(i + 1),
        }
        if draw(st.booleans()):
            meta["ownerReferences"] = [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web",
                    "uid": "w",
                    "controller": True,
                }
            ]
        if draw(st.integers(0, 4)) == 0:
            meta["deletionTimestamp"] = "2026-06-01T12:00:00Z"
        out.append(from_dict({"metadata": meta, "spec": {"containers": []}, "status": status}, Pod))
    return out


@settings(max_examples=150, deadline=None)
@given(pod_histories(), st.sampled_from([0, 5, 30]), st.booleans())
def test_remembered_counts_equal_a_recount(
    history: list[Pod], min_ready: int, gone_last: bool
) -> None:
    async def main() -> None:
        rsc, _ = make()
        rs = replica_set("web", minReadySeconds=min_ready)
        assert rs.spec is not None and rs.spec.template is not None
        template = attrs.evolve(
            rs.spec.template,
            metadata=attrs.evolve(rs.spec.template.metadata, labels={"app": "web", "tier": "x"}),  # type: ignore[arg-type]
        )
        web = stored(rsc, attrs.evolve(rs, spec=attrs.evolve(rs.spec, template=template)), "w")
        held: dict[str, Pod] = {}
        for pod in history:
            name = pod.metadata.name  # type: ignore[union-attr]
            old = held.get(name)  # type: ignore[arg-type]
            held[name] = pod  # type: ignore[index]
            rsc.pods.store.put(pod)
            if old is None:
                rsc._pod_observed(pod)
            else:
                rsc._pod_changed(old, pod)
        if gone_last and history:
            last = history[-1]
            rsc.pods.store.remove(object_key(last))
            held.pop(last.metadata.name)  # type: ignore[arg-type, union-attr]
            rsc._pod_gone(last)
        selector = rsc.facts.intern_selector(*_selector_of(web))
        owned = [p for p in held.values() if p.metadata is not None and p.metadata.owner_references]
        active = [
            p
            for p in owned
            if p.status is not None
            and p.status.phase != "Failed"
            and p.metadata is not None
            and p.metadata.deletion_timestamp is None
            and selector.matches(p.metadata.labels or {})
        ]
        terminating = [
            p
            for p in owned
            if p.metadata is not None
            and p.metadata.deletion_timestamp is not None
            and p.status is not None
            and p.status.phase != "Failed"
            and selector.matches(p.metadata.labels or {})
        ]
        # Owned pods that match need no API call; the rest (to release) are left out here.
        entries = [e for e in rsc.facts.owned("w") if e.active and rsc.facts.matches(e, selector)]
        assert sorted(e.pod.metadata.name for e in entries) == sorted(  # type: ignore[union-attr, type-var]
            p.metadata.name
            for p in active  # type: ignore[union-attr]
        )
        fast = rsc._count(web, entries, len(terminating), NOW)
        assert fast == count_replicas(web, active, terminating, NOW)

    asyncio.run(main())


def _selector_of(rs: ReplicaSet) -> tuple[Any]:
    from kframe_plugins.controllers.replicaset._controller import _selector

    sel = _selector(rs)
    assert sel is not None
    return (sel,)
