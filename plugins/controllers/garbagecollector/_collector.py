"""The garbage collector's workers (upstream pkg/controller/garbagecollector,
garbagecollector.go): attempt-to-delete is the controller's own queue (``reconcile(uid)``),
attempt-to-orphan a second queue run beside it.

Every decision reads the object and its owners live from the API server, as upstream does:
the graph says whom to look at, the server says what is true.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Sequence
from typing import Any

from kframe.api import class_for, to_dict
from kframe.api.models import ObjectMeta, OwnerReference
from kframe.client import WorkQueue
from kframe.controller import (
    Controller,
    ControllerContext,
    Result,
    done,
    listable_kinds,
    requeue_after,
    run_workers,
)

from ._graph import FOREGROUND, ORPHAN, Graph, Identity, Node, has_finalizer

__all__ = ["IGNORED_KINDS", "GarbageCollector"]

log = logging.getLogger("kframe.controller.garbagecollector")

#: upstream DefaultIgnoredResources: events are never owners or dependents worth a watch.
IGNORED_KINDS = frozenset({("v1", "Event"), ("events.k8s.io/v1", "Event")})

# How long a node not yet seen by an informer waits before it is looked at again.
UNOBSERVED_RETRY = 1.0
# How long after a failed look for the served kinds the next one is made.
DISCOVERY_RETRY = 1.0


def _code(exc: BaseException) -> Any:
    return getattr(exc, "code", None)


class GarbageCollector:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.orphan_queue: WorkQueue[str] = WorkQueue(clock=ctx.clock, name=f"{ctx.name}-orphan")
        self.graph = Graph(
            ctx.queue.add,
            self.orphan_queue.add,
            retry_delete=ctx.queue.add_rate_limited,
            invalid_owner=self._invalid_owner_event,
        )
        #: Set once every monitored kind's informer has listed (upstream's graph sync).
        self.synced = asyncio.Event()
        self.kinds: list[type[Any]] = []
        ctx.add_background(self._monitor)
        ctx.add_background(self._run_orphaner)

    # -- monitors (upstream GraphBuilder.syncMonitors) ------------------------------------------

    async def _monitor(self) -> None:
        """Find the kinds to watch, hand every informer event to the graph, and mark the graph
        synced once all have listed. Informers shared with other controllers may be full
        already: their objects are replayed into the graph, as client-go does for a handler
        added late."""
        while True:
            try:
                served = await listable_kinds(self.client)
                break
            except Exception as exc:
                # upstream retries discovery until the graph can be built.
                log.warning("garbage collector: finding the kinds to watch failed: %s", exc)
                await asyncio.sleep(DISCOVERY_RETRY)
        kinds = [cls for cls in served if (cls.API_VERSION, cls.KIND) not in IGNORED_KINDS]
        informers = []
        for cls in kinds:
            informer = self.ctx.informer(cls)
            informer.add_handler(self.graph.observe, self._updated, self.graph.forget)
            for obj in informer.store.list():
                self.graph.observe(obj)
            informers.append(informer)
        self.kinds = kinds
        # Informers asked for after the manager started them start only if some had been
        # asked for before: start ours whatever the case.
        self.ctx.informers.start()
        await asyncio.gather(*(i.wait_for_sync() for i in informers))
        self.synced.set()
        log.info("garbage collector: all resource monitors have synced (%d kinds)", len(kinds))

    def _updated(self, old: Any, new: Any) -> None:
        self.graph.observe(new, old)

    async def _run_orphaner(self) -> None:
        # upstream: as many attempt-to-orphan workers as attempt-to-delete ones.
        await run_workers(
            f"{self.ctx.name}-orphan", _Orphaner(self), self.orphan_queue, self.ctx.workers
        )

    # -- attempt to delete (upstream attemptToDeleteItem) ---------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        await self.synced.wait()
        node = self.graph.get(key)
        if node is None:
            return done()
        if node.being_deleted and not node.deleting_dependents:
            return done()  # its own deletion is under way; nothing waits on us
        result = await self._attempt_to_delete(node)
        if result is not None:
            return result
        if node.virtual and self._monitored(node.identity):
            # Seen by the lookup but not by an informer yet (upstream requeues such items).
            return requeue_after(UNOBSERVED_RETRY)
        return done()

    def _monitored(self, identity: Identity) -> bool:
        return any(
            (identity.api_version, identity.kind) == (c.API_VERSION, c.KIND) for c in self.kinds
        )

    async def _attempt_to_delete(self, node: Node) -> Result | None:
        identity = node.identity
        latest = await self._get(identity)
        if latest is None or latest.metadata.uid != identity.uid:
            self.graph.virtual_delete(identity)
            return done()
        if node.deleting_dependents:
            await self._process_deleting_dependents(node)
            return None
        refs = tuple(latest.metadata.owner_references or ())
        if not refs:
            return None
        solid, dangling, waiting = await self._classify(node, latest, refs)
        if solid:
            if not dangling and not waiting:
                return None
            # Drop the references that will never hold again; waiting ones too, or those
            # owners would wait on us forever.
            gone = {r.uid for r in (*dangling, *waiting)}
            await self._set_owner_references(latest, [r for r in refs if r.uid not in gone])
            return None
        if waiting and node.dependents:
            if any(dep.deleting_dependents for dep in list(node.dependents.values())):
                # A cycle of foreground deletions would wait forever: stop blocking our owners
                # (upstream's circle detection, with its false positives).
                await self._unblock_owner_references(latest)
            await self._delete(identity, "Foreground")
            return None
        # No owner holds it: collect it, honouring a policy the object already carries.
        if has_finalizer(latest, ORPHAN):
            policy = "Orphan"
        elif has_finalizer(latest, FOREGROUND):
            policy = "Foreground"
        else:
            policy = "Background"
        await self._delete(identity, policy)
        return None

    async def _classify(
        self, node: Node, latest: Any, refs: Sequence[OwnerReference]
    ) -> tuple[list[OwnerReference], list[OwnerReference], list[OwnerReference]]:
        """upstream classifyReferences: owners that hold (solid), that do not exist (dangling),
        and that wait in foreground deletion for their dependents (waiting)."""
        solid: list[OwnerReference] = []
        dangling: list[OwnerReference] = []
        waiting: list[OwnerReference] = []
        for ref in refs:
            owner = await self._owner(node, latest, ref)
            if owner is None:
                dangling.append(ref)
            elif owner.metadata.deletion_timestamp is not None and has_finalizer(owner, FOREGROUND):
                waiting.append(ref)
            else:
                solid.append(ref)
        return solid, dangling, waiting

    async def _owner(self, node: Node, latest: Any, ref: OwnerReference) -> Any | None:
        """upstream isDangling: the owner ``ref`` names, looked up live; None when no object
        has that uid (missing, or replaced by another of the same name)."""
        namespace = latest.metadata.namespace
        identity = Identity.of_ref(ref, namespace)
        if identity in self.graph.absent or Identity.of_ref(ref, None) in self.graph.absent:
            return None
        cls = class_for(ref.api_version or "", ref.kind or "")
        if cls is None:
            raise LookupError(f"no kind {ref.kind} in {ref.api_version} for owner {ref.name}")
        try:
            owner: Any = await self.client.get(cls, ref.name or "", namespace=namespace)
        except Exception as exc:
            if _code(exc) != 404:
                raise
            self.graph.absent.add(identity)
            return None
        owner_namespace = owner.metadata.namespace
        if owner_namespace and not namespace:
            # A cluster-scoped dependent cannot have a namespaced owner.
            self._invalid_owner_event(node, ref.uid or "")
            self.graph.absent.add(identity)
            return None
        if owner.metadata.uid != ref.uid:
            self.graph.absent.add(identity)
            return None
        return owner

    async def _process_deleting_dependents(self, node: Node) -> None:
        """upstream processDeletingDependentsItem: a foreground owner goes once no dependent
        blocks it; until then its blocking dependents are pushed to go first."""
        blocking = node.blocking_dependents()
        if not blocking:
            await self._remove_finalizer(node.identity, FOREGROUND)
            return
        for dep in blocking:
            if not dep.deleting_dependents:
                self.ctx.queue.add(dep.uid)

    # -- API calls ------------------------------------------------------------------------------

    def _class(self, identity: Identity) -> type[Any]:
        cls = class_for(identity.api_version, identity.kind)
        if cls is None:
            raise LookupError(f"no kind {identity.kind} in {identity.api_version}")
        return cls

    async def _get(self, identity: Identity) -> Any | None:
        try:
            return await self.client.get(
                self._class(identity), identity.name, namespace=identity.namespace
            )
        except Exception as exc:
            if _code(exc) == 404:
                return None
            raise

    async def _delete(self, identity: Identity, policy: str) -> None:
        log.debug("deleting %s with propagation %s", identity, policy)
        try:
            await self.client.delete(
                self._class(identity),
                identity.name,
                namespace=identity.namespace,
                propagation_policy=policy,
                preconditions={"uid": identity.uid},
            )
        except Exception as exc:
            # Gone already, or replaced by another object of the same name: nothing to do.
            if _code(exc) not in (404, 409):
                raise

    async def _patch_metadata(self, obj: Any, metadata: dict[str, Any]) -> None:
        """A merge patch conditional on the version read (409 retries with fresh state)."""
        meta = obj.metadata
        patch = {"metadata": {**metadata, "resourceVersion": meta.resource_version}}
        try:
            await self.client.patch(
                type(obj), meta.name, patch, namespace=meta.namespace, patch_type="merge"
            )
        except Exception as exc:
            if _code(exc) != 404:
                raise

    async def _set_owner_references(self, obj: Any, refs: Sequence[OwnerReference]) -> None:
        await self._patch_metadata(obj, {"ownerReferences": [to_dict(r) for r in refs]})

    async def _unblock_owner_references(self, obj: Any) -> None:
        refs = tuple(obj.metadata.owner_references or ())
        unblocked = [
            {**to_dict(r), "blockOwnerDeletion": False} if r.block_owner_deletion else to_dict(r)
            for r in refs
        ]
        await self._patch_metadata(obj, {"ownerReferences": unblocked})

    async def _remove_finalizer(self, identity: Identity, finalizer: str) -> None:
        """upstream removeFinalizer: retried on conflicts with the latest version."""
        while True:
            latest = await self._get(identity)
            if latest is None or latest.metadata.uid != identity.uid:
                return
            finalizers = list(latest.metadata.finalizers or ())
            if finalizer not in finalizers:
                return
            kept = [f for f in finalizers if f != finalizer]
            try:
                await self._patch_metadata(latest, {"finalizers": kept or None})
                return
            except Exception as exc:
                if _code(exc) != 409:
                    raise

    async def orphan(self, uid: str) -> None:
        """upstream attemptToOrphanWorker: drop the owner's references from its dependents,
        then the owner's ``orphan`` finalizer."""
        await self.synced.wait()
        owner = self.graph.get(uid)
        if owner is None:
            return
        for dep in list(owner.dependents.values()):
            await self._drop_reference(dep.identity, uid)
        await self._remove_finalizer(owner.identity, ORPHAN)

    async def _drop_reference(self, identity: Identity, owner_uid: str) -> None:
        while True:
            latest = await self._get(identity)
            if latest is None or latest.metadata.uid != identity.uid:
                return
            refs = tuple(latest.metadata.owner_references or ())
            if all(r.uid != owner_uid for r in refs):
                return
            try:
                await self._set_owner_references(latest, [r for r in refs if r.uid != owner_uid])
                return
            except Exception as exc:
                if _code(exc) != 409:
                    raise

    def _invalid_owner_event(self, node: Node, owner_uid: str) -> None:
        """upstream reportInvalidNamespaceOwnerRef: a Warning on the dependent."""
        ref = next((r for r in node.owners if r.uid == owner_uid), None)
        if ref is None:
            return
        identity = node.identity
        about = types.SimpleNamespace(
            API_VERSION=identity.api_version,
            KIND=identity.kind,
            metadata=ObjectMeta(name=identity.name, namespace=identity.namespace, uid=identity.uid),
        )
        self.ctx.event(
            about,
            "Warning",
            "OwnerRefInvalidNamespace",
            f"ownerRef [{ref.api_version}/{ref.kind}, namespace: {identity.namespace or ''}, "
            f"name: {ref.name}, uid: {ref.uid}] does not exist in namespace "
            f'"{identity.namespace or ""}"',
        )


class _Orphaner:
    """The attempt-to-orphan queue's reconcile."""

    def __init__(self, collector: GarbageCollector) -> None:
        self.collector = collector

    async def reconcile(self, key: str) -> Result | None:
        await self.collector.orphan(key)
        return done()


# Both queues' reconcilers are Controllers (the worker loop's interface).
_CONFORMS: tuple[type[Controller], ...] = (GarbageCollector, _Orphaner)
