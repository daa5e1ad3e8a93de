"""What the in-process client's watch and get hand out without decoding: the model the write
decoded (a create's, a binding's derived from it) is what decoding the stored object gives,
and any other version is decoded."""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import pytest

from kframe.api import from_dict, models
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.store import open_store
from kframe.testing.scheduler import make_pod


def _pods() -> list[models.Pod]:
    plain = make_pod("plain", cpu="100m", memory="500Mi")
    unscheduled = attrs.evolve(
        make_pod("unscheduled"),
        status=models.PodStatus(
            conditions=(
                models.PodCondition(type="Ready", status="False"),
                models.PodCondition(type="PodScheduled", status="False", reason="Unschedulable"),
            )
        ),
    )
    return [plain, unscheduled]


@pytest.mark.parametrize("pod", _pods(), ids=lambda p: p.metadata.name)
def test_watch_and_get_give_what_decoding_gives(pod: models.Pod) -> None:
    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        client = InProcessClient(server)
        await client.create(models.Namespace(metadata=models.ObjectMeta(name="default")))
        storage = server.storage("", "v1", "pods")
        events: list[Any] = []

        async def watch() -> None:
            async for event in client.watch(models.Pod, namespace="default"):
                events.append(event)
                if len(events) == 3:
                    return

        watching = asyncio.ensure_future(watch())
        await asyncio.sleep(0)
        name = pod.metadata.name  # type: ignore[union-attr]
        created = await client.create(pod)
        await client.create(
            models.Binding(
                metadata=models.ObjectMeta(name=name, namespace="default"),
                target=models.ObjectReference(kind="Node", name="n1"),
            )
        )
        got = await client.patch(models.Pod, name, {"metadata": {"labels": {"x": "y"}}})
        await asyncio.wait_for(watching, 10)
        for event in events:
            assert event.object == from_dict(event.raw, models.Pod)
        added, bound, patched = (e.object for e in events)
        assert added is created  # taken as written, not decoded again
        assert storage.recalled(events[1].raw) is not None
        assert bound.spec.node_name == "n1"
        assert [c.type for c in bound.status.conditions][-1] == "PodScheduled"
        assert patched == got
        # A patch is not remembered by the write; the watch decoded it once, for every watcher.
        assert storage.recalled(events[2].raw) is patched
        stored = await storage.get("default", name)
        assert await client.get(models.Pod, name, namespace="default") == from_dict(
            stored, models.Pod
        )
        await server.store.close()

    asyncio.run(main())
