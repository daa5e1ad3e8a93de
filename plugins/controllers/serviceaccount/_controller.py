"""Ensures the default service accounts of every active namespace (upstream
ServiceAccountsController): the work-queue key is a namespace name."""

from __future__ import annotations

import logging

from kframe.api.models import Namespace, ObjectMeta, ServiceAccount
from kframe.controller import ControllerContext, Result, done

__all__ = ["DEFAULT_SERVICE_ACCOUNTS", "ServiceAccountsController"]

log = logging.getLogger("kframe.controller.serviceaccount")

#: upstream DefaultServiceAccountsControllerOptions: ServiceAccountsToEnsure.
DEFAULT_SERVICE_ACCOUNTS = ("default",)


class ServiceAccountsController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.namespaces = ctx.informer(Namespace)
        self.accounts = ctx.informer(ServiceAccount)
        # upstream: namespaces on add and update; service accounts on delete only.
        self.namespaces.add_handler(
            self._namespace_changed, lambda _old, new: self._namespace_changed(new)
        )
        self.accounts.add_handler(None, None, self._account_deleted)

    def _namespace_changed(self, namespace: Namespace) -> None:
        self.ctx.enqueue(namespace)

    def _namespace_updated(self, _old: Namespace, new: Namespace) -> None:
        self.ctx.enqueue(new)

    def _account_deleted(self, account: ServiceAccount) -> None:
        if account.metadata is None or account.metadata.namespace is None:
            return
        if account.metadata.name in DEFAULT_SERVICE_ACCOUNTS:
            self.ctx.queue.add(account.metadata.namespace)

    async def reconcile(self, key: str) -> Result | None:
        namespace = self.namespaces.store.get(key)
        if namespace is None:
            return done()
        phase = namespace.status.phase if namespace.status is not None else None
        if phase != "Active":
            return done()  # upstream: nothing is made in a namespace that is not active
        for name in DEFAULT_SERVICE_ACCOUNTS:
            if self.accounts.store.get(f"{key}/{name}") is not None:
                continue
            account = ServiceAccount(metadata=ObjectMeta(name=name, namespace=key))
            try:
                await self.ctx.client.create(account)
            except Exception as exc:
                if getattr(exc, "code", None) == 409:
                    continue  # made meanwhile (or our cache lags)
                if _terminating(exc):
                    continue  # upstream: HasStatusCause(err, NamespaceTerminatingCause)
                raise
            log.debug("created service account %s/%s", key, name)
        return done()


def _terminating(exc: Exception) -> bool:
    causes = getattr(exc, "causes", None) or ()
    if any(getattr(c, "reason", None) == "NamespaceTerminating" for c in causes):
        return True
    # Over HTTP the Status causes are not kept: the 403's message says the same.
    return getattr(exc, "code", None) == 403 and "being terminated" in str(exc)
