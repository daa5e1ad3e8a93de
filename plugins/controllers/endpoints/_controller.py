"""The Endpoints controller's loop (upstream pkg/controller/endpoint endpoints_controller.go):
the work-queue key is a service's ``namespace/name``; its v1 Endpoints has the same name.

Services and pods (mapped to the services selecting them) enqueue, and so does the deletion of
an Endpoints object (it is made again). A deleted service's Endpoints is deleted; a service
without a selector (or of type ExternalName) is left alone, its Endpoints being someone else's.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from kframe.api.models import Endpoints, ObjectMeta, Pod, Service
from kframe.controller import (
    LAST_CHANGE_TRIGGER_TIME,
    ControllerContext,
    Result,
    TriggerTimeTracker,
    done,
    format_rfc3339_nano,
    is_headless,
    service_pods_keys,
)

from ._subsets import service_subsets, truncate

__all__ = ["CONTROLLER_NAME", "LABEL_MANAGED_BY", "OVER_CAPACITY", "EndpointsController"]

log = logging.getLogger("kframe.controller.endpoints")

#: endpoint.LabelManagedBy and endpoint.ControllerName (1.33).
LABEL_MANAGED_BY = "endpoints.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpoint-controller"
#: v1.EndpointsOverCapacity, set to ``truncated`` past 1000 addresses.
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
LABEL_HEADLESS = "service.kubernetes.io/headless"


def _endpoint_facts(pod: Pod) -> tuple[Any, ...]:
    meta, spec, status = pod.metadata, pod.spec, pod.status
    return (
        meta.labels if meta else None,
        meta.deletion_timestamp if meta else None,
        spec.node_name if spec else None,
        spec.hostname if spec else None,
        spec.subdomain if spec else None,
        status.pod_ip if status else None,
        status.pod_ips if status else None,
        status.phase if status else None,
        tuple((c.type, c.status) for c in (status.conditions if status else None) or ()),
    )


def _without(labels: dict[str, str], *keys: str) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k not in keys}


class EndpointsController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.triggers = TriggerTimeTracker()
        self.services = ctx.watch(Service)
        self.pods = ctx.informer(Pod)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_added)
        self.endpoints = ctx.informer(Endpoints)
        # upstream: only deletions of Endpoints matter (the object is made again).
        self.endpoints.add_handler(None, None, ctx.enqueue)

    def _services_of(self, pod: Pod) -> list[str]:
        namespace = pod.metadata.namespace if pod.metadata is not None else None
        return service_pods_keys(self.services.store.by_index("namespace", namespace or ""), pod)

    def _pod_added(self, pod: Pod) -> None:
        for key in self._services_of(pod):
            self.ctx.queue.add(key)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if _endpoint_facts(old) == _endpoint_facts(new):
            return
        for key in {*self._services_of(old), *self._services_of(new)}:
            self.ctx.queue.add(key)

    async def reconcile(self, key: str) -> Result | None:
        namespace, _, name = key.rpartition("/")
        service = self.services.store.get(key)
        if service is None:
            self.triggers.delete(key)
            try:
                await self.ctx.client.delete(Endpoints, name, namespace=namespace)
            except Exception as exc:
                if getattr(exc, "code", None) != 404:
                    raise
            return done()
        spec = service.spec
        if spec is None or spec.type == "ExternalName" or not spec.selector:
            return done()
        selector = dict(spec.selector)
        pods = [
            p
            for p in self.pods.store.by_index("namespace", namespace)
            if all(
                ((p.metadata.labels if p.metadata else None) or {}).get(k) == v
                for k, v in selector.items()
            )
        ]
        trigger = self.triggers.compute(key, service, pods)
        subsets, truncated = truncate(service_subsets(service, pods))
        current = self.endpoints.store.get(key)
        svc_labels = dict((service.metadata.labels if service.metadata else None) or {})
        if current is not None and current.metadata is not None:
            meta = current.metadata
            labels = dict(meta.labels or {})
            over = (meta.annotations or {}).get(OVER_CAPACITY) == "truncated"
            if (
                current.subsets == subsets
                and _without(labels, LABEL_HEADLESS, LABEL_MANAGED_BY) == svc_labels
                and labels.get(LABEL_MANAGED_BY) == CONTROLLER_NAME
                and over == truncated
            ):
                return done()  # nothing an update would change
        annotations = dict(
            (current.metadata.annotations if current and current.metadata else None) or {}
        )
        if trigger is not None:
            annotations[LAST_CHANGE_TRIGGER_TIME] = format_rfc3339_nano(trigger)
        else:
            annotations.pop(LAST_CHANGE_TRIGGER_TIME, None)
        if truncated:
            annotations[OVER_CAPACITY] = "truncated"
        else:
            annotations.pop(OVER_CAPACITY, None)
        labels = _without(svc_labels, LABEL_HEADLESS, LABEL_MANAGED_BY)
        if is_headless(service):
            labels[LABEL_HEADLESS] = ""
        labels[LABEL_MANAGED_BY] = CONTROLLER_NAME
        if current is None or current.metadata is None:
            new = Endpoints(
                metadata=ObjectMeta(
                    name=name, namespace=namespace, labels=labels, annotations=annotations
                ),
                subsets=subsets,
            )
            try:
                await self.ctx.client.create(new)
            except Exception as exc:
                if _terminating(exc):
                    return done()  # upstream: nothing is made in a namespace being deleted
                raise  # 409: made meanwhile, the retry sees it in the cache
        else:
            meta = attrs.evolve(current.metadata, labels=labels, annotations=annotations)
            await self.ctx.client.update(attrs.evolve(current, metadata=meta, subsets=subsets))
        log.debug("service %s: endpoints written (%d subsets)", key, len(subsets))
        return done()


def _terminating(exc: Exception) -> bool:
    causes = getattr(exc, "causes", None) or ()
    if any(getattr(c, "reason", None) == "NamespaceTerminating" for c in causes):
        return True
    return getattr(exc, "code", None) == 403 and "being terminated" in str(exc)
