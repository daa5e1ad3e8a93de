"""One informer per kind, whatever number of controllers watch it (SharedInformerFactory): each
kind is listed and watched once, every controller's handlers see its events, and indexers that
controllers add accumulate on the one store."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, cast

from kframe.api.models import ConfigMap, Container, ObjectMeta, Pod, PodSpec, Secret
from kframe.apiserver import APIServer
from kframe.client import Client, InProcessClient, object_key
from kframe.controller import (
    ControllerContext,
    ControllerManager,
    ControllerSpec,
    Result,
    SharedInformers,
    done,
)
from kframe.store import open_store
from kframe.testing.controllers import control_plane
from tests.controller.asyncrun import sync


class CountingClient:
    """Counts list and watch calls per kind."""

    def __init__(self, inner: Client) -> None:
        self._inner = inner
        self.lists: Counter[str] = Counter()
        self.watches: Counter[str] = Counter()

    async def list(self, cls: type[Any], **kw: Any) -> Any:
        self.lists[cls.__name__] += 1
        return await self._inner.list(cls, **kw)

    def watch(self, cls: type[Any], **kw: Any) -> Any:
        self.watches[cls.__name__] += 1
        return self._inner.watch(cls, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Keys:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def reconcile(self, key: str) -> Result | None:
        self.seen.append(key)
        return done()


def watcher(kinds: tuple[type[Any], ...], sink: dict[str, Keys], name: str) -> ControllerSpec:
    def build(ctx: ControllerContext) -> Keys:
        for kind in kinds:
            ctx.watch(kind)
        ctx.informer(Pod, indexers={f"by-{name}": lambda p: [object_key(p)]})
        sink[name] = Keys()
        return sink[name]

    return ControllerSpec(build)


def test_the_same_kind_is_one_informer() -> None:
    informers = SharedInformers(cast(Client, None))
    assert informers.get(Pod) is informers.get(Pod)
    assert informers.get(Pod) is not cast(object, informers.get(ConfigMap))
    assert informers.kinds == [Pod, ConfigMap]


@sync
async def test_controllers_share_one_list_and_watch_per_kind() -> None:
    sink: dict[str, Keys] = {}
    specs = {
        "one": watcher((ConfigMap, Pod), sink, "one"),
        "two": watcher((ConfigMap,), sink, "two"),
        "three": watcher((ConfigMap, Secret), sink, "three"),
    }
    async with control_plane(specs=specs) as cp:
        manager = cp.manager
        kinds = manager.informers.kinds
        assert sorted(k.__name__ for k in kinds) == ["ConfigMap", "Pod", "Secret"]
        store = manager.informers.get(Pod).store
        assert all(manager.contexts[n].informer(Pod).store is store for n in specs)
        await cp.client.create(ConfigMap(metadata=ObjectMeta(name="cm", namespace="default")))
        await cp.client.create(
            Pod(
                metadata=ObjectMeta(name="p", namespace="default"),
                spec=PodSpec(containers=(Container(name="c", image="x"),)),
            )
        )
        await cp.wait_for(
            lambda: all("default/cm" in sink[n].seen for n in specs), what="every handler"
        )
        await cp.wait_for(lambda: "default/p" in sink["one"].seen, what="the pod")
        assert "default/p" not in sink["two"].seen


@sync
async def test_each_kind_is_listed_and_watched_once() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = CountingClient(InProcessClient(server))
    sink: dict[str, Keys] = {}
    manager = ControllerManager(
        cast(Client, client),
        {f"c{i}": watcher((ConfigMap, Pod), sink, f"c{i}") for i in range(4)},
    )
    task = asyncio.ensure_future(manager.run())
    try:
        await asyncio.wait_for(manager.synced.wait(), 30)
        assert client.lists == {"ConfigMap": 1, "Pod": 1}
        assert client.watches == {"ConfigMap": 1, "Pod": 1}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.store.close()


@sync
async def test_an_informer_asked_for_after_start_starts() -> None:
    # start() with no informer yet, then one is asked for: it runs, and wait_for_sync covers it.
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    await client.create(ConfigMap(metadata=ObjectMeta(name="cm", namespace="default")))
    informers = SharedInformers(client)
    informers.start()
    try:
        late = informers.get(ConfigMap)
        await asyncio.wait_for(informers.wait_for_sync(), 30)
        assert late.has_synced
        assert [object_key(o) for o in late.store.list()] == ["default/cm"]
        later = informers.get(Secret)  # and one asked for after the others synced
        await asyncio.wait_for(informers.wait_for_sync(), 30)
        assert later.has_synced
    finally:
        await informers.stop()
        await client.close()
        await server.store.close()
