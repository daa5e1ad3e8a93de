"""ProxyHost: many nodes' proxies on one pair of informers (``kframe up --proxy-mode``)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.cluster import Settings, run_up
from kframe.proxy import ProxyHost, ServicePortName
from kframe.store import open_store
from kframe.testing.controllers import wait_for
from kframe.testing.proxy import RecordingBackend, endpoint_slice, service
from tests.controller.asyncrun import sync

WEB = ServicePortName("default", "web", "http", "TCP")


@sync
async def test_each_node_sees_its_own_endpoints_as_local() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    await client.create(service("web", "10.96.0.10", [("http", 80)]))
    await client.create(
        endpoint_slice(
            "web",
            [("10.244.0.1", True, "node-0"), ("10.244.1.1", True, "node-1")],
            [("http", 8080)],
        )
    )
    backends = {"node-0": RecordingBackend(), "node-1": RecordingBackend()}
    host = ProxyHost(client, backends, min_sync_period=0.0)
    task = asyncio.ensure_future(host.run())
    try:
        await asyncio.wait_for(host.wait_synced(), 10)
        for node, backend in backends.items():
            local = [str(ep) for ep in backend.states[-1].endpoints_of(WEB) if ep.is_local]
            assert local == [f"10.244.{node[-1]}.1:8080"]
        await client.create(service("db", "10.96.0.20", [("", 5432)]))
        await wait_for(
            lambda: all(len(b.states[-1].services) == 2 for b in backends.values()),
            what="both proxies see the new Service",
        )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.store.close()
    assert all(b.closed for b in backends.values())


def test_up_refuses_an_unknown_proxy_mode(tmp_path: Path) -> None:
    settings = Settings(
        store="memory://",
        address="127.0.0.1",
        port=0,
        kubeconfig=tmp_path / "kubeconfig",
        nodes=1,
        runtime="fake",
        proxy_mode="nope",
    )
    with pytest.raises(ValueError, match="--proxy-mode 'nope': no such proxy backend"):
        asyncio.run(run_up(settings))
