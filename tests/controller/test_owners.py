"""claim_objects against a real in-process API server: adoption keeps other owners, release
removes only ours, a deleting owner claims what it has and nothing more, and failures that a
retry would mend fail the call."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from kframe.api import Selector, from_dict, selector_from_set
from kframe.api.models import ConfigMap, OwnerReference
from kframe.client import Client
from kframe.controller import claim_objects, controller_ref
from kframe.testing.controllers import control_plane
from tests.controller.asyncrun import sync

SELECTOR: Selector = selector_from_set({"app": "a"})


async def _owner(client: Client, name: str = "owner", *, deleting: bool = False) -> ConfigMap:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if deleting:
        meta["finalizers"] = ["example.com/hold"]
    owner = await client.create(from_dict({"metadata": meta}, ConfigMap))
    if deleting:
        await client.delete(ConfigMap, name, namespace="default")
        owner = await client.get(ConfigMap, name, namespace="default")
        assert owner.metadata is not None and owner.metadata.deletion_timestamp is not None
    return owner


async def _object(
    client: Client, name: str, labels: dict[str, str], refs: list[OwnerReference] | None = None
) -> ConfigMap:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "labels": labels}
    cm = from_dict({"metadata": meta}, ConfigMap)
    if refs:
        cm = attrs.evolve(cm, metadata=attrs.evolve(cm.metadata, owner_references=tuple(refs)))
    return await client.create(cm)


def _other_ref(owner: ConfigMap) -> OwnerReference:
    assert owner.metadata is not None
    return OwnerReference(
        api_version="v1", kind="ConfigMap", name=owner.metadata.name, uid=owner.metadata.uid
    )


@sync
async def test_adopting_keeps_other_owners_and_releasing_removes_only_ours() -> None:
    async with control_plane([], specs={}) as cp:
        owner, other = await _owner(cp.client), await _owner(cp.client, "other")
        orphan = await _object(cp.client, "orphan", {"app": "a"}, [_other_ref(other)])
        stranger = await _object(cp.client, "stranger", {"app": "b"})
        claimed = await claim_objects(cp.client, owner, SELECTOR, [orphan, stranger])
        assert [c.metadata.name for c in claimed] == ["orphan"]
        adopted = await cp.client.get(ConfigMap, "orphan", namespace="default")
        refs = adopted.metadata.owner_references
        assert [r.uid for r in refs] == [other.metadata.uid, owner.metadata.uid]
        assert controller_ref(adopted).uid == owner.metadata.uid  # type: ignore[union-attr]

        relabelled = await cp.client.update(
            attrs.evolve(adopted, metadata=attrs.evolve(adopted.metadata, labels={"app": "x"}))
        )
        assert await claim_objects(cp.client, owner, SELECTOR, [relabelled]) == []
        released = await cp.client.get(ConfigMap, "orphan", namespace="default")
        assert [r.uid for r in released.metadata.owner_references] == [other.metadata.uid]


@sync
async def test_an_object_gone_or_replaced_meanwhile_is_left_out() -> None:
    async with control_plane([], specs={}) as cp:
        owner = await _owner(cp.client)
        stale = await _object(cp.client, "o", {"app": "a"})
        await cp.client.delete(ConfigMap, "o", namespace="default")
        assert await claim_objects(cp.client, owner, SELECTOR, [stale]) == []  # 404
        await _object(cp.client, "o", {"app": "a"})  # the same name, another uid
        assert await claim_objects(cp.client, owner, SELECTOR, [stale]) == []
        fresh = await cp.client.get(ConfigMap, "o", namespace="default")
        assert not fresh.metadata.owner_references  # the precondition kept it untouched


class _Failing:
    """A client whose patches fail as a server error would."""

    def __init__(self, inner: Client) -> None:
        self.inner = inner

    async def patch(self, *args: Any, **kwargs: Any) -> Any:
        error = RuntimeError("etcd unavailable")
        error.code = 500  # type: ignore[attr-defined]
        raise error


@sync
async def test_a_failed_adoption_fails_the_claim_after_the_rest() -> None:
    async with control_plane([], specs={}) as cp:
        owner = await _owner(cp.client)
        orphan = await _object(cp.client, "orphan", {"app": "a"})
        with pytest.raises(RuntimeError, match="etcd unavailable"):
            await claim_objects(_Failing(cp.client), owner, SELECTOR, [orphan])  # type: ignore[arg-type]


@sync
async def test_an_owner_being_deleted_keeps_what_it_has_and_adopts_nothing() -> None:
    async with control_plane([], specs={}) as cp:
        owner = await _owner(cp.client, deleting=True)
        assert owner.metadata is not None
        ref = OwnerReference(
            api_version="v1",
            kind="ConfigMap",
            name="owner",
            uid=owner.metadata.uid,
            controller=True,
        )
        mismatched = await _object(cp.client, "mine", {"app": "x"}, [ref])
        orphan = await _object(cp.client, "orphan", {"app": "a"})
        claimed = await claim_objects(cp.client, owner, SELECTOR, [mismatched, orphan])
        assert [c.metadata.name for c in claimed] == ["mine"]  # not released, nothing adopted
        kept = await cp.client.get(ConfigMap, "mine", namespace="default")
        assert kept.metadata is not None and kept.metadata.owner_references
        left = await cp.client.get(ConfigMap, "orphan", namespace="default")
        assert left.metadata is not None and not left.metadata.owner_references
