"""Empties a terminating namespace, then clears its ``kubernetes`` finalizer (upstream
pkg/controller/namespace/deletion, namespaced_resources_deleter.go).

Every listable kind is emptied in the namespace, pods first (upstream's OrderedNamespaceDeletion,
on by default in 1.33), each object deleted with background propagation so the garbage
collector takes what they own. What remains is counted into the namespace's conditions; once
nothing does, ``namespaces/{name}/finalize`` drops the finalizer and the API server removes the
namespace.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from kframe.api.models import Namespace, NamespaceSpec, NamespaceStatus, Pod
from kframe.client import Client
from kframe.controller import guess_plural, listable_kinds

from ._conditions import ConditionUpdater

__all__ = ["FINALIZER", "NamespacedResourcesDeleter", "ResourcesRemaining"]

log = logging.getLogger("kframe.controller.namespace")

#: The spec finalizer this controller owns (upstream v1.FinalizerKubernetes).
FINALIZER = "kubernetes"
#: upstream finalizerEstimateSeconds: the wait assumed for objects held by finalizers.
FINALIZER_ESTIMATE_SECONDS = 15


class ResourcesRemaining(Exception):
    """Content was deleted but is not gone yet; try again in about ``estimate`` seconds."""

    def __init__(self, estimate: int) -> None:
        super().__init__(
            f"some content remains in the namespace, estimate {estimate} seconds before it is "
            "removed"
        )
        self.estimate = estimate


@attrs.define
class _KindResult:
    estimate: int = 0
    remaining: int = 0
    finalizers: Counter[str] = attrs.field(factory=Counter)
    error: Exception | None = None


def _code(exc: BaseException) -> Any:
    return getattr(exc, "code", None)


def resource_name(cls: type) -> str:
    """``resource.group`` as upstream's condition messages name a kind (``pods.``,
    ``deployments.apps``)."""
    api_version: str = getattr(cls, "API_VERSION", "")
    group = api_version.rpartition("/")[0]
    return f"{guess_plural(getattr(cls, 'KIND', ''))}.{group}"


class NamespacedResourcesDeleter:
    def __init__(self, client: Client, *, now: Callable[[], _dt.datetime] | None = None) -> None:
        self.client = client
        self._now = now or (lambda: _dt.datetime.now(_dt.UTC))

    async def delete(self, name: str) -> None:
        """One pass over namespace ``name``; raises :class:`ResourcesRemaining` to be called
        again later, any other error to be retried with backoff."""
        namespace = await self._get(name)
        if namespace is None or namespace.metadata is None:
            return
        if namespace.metadata.deletion_timestamp is None:
            return
        namespace = await self._retry_on_conflict(namespace, self._mark_terminating)
        if namespace is None or namespace.metadata is None:
            return
        if namespace.metadata.deletion_timestamp is None:
            return
        if not (namespace.spec and namespace.spec.finalizers):
            return  # finalized already
        estimate = await self.delete_all_content(namespace)
        if estimate > 0:
            raise ResourcesRemaining(estimate)
        await self._retry_on_conflict(namespace, self._finalize)

    # -- the namespace ----------------------------------------------------------------------

    async def _get(self, name: str) -> Namespace | None:
        try:
            return await self.client.get(Namespace, name)
        except Exception as exc:
            if _code(exc) == 404:
                return None
            raise

    async def _retry_on_conflict(
        self, namespace: Namespace, change: Callable[[Namespace], Awaitable[Namespace]]
    ) -> Namespace | None:
        """``change(namespace)``, on a conflict again on the latest version (None: gone).
        upstream retryOnConflictError: a namespace whose uid changed is an error."""
        latest = namespace
        while True:
            try:
                return await change(latest)
            except Exception as exc:
                if _code(exc) == 404:
                    return None
                if _code(exc) != 409:
                    raise
            previous = latest
            fetched = await self._get((previous.metadata and previous.metadata.name) or "")
            if fetched is None:
                return None
            if (fetched.metadata and fetched.metadata.uid) != (
                previous.metadata and previous.metadata.uid
            ):
                raise RuntimeError("namespace uid has changed across retries")
            latest = fetched

    async def _mark_terminating(self, namespace: Namespace) -> Namespace:
        status = namespace.status
        if status is not None and status.phase == "Terminating":
            return namespace
        # The API server sets the phase on DELETE; a namespace marked otherwise gets it here.
        new_status = attrs.evolve(status or NamespaceStatus(), phase="Terminating")
        return await self.client.update(
            attrs.evolve(namespace, status=new_status), subresource="status"
        )

    async def _finalize(self, namespace: Namespace) -> Namespace:
        finalizers = sorted({f for f in (namespace.spec.finalizers if namespace.spec else ())})
        kept = tuple(f for f in finalizers if f != FINALIZER)
        spec = attrs.evolve(namespace.spec or NamespaceSpec(), finalizers=kept)
        return await self.client.update(attrs.evolve(namespace, spec=spec), subresource="finalize")

    # -- the content ------------------------------------------------------------------------

    async def delete_all_content(self, namespace: Namespace) -> int:
        """Delete everything in ``namespace``; the seconds to wait for what remains (0: gone),
        conditions updated. Errors are collected over every kind, then raised together."""
        assert namespace.metadata is not None
        name = namespace.metadata.name or ""
        deleted_at = namespace.metadata.deletion_timestamp
        updater = ConditionUpdater()
        errors: list[Exception] = []
        estimate = 0
        remaining: dict[str, int] = {}
        finalizers: Counter[str] = Counter()
        try:
            kinds = await listable_kinds(self.client)
        except Exception as exc:
            # upstream: discovery errors are not fatal; what was found is still emptied.
            errors.append(exc)
            updater.discovery_failed(str(exc))
            kinds = [Pod]

        def take(cls: type, result: _KindResult) -> None:
            nonlocal estimate
            if result.error is not None:
                errors.append(result.error)
                updater.content_failed(result.error)
            estimate = max(estimate, result.estimate)
            if result.remaining:
                remaining[resource_name(cls)] = result.remaining
                finalizers.update(result.finalizers)

        # Pods first: the rest (a ServiceAccount, a Secret, a PVC) may still be used by them.
        if Pod in kinds:
            take(Pod, await self._delete_kind(Pod, name, deleted_at))
            if remaining:
                updater.content_totals(remaining, finalizers)
                await self._write_conditions(namespace, updater)
                _raise(errors)
                return estimate
        for cls in kinds:
            if cls is not Pod:
                take(cls, await self._delete_kind(cls, name, deleted_at))
        updater.content_totals(remaining, finalizers)
        # Always: a condition that said "it failed" must say "it worked" once it does.
        await self._write_conditions(namespace, updater)
        _raise(errors)
        return estimate

    async def _write_conditions(self, namespace: Namespace, updater: ConditionUpdater) -> None:
        status = updater.update(namespace.status)
        if status is None:
            return
        try:
            await self.client.update(attrs.evolve(namespace, status=status), subresource="status")
        except Exception as exc:
            log.warning("couldn't update status condition for namespace %r: %s", namespace, exc)

    async def _list_in(self, cls: type, namespace: str) -> list[Any]:
        listed: Any = await self.client.list(cls, namespace=namespace)
        # A cluster-scoped kind lists everything whatever the namespace: keep only the
        # namespace's own (the Client names no kind's scope).
        return [
            o for o in listed.items if o.metadata is not None and o.metadata.namespace == namespace
        ]

    async def _delete_kind(self, cls: type, namespace: str, deleted_at: Any) -> _KindResult:
        """upstream deleteAllContentForGroupVersionResource, by listing and deleting each object
        (the Client has no deletecollection)."""
        try:
            estimate = await self._estimate(cls, namespace, deleted_at)
            for obj in await self._list_in(cls, namespace):
                try:
                    await self.client.delete(
                        cls, obj.metadata.name, namespace=namespace, propagation_policy="Background"
                    )
                except Exception as exc:
                    if _code(exc) not in (404, 405):
                        raise
            left = await self._list_in(cls, namespace)
        except Exception as exc:
            return _KindResult(error=exc)
        if not left:
            return _KindResult()
        held: Counter[str] = Counter(f for o in left for f in o.metadata.finalizers or ())
        if estimate:
            return _KindResult(estimate, len(left), held)
        if held:
            return _KindResult(FINALIZER_ESTIMATE_SECONDS, len(left), held)
        return _KindResult(
            0,
            len(left),
            held,
            RuntimeError(
                f"unexpected items still remain in namespace: {namespace} for gvr: "
                f"{resource_name(cls)}"
            ),
        )

    async def _estimate(self, cls: type, namespace: str, deleted_at: Any) -> int:
        """upstream estimateGracefulTermination: pods wait for their grace period, counted
        from the namespace's deletion."""
        if cls is not Pod:
            return 0
        estimate = 0
        for pod in await self._list_in(Pod, namespace):
            phase = pod.status.phase if pod.status else None
            if phase in ("Succeeded", "Failed"):
                continue
            grace = pod.spec.termination_grace_period_seconds if pod.spec else None
            if grace is not None and grace > estimate:
                estimate = grace
        if deleted_at is not None and self._now() - deleted_at >= _dt.timedelta(seconds=estimate):
            return 0
        return estimate


def _raise(errors: list[Exception]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise RuntimeError("[" + ", ".join(str(e) for e in errors) + "]")
