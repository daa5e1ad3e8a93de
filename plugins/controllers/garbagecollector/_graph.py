"""The dependency graph the garbage collector keeps (upstream pkg/controller/garbagecollector,
graph.go and graph_builder.go).

A node per object uid, observed through an informer or "virtual": named by a dependent's owner
reference and not seen yet. Each informer event updates the graph at once (the handlers are
synchronous, so on the event loop every change applies whole, as upstream's single
processGraphChanges goroutine does) and puts the nodes that need work on the collector's two
queues: attempt-to-delete and attempt-to-orphan, both keyed by uid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from kframe.api.models import OwnerReference

__all__ = [
    "FOREGROUND",
    "ORPHAN",
    "AbsentOwners",
    "Graph",
    "Identity",
    "Node",
    "has_finalizer",
]

#: The finalizers the API server records propagation policies as.
ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"

# How many verified-absent owners are remembered (upstream's absentOwnerCache size).
ABSENT_OWNER_CACHE_SIZE = 500


@attrs.frozen
class Identity:
    """An object's coordinates: an owner reference's plus the namespace (upstream
    objectReference). A virtual node takes its dependent's namespace."""

    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str | None = None

    @classmethod
    def of(cls, obj: Any) -> Identity:
        meta = obj.metadata
        return cls(type(obj).API_VERSION, type(obj).KIND, meta.name, meta.uid, meta.namespace)

    @classmethod
    def of_ref(cls, ref: OwnerReference, namespace: str | None) -> Identity:
        return cls(ref.api_version or "", ref.kind or "", ref.name or "", ref.uid or "", namespace)

    def matches(self, ref: OwnerReference) -> bool:
        """upstream ownerReferenceMatchesCoordinates."""
        return (ref.uid, ref.name, ref.kind, ref.api_version) == (
            self.uid,
            self.name,
            self.kind,
            self.api_version,
        )


@attrs.define(eq=False)
class Node:
    identity: Identity
    owners: tuple[OwnerReference, ...] = ()
    dependents: dict[str, Node] = attrs.field(factory=dict)  #: by uid, in insertion order
    being_deleted: bool = False
    deleting_dependents: bool = False
    orphaning: bool = False  #: being deleted with the orphan finalizer
    virtual: bool = False

    @property
    def uid(self) -> str:
        return self.identity.uid

    def blocking_dependents(self) -> list[Node]:
        """Dependents whose reference to this node has blockOwnerDeletion."""
        return [
            dep
            for dep in self.dependents.values()
            if any(r.uid == self.uid and r.block_owner_deletion for r in dep.owners)
        ]


def has_finalizer(obj: Any, finalizer: str) -> bool:
    meta = getattr(obj, "metadata", None)
    return finalizer in (getattr(meta, "finalizers", None) or ())


def _deletion_starts_with(old: Any, new: Any, finalizer: str) -> bool:
    """upstream deletionStartsWithFinalizer: ``new`` is being deleted with ``finalizer`` and
    ``old`` was not (or there is no old state: first seen)."""
    if new.metadata.deletion_timestamp is None or not has_finalizer(new, finalizer):
        return False
    if old is None or old.metadata is None:
        return True
    return old.metadata.deletion_timestamp is None or not has_finalizer(old, finalizer)


class AbsentOwners:
    """Owners verified not to exist (upstream's absentOwnerCache, an LRU)."""

    def __init__(self, size: int = ABSENT_OWNER_CACHE_SIZE) -> None:
        self._size = size
        self._items: dict[Identity, None] = {}

    def add(self, identity: Identity) -> None:
        self._items.pop(identity, None)
        self._items[identity] = None
        if len(self._items) > self._size:
            del self._items[next(iter(self._items))]

    def __contains__(self, identity: object) -> bool:
        if identity in self._items:
            assert isinstance(identity, Identity)
            self.add(identity)  # recently used
            return True
        return False


