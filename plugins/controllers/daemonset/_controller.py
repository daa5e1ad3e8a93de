"""The DaemonSet controller (upstream pkg/controller/daemon/daemon_controller.go, update.go).

One sync: claim the pods and revisions, find the current revision (making one for a new
template), then ``manage`` (a pod on each node that should run one, none elsewhere, failed pods
replaced with backoff), then the rolling update, then the status.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import attrs

from kframe.api import Selector, selector_from_label_selector, time_now
from kframe.api.models import ControllerRevision, DaemonSet, DaemonSetStatus, Node, Pod
from kframe.client import object_key
from kframe.controller import (
    CONTROLLER_REVISION_HASH_LABEL,
    CONTROLLER_UID_INDEX,
    ControllerContext,
    Result,
    claim_objects,
    controller_ref,
    controller_uid_index,
    create_controller_revision,
    done,
    equal_revision,
    is_pod_available,
    is_pod_ready,
    new_controller_revision,
    pod_from_template,
    requeue_after,
    slow_start_batch,
    sort_revisions,
    template_patch,
)

from ._predicates import (
    add_daemon_tolerations,
    node_should_run,
    pin_to_node,
    pod_sort_key,
    target_node_name,
)
from ._update import (
    TEMPLATE_GENERATION_LABEL,
    is_pod_updated,
    no_surge_deletions,
    rolling_counts,
    surge_plan,
)

__all__ = ["DaemonSetController"]

log = logging.getLogger("kframe.controller.daemonset")

#: apps.DeprecatedTemplateGeneration, set by upstream's API server.
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
BURST_REPLICAS = 250  # upstream BurstReplicas
_BACKOFF_INITIAL, _BACKOFF_MAX = 1.0, 15 * 60.0  # failedPodsBackoff


@attrs.define
class _Backoff:
    delay: float
    updated: float


class DaemonSetController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.expectations = ctx.expectations()
        self.backoff: dict[str, _Backoff] = {}
        self.sets = ctx.watch(DaemonSet)
        self.nodes = ctx.informer(Node)
        self.nodes.add_handler(self._node_added, self._node_updated, None)
        self.pods = ctx.informer(Pod, indexers={CONTROLLER_UID_INDEX: controller_uid_index})
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.revisions = ctx.watch(
            ControllerRevision,
            keys=self._owner_keys,
            indexers={CONTROLLER_UID_INDEX: controller_uid_index},
        )

    # -- event handlers -------------------------------------------------------------------------

    def _owner(self, obj: Any) -> DaemonSet | None:
        ref = controller_ref(obj)
        if ref is None or ref.kind != "DaemonSet":
            return None
        ds = self.sets.store.get(f"{obj.metadata.namespace}/{ref.name}")
        if ds is None or ds.metadata is None or ds.metadata.uid != ref.uid:
            return None
        return ds

    def _owner_keys(self, obj: Any) -> list[str]:
        ds = self._owner(obj)
        if ds is not None:
            return [object_key(ds)]
        if controller_ref(obj) is not None:
            return []
        return [object_key(d) for d in self._sets_selecting(obj)]

    def _sets_selecting(self, obj: Any) -> list[DaemonSet]:
        labels = obj.metadata.labels or {}
        out = []
        for ds in self.sets.store.by_index("namespace", obj.metadata.namespace or ""):
            selector = _selector(ds)
            if selector is not None and not selector.empty() and selector.matches(labels):
                out.append(ds)
        return out

    def _pod_added(self, pod: Pod) -> None:
        if pod.metadata is not None and pod.metadata.deletion_timestamp is not None:
            self._pod_deleted(pod)
            return
        ds = self._owner(pod)
        if ds is not None:
            self.expectations.creation_observed(object_key(ds))
        for key in self._owner_keys(pod):
            self.ctx.queue.add(key)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        # A pod marked for deletion counts as the deletion we expected (upstream updatePod).
        if _deleting(new) and not _deleting(old):
            self._pod_deleted(new)
            return
        for key in {*self._owner_keys(old), *self._owner_keys(new)}:
            self.ctx.queue.add(key)
        ds = self._owner(new)
        min_ready = (ds.spec.min_ready_seconds or 0) if ds is not None and ds.spec else 0
        if ds is not None and min_ready > 0 and not is_pod_ready(old) and is_pod_ready(new):
            self.ctx.queue.add_after(object_key(ds), min_ready + 1)

    def _pod_deleted(self, pod: Pod) -> None:
        ds = self._owner(pod)
        if ds is not None:
            self.expectations.deletion_observed(object_key(ds))
            self.ctx.queue.add(object_key(ds))

    def _node_added(self, node: Node) -> None:
        for ds in self.sets.store.list():
            if node_should_run(node, ds)[0]:
                self.ctx.queue.add(object_key(ds))

    def _node_updated(self, old: Node, new: Node) -> None:
        for ds in self.sets.store.list():
            if node_should_run(old, ds) != node_should_run(new, ds):
                self.ctx.queue.add(object_key(ds))

    # -- the sync -------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        ds = self.sets.store.get(key)
        if ds is None:
            self.expectations.delete(key)
            return done()
        selector = _selector(ds)
        if selector is None:
            return done()  # a selector that does not parse: nothing to retry
        if selector.empty():
            self.ctx.event(
                ds,
                "Warning",
                "SelectingAll",
                "This daemon set is selecting all pods. A non-empty selector is required.",
            )
            return done()
        assert ds.metadata is not None and ds.spec is not None
        if ds.metadata.deletion_timestamp is not None:
            return done()
        nodes = self.nodes.store.list()
        cur, old = await self._construct_history(ds, selector)
        hash_ = (cur.metadata.labels or {}).get(CONTROLLER_REVISION_HASH_LABEL, "")  # type: ignore[union-attr]
        generation = _template_generation(ds, cur)
        requeue: list[float] = []
        if not self.expectations.satisfied(key):
            # Only the status; observedGeneration stays, this generation was not processed.
            await self._update_status(ds, selector, nodes, hash_, generation, False, requeue)
            return _result(requeue)
        await self._manage(ds, selector, nodes, hash_, generation, requeue)
        if self.expectations.satisfied(key):
            strategy = ds.spec.update_strategy
            if strategy is None or strategy.type in (None, "RollingUpdate"):
                await self._rolling_update(ds, selector, nodes, hash_, generation)
        await self._cleanup_history(ds, selector, old)
        await self._update_status(ds, selector, nodes, hash_, generation, True, requeue)
        return _result(requeue)

    async def _claimed_pods(self, ds: DaemonSet, selector: Selector) -> list[Pod]:
        assert ds.metadata is not None
        candidates = [
            p
            for p in self.pods.store.by_index("namespace", ds.metadata.namespace or "")
            if (ref := controller_ref(p)) is None or ref.uid == ds.metadata.uid
        ]
        return await claim_objects(self.client, ds, selector, candidates)

    async def _nodes_to_pods(self, ds: DaemonSet, selector: Selector) -> dict[str, list[Pod]]:
        """getNodesToDaemonPods: the claimed pods by target node, less terminal pods already
        being deleted (nothing left to do with them)."""
        out: dict[str, list[Pod]] = {}
        for pod in await self._claimed_pods(ds, selector):
            phase = pod.status.phase if pod.status is not None else None
            deleting = pod.metadata is not None and pod.metadata.deletion_timestamp is not None
            if deleting and phase in ("Succeeded", "Failed"):
                continue
            node = target_node_name(pod)
            if node is None:
                continue
            out.setdefault(node, []).append(pod)
        return out

    async def _manage(
        self,
        ds: DaemonSet,
        selector: Selector,
        nodes: list[Node],
        hash_: str,
        generation: int | None,
        requeue: list[float],
    ) -> None:
        by_node = await self._nodes_to_pods(ds, selector)
        surge, _ = rolling_counts(ds, len(nodes))
        needing: list[str] = []
        to_delete: list[str] = []
        names = set()
        for node in nodes:
            name = _name(node)
            names.add(name)
            should_run, keep = node_should_run(node, ds)
            pods = by_node.get(name, [])
            if should_run and not pods:
                needing.append(name)
            elif keep:
                to_delete += self._prune_node(ds, name, pods, hash_, surge > 0, requeue)
            elif pods:
                to_delete += [p.metadata.name for p in pods if not _deleting(p)]  # type: ignore[union-attr,misc]
        # Pods pinned to nodes that are gone are never scheduled: nothing else deletes them.
        for name, pods in by_node.items():
            if name not in names:
                to_delete += [
                    _name(p)
                    for p in pods
                    if not _deleting(p) and not (p.spec is not None and p.spec.node_name)
                ]
        await self._sync_nodes(ds, to_delete, needing, hash_, generation)

    def _prune_node(
        self,
        ds: DaemonSet,
        node: str,
        pods: list[Pod],
        hash_: str,
        surge: bool,
        requeue: list[float],
    ) -> list[str]:
        """podsShouldBeOnNode for a node the pod may stay on: delete failed pods (with backoff)
        and succeeded ones; keep one running pod (two while a surge replaces an old one)."""
        to_delete: list[str] = []
        running: list[Pod] = []
        now = self.ctx.clock.now()
        key = f"{ds.metadata.uid}/{node}"  # type: ignore[union-attr]
        for pod in pods:
            if _deleting(pod):
                continue
            phase = pod.status.phase if pod.status is not None else None
            name: str = _name(pod)
            if phase == "Failed":
                entry = self.backoff.get(key)
                if entry is not None and now - entry.updated < entry.delay:
                    requeue.append(entry.delay - (now - entry.updated))
                    continue
                if entry is None or now - entry.updated > 2 * _BACKOFF_MAX:
                    self.backoff[key] = _Backoff(_BACKOFF_INITIAL, now)
                else:
                    self.backoff[key] = _Backoff(min(2 * entry.delay, _BACKOFF_MAX), now)
                self.ctx.event(
                    ds,
                    "Warning",
                    "FailedDaemonPod",
                    f"Found failed daemon pod {pod.metadata.namespace}/{name} on node {node}, "  # type: ignore[union-attr]
                    "will try to kill it",
                )
                to_delete.append(name)
            elif phase == "Succeeded":
                to_delete.append(name)
            else:
                running.append(pod)
        running.sort(key=pod_sort_key)
        if not surge:
            return to_delete + [p.metadata.name for p in running[1:]]  # type: ignore[union-attr,misc]
        newest: Pod | None = None
        oldest: Pod | None = None
        for pod in running:
            labels = pod.metadata.labels or {}  # type: ignore[union-attr]
            if labels.get(CONTROLLER_REVISION_HASH_LABEL) == hash_:
                if newest is None:
                    newest = pod
                    continue
            elif oldest is None:
                oldest = pod
                continue
            to_delete.append(_name(pod))
        if newest is not None and oldest is not None:
            min_ready = ds.spec.min_ready_seconds or 0  # type: ignore[union-attr]
            if not is_pod_ready(oldest) or is_pod_available(newest, min_ready, time_now()):
                to_delete.append(_name(oldest))
        return to_delete

    async def _sync_nodes(
        self,
        ds: DaemonSet,
        to_delete: list[str],
        needing: list[str],
        hash_: str,
        generation: int | None,
    ) -> None:
        """syncNodes: create pods on ``needing`` in slow-start batches and delete ``to_delete``,
        each at most BURST_REPLICAS, with expectations for both."""
        key = object_key(ds)
        creates = min(len(needing), BURST_REPLICAS)
        deletes = min(len(to_delete), BURST_REPLICAS)
        self.expectations.expect(key, adds=creates, deletes=deletes)
        assert ds.spec is not None and ds.metadata is not None
        template = ds.spec.template
        assert template is not None
        labels = {**((template.metadata.labels if template.metadata else None) or {})}
        if generation is not None:
            labels[TEMPLATE_GENERATION_LABEL] = str(generation)
        if hash_:
            labels[CONTROLLER_REVISION_HASH_LABEL] = hash_
        base = pod_from_template(template, ds, extra_labels=labels)
        spec = add_daemon_tolerations(base.spec) if base.spec is not None else None
        queue = list(needing[:creates])
        errors: list[BaseException] = []

        async def create() -> None:
            node = queue.pop(0)
            assert spec is not None
            pod = attrs.evolve(
                base, spec=attrs.evolve(spec, affinity=pin_to_node(spec.affinity, node))
            )
            try:
                await self.client.create(pod, namespace=ds.metadata.namespace)  # type: ignore[union-attr]
            except Exception:
                self.expectations.creation_observed(key)
                raise

        succeeded, error = await slow_start_batch(creates, create)
        if error is not None:
            skipped = creates - succeeded - 1
            if skipped > 0:
                self.expectations.lower_expectations(key, adds=skipped)
            if "namespace" not in str(error).lower() or "terminat" not in str(error).lower():
                errors.append(error)
                self.ctx.event(ds, "Warning", "FailedCreate", f"Error creating: {error}")
        elif creates:
            self.ctx.event(ds, "Normal", "SuccessfulCreate", f"Created {creates} pod(s)")

        async def delete(name: str) -> None:
            try:
                await self.client.delete(Pod, name, namespace=ds.metadata.namespace)  # type: ignore[union-attr]
            except Exception as exc:
                self.expectations.deletion_observed(key)
                if getattr(exc, "code", None) != 404:
                    errors.append(exc)
                return
            self.ctx.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

        await asyncio.gather(*(delete(n) for n in to_delete[:deletes]))
        if errors:
            raise errors[0]

    async def _rolling_update(
        self,
        ds: DaemonSet,
        selector: Selector,
        nodes: list[Node],
        hash_: str,
        generation: int | None,
    ) -> None:
        by_node = await self._nodes_to_pods(ds, selector)
        should_run: dict[str, bool] = {}
        desired = 0
        for node in nodes:
            name = _name(node)
            run = should_run[name] = node_should_run(node, ds)[0]
            if run:
                desired += 1
                by_node.setdefault(name, [])
        surge, unavailable = rolling_counts(ds, desired)
        min_ready = ds.spec.min_ready_seconds or 0  # type: ignore[union-attr]
        now = time_now()
        if surge == 0:
            old = no_surge_deletions(by_node, hash_, generation, unavailable, min_ready, now)
            await self._sync_nodes(ds, old, [], hash_, generation)
        else:
            old, new = surge_plan(by_node, hash_, generation, surge, min_ready, now, should_run)
            await self._sync_nodes(ds, old, new, hash_, generation)

    # -- history --------------------------------------------------------------------------------

    async def _construct_history(
        self, ds: DaemonSet, selector: Selector
    ) -> tuple[ControllerRevision, list[ControllerRevision]]:
        """constructHistory: the revision matching the template (made if missing, renumbered
        to the newest) and the others."""
        assert ds.metadata is not None and ds.spec is not None
        candidates = [
            r
            for r in self.revisions.store.by_index("namespace", ds.metadata.namespace or "")
            if (ref := controller_ref(r)) is None or ref.uid == ds.metadata.uid
        ]
        histories = await claim_objects(self.client, ds, selector, candidates)
        patch = template_patch(ds.spec.template)
        probe = ControllerRevision(data=patch)
        current: list[ControllerRevision] = []
        old: list[ControllerRevision] = []
        for history in histories:
            assert history.metadata is not None
            if CONTROLLER_REVISION_HASH_LABEL not in (history.metadata.labels or {}):
                labels = {
                    **(history.metadata.labels or {}),
                    CONTROLLER_REVISION_HASH_LABEL: _name(history),
                }
                history = await self.client.update(
                    attrs.evolve(history, metadata=attrs.evolve(history.metadata, labels=labels))
                )
            (current if equal_revision(history, probe) else old).append(history)
        revision = max((r.revision or 0 for r in old), default=0) + 1
        if not current:
            return await self._snapshot(ds, patch, revision), old
        current = sort_revisions(current)
        cur = current[-1]
        for dup in current[:-1]:  # dedupCurHistories
            await self._relabel_pods(ds, selector, dup, cur)
            await _ignore_404(
                self.client.delete(ControllerRevision, _name(dup), namespace=_ns(dup))
            )
        if (cur.revision or 0) < revision:
            cur = await self.client.update(attrs.evolve(cur, revision=revision))
        return cur, old

    async def _relabel_pods(
        self, ds: DaemonSet, selector: Selector, dup: ControllerRevision, keep: ControllerRevision
    ) -> None:
        dup_hash = (dup.metadata.labels or {}).get(CONTROLLER_REVISION_HASH_LABEL)  # type: ignore[union-attr]
        keep_hash = (keep.metadata.labels or {}).get(CONTROLLER_REVISION_HASH_LABEL)  # type: ignore[union-attr]
        for pod in await self._claimed_pods(ds, selector):
            if (pod.metadata.labels or {}).get(CONTROLLER_REVISION_HASH_LABEL) == dup_hash:  # type: ignore[union-attr]
                patch = {"metadata": {"labels": {CONTROLLER_REVISION_HASH_LABEL: keep_hash}}}
                await _ignore_404(
                    self.client.patch(
                        Pod,
                        _name(pod),
                        patch,
                        namespace=_ns(pod),
                        patch_type="merge",
                    )
                )

    async def _snapshot(
        self, ds: DaemonSet, patch: dict[str, Any], revision: int
    ) -> ControllerRevision:
        assert ds.metadata is not None and ds.spec is not None and ds.spec.template is not None
        collision = (ds.status.collision_count if ds.status is not None else None) or 0
        template_labels = ds.spec.template.metadata.labels if ds.spec.template.metadata else None
        history = new_controller_revision(ds, template_labels, patch, revision, collision)
        created, count = await create_controller_revision(self.client, ds, history, collision)
        if count != collision:
            # A hash collision: record the count so the next sync names the revision anew.
            status = attrs.evolve(ds.status or DaemonSetStatus(), collision_count=count)
            await self.client.update(attrs.evolve(ds, status=status), subresource="status")
        return created

    async def _cleanup_history(
        self, ds: DaemonSet, selector: Selector, old: list[ControllerRevision]
    ) -> None:
        """cleanupHistory: delete the oldest revisions past revisionHistoryLimit that no live
        pod carries the hash of."""
        limit = ds.spec.revision_history_limit if ds.spec is not None else None
        to_kill = len(old) - (10 if limit is None else limit)
        if to_kill <= 0:
            return
        live = {
            (p.metadata.labels or {}).get(CONTROLLER_REVISION_HASH_LABEL)  # type: ignore[union-attr]
            for pods in (await self._nodes_to_pods(ds, selector)).values()
            for p in pods
        }
        for history in sort_revisions(old):
            if to_kill <= 0:
                break
            if (history.metadata.labels or {}).get(CONTROLLER_REVISION_HASH_LABEL) in live:  # type: ignore[union-attr]
                continue
            await _ignore_404(
                self.client.delete(ControllerRevision, _name(history), namespace=_ns(history))
            )
            to_kill -= 1

    # -- status ---------------------------------------------------------------------------------

    async def _update_status(
        self,
        ds: DaemonSet,
        selector: Selector,
        nodes: list[Node],
        hash_: str,
        generation: int | None,
        observe: bool,
        requeue: list[float],
    ) -> None:
        """updateDaemonSetStatus: counts over the nodes, by the oldest pod on each."""
        by_node = await self._nodes_to_pods(ds, selector)
        min_ready = ds.spec.min_ready_seconds or 0  # type: ignore[union-attr]
        now = time_now()
        desired = current = mis = ready = updated = available = 0
        for node in nodes:
            name = _name(node)
            pods = by_node.get(name, [])
            if not node_should_run(node, ds)[0]:
                mis += 1 if pods else 0
                continue
            desired += 1
            if not pods:
                continue
            current += 1
            pod = sorted(pods, key=pod_sort_key)[0]
            if is_pod_ready(pod):
                ready += 1
                available += 1 if is_pod_available(pod, min_ready, now) else 0
            updated += 1 if is_pod_updated(pod, hash_, generation) else 0
        status = ds.status or DaemonSetStatus()
        new = attrs.evolve(
            status,
            desired_number_scheduled=desired,
            current_number_scheduled=current,
            number_misscheduled=mis,
            number_ready=ready,
            updated_number_scheduled=updated,
            number_available=available,
            number_unavailable=desired - available,
            observed_generation=ds.metadata.generation if observe else status.observed_generation,  # type: ignore[union-attr]
        )
        if min_ready > 0 and ready != available:
            requeue.append(float(min_ready))
        if new == status:
            return
        try:
            await self.client.update(attrs.evolve(ds, status=new), subresource="status")
        except Exception as exc:
            if getattr(exc, "code", None) != 409:
                raise
            requeue.append(0.0)  # the next sync reads the newer object (StatusUpdateRetries)


def _selector(ds: DaemonSet) -> Selector | None:
    sel = ds.spec.selector if ds.spec is not None else None
    if sel is None:
        return None
    try:
        return selector_from_label_selector(sel.match_labels, sel.match_expressions)
    except Exception:
        return None


def _name(obj: Any) -> str:
    return str(obj.metadata.name)


def _ns(obj: Any) -> str:
    return str(obj.metadata.namespace or "default")


def _deleting(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def _template_generation(ds: DaemonSet, cur: ControllerRevision) -> int | None:
    """The template generation: upstream's API server keeps it in an annotation; kframe's does
    not, so the current revision's number (it grows with each template change too) stands in."""
    raw = ((ds.metadata.annotations if ds.metadata is not None else None) or {}).get(
        TEMPLATE_GENERATION_ANNOTATION
    )
    if raw is not None:
        try:
            return int(raw)
        except ValueError:
            return None
    return cur.revision


def _result(requeue: Iterable[float]) -> Result:
    delays = list(requeue)
    return requeue_after(min(delays)) if delays else done()


async def _ignore_404(call: Any) -> None:
    try:
        await call
    except Exception as exc:
        if getattr(exc, "code", None) != 404:
            raise
