"""The service controller (upstream cloud-provider controllers/service controller.go).

For each Service of type LoadBalancer (without ``spec.loadBalancerClass``) it adds the
finalizer ``service.kubernetes.io/load-balancer-cleanup``, has the provider ensure a load
balancer over the cluster's nodes and copies the result to ``status.loadBalancer``. A Service
being deleted, or no longer of type LoadBalancer, has its load balancer deleted, its status
cleared and then the finalizer removed, so the API server can let it go.

When the set of backend nodes changes (and every ``node-sync-period``, 100s) the key
``node-sync`` points every load balancer at the new set through ``update_load_balancer``.
Provider signals: :class:`~kframe.cloud.RetryError` requeues after its delay without a
warning; :class:`~kframe.cloud.ImplementedElsewhere` leaves the Service alone.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from kframe.api import to_dict
from kframe.api.models import LoadBalancerStatus, Node, Service
from kframe.client import object_key
from kframe.cloud._errors import ImplementedElsewhere, RetryError
from kframe.cloud._interface import CloudProvider, LoadBalancer
from kframe.cloud._names import (
    LABEL_EXCLUDE_FROM_EXTERNAL_LB,
    LOAD_BALANCER_CLEANUP_FINALIZER,
    TAINT_TO_BE_DELETED,
)
from kframe.cloud.controllers._common import (
    CLUSTER_NAME,
    api_code,
    duration_option,
    has_taint,
    node_name,
)
from kframe.controller import ControllerContext, Result, done, requeue_after

__all__ = ["ServiceController", "is_backend", "needs_cleanup", "wants_load_balancer"]

log = logging.getLogger("kframe.cloud.service")

#: Upstream's ``nodeSyncPeriod``.
NODE_SYNC_PERIOD = 100.0
NODE_SYNC = "node-sync"


def wants_load_balancer(service: Service) -> bool:
    spec = service.spec
    return spec is not None and spec.type == "LoadBalancer" and spec.load_balancer_class is None


def _finalizers(service: Service) -> tuple[str, ...]:
    return tuple(service.metadata.finalizers or ()) if service.metadata is not None else ()


def needs_cleanup(service: Service) -> bool:
    """Upstream's needsCleanup: the finalizer is there and the Service is being deleted or no
    longer wants a load balancer."""
    if LOAD_BALANCER_CLEANUP_FINALIZER not in _finalizers(service):
        return False
    if service.metadata is not None and service.metadata.deletion_timestamp is not None:
        return True
    return not wants_load_balancer(service)


def needs_update(old: Service, new: Service) -> bool:
    """Whether an update calls for a sync (upstream's needsUpdate, coarser: any change of the
    spec, the annotations or the UID). Status and finalizer changes, the controller's own
    writes, do not."""
    if old.metadata is None or new.metadata is None:
        return True
    return (to_dict(old.spec) if old.spec else None) != (
        to_dict(new.spec) if new.spec else None
    ) or (
        old.metadata.annotations,
        old.metadata.uid,
    ) != (new.metadata.annotations, new.metadata.uid)


def is_backend(node: Node) -> bool:
    """Upstream's stable node set: every node but those labelled
    ``node.kubernetes.io/exclude-from-external-load-balancers`` or tainted for removal by the
    cluster autoscaler (readiness does not count)."""
    labels = (node.metadata.labels or {}) if node.metadata is not None else {}
    if LABEL_EXCLUDE_FROM_EXTERNAL_LB in labels:
        return False
    return not has_taint(node, TAINT_TO_BE_DELETED)


def _status_of(service: Service) -> LoadBalancerStatus | None:
    return service.status.load_balancer if service.status is not None else None


def _ingress(status: LoadBalancerStatus | None) -> Any:
    return to_dict(status).get("ingress") if status is not None else None


class ServiceController:
    def __init__(self, ctx: ControllerContext, cloud: CloudProvider) -> None:
        balancer = cloud.load_balancer()
        assert balancer is not None, "the service controller needs LoadBalancer"
        self.ctx = ctx
        self.balancer: LoadBalancer = balancer
        self.cluster_name = ctx.option("cluster-name", CLUSTER_NAME)
        self.sync_period = duration_option(ctx, "node-sync-period", NODE_SYNC_PERIOD)
        self.services = ctx.informer(Service)
        self.services.add_handler(ctx.enqueue, self._service_updated, ctx.enqueue)
        self.nodes = ctx.informer(Node)
        self.nodes.add_handler(
            self._node_changed, lambda _o, n: self._node_changed(n), self._node_changed
        )
        self._backend_set: tuple[str, ...] | None = None
        ctx.add_background(self._resync_loop)

    def _service_updated(self, old: Service, new: Service) -> None:
        if needs_update(old, new) or needs_cleanup(new):
            self.ctx.enqueue(new)

    # -- nodes ----------------------------------------------------------------------------------

    def backends(self) -> list[Node]:
        return sorted((n for n in self.nodes.store.list() if is_backend(n)), key=node_name)

    def _node_changed(self, _node: Node) -> None:
        names = tuple(node_name(n) for n in self.backends())
        if self._backend_set is not None and names != self._backend_set:
            self.ctx.queue.add(NODE_SYNC)
        self._backend_set = names

    async def _resync_loop(self) -> None:
        while True:
            await self.ctx.clock.sleep(self.sync_period)
            self.ctx.queue.add(NODE_SYNC)

    async def _node_sync(self) -> Result:
        nodes = self.backends()
        for service in self.services.store.list():
            if not wants_load_balancer(service) or needs_cleanup(service):
                continue
            if _ingress(_status_of(service)) is None:
                continue  # not ensured yet: its own sync takes the new nodes
            try:
                await self.balancer.update_load_balancer(self.cluster_name, service, nodes)
            except ImplementedElsewhere:
                continue
            except Exception as exc:
                log.warning("updating load balancer of %s failed: %s", object_key(service), exc)
                self.ctx.event(
                    service,
                    "Warning",
                    "UpdateLoadBalancerFailed",
                    f"Error updating load balancer with new hosts {[node_name(n) for n in nodes]}"
                    f": {exc}",
                )
                self.ctx.enqueue(service)  # a full sync retries it
        return done()

    # -- services -------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        if key == NODE_SYNC:
            return await self._node_sync()
        service = self.services.store.get(key)
        if service is None:
            return done()
        if needs_cleanup(service):
            await self._delete(key, service)
            return done()
        if not wants_load_balancer(service):
            return done()
        return await self._ensure(key, service)

    async def _ensure(self, key: str, service: Service) -> Result:
        if LOAD_BALANCER_CLEANUP_FINALIZER not in _finalizers(service):
            service = await self._set_finalizer(key, add=True)
        self.ctx.event(service, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer")
        nodes = self.backends()
        if not nodes:
            self.ctx.event(
                service,
                "Warning",
                "UnAvailableLoadBalancer",
                "There are no available nodes for LoadBalancer",
            )
        try:
            status = await self.balancer.ensure_load_balancer(self.cluster_name, service, nodes)
        except RetryError as exc:
            log.info("load balancer of %s: retry in %gs (%s)", key, exc.retry_after, exc)
            return requeue_after(exc.retry_after)
        except ImplementedElsewhere:
            log.info("load balancer of %s is implemented elsewhere", key)
            return done()
        except Exception as exc:
            self.ctx.event(
                service, "Warning", "SyncLoadBalancerFailed", f"Error syncing load balancer: {exc}"
            )
            raise
        self.ctx.event(service, "Normal", "EnsuredLoadBalancer", "Ensured load balancer")
        if _ingress(status) != _ingress(_status_of(service)):
            await self._patch_status(key, to_dict(status))
        return done()

    async def _delete(self, key: str, service: Service) -> None:
        self.ctx.event(service, "Normal", "DeletingLoadBalancer", "Deleting load balancer")
        try:
            await self.balancer.ensure_load_balancer_deleted(self.cluster_name, service)
        except Exception as exc:
            self.ctx.event(
                service, "Warning", "SyncLoadBalancerFailed", f"Error deleting load balancer: {exc}"
            )
            raise
        self.ctx.event(service, "Normal", "DeletedLoadBalancer", "Deleted load balancer")
        if _ingress(_status_of(service)) is not None:
            await self._patch_status(key, {"ingress": None})
        await self._set_finalizer(key, add=False)

    async def _patch_status(self, key: str, load_balancer: dict[str, Any]) -> None:
        namespace, _, name = key.partition("/")
        try:
            await self.ctx.client.patch(
                Service,
                name,
                {"status": {"loadBalancer": load_balancer}},
                namespace=namespace,
                patch_type="merge",
                subresource="status",
            )
        except Exception as exc:
            if api_code(exc) != 404:
                raise

    async def _set_finalizer(self, key: str, *, add: bool) -> Service:
        namespace, _, name = key.partition("/")
        service = await self.ctx.client.get(Service, name, namespace=namespace)
        assert service.metadata is not None
        finalizers = [f for f in _finalizers(service) if f != LOAD_BALANCER_CLEANUP_FINALIZER]
        if add:
            finalizers.append(LOAD_BALANCER_CLEANUP_FINALIZER)
        if tuple(finalizers) == _finalizers(service):
            return service
        meta = attrs.evolve(service.metadata, finalizers=tuple(finalizers))
        return await self.ctx.client.update(attrs.evolve(service, metadata=meta))