class Graph:
    """uid -> node, updated from informer events; ``attempt_to_delete(uid)`` and
    ``attempt_to_orphan(uid)`` queue work for the collector."""

    def __init__(
        self,
        attempt_to_delete: Callable[[str], None],
        attempt_to_orphan: Callable[[str], None],
        *,
        retry_delete: Callable[[str], None] | None = None,
        invalid_owner: Callable[[Node, str], None] | None = None,
    ) -> None:
        self.nodes: dict[str, Node] = {}
        self.absent = AbsentOwners()
        self._delete = attempt_to_delete
        self._orphan = attempt_to_orphan
        self._retry_delete = retry_delete or attempt_to_delete
        self._invalid_owner = invalid_owner or (lambda node, uid: None)

    def get(self, uid: str) -> Node | None:
        return self.nodes.get(uid)

    # -- informer events ------------------------------------------------------------------------

    def observe(self, obj: Any, old: Any = None) -> None:
        """An add or update of ``obj`` (``old``: its previous state, if known)."""
        meta = obj.metadata
        if meta is None or not meta.uid:
            return
        refs = tuple(meta.owner_references or ())
        existing = self.nodes.get(meta.uid)
        if existing is None:
            being_deleted = meta.deletion_timestamp is not None
            node = Node(
                Identity.of(obj),
                owners=refs,
                being_deleted=being_deleted,
                deleting_dependents=being_deleted and has_finalizer(obj, FOREGROUND),
            )
            self.nodes[node.uid] = node
            self._add_dependent_to_owners(node, refs)
            self._process_transitions(old, obj, node)
            return
        if existing.virtual:
            observed = Identity.of(obj)
            if observed != existing.identity:
                # Dependents that named us by other coordinates may be wrong: verify them.
                _, suspects = _partition(existing.dependents.values(), observed)
                for dep in suspects:
                    if observed.namespace and dep.identity.namespace != observed.namespace:
                        self._invalid_owner(dep, observed.uid)
                    self._delete(dep.uid)
                existing.identity = observed
            existing.virtual = False
        added, removed, changed = _diff(existing.owners, refs)
        if added or removed or changed:
            self._unblocked_owners(removed, changed)
            existing.owners = refs
            self._add_dependent_to_owners(existing, added)
            self._remove_dependent_from_owners(existing, removed)
        if meta.deletion_timestamp is not None:
            existing.being_deleted = True
        self._process_transitions(old, obj, existing)

    def forget(self, obj: Any) -> None:
        """A delete of ``obj`` seen by an informer."""
        meta = obj.metadata
        if meta is None or not meta.uid:
            return
        existing = self.nodes.get(meta.uid)
        if existing is not None:
            self._remove(existing, Identity.of(obj))

    def virtual_delete(self, identity: Identity) -> None:
        """The collector verified ``identity`` does not exist (upstream's virtual delete
        event): drop the node unless dependents know it by other coordinates."""
        existing = self.nodes.get(identity.uid)
        if existing is None:
            return
        if existing.virtual:
            matching, others = _partition(existing.dependents.values(), identity)
            if others:
                # Some dependents name this uid otherwise: keep the node for them.
                if matching:
                    self.absent.add(identity)
                    for dep in matching:
                        self._delete(dep.uid)
                if existing.identity == identity:
                    replacement = _alternate_identity(others, identity)
                    if replacement is not None:
                        existing.identity = replacement
                        self._retry_delete(existing.uid)
                return
        elif existing.identity != identity:
            # An observed node is not removed on the word of a lookup by other coordinates.
            matching, _ = _partition(existing.dependents.values(), identity)
            if matching:
                self.absent.add(identity)
                for dep in matching:
                    self._delete(dep.uid)
            return
        self._remove(existing, identity)

    # -- graph changes --------------------------------------------------------------------------

    def _remove(self, node: Node, identity: Identity) -> None:
        del self.nodes[node.uid]
        self._remove_dependent_from_owners(node, node.owners)
        if node.dependents:
            self.absent.add(identity)
        for dep in node.dependents.values():
            self._delete(dep.uid)
        for ref in node.owners:
            owner = self.nodes.get(ref.uid or "")
            if owner is not None and owner.deleting_dependents:
                # It may have been waiting for this one: let it check.
                self._delete(owner.uid)

    def _add_dependent_to_owners(self, node: Node, owners: Iterable[OwnerReference]) -> None:
        suspicious = False
        for ref in owners:
            uid = ref.uid or ""
            owner = self.nodes.get(uid)
            if owner is None:
                # A virtual node: the collector looks it up and drops it if it does not exist.
                owner = Node(Identity.of_ref(ref, node.identity.namespace), virtual=True)
                self.nodes[uid] = owner
                owner.dependents[node.uid] = node
                self._delete(uid)
                continue
            owner.dependents[node.uid] = node
            # Beyond upstream: a dependent seen after its owner started deleting in the
            # foreground or orphaning (the two kinds' informers race) is not missed.
            if owner.deleting_dependents:
                self._delete(node.uid)
            elif owner.orphaning:
                self._orphan(owner.uid)
            if suspicious:
                continue
            owner_namespace = owner.identity.namespace
            if owner_namespace and owner_namespace != node.identity.namespace:
                if not owner.virtual:
                    self._invalid_owner(node, uid)
                suspicious = True
            elif not owner.identity.matches(ref):
                suspicious = True
            elif not owner_namespace and node.identity.namespace and owner.virtual:
                # Perhaps a missing namespaced owner named from a cluster-scoped dependent.
                suspicious = True
        if suspicious:
            self._delete(node.uid)

    def _remove_dependent_from_owners(self, node: Node, owners: Iterable[OwnerReference]) -> None:
        for ref in owners:
            owner = self.nodes.get(ref.uid or "")
            if owner is not None:
                owner.dependents.pop(node.uid, None)

    def _unblocked_owners(
        self,
        removed: Sequence[OwnerReference],
        changed: Sequence[tuple[OwnerReference, OwnerReference]],
    ) -> None:
        """upstream addUnblockedOwnersToDeleteQueue: an owner deleting its dependents in the
        foreground may go once a blocking reference to it goes or stops blocking."""
        uids = [r.uid for r in removed if r.block_owner_deletion]
        uids += [
            new.uid
            for old, new in changed
            if old.block_owner_deletion and not new.block_owner_deletion
        ]
        for uid in uids:
            if uid and uid in self.nodes:
                self._delete(uid)

    def _process_transitions(self, old: Any, new: Any, node: Node) -> None:
        if _deletion_starts_with(old, new, ORPHAN):
            node.orphaning = True
            self._orphan(node.uid)
            return
        if _deletion_starts_with(old, new, FOREGROUND):
            node.deleting_dependents = True
            for dep in node.dependents.values():
                self._delete(dep.uid)
            self._delete(node.uid)


