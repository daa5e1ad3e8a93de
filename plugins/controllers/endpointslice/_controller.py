"""The EndpointSlice controller's loop (upstream pkg/controller/endpointslice
endpointslice_controller.go): the work-queue key is a service's ``namespace/name``.

Services, pods (mapped to the services whose selector picks them) and the controller's own
slices (mapped to their service, the controller's own echoes left out) enqueue; a sync reads
the caches, plans with :func:`._reconciler.plan` and writes the plan.
"""

from __future__ import annotations

import logging
from typing import Any

from kframe.api.models import EndpointSlice, Node, Pod, Service
from kframe.controller import (
    ControllerContext,
    Result,
    TriggerTimeTracker,
    done,
    service_pods_keys,
)

from ._reconciler import (
    CONTROLLER_NAME,
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    MAX_ENDPOINTS_PER_SLICE,
    plan,
)
from ._tracker import SliceTracker

__all__ = ["EndpointSliceController", "StaleCache"]

log = logging.getLogger("kframe.controller.endpointslice")

_SERVICE_INDEX = "endpointslice/service"


def _service_index(slice_: EndpointSlice) -> list[str]:
    meta = slice_.metadata
    labels = (meta.labels if meta is not None else None) or {}
    if labels.get(LABEL_MANAGED_BY) != CONTROLLER_NAME or LABEL_SERVICE_NAME not in labels:
        return []
    assert meta is not None
    return [f"{meta.namespace}/{labels[LABEL_SERVICE_NAME]}"]


class StaleCache(Exception):
    """The slice cache lacks this controller's own writes: retry with backoff."""


def _endpoint_facts(pod: Pod) -> tuple[Any, ...]:
    """What of a pod can change its endpoint (podEndpointsChanged, labels aside)."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    return (
        meta.deletion_timestamp if meta else None,
        spec.node_name if spec else None,
        spec.hostname if spec else None,
        spec.subdomain if spec else None,
        status.pod_ip if status else None,
        status.pod_ips if status else None,
        status.phase if status else None,
        tuple((c.type, c.status) for c in (status.conditions if status else None) or ()),
        spec.containers if spec else None,
    )


class EndpointSliceController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.max_endpoints = ctx.option("max-endpoints-per-slice", MAX_ENDPOINTS_PER_SLICE)
        if not 1 <= self.max_endpoints <= 1000:
            # upstream validation: --max-endpoints-per-slice must be in [1, 1000]
            raise ValueError(
                f"--option max-endpoints-per-slice={self.max_endpoints}: must be 1 to 1000"
            )
        self.tracker = SliceTracker()
        self.triggers = TriggerTimeTracker()
        self.services = ctx.watch(Service)
        self.nodes = ctx.informer(Node)
        self.pods = ctx.informer(Pod)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_added)
        self.slices = ctx.informer(EndpointSlice, indexers={_SERVICE_INDEX: _service_index})
        self.slices.add_handler(self._slice_changed, self._slice_updated, self._slice_deleted)

    # -- event handlers ------------------------------------------------------------------------

    def _services_of(self, pod: Pod) -> list[str]:
        namespace = pod.metadata.namespace if pod.metadata is not None else None
        return service_pods_keys(self.services.store.by_index("namespace", namespace or ""), pod)

    def _pod_added(self, pod: Pod) -> None:
        for key in self._services_of(pod):
            self.ctx.queue.add(key)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        old_labels = old.metadata.labels if old.metadata is not None else None
        new_labels = new.metadata.labels if new.metadata is not None else None
        if old_labels == new_labels and _endpoint_facts(old) == _endpoint_facts(new):
            return  # a status change that moves no endpoint
        for key in {*self._services_of(old), *self._services_of(new)}:
            self.ctx.queue.add(key)

    def _slice_changed(self, slice_: EndpointSlice) -> None:
        for key in _service_index(slice_):
            if self.tracker.should_sync(slice_):
                self.ctx.queue.add(key)

    def _slice_updated(self, old: EndpointSlice, new: EndpointSlice) -> None:
        # A slice relabelled away from this controller is also its service's business.
        keys = {*_service_index(old), *_service_index(new)}
        if keys and self.tracker.should_sync(new):
            for key in keys:
                self.ctx.queue.add(key)

    def _slice_deleted(self, slice_: EndpointSlice) -> None:
        for key in _service_index(slice_):
            if self.tracker.handle_deletion(slice_):
                self.ctx.queue.add(key)

    # -- the sync ------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        service = self.services.store.get(key)
        if service is None:
            # The garbage collector deletes the slices through their owner reference.
            self.triggers.delete(key)
            self.tracker.delete_service(key)
            return done()
        spec = service.spec
        if spec is None or spec.type == "ExternalName" or not spec.selector:
            # upstream: no slices from this controller; slices of a selector-less service
            # are written by whoever manages its endpoints.
            return done()
        namespace = service.metadata.namespace if service.metadata is not None else None
        selector = dict(spec.selector)
        pods = [
            p
            for p in self.pods.store.by_index("namespace", namespace or "")
            if all(
                ((p.metadata.labels if p.metadata else None) or {}).get(k) == v
                for k, v in selector.items()
            )
        ]
        existing = [
            s
            for s in self.slices.store.by_index(_SERVICE_INDEX, key)
            if s.metadata is not None and s.metadata.deletion_timestamp is None
        ]
        if self.tracker.stale(key, self.slices.store.by_index(_SERVICE_INDEX, key)):
            raise StaleCache(f"endpoint slice cache of service {key} is behind its writes")
        nodes = {n.metadata.name or "": n for n in self.nodes.store.list() if n.metadata}
        trigger = self.triggers.compute(key, service, pods)
        todo = plan(
            service, pods, existing, nodes, max_endpoints=self.max_endpoints, trigger_time=trigger
        )
        await self._write(service, todo)
        if todo.missing_nodes:
            raise LookupError(
                f"service {key}: skipped pods on unknown nodes: {', '.join(todo.missing_nodes)}"
            )
        return done()

    async def _write(self, service: Service, todo: Any) -> None:
        client = self.ctx.client
        for slice_ in todo.create:
            try:
                created = await client.create(slice_)
            except Exception as exc:
                if _terminating(exc):
                    return  # upstream: no slices in a namespace being deleted
                raise
            self.tracker.update(created)
        for slice_ in todo.update:
            updated = await client.update(slice_)
            self.tracker.update(updated)
        for slice_ in todo.delete:
            meta = slice_.metadata
            assert meta is not None and meta.name is not None
            try:
                await client.delete(EndpointSlice, meta.name, namespace=meta.namespace)
            except Exception as exc:
                if getattr(exc, "code", None) != 404:
                    raise
            self.tracker.expect_deletion(slice_)
        if not todo.empty:
            log.debug(
                "service %s/%s: %d slices created, %d updated, %d deleted",
                service.metadata.namespace if service.metadata else "",
                service.metadata.name if service.metadata else "",
                len(todo.create),
                len(todo.update),
                len(todo.delete),
            )


def _terminating(exc: Exception) -> bool:
    causes = getattr(exc, "causes", None) or ()
    if any(getattr(c, "reason", None) == "NamespaceTerminating" for c in causes):
        return True
    return getattr(exc, "code", None) == 403 and "being terminated" in str(exc)
