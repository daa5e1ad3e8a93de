"""Both Client implementations run the same scenarios with the same results."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from kframe.api import models
from kframe.apiserver import APIError, APIServer
from kframe.client import Client, HttpClient, InProcessClient
from kframe.store import open_store

Scenario = Callable[[Client, APIServer], Awaitable[None]]


def run(kind: str, scenario: Scenario) -> None:
    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.start("127.0.0.1", 0)
        client: Client = InProcessClient(server) if kind == "inprocess" else HttpClient(server.url)
        try:
            await asyncio.wait_for(scenario(client, server), 30)
        finally:
            await client.close()
            await server.stop()
            await server.store.close()

    asyncio.run(main())


CLIENTS = ["inprocess", "http"]


def cm(name: str, **labels: str) -> models.ConfigMap:
    return models.ConfigMap(metadata=models.ObjectMeta(name=name, labels=labels))


@pytest.mark.parametrize("kind", CLIENTS)
def test_implements_the_interface(kind: str) -> None:
    async def scenario(client: Client, server: APIServer) -> None:
        assert isinstance(client, Client)

    run(kind, scenario)


@pytest.mark.parametrize("kind", CLIENTS)
def test_crud(kind: str) -> None:
    async def scenario(client: Client, server: APIServer) -> None:
        created = await client.create(cm("a", tier="x"))
        assert created.metadata is not None and created.metadata.namespace == "default"
        got = await client.get(models.ConfigMap, "a", namespace="default")
        assert got == created
        updated = await client.update(models.ConfigMap(metadata=got.metadata, data={"k": "v"}))
        assert updated.data == {"k": "v"}
        patched = await client.patch(
            models.ConfigMap, "a", {"data": {"z": "1"}}, namespace="default", patch_type="merge"
        )
        assert patched.data == {"k": "v", "z": "1"}
        with pytest.raises(APIError) as stale:
            await client.update(models.ConfigMap(metadata=got.metadata, data={}))
        assert stale.value.code == 409 and stale.value.reason == "Conflict"
        listed = await client.list(models.ConfigMap, namespace="default", label_selector="tier=x")
        assert [c.metadata.name for c in listed.items if c.metadata] == ["a"]
        await client.delete(models.ConfigMap, "a", namespace="default")
        with pytest.raises(APIError) as missing:
            await client.get(models.ConfigMap, "a", namespace="default")
        assert (missing.value.code, missing.value.message) == (404, 'configmaps "a" not found')
        with pytest.raises(APIError) as no_ns:
            await client.create(cm("b"), namespace="nope")
        assert no_ns.value.code == 404

    run(kind, scenario)


@pytest.mark.parametrize("kind", CLIENTS)
def test_watch_and_410(kind: str) -> None:
    async def scenario(client: Client, server: APIServer) -> None:
        start = (await client.list(models.ConfigMap, namespace="default")).resource_version
        await client.create(cm("a"))
        await client.delete(models.ConfigMap, "a", namespace="default")
        seen = []
        async for event in client.watch(
            models.ConfigMap, namespace="default", resource_version=start
        ):
            assert event.object is not None
            seen.append((event.type, event.object.metadata.name if event.object.metadata else None))
            if len(seen) == 2:
                break
        assert seen == [("ADDED", "a"), ("DELETED", "a")]
        await server.store.compact(await server.store.revision())
        with pytest.raises(APIError) as gone:
            async for _ in client.watch(
                models.ConfigMap, namespace="default", resource_version=start
            ):
                pass
        assert gone.value.code == 410

    run(kind, scenario)
