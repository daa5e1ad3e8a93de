"""Many nodes' proxies on one pair of informers, as ``kframe up --proxy-mode`` hosts them.

Each hosted node gets its own :class:`~kframe.proxy.Proxy` (its own trackers, runner and
backend: endpoints are local to a different node for each); one Service informer and one
EndpointSlice informer feed them all, as the kubelets of a ``KubeletHost`` share one watch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from kframe.api.models import EndpointSlice, Service
from kframe.client import Client, Informer
from kframe.proxy._backend import ProxyBackend
from kframe.proxy._proxy import DEFAULT_MIN_SYNC_PERIOD, DEFAULT_SYNC_PERIOD, Proxy

__all__ = ["ProxyHost"]


class ProxyHost:
    """One proxy per node of ``backends`` (node name -> backend), sharing two informers."""

    def __init__(
        self,
        client: Client,
        backends: Mapping[str, ProxyBackend],
        *,
        min_sync_period: float = DEFAULT_MIN_SYNC_PERIOD,
        sync_period: float = DEFAULT_SYNC_PERIOD,
    ) -> None:
        self._client = client
        self.proxies = [
            Proxy(
                client,
                backend,
                node_name=node,
                min_sync_period=min_sync_period,
                sync_period=sync_period,
            )
            for node, backend in backends.items()
        ]

    def _fan_out(self, method: str) -> Any:
        def handler(*args: Any) -> None:
            for proxy in self.proxies:
                getattr(proxy, method)(*args)

        return handler

    async def wait_synced(self) -> None:
        """Until every proxy has synced once."""
        for proxy in self.proxies:
            await proxy.synced.wait()

    async def run(self) -> None:
        """Run every proxy until cancelled; their backends are closed at the end."""
        services: Informer[Service] = Informer(self._client, Service)
        slices: Informer[EndpointSlice] = Informer(self._client, EndpointSlice)
        services.add_handler(
            self._fan_out("on_service_add"),
            self._fan_out("on_service_update"),
            self._fan_out("on_service_delete"),
        )
        slices.add_handler(
            self._fan_out("on_slice_add"),
            self._fan_out("on_slice_update"),
            self._fan_out("on_slice_delete"),
        )
        tasks = [asyncio.ensure_future(services.run()), asyncio.ensure_future(slices.run())]
        try:
            await services.wait_for_sync()
            await slices.wait_for_sync()
            tasks += [asyncio.ensure_future(p.run_synced()) for p in self.proxies]
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for proxy in self.proxies:
                await proxy.backend.close()
