"""ClusterDNS: the component ``kframe dns`` runs, and ``kframe up`` hosts.

Two informers (Services, discovery.k8s.io/v1 EndpointSlices, every namespace) keep a
:class:`RecordTable` current; a :class:`DNSServer` answers from it. As CoreDNS waits for its
first list before serving, the server starts once both informers have synced, so a client never
sees NXDOMAIN for a Service that existed when the component started.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from kframe.api.models import EndpointSlice, Service
from kframe.client import Client, Informer
from kframe.dns._forward import Forwarder
from kframe.dns._records import DEFAULT_TTL, SERVICE_NAME_LABEL, PodRecords, RecordTable
from kframe.dns._server import DNSServer

__all__ = ["ClusterDNS"]


class ClusterDNS:
    """Cluster DNS against one API server client.

    ``forwarder``: where names outside the cluster domain go (None: they are REFUSED).
    ``port=0`` picks a free port; :attr:`port` holds the bound one once :meth:`start` returns.
    """

    def __init__(
        self,
        client: Client,
        *,
        cluster_domain: str = "cluster.local",
        host: str = "127.0.0.1",
        port: int = 1053,
        ttl: int = DEFAULT_TTL,
        pods: PodRecords = "insecure",
        forwarder: Forwarder | None = None,
    ) -> None:
        self.table = RecordTable(cluster_domain, ttl=ttl, pods=pods)
        if forwarder is not None:
            forwarder = forwarder.without(host, port)
        self.server = DNSServer(self.table, host=host, port=port, forwarder=forwarder)
        self.services: Informer[Service] = Informer(client, Service)
        self.endpoint_slices: Informer[EndpointSlice] = Informer(client, EndpointSlice)
        table = self.table
        self.services.add_handler(
            on_add=table.set_service,
            on_update=lambda old, new: table.set_service(new),
            on_delete=table.delete_service,
        )
        self.endpoint_slices.add_handler(
            on_add=table.set_endpoint_slice,
            on_update=lambda old, new: _moved(table, old, new),
            on_delete=table.delete_endpoint_slice,
        )
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        """Run the informers, wait for their first lists, then serve."""
        self._tasks = [
            asyncio.ensure_future(self.services.run()),
            asyncio.ensure_future(self.endpoint_slices.run()),
        ]
        try:
            await self.services.wait_for_sync()
            await self.endpoint_slices.wait_for_sync()
            await self.server.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await self.server.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def run(self) -> None:
        """Start, then serve until cancelled."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ClusterDNS]:
        """``async with dns.running():`` serves until the block ends."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


def _moved(table: RecordTable, old: EndpointSlice, new: EndpointSlice) -> None:
    # A slice relabelled to another Service leaves the first one's records.
    old_labels = old.metadata.labels if old.metadata else {}
    new_labels = new.metadata.labels if new.metadata else {}
    if old_labels.get(SERVICE_NAME_LABEL) != new_labels.get(SERVICE_NAME_LABEL):
        table.delete_endpoint_slice(old)
    table.set_endpoint_slice(new)
