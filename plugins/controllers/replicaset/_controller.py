"""The ReplicaSet controller (upstream pkg/controller/replicaset/replica_set.go).

One sync: claim the active pods (adopt matching orphans, release pods that no longer match),
then, once the informer has seen every create and delete of the last sync (expectations),
create or delete pods towards ``spec.replicas`` (at most ``burstReplicas`` a sync, creations in
slow-start batches, deletions by :func:`pods_to_delete`), then write the status.

Pods are found through the informer's index by controller uid, and orphans through an index of
orphans by namespace: a sync never walks every pod.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from typing import Any

import attrs

from kframe.api import Selector, selector_from_label_selector, time_now
from kframe.api.models import Pod, ReplicaSet, ReplicaSetStatus
from kframe.client import object_key
from kframe.controller import (
    CONTROLLER_UID_INDEX,
    ControllerContext,
    Result,
    claim_objects,
    controller_ref,
    controller_uid_index,
    done,
    is_pod_ready,
    pod_from_template,
    requeue_after,
    slow_start_batch,
)

from ._podcache import PodEntry, PodFactsCache
from ._ranking import pods_to_delete
from ._status import ReplicaCounts, calculate_status, next_availability_check, status_unchanged

__all__ = ["BURST_REPLICAS", "ORPHAN_INDEX", "ReplicaSetController", "orphan_namespace_index"]

log = logging.getLogger("kframe.controller.replicaset")

#: upstream BurstReplicas: at most this many creates or deletes a sync.
BURST_REPLICAS = 500
#: Index name: pods without a controller reference, by namespace.
ORPHAN_INDEX = "replicaset-orphans"
_STATUS_UPDATE_RETRIES = 1  # upstream statusUpdateRetries


@attrs.frozen
class _Scan:
    uid: str
    version: int
    selector: Selector
    claimed: list[Pod]
    entries: list[PodEntry]
    others: list[Pod]
    terminating: int


def orphan_namespace_index(pod: Pod) -> list[str]:
    if pod.metadata is None or controller_ref(pod) is not None:
        return []
    return [pod.metadata.namespace or ""]


class ReplicaSetController:
    """Keeps ``spec.replicas`` pods of each ReplicaSet. Options: ``replicaset-burst-replicas``
    (500)."""

    kind = "ReplicaSet"

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.expectations = ctx.expectations()
        # UIDTrackingControllerExpectations: the pods (namespace/name) each ReplicaSet waits to
        # see deleted, so that a pod seen going (marked, then removed) counts once.
        self.deleting: dict[str, set[str]] = {}
        self.facts = PodFactsCache()
        # The last scan of each ReplicaSet's pods, reused while none of them changed (a sync
        # woken by the ReplicaSet's own status write, say).
        self._scans: dict[str, _Scan] = {}
        self._counts: dict[str, tuple[list[PodEntry], object, ReplicaCounts]] = {}
        self.burst = ctx.option("replicaset-burst-replicas", BURST_REPLICAS)
        if self.burst < 1:
            raise ValueError(f"--option replicaset-burst-replicas={self.burst}: must be positive")
        self.sets = ctx.informer(ReplicaSet, indexers={CONTROLLER_UID_INDEX: controller_uid_index})
        self.sets.add_handler(self._rs_added, self._rs_updated, self._rs_deleted)
        # Owned pods are read from self.facts (filed by controller uid), orphans by namespace.
        self.pods = ctx.informer(Pod, indexers={ORPHAN_INDEX: orphan_namespace_index})
        self.pods.add_handler(self._pod_observed, self._pod_changed, self._pod_gone)

    # -- event handlers -------------------------------------------------------------------------

    def _rs_added(self, rs: ReplicaSet) -> None:
        self.ctx.enqueue(rs)

    def _rs_updated(self, old: ReplicaSet, new: ReplicaSet) -> None:
        if _uid(old) != _uid(new):
            self._rs_deleted(old)  # deleted and re-created between two events
        self.ctx.enqueue(new)

    def _rs_deleted(self, rs: ReplicaSet) -> None:
        # A new ReplicaSet of the same name starts clean. Its pods are the garbage
        # collector's to delete, not ours.
        key = object_key(rs)
        self._forget(key)
        self.ctx.queue.add(key)

    def _resolve(self, namespace: str | None, ref: Any) -> ReplicaSet | None:
        """resolveControllerRef: the ReplicaSet a controller reference names, if it is the one."""
        if ref is None or ref.kind != self.kind:
            return None
        rs = self.sets.store.get(f"{namespace or ''}/{ref.name}")
        if rs is None or _uid(rs) != ref.uid:
            return None
        return rs

    def _selecting(self, pod: Pod) -> list[ReplicaSet]:
        """getPodReplicaSets: the ReplicaSets of the pod's namespace whose selector matches it."""
        assert pod.metadata is not None
        labels = pod.metadata.labels or {}
        if not labels:
            return []  # upstream: a pod with no labels matches no ReplicaSet
        out = []
        for rs in self.sets.store.by_index("namespace", pod.metadata.namespace or ""):
            selector = _selector(rs)
            if selector is not None and not selector.empty() and selector.matches(labels):
                out.append(rs)
        return out

    def _pod_observed(self, pod: Pod) -> None:
        self.facts.observe(pod)
        self._pod_added(pod)

    def _pod_changed(self, old: Pod, new: Pod) -> None:
        self.facts.observe(new)
        self._pod_updated(old, new)

    def _pod_added(self, pod: Pod) -> None:
        if _deleting(pod):
            # Seen for the first time already being deleted (a manager restart): not the
            # creation we may be waiting for.
            self._pod_deleted(pod)
            return
        ref = controller_ref(pod)
        if ref is not None:
            rs = self._resolve(_ns(pod), ref)
            if rs is not None:
                key = object_key(rs)
                self.expectations.creation_observed(key)
                self.ctx.queue.add(key)
            return
        for rs in self._selecting(pod):  # an orphan: whoever matches may adopt it
            self.ctx.enqueue(rs)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if _rv(old) == _rv(new) and _rv(new):
            return  # a resync
        labels_changed = _labels(old) != _labels(new)
        if _deleting(new):
            # The deletion we may be waiting for happens now, not when the kubelet is done.
            self._pod_deleted(new)
            if labels_changed:
                self._pod_deleted(old)
            return
        new_ref, old_ref = controller_ref(new), controller_ref(old)
        ref_changed = new_ref != old_ref
        if ref_changed and old_ref is not None:
            rs = self._resolve(_ns(old), old_ref)
            if rs is not None:
                self.ctx.enqueue(rs)
        if new_ref is not None:
            rs = self._resolve(_ns(new), new_ref)
            if rs is None:
                return
            self.ctx.enqueue(rs)
            min_ready = (rs.spec.min_ready_seconds or 0) if rs.spec is not None else 0
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(new):
                # Sync again once the pod may be available; a second more against clock skew
                # (upstream, kubernetes#39785).
                self.ctx.enqueue_after(rs, min_ready + 1.0)
            return
        if labels_changed or ref_changed:
            for rs in self._selecting(new):
                self.ctx.enqueue(rs)

    def _pod_gone(self, pod: Pod) -> None:
        self.facts.forget(pod)
        self._pod_deleted(pod)

    def _pod_deleted(self, pod: Pod) -> None:
        rs = self._resolve(_ns(pod), controller_ref(pod))
        if rs is None:
            return  # nobody waits for an orphan's deletion
        key = object_key(rs)
        self._deletion_observed(key, object_key(pod))
        self.ctx.queue.add(key)

    def _deletion_observed(self, key: str, pod_key: str) -> None:
        """Count the deletion of ``pod_key`` once, and only if ``key`` deleted it."""
        pending = self.deleting.get(key)
        if pending is not None and pod_key in pending:
            pending.discard(pod_key)
            self.expectations.deletion_observed(key)

    def _forget(self, key: str) -> None:
        self.expectations.delete(key)
        self.deleting.pop(key, None)
        self._scans.pop(key, None)
        self._counts.pop(key, None)

    # -- the sync -------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        rs = self.sets.store.get(key)
        if rs is None:
            self._forget(key)
            return done()
        assert rs.metadata is not None and rs.spec is not None
        needs_sync = self.expectations.satisfied(key)
        selector = _selector(rs)
        if selector is None:
            log.warning("%s %s: its selector does not parse", self.kind, key)
            return done()  # nothing a retry would change
        selector = self.facts.intern_selector(selector)
        claimed, entries, terminating = await self._claim(rs, selector)
        manage_error: BaseException | None = None
        if needs_sync and rs.metadata.deletion_timestamp is None:
            try:
                await self._manage(rs, claimed)
            except Exception as exc:
                manage_error = exc
        now = time_now()
        counts = self._count(rs, entries, terminating, now)
        updated = await self._update_status(rs, calculate_status(rs, counts, manage_error))
        result = done()
        min_ready = rs.spec.min_ready_seconds or 0
        st = updated.status or ReplicaSetStatus()
        if min_ready > 0 and (st.ready_replicas or 0) != (st.available_replicas or 0):
            # Sync again when the next ready pod becomes available (a last line of defence
            # against a lost pod event or clock skew).
            wait = next_availability_check(claimed, min_ready, now)
            result = requeue_after(float(min_ready) if wait is None else wait)
        if manage_error is not None:
            raise manage_error
        return result

    async def _claim(
        self, rs: ReplicaSet, selector: Selector
    ) -> tuple[list[Pod], list[PodEntry], int]:
        """The claimed active pods (with their facts) and how many claimed pods are
        terminating. Owned active pods that match are ours as they are; only orphans that match
        (adopted) and owned pods that no longer match (released) go through claim_objects."""
        assert rs.metadata is not None
        key, uid = object_key(rs), _uid(rs)
        version = self.facts.version(uid)
        last = self._scans.get(key)
        if (
            last is not None
            and (last.uid, last.version) == (uid, version)
            and last.selector is selector
        ):
            scan = last
        else:
            scan = self._scans[key] = _Scan(uid, version, selector, *self._scan(uid, selector))
        claimed, entries, others = scan.claimed, scan.entries, scan.others
        adoptable = [
            pod
            for pod in self.pods.store.by_index(ORPHAN_INDEX, rs.metadata.namespace or "")
            if (entry := self.facts.entry(pod)).active and self.facts.matches(entry, selector)
        ]
        if adoptable and not await self._can_adopt(rs):
            adoptable = []
        if rs.metadata.deletion_timestamp is not None:
            others = []  # ClaimObject: a ReplicaSet being deleted releases nothing (nor claims)
        if others or adoptable:
            more = await claim_objects(self.client, rs, selector, [*others, *adoptable])
            claimed = [*claimed, *more]
            entries = [*entries, *(self.facts.entry(p) for p in more)]
        return claimed, entries, scan.terminating

    def _scan(
        self, uid: str, selector: Selector
    ) -> tuple[list[Pod], list[PodEntry], list[Pod], int]:
        """The owned pods: active and matching (with their facts), active and not matching (to
        release), and how many are terminating and matching."""
        claimed: list[Pod] = []
        entries: list[PodEntry] = []
        others: list[Pod] = []
        terminating = 0
        matches = self.facts.matches
        for entry in self.facts.owned(uid):
            if entry.active:
                # (the cached match inline: this loop runs over every pod on every sync)
                if entry.matches if entry.selector is selector else matches(entry, selector):
                    claimed.append(entry.pod)
                    entries.append(entry)
                else:
                    others.append(entry.pod)  # to release
            elif entry.terminating and matches(entry, selector):
                terminating += 1
        return claimed, entries, others, terminating

    def _count(
        self, rs: ReplicaSet, entries: list[PodEntry], terminating: int, now: _dt.datetime
    ) -> ReplicaCounts:
        """count_replicas over remembered facts."""
        assert rs.spec is not None
        template = rs.spec.template
        labels = (template.metadata.labels if template and template.metadata else None) or {}
        interned = self.facts.intern_labels(labels)
        min_ready = rs.spec.min_ready_seconds or 0
        key = object_key(rs)
        last = self._counts.get(key)
        if min_ready <= 0 and last is not None and last[0] is entries and last[1] is interned:
            return attrs.evolve(last[2], terminating=terminating)  # nothing could have changed
        ready_before = now - _dt.timedelta(seconds=min_ready)
        fully = ready = available = 0
        fully_labeled = self.facts.fully_labeled
        for entry in entries:
            if (
                entry.fully_labeled
                if entry.template is interned
                else fully_labeled(entry, interned)
            ):
                fully += 1
            if entry.ready:
                ready += 1
                since = entry.ready_since
                if min_ready <= 0 or (since is not None and since <= ready_before):
                    available += 1
        counts = ReplicaCounts(len(entries), fully, ready, available, terminating)
        self._counts[key] = (entries, interned, counts)
        return counts

    async def _can_adopt(self, rs: ReplicaSet) -> bool:
        """RecheckDeletionTimestamp: an uncached read of the ReplicaSet before adopting: the
        same one (uid) and not being deleted (kubernetes#42639)."""
        assert rs.metadata is not None
        try:
            fresh = await self.client.get(
                ReplicaSet, rs.metadata.name or "", namespace=rs.metadata.namespace
            )
        except Exception as exc:
            log.debug("%s %s: not adopting: %s", self.kind, object_key(rs), exc)
            return False
        return _uid(fresh) == _uid(rs) and (
            fresh.metadata is None or fresh.metadata.deletion_timestamp is None
        )

    async def _manage(self, rs: ReplicaSet, pods: list[Pod]) -> None:
        """manageReplicas: create or delete towards ``spec.replicas``; raises the first error."""
        assert rs.spec is not None and rs.metadata is not None
        key = object_key(rs)
        replicas = rs.spec.replicas if rs.spec.replicas is not None else 1
        diff = len(pods) - replicas
        if diff < 0:
            await self._create(rs, key, min(-diff, self.burst))
        elif diff > 0:
            await self._delete(rs, key, pods, min(diff, self.burst))

    async def _create(self, rs: ReplicaSet, key: str, count: int) -> None:
        assert rs.spec is not None and rs.metadata is not None
        self.expectations.expect_creations(key, count)
        template = rs.spec.template
        base = pod_from_template(template, rs)  # generateName "<rs>-", a controller reference
        namespace = rs.metadata.namespace

        async def create() -> None:
            try:
                pod = await self.client.create(base, namespace=namespace)
            except Exception as exc:
                if _namespace_terminating(exc):
                    return  # every create would fail; the namespace is going away
                self.ctx.event(rs, "Warning", "FailedCreate", f"Error creating: {exc}")
                raise
            self.ctx.event(rs, "Normal", "SuccessfulCreate", f"Created pod: {_name(pod)}")

        succeeded, error = await slow_start_batch(count, create)
        # Creations never attempted, or failed, will not be observed: stop expecting them
        # (upstream's skippedPods). The next sync tries again.
        skipped = count - succeeded
        if skipped > 0:
            self.expectations.lower_expectations(key, adds=skipped)
        if error is not None:
            raise error

    async def _delete(self, rs: ReplicaSet, key: str, pods: list[Pod], count: int) -> None:
        assert rs.metadata is not None
        victims = pods_to_delete(pods, self._related_pods(rs), count, time_now())
        self.deleting[key] = {object_key(p) for p in victims}
        self.expectations.expect_deletions(key, len(victims))
        errors: list[BaseException] = []
        namespace = rs.metadata.namespace

        async def delete(pod: Pod) -> None:
            name = _name(pod)
            try:
                await self.client.delete(Pod, name, namespace=namespace)
            except Exception as exc:
                # This deletion will not be observed; a 404 means it is done already.
                self._deletion_observed(key, object_key(pod))
                if getattr(exc, "code", None) != 404:
                    self.ctx.event(rs, "Warning", "FailedDelete", f"Error deleting: {exc}")
                    errors.append(exc)
                return
            self.ctx.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

        await asyncio.gather(*(delete(p) for p in victims))
        if errors:
            raise errors[0]

    def _related_pods(self, rs: ReplicaSet) -> list[Pod]:
        """getIndirectlyRelatedPods: the pods of every ReplicaSet with the same controller as
        ``rs`` (a Deployment's old and new ones); none when ``rs`` has no controller."""
        ref = controller_ref(rs)
        if ref is None or not ref.uid:
            return []
        seen: set[str] = set()
        out: list[Pod] = []
        for sibling in self.sets.store.by_index(CONTROLLER_UID_INDEX, ref.uid):
            for entry in self.facts.owned(_uid(sibling)):
                pod = entry.pod
                uid = _uid(pod)
                if uid not in seen:
                    seen.add(uid)
                    out.append(pod)
        return out

    async def _update_status(self, rs: ReplicaSet, status: ReplicaSetStatus) -> ReplicaSet:
        """updateReplicaSetStatus: write ``status`` with the generation observed, unless
        nothing changed; after a conflict, once more on a fresh read."""
        if status_unchanged(rs, status):
            return rs
        assert rs.metadata is not None
        current = rs
        attempt = 0
        while True:
            generation = current.metadata.generation if current.metadata is not None else None
            body = attrs.evolve(
                current, status=attrs.evolve(status, observed_generation=generation)
            )
            try:
                return await self.client.update(body, subresource="status")
            except Exception as exc:
                if attempt >= _STATUS_UPDATE_RETRIES or getattr(exc, "code", None) != 409:
                    raise
            attempt += 1
            current = await self.client.get(
                ReplicaSet, rs.metadata.name or "", namespace=rs.metadata.namespace
            )


