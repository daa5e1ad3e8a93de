"""Deletes the content of terminating namespaces (upstream NamespaceController,
pkg/controller/namespace/namespace_controller.go): the work-queue key is a namespace name."""

from __future__ import annotations

import logging

from kframe.api.models import Namespace
from kframe.controller import ControllerContext, Result, done, requeue_after

from ._deleter import NamespacedResourcesDeleter, ResourcesRemaining

__all__ = ["GRACE_PERIOD_OPTION", "NamespaceController"]

log = logging.getLogger("kframe.controller.namespace")

#: ``--option`` naming upstream's namespaceDeletionGracePeriod (5 s): how long after seeing a
#: deletion the controller waits before emptying the namespace, for creations that raced with
#: it to land (with several API servers and etcd members).
GRACE_PERIOD_OPTION = "namespace-deletion-grace-period"


class NamespaceController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.grace = ctx.option(GRACE_PERIOD_OPTION, 5.0)
        self.namespaces = ctx.informer(Namespace)
        self.namespaces.add_handler(self._changed, self._updated)
        self.deleter = NamespacedResourcesDeleter(ctx.client)

    def _changed(self, namespace: Namespace) -> None:
        meta = namespace.metadata
        if meta is None or meta.deletion_timestamp is None or not meta.name:
            return  # upstream enqueueNamespace: only namespaces being deleted
        if self.grace > 0:
            self.ctx.queue.add_after(meta.name, self.grace)
        else:
            self.ctx.queue.add(meta.name)

    def _updated(self, _old: Namespace, new: Namespace) -> None:
        self._changed(new)

    async def reconcile(self, key: str) -> Result | None:
        if self.namespaces.store.get(key) is None:
            return done()
        try:
            await self.deleter.delete(key)
        except ResourcesRemaining as exc:
            # upstream worker: content remains, look again in estimate/2 + 1 seconds.
            return requeue_after(exc.estimate // 2 + 1)
        return done()
