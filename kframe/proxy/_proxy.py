"""The proxy: Service and EndpointSlice informers, change trackers, a rate-limited sync loop.

As kube-proxy's ``Proxier`` without the data plane: informer events feed the change trackers;
once both informers have listed, the proxy syncs the backend once, then again on every change
(at most once per ``min_sync_period``) and every ``sync_period``. ``kframe proxy`` runs one
against a remote API server; tests and ``kframe up`` run it on an in-process client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from kframe.api.models import EndpointSlice, Service
from kframe.client import Client, Clock, Informer, LoopClock
from kframe.proxy._backend import ProxyBackend
from kframe.proxy._runner import BoundedFrequencyRunner
from kframe.proxy._tracker import EndpointsChangeTracker, ServiceChangeTracker
from kframe.proxy._types import IPFamily, ProxyState

__all__ = ["DEFAULT_MIN_SYNC_PERIOD", "DEFAULT_SYNC_PERIOD", "Proxy"]

log = logging.getLogger("kframe.proxy")

#: kube-proxy's ``--iptables-min-sync-period`` default: at most one sync per second.
DEFAULT_MIN_SYNC_PERIOD = 1.0
#: kube-proxy's ``--iptables-sync-period`` default: a full resync every 30 s.
DEFAULT_SYNC_PERIOD = 30.0


class Proxy:
    """Keeps ``backend`` programmed with the cluster's Services and endpoints for one node."""

    def __init__(
        self,
        client: Client,
        backend: ProxyBackend,
        *,
        node_name: str = "",
        ip_family: IPFamily = "IPv4",
        min_sync_period: float = DEFAULT_MIN_SYNC_PERIOD,
        sync_period: float = DEFAULT_SYNC_PERIOD,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self.backend = backend
        self.node_name = node_name
        self.ip_family: IPFamily = ip_family
        self.sync_period = sync_period
        self._clock: Clock = clock if clock is not None else LoopClock()
        self.services = ServiceChangeTracker(ip_family)
        self.endpoints = EndpointsChangeTracker(node_name, ip_family)
        self.runner = BoundedFrequencyRunner(
            self.sync,
            min_interval=min_sync_period,
            max_interval=sync_period,
            clock=self._clock,
        )
        self._initialized = False
        self._unsynced: set[str] = set()
        self._need_full = True
        self._last_full: float | None = None
        #: Set once the first sync after both informers listed has succeeded.
        self.synced = asyncio.Event()
        #: Set once the first sync has been tried, whether it succeeded or failed.
        self.attempted = asyncio.Event()
        #: The last failure, one line ("" while none).
        self.last_error = ""
        #: Successful and failed syncs, and the duration of the last one (seconds).
        self.syncs = 0
        self.sync_errors = 0
        self.last_sync_seconds = 0.0
        self.last_state: ProxyState | None = None

    # -- informer handlers ----------------------------------------------------------------------

    def _changed(self, pending: bool) -> None:
        if pending and self._initialized:
            self.runner.run()

    def on_service_add(self, svc: Service) -> None:
        self._changed(self.services.update(None, svc))

    def on_service_update(self, old: Service, new: Service) -> None:
        self._changed(self.services.update(old, new))

    def on_service_delete(self, svc: Service) -> None:
        self._changed(self.services.update(svc, None))

    def on_slice_add(self, eps: EndpointSlice) -> None:
        self._changed(self.endpoints.endpoint_slice_update(eps))

    def on_slice_update(self, old: EndpointSlice, new: EndpointSlice) -> None:
        self._changed(self.endpoints.endpoint_slice_update(new))

    def on_slice_delete(self, eps: EndpointSlice) -> None:
        self._changed(self.endpoints.endpoint_slice_update(eps, removed=True))

    # -- syncing --------------------------------------------------------------------------------

    def state(self) -> ProxyState:
        """The desired state now, taking the trackers' pending changes (a checkpoint)."""
        self._unsynced |= self.services.checkpoint() | self.endpoints.checkpoint()
        now = self._clock.now()
        full = (
            self._need_full
            or self._last_full is None
            or now - self._last_full >= self.sync_period - 1e-9
        )
        services = self.services.service_ports()
        endpoints = self.endpoints.endpoints_map()
        return ProxyState(
            services=services,
            endpoints={k: v for k, v in endpoints.items() if k in services},
            changed=frozenset(self._unsynced),
            full=full,
            node_name=self.node_name,
            ip_family=self.ip_family,
        )

    async def sync(self, *, full: bool = False) -> None:
        """One sync of the backend (what the runner calls; ``full`` forces a full one, as
        upstream's ``forceSyncProxyRules``). A failure is logged and retried after
        ``sync_period``, as a full sync, as upstream does."""
        if full:
            self._need_full = True
        state = self.state()
        started = time.perf_counter()
        try:
            await self.backend.sync(state)
        except Exception as exc:
            self.sync_errors += 1
            self._need_full = True
            self.last_error = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
            log.error("proxy sync (%s) failed: %s; retrying", self.backend.name, exc)
            self.runner.retry_after(self.sync_period)
            return
        finally:
            self.last_sync_seconds = time.perf_counter() - started
            self.attempted.set()
        self.syncs += 1
        self.last_state = state
        self._unsynced.clear()
        if state.full:
            self._need_full = False
            self._last_full = self._clock.now()
        self.synced.set()

    async def run_synced(self) -> None:
        """Once the informers feeding this proxy's handlers have listed: the first sync, then
        the sync loop, until cancelled (what :meth:`run` does after listing; a host that
        shares informers among proxies calls it directly)."""
        self._initialized = True
        self.runner.run()  # the first sync, unconditionally (upstream's OnServiceSynced)
        await self.runner.loop()

    async def run(self) -> None:
        """List and watch Services and EndpointSlices, sync once both have listed, then keep the
        backend in sync until cancelled."""
        services: Informer[Service] = Informer(self._client, Service)
        slices: Informer[EndpointSlice] = Informer(self._client, EndpointSlice)
        services.add_handler(self.on_service_add, self.on_service_update, self.on_service_delete)
        slices.add_handler(self.on_slice_add, self.on_slice_update, self.on_slice_delete)
        tasks: list[asyncio.Task[Any]] = [
            asyncio.ensure_future(services.run()),
            asyncio.ensure_future(slices.run()),
        ]
        try:
            await services.wait_for_sync()
            await slices.wait_for_sync()
            await self.run_synced()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
