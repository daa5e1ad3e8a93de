"""Owner references: the controller reference, the index by owner, adopting and releasing.

Upstream's ControllerRefManager (controller_ref_manager.go): a controller owns the objects whose
controller reference names its uid; it adopts matching orphans (unless it is being deleted) and
releases owned objects whose labels no longer match its selector.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from kframe.api import Selector
from kframe.api.models import OwnerReference
from kframe.client import Client

__all__ = [
    "CONTROLLER_UID_INDEX",
    "OWNER_UID_INDEX",
    "claim_objects",
    "controller_ref",
    "controller_uid_index",
    "new_controller_ref",
    "owner_uid_index",
]

T = TypeVar("T")

#: Index name: objects by the uid of their controller reference.
CONTROLLER_UID_INDEX = "controller-uid"
#: Index name: objects by the uid of every owner reference.
OWNER_UID_INDEX = "owner-uid"


def controller_ref(obj: Any) -> OwnerReference | None:
    """The owner reference with ``controller: true``, if any (metav1.GetControllerOf)."""
    for ref in getattr(obj.metadata, "owner_references", None) or ():
        if ref.controller:
            return ref  # type: ignore[no-any-return]
    return None


def controller_uid_index(obj: Any) -> list[str]:
    ref = controller_ref(obj)
    return [ref.uid] if ref is not None and ref.uid else []


def owner_uid_index(obj: Any) -> list[str]:
    return [r.uid for r in getattr(obj.metadata, "owner_references", None) or () if r.uid]


def new_controller_ref(owner: Any) -> OwnerReference:
    """A controller reference to ``owner`` (metav1.NewControllerRef): blocks owner deletion."""
    return OwnerReference(
        api_version=type(owner).API_VERSION,
        kind=type(owner).KIND,
        name=owner.metadata.name,
        uid=owner.metadata.uid,
        controller=True,
        block_owner_deletion=True,
    )


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


async def _adopt(client: Client, owner: Any, obj: Any) -> Any:
    from kframe.api import to_dict

    # Upstream's ownerRefControllerPatch: a strategic merge patch (owner references merge by
    # uid, so other owners stay) with the object's uid as a precondition.
    patch = {
        "metadata": {
            "ownerReferences": [to_dict(new_controller_ref(owner))],
            "uid": obj.metadata.uid,
        }
    }
    meta = obj.metadata
    return await client.patch(
        type(obj), meta.name, patch, namespace=meta.namespace, patch_type="strategic"
    )


async def _release(client: Client, owner: Any, obj: Any) -> Any:
    # Upstream's GenerateDeleteOwnerRefStrategicMergeBytes: delete our reference by uid.
    patch = {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": owner.metadata.uid}],
            "uid": obj.metadata.uid,
        }
    }
    meta = obj.metadata
    return await client.patch(
        type(obj), meta.name, patch, namespace=meta.namespace, patch_type="strategic"
    )


async def claim_objects(
    client: Client,
    owner: Any,
    selector: Selector,
    objects: Iterable[T],
    *,
    can_adopt: bool = True,
) -> list[T]:
    """The objects ``owner`` controls after adopting matching orphans and releasing owned
    objects that no longer match (upstream ClaimPods/ClaimReplicaSets). Objects being deleted
    are never adopted; an owner being deleted adopts and releases nothing. An object gone
    meanwhile (404) or changed under its uid precondition (409, 422) is left out; any other
    failed adopt or release is raised after the rest are claimed, so the sync is retried (as
    upstream returns the aggregate error). ``can_adopt``: False while the owner itself is
    being deleted."""
    uid = owner.metadata.uid
    owner_deleting = owner.metadata.deletion_timestamp is not None
    claimed: list[T] = []
    error: BaseException | None = None
    for obj in objects:
        meta = obj.metadata  # type: ignore[attr-defined]
        ref = controller_ref(obj)
        labels = meta.labels or {}
        if ref is not None:
            if ref.uid != uid:
                continue  # another controller's
            if selector.matches(labels) or meta.deletion_timestamp or owner_deleting:
                claimed.append(obj)  # ours (a deleting owner releases nothing)
                continue
            try:
                await _release(client, owner, obj)
            except Exception as exc:
                if _code(exc) not in (404, 409, 422):
                    claimed.append(obj)  # still ours until the release lands
                    error = error or exc
            continue
        if not can_adopt or owner_deleting or meta.deletion_timestamp:
            continue
        if not selector.matches(labels):
            continue
        try:
            adopted = await _adopt(client, owner, obj)
        except Exception as exc:
            if _code(exc) not in (404, 409, 422):
                error = error or exc
            continue
        claimed.append(adopted)
    if error is not None:
        raise error
    return claimed
