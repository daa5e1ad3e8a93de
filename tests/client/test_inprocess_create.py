"""The in-process create returns the object validation decoded, with its resourceVersion: the
same object as decoding what was stored, and the caller's object is left as it was."""

from __future__ import annotations

import asyncio
import copy

import attrs
import pytest

from kframe.api import from_dict, models, to_dict
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.client._common import resource_of
from kframe.store import open_store
from kframe.testing.scheduler import make_node, make_pod


def _objects() -> list[object]:
    pod = make_pod("p", cpu="100m", memory="500Mi", labels={"app": "web"})
    return [
        pod,
        make_node("n1", cpu="4", memory="32Gi"),
        models.ConfigMap(metadata=models.ObjectMeta(name="cm"), data={"a": "b"}),
        models.Event(
            metadata=models.ObjectMeta(name="p.1", namespace="default"),
            involved_object=models.ObjectReference(kind="Pod", name="p", namespace="default"),
            reason="Scheduled",
            message="m",
            type="Normal",
            count=1,
        ),
        models.Service(
            metadata=models.ObjectMeta(name="s"),
            spec=models.ServiceSpec(ports=(models.ServicePort(port=80),)),
        ),
    ]


@pytest.mark.parametrize("obj", _objects(), ids=lambda o: type(o).__name__)
def test_in_process_create_returns_what_decoding_the_stored_object_gives(obj: object) -> None:
    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        client = InProcessClient(server)
        await client.create(models.Namespace(metadata=models.ObjectMeta(name="default")))
        before = copy.deepcopy(to_dict(obj))
        created = await client.create(obj)
        assert to_dict(obj) == before
        r = resource_of(type(obj))
        storage = server.storage(r.group, r.version, r.plural)
        meta = created.metadata  # type: ignore[attr-defined]
        stored = await storage.get(meta.namespace, meta.name)
        assert created == from_dict(stored, type(obj))
        assert meta.resource_version == stored["metadata"]["resourceVersion"]
        assert attrs.has(type(created))
        await server.store.close()

    asyncio.run(main())
