"""The deployment controller's informers and their event handlers (upstream
deployment_controller.go ``addReplicaSet``, ``updateReplicaSet``, ``deleteReplicaSet``,
``deletePod``, ``resolveControllerRef``): which Deployment's key a change of a Deployment, a
ReplicaSet or a Pod puts on the work queue. :class:`DeploymentController` builds on it.
"""

from __future__ import annotations

from typing import Any

from kframe.api import Selector, selector_from_label_selector
from kframe.api.models import Deployment, Pod, ReplicaSet
from kframe.controller import (
    CONTROLLER_UID_INDEX,
    ControllerContext,
    controller_ref,
    controller_uid_index,
)

from ._replicas import strategy_type

__all__ = ["DeploymentInformers", "deployment_selector"]


class DeploymentInformers:
    """Deployments (each change enqueues it), ReplicaSets (a change enqueues their owner, or
    the Deployments selecting an orphan), Pods (a deletion may unblock a Recreate)."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.deployments = ctx.watch(Deployment)
        self.replica_sets = ctx.informer(
            ReplicaSet, indexers={CONTROLLER_UID_INDEX: controller_uid_index}
        )
        self.replica_sets.add_handler(self._rs_added, self._rs_updated, self._rs_deleted)
        self.pods = ctx.informer(Pod, indexers={CONTROLLER_UID_INDEX: controller_uid_index})
        self.pods.add_handler(None, None, self._pod_deleted)

    def _resolve(self, namespace: str | None, ref: Any) -> Deployment | None:
        """resolveControllerRef: the Deployment a controller reference names, by name and uid."""
        if ref is None or ref.kind != "Deployment":
            return None
        d = self.deployments.store.get(f"{namespace}/{ref.name}")
        if d is None or d.metadata is None or d.metadata.uid != ref.uid:
            return None
        return d

    def _selecting(self, rs: ReplicaSet) -> list[Deployment]:
        """getDeploymentsForReplicaSet: Deployments whose (non-empty) selector matches."""
        labels = (rs.metadata.labels if rs.metadata is not None else None) or {}
        if not labels:
            return []
        namespace = (rs.metadata.namespace if rs.metadata is not None else None) or ""
        out = []
        for d in self.deployments.store.by_index("namespace", namespace):
            selector = deployment_selector(d)
            if selector is not None and not selector.empty() and selector.matches(labels):
                out.append(d)
        return out

    def _rs_added(self, rs: ReplicaSet) -> None:
        if rs.metadata is not None and rs.metadata.deletion_timestamp is not None:
            self._rs_deleted(rs)
            return
        ref = controller_ref(rs)
        if ref is not None:
            d = self._resolve(rs.metadata.namespace if rs.metadata else None, ref)
            if d is not None:
                self.ctx.enqueue(d)
            return
        for d in self._selecting(rs):
            self.ctx.enqueue(d)

    def _rs_updated(self, old: ReplicaSet, cur: ReplicaSet) -> None:
        if (
            old.metadata is not None
            and cur.metadata is not None
            and old.metadata.resource_version == cur.metadata.resource_version
        ):
            return  # a resync, not a change
        namespace = cur.metadata.namespace if cur.metadata is not None else None
        cur_ref, old_ref = controller_ref(cur), controller_ref(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            d = self._resolve(namespace, old_ref)
            if d is not None:
                self.ctx.enqueue(d)
        if cur_ref is not None:
            d = self._resolve(namespace, cur_ref)
            if d is not None:
                self.ctx.enqueue(d)
            return
        labels_changed = (old.metadata.labels if old.metadata else None) != (
            cur.metadata.labels if cur.metadata else None
        )
        if labels_changed or ref_changed:
            for d in self._selecting(cur):
                self.ctx.enqueue(d)

    def _rs_deleted(self, rs: ReplicaSet) -> None:
        d = self._resolve(rs.metadata.namespace if rs.metadata else None, controller_ref(rs))
        if d is not None:
            self.ctx.enqueue(d)

    def _pod_deleted(self, pod: Pod) -> None:
        """deletePod: a Recreate Deployment whose last pod went is synced (it may scale up)."""
        ref = controller_ref(pod)
        if ref is None or ref.kind != "ReplicaSet" or pod.metadata is None:
            return
        rs = self.replica_sets.store.get(f"{pod.metadata.namespace}/{ref.name}")
        if rs is None or rs.metadata is None or rs.metadata.uid != ref.uid:
            return
        d = self._resolve(rs.metadata.namespace, controller_ref(rs))
        if d is None or strategy_type(d) != "Recreate" or d.metadata is None:
            return
        owned = self.replica_sets.store.by_index(CONTROLLER_UID_INDEX, d.metadata.uid or "")
        if not any(
            self.pods.store.by_index(CONTROLLER_UID_INDEX, r.metadata.uid or "")
            for r in owned
            if r.metadata is not None
        ):
            self.ctx.enqueue(d)

    # -- the sync -------------------------------------------------------------------------------


def deployment_selector(d: Deployment) -> Selector | None:
    sel = d.spec.selector if d.spec is not None else None
    if sel is None:
        return None
    try:
        return selector_from_label_selector(sel.match_labels, sel.match_expressions)
    except Exception:
        return None
