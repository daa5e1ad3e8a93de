"""The Proxy against an in-process API server: informers to trackers to backend syncs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from kframe.api.models import Service
from kframe.apiserver import APIServer
from kframe.client import FakeClock, InProcessClient
from kframe.proxy import Proxy, ServicePortName
from kframe.store import open_store
from kframe.testing.controllers import wait_for
from kframe.testing.proxy import RecordingBackend, endpoint_slice, service
from tests.controller.asyncrun import sync

WEB = ServicePortName("default", "web", "http", "TCP")


@contextlib.asynccontextmanager
async def api_server() -> AsyncIterator[APIServer]:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    try:
        yield server
    finally:
        await server.store.close()


@contextlib.asynccontextmanager
async def proxying(proxy: Proxy) -> AsyncIterator[Proxy]:
    task = asyncio.ensure_future(proxy.run())
    try:
        yield proxy
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@sync
async def test_the_proxy_syncs_services_and_endpoints_as_they_change() -> None:
    async with api_server() as server:
        client = InProcessClient(server)
        await client.create(service("web", "10.96.0.10", [("http", 80)]))
        backend = RecordingBackend()
        proxy = Proxy(client, backend, node_name="node-a", min_sync_period=0.0)
        async with proxying(proxy):
            await asyncio.wait_for(proxy.synced.wait(), 10)
            first = backend.states[0]
            assert first.full and set(first.services) == {WEB}
            assert first.endpoints_of(WEB) == ()

            await client.create(
                endpoint_slice("web", [("10.244.1.1", True, "node-a")], [("http", 8080)])
            )
            await wait_for(lambda: backend.states[-1].endpoints_of(WEB), what="endpoints")
            last = backend.states[-1]
            assert last.changed == {"default/web"}
            assert [str(e) for e in last.endpoints_of(WEB)] == ["10.244.1.1:8080"]
            assert last.endpoints_of(WEB)[0].is_local

            await client.delete(Service, "web", namespace="default")
            await wait_for(lambda: not backend.states[-1].services, what="the delete")


@sync
async def test_a_failed_sync_is_retried_as_a_full_sync() -> None:
    async with api_server() as server:
        client = InProcessClient(server)
        backend = RecordingBackend()
        backend.fail = 1
        proxy = Proxy(client, backend, min_sync_period=0.0, sync_period=0.05)
        async with proxying(proxy):
            await asyncio.wait_for(proxy.synced.wait(), 10)
            assert proxy.sync_errors == 1 and proxy.syncs >= 1
            assert backend.states[0].full


@sync
async def test_changes_before_the_first_list_do_not_sync_early() -> None:
    async with api_server() as server:
        backend = RecordingBackend()
        proxy = Proxy(InProcessClient(server), backend, clock=FakeClock())
        proxy.on_service_add(service("web", "10.96.0.10", [("http", 80)]))
        assert proxy.runner.runs == 0  # not initialized: the change is only tracked
        state = proxy.state()
        assert set(state.services) == {WEB} and state.changed == {"default/web"}
