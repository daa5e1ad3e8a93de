"""The garbage collector's dependency graph alone: which uids each event queues for
attempt-to-delete and attempt-to-orphan (upstream graph_builder.go's rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from kframe.api.models import OwnerReference
from kframe_plugins.controllers.garbagecollector import Graph, Identity
from tests.plugins.controllers.gc_objects import config_map, pod, ref, replica_set

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Queues:
    def __init__(self) -> None:
        self.delete: list[str] = []
        self.orphan: list[str] = []
        self.retried: list[str] = []
        self.invalid: list[tuple[str, str]] = []

    def graph(self) -> Graph:
        return Graph(
            self.delete.append,
            self.orphan.append,
            retry_delete=self.retried.append,
            invalid_owner=lambda node, uid: self.invalid.append((node.uid, uid)),
        )


def _with_uid(obj: Any, uid: str) -> Any:
    return attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, uid=uid))


def _marked(obj: Any, *finalizers: str) -> Any:
    meta = attrs.evolve(obj.metadata, deletion_timestamp=NOW, finalizers=finalizers)
    return attrs.evolve(obj, metadata=meta)


def _owner_ref(name: str, uid: str, kind: str = "ReplicaSet", block: bool = True) -> OwnerReference:
    return OwnerReference(
        api_version="apps/v1" if kind == "ReplicaSet" else "v1",
        kind=kind,
        name=name,
        uid=uid,
        block_owner_deletion=block,
    )


def test_an_unknown_owner_becomes_a_virtual_node_to_verify() -> None:
    q = Queues()
    graph = q.graph()
    graph.observe(_with_uid(pod("p", owners=(_owner_ref("rs", "rs-1"),)), "p-1"))
    node = graph.get("rs-1")
    assert node is not None and node.virtual and list(node.dependents) == ["p-1"]
    assert q.delete == ["rs-1"]
    # The owner observed: no longer virtual, nothing queued for a matching dependent.
    graph.observe(_with_uid(replica_set("rs"), "rs-1"))
    assert not node.virtual and q.delete == ["rs-1"]


def test_a_verified_absent_owner_queues_its_dependents() -> None:
    q = Queues()
    graph = q.graph()
    graph.observe(_with_uid(pod("p", owners=(_owner_ref("rs", "rs-1"),)), "p-1"))
    virtual = graph.get("rs-1")
    assert virtual is not None
    identity = virtual.identity
    graph.virtual_delete(identity)
    assert graph.get("rs-1") is None
    assert identity in graph.absent
    assert q.delete == ["rs-1", "p-1"]


def test_dependents_that_disagree_keep_the_virtual_node_under_another_identity() -> None:
    q = Queues()
    graph = q.graph()
    graph.observe(_with_uid(pod("a", owners=(_owner_ref("rs", "u"),)), "a-1"))
    graph.observe(_with_uid(pod("b", owners=(_owner_ref("cm", "u", kind="ConfigMap"),)), "b-1"))
    node = graph.get("u")
    assert node is not None and node.identity.kind == "ReplicaSet"
    graph.virtual_delete(node.identity)
    # "a" named the verified-absent identity: it is queued; "b" knows the uid otherwise.
    assert graph.get("u") is node and node.identity.kind == "ConfigMap"
    assert "a-1" in q.delete and q.retried == ["u"]


def test_an_observed_node_is_not_dropped_by_a_lookup_by_other_coordinates() -> None:
    q = Queues()
    graph = q.graph()
    rs = _with_uid(replica_set("rs"), "rs-1")
    graph.observe(rs)
    graph.observe(_with_uid(pod("p", owners=(_owner_ref("other-name", "rs-1"),)), "p-1"))
    assert q.delete == ["p-1"]  # coordinates disagree with the observed owner: verify it
    graph.virtual_delete(Identity("apps/v1", "ReplicaSet", "other-name", "rs-1", "default"))
    assert graph.get("rs-1") is not None
    assert q.delete == ["p-1", "p-1"]


def test_a_namespace_mismatch_with_an_observed_owner_is_reported() -> None:
    q = Queues()
    graph = q.graph()
    graph.observe(_with_uid(replica_set("rs", namespace="a"), "rs-1"))
    graph.observe(_with_uid(pod("p", namespace="b", owners=(_owner_ref("rs", "rs-1"),)), "p-1"))
    assert q.invalid == [("p-1", "rs-1")] and q.delete == ["p-1"]


def test_foreground_and_orphan_transitions() -> None:
    q = Queues()
    graph = q.graph()
    rs = _with_uid(replica_set("rs"), "rs-1")
    graph.observe(rs)
    child = _with_uid(pod("p", owners=(ref(rs),)), "p-1")
    graph.observe(child)
    graph.observe(_marked(rs, "foregroundDeletion"), rs)
    node = graph.get("rs-1")
    assert node is not None and node.deleting_dependents and node.being_deleted
    assert q.delete == ["p-1", "rs-1"]
    assert [d.uid for d in node.blocking_dependents()] == ["p-1"]
    # The blocking reference becomes non-blocking: the owner is looked at again.
    loose = attrs.evolve(
        child,
        metadata=attrs.evolve(child.metadata, owner_references=(ref(rs, block=False),)),
    )
    graph.observe(loose, child)
    assert q.delete[-1] == "rs-1" and not node.blocking_dependents()

    cm = _with_uid(config_map("cm"), "cm-1")
    graph.observe(cm)
    graph.observe(_marked(cm, "orphan"), cm)
    assert q.orphan == ["cm-1"]
    # A dependent seen afterwards re-runs the orphaning.
    graph.observe(_with_uid(config_map("late", owners=(ref(cm),)), "late-1"))
    assert q.orphan == ["cm-1", "cm-1"]


def test_a_deleted_owner_queues_dependents_and_waiting_owners() -> None:
    q = Queues()
    graph = q.graph()
    top = _with_uid(replica_set("top"), "top-1")
    mid = _with_uid(config_map("mid", owners=(ref(top),)), "mid-1")
    leaf = _with_uid(config_map("leaf", owners=(ref(mid),)), "leaf-1")
    for obj in (top, mid, leaf):
        graph.observe(obj)
    graph.observe(_marked(top, "foregroundDeletion"), top)
    q.delete.clear()
    graph.forget(mid)
    assert q.delete == ["leaf-1", "top-1"]
    owner = graph.get("top-1")
    assert graph.get("mid-1") is None and owner is not None and not owner.dependents