def _diff(
    old: Sequence[OwnerReference], new: Sequence[OwnerReference]
) -> tuple[list[OwnerReference], list[OwnerReference], list[tuple[OwnerReference, OwnerReference]]]:
    """upstream referencesDiffs: by uid, what was added, removed, and changed."""
    before = {r.uid: r for r in old}
    after = {r.uid: r for r in new}
    added = [r for uid, r in after.items() if uid not in before]
    removed = [r for uid, r in before.items() if uid not in after]
    changed = [(before[uid], r) for uid, r in after.items() if uid in before and before[uid] != r]
    return added, removed, changed


def _partition(dependents: Iterable[Node], identity: Identity) -> tuple[list[Node], list[Node]]:
    """upstream partitionDependents: the dependents whose reference to ``identity.uid`` names
    it by ``identity``'s coordinates (and namespace, for a namespaced owner), and the rest."""
    matching: list[Node] = []
    others: list[Node] = []
    for dep in dependents:
        ok = False
        for ref in dep.owners:
            if ref.uid == identity.uid:
                ok = identity.matches(ref) and (
                    not identity.namespace or dep.identity.namespace == identity.namespace
                )
                break
        (matching if ok else others).append(dep)
    return matching, others


def _alternate_identity(dependents: Iterable[Node], verified: Identity) -> Identity | None:
    """upstream getAlternateOwnerIdentity: another identity the dependents name the owner by,
    the next after ``verified`` in a stable order (so trying them all ends)."""
    candidates: set[Identity] = set()
    for dep in dependents:
        for ref in dep.owners:
            if ref.uid == verified.uid:
                candidates.add(Identity.of_ref(ref, dep.identity.namespace))
    candidates.discard(verified)
    if not candidates:
        return None
    ordered = sorted(candidates, key=_identity_key)
    after = [c for c in ordered if _identity_key(c) > _identity_key(verified)]
    return after[0] if after else ordered[0]


def _identity_key(identity: Identity) -> tuple[str, str, str, str]:
    return (identity.api_version, identity.kind, identity.namespace or "", identity.name)