def _selector(rs: ReplicaSet) -> Selector | None:
    sel = rs.spec.selector if rs.spec is not None else None
    if sel is None:
        return Selector.nothing()
    try:
        return selector_from_label_selector(sel.match_labels, sel.match_expressions)
    except Exception:
        return None


def _uid(obj: Any) -> str:
    return str((obj.metadata.uid if obj.metadata is not None else None) or "")


def _rv(obj: Any) -> str:
    return str((obj.metadata.resource_version if obj.metadata is not None else None) or "")


def _ns(obj: Any) -> str | None:
    return obj.metadata.namespace if obj.metadata is not None else None


def _name(obj: Any) -> str:
    return str(obj.metadata.name)


def _labels(pod: Pod) -> dict[str, str]:
    return dict((pod.metadata.labels if pod.metadata is not None else None) or {})


def _deleting(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def _namespace_terminating(exc: BaseException) -> bool:
    """HasStatusCause(err, NamespaceTerminatingCause)."""
    causes = getattr(exc, "causes", None) or ()
    if any(getattr(c, "reason", None) == "NamespaceTerminating" for c in causes):
        return True
    # Over HTTP the Status causes are not kept: the 403's message says the same.
    return getattr(exc, "code", None) == 403 and "being terminated" in str(exc)
