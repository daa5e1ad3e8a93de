"""Informers: list then watch, handlers, indexes, and a relist after 410."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from kframe.api import models
from kframe.apiserver import APIError, APIServer
from kframe.client import Client, HttpClient, Informer, InProcessClient, WatchEvent
from kframe.store import open_store


def cm(name: str, namespace: str = "default", **labels: str) -> models.ConfigMap:
    return models.ConfigMap(
        metadata=models.ObjectMeta(name=name, namespace=namespace, labels=labels)
    )


def run(kind: str, body: Callable[[Client, APIServer], Awaitable[None]]) -> None:
    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.start("127.0.0.1", 0)
        client: Client = InProcessClient(server) if kind == "inprocess" else HttpClient(server.url)
        try:
            await asyncio.wait_for(body(client, server), 30)
        finally:
            await client.close()
            await server.stop()
            await server.store.close()

    asyncio.run(main())


async def until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("kind", ["inprocess", "http"])
def test_list_then_watch_with_handlers_and_indexes(kind: str) -> None:
    async def body(client: Client, server: APIServer) -> None:
        await client.create(cm("before", app="a"))
        events: list[tuple[str, str]] = []
        informer = Informer(
            client,
            models.ConfigMap,
            indexers={
                "app": lambda o: (
                    [o.metadata.labels["app"]] if o.metadata and "app" in o.metadata.labels else []
                )
            },
        )

        async def on_update(old: models.ConfigMap, new: models.ConfigMap) -> None:
            events.append(("update", new.metadata.name if new.metadata else ""))

        informer.add_handler(
            on_add=lambda o: events.append(("add", o.metadata.name)),
            on_update=on_update,
            on_delete=lambda o: events.append(("delete", o.metadata.name)),
        )
        async with informer.running():
            await informer.wait_for_sync()
            assert events == [("add", "before")]
            await client.create(cm("after", app="b"))
            await client.patch(
                models.ConfigMap,
                "before",
                {"data": {"k": "v"}},
                namespace="default",
                patch_type="merge",
            )
            await client.delete(models.ConfigMap, "after", namespace="default")
            await until(lambda: len(events) == 4)
        assert events == [
            ("add", "before"),
            ("add", "after"),
            ("update", "before"),
            ("delete", "after"),
        ]
        assert informer.store.list_keys() == ["default/before"]
        cached = informer.store.get("default/before")
        assert cached is not None and cached.data == {"k": "v"}
        assert [o.metadata.name for o in informer.store.by_index("app", "a") if o.metadata] == [
            "before"
        ]
        assert informer.store.by_index("app", "b") == []
        assert len(informer.store.by_index("namespace", "default")) == 1

    run(kind, body)


class ExpiringClient:
    """Delegates to a real client, but its first watch fails with 410 Gone."""

    def __init__(self, inner: Client) -> None:
        self._inner = inner
        self.watches = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def watch(self, cls: type, **kwargs: Any) -> AsyncIterator[WatchEvent[Any]]:
        self.watches += 1
        if self.watches == 1:
            raise APIError(410, "Expired", "too old resource version: 1 (5)")
        async for event in self._inner.watch(cls, **kwargs):
            yield event


def test_relists_after_410_and_reports_what_changed() -> None:
    async def body(client: Client, server: APIServer) -> None:
        flaky = ExpiringClient(client)
        informer = Informer(flaky, models.ConfigMap)  # type: ignore[arg-type]
        adds: list[str] = []
        informer.add_handler(on_add=lambda o: adds.append(o.metadata.name))
        await client.create(cm("a"))
        async with informer.running():
            await until(lambda: flaky.watches >= 2)
            await client.create(cm("b"))
            await until(lambda: "b" in adds)
        assert adds == ["a", "b"]  # "a" once: the relist found it unchanged
        assert informer.store.list_keys() == ["default/a", "default/b"]

    run("inprocess", body)


def _name(obj: models.ConfigMap) -> str:
    return (obj.metadata.name if obj.metadata else None) or ""


def test_a_handler_added_to_a_synced_informer_hears_of_what_it_holds() -> None:
    # client-go's AddEventHandler on a started informer: the objects held replay as adds, to
    # the new handler only, before it hears of anything newer.
    async def body(client: Client, server: APIServer) -> None:
        await client.create(cm("a"))
        await client.create(cm("b"))
        informer = Informer(client, models.ConfigMap)
        first: list[str] = []
        informer.add_handler(on_add=lambda o: first.append(o.metadata.name))
        async with informer.running():
            await informer.wait_for_sync()
            plain: list[tuple[str, str]] = []
            informer.add_handler(
                on_add=lambda o: plain.append(("add", _name(o))),
                on_update=lambda old, new: plain.append(("update", _name(new))),
            )
            assert plain == [("add", "a"), ("add", "b")]  # at once, for a plain function
            slow: list[tuple[str, str]] = []

            async def slow_add(o: models.ConfigMap) -> None:
                await asyncio.sleep(0.01)
                slow.append(("add", _name(o)))

            async def slow_update(old: models.ConfigMap, new: models.ConfigMap) -> None:
                slow.append(("update", _name(new)))

            informer.add_handler(on_add=slow_add, on_update=slow_update)
            await client.patch(
                models.ConfigMap, "a", {"data": {"k": "v"}}, namespace="default", patch_type="merge"
            )
            await until(lambda: len(slow) == 3)
            assert slow == [("add", "a"), ("add", "b"), ("update", "a")]
            assert plain == [("add", "a"), ("add", "b"), ("update", "a")]
        assert first == ["a", "b"]  # no replay to the handlers already there

    run("inprocess", body)


def test_a_handler_added_before_anything_is_held_gets_no_replay() -> None:
    informer = Informer(None, models.ConfigMap)  # type: ignore[arg-type]
    calls: list[Any] = []
    informer.add_handler(on_add=calls.append)  # outside any event loop, with nothing held
    informer.store.put(cm("x"))
    assert calls == []
