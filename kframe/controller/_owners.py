"""Owner references: the controller reference, the index by owner, adopting and releasing.

Upstream's ControllerRefManager (controller_ref_manager.go): a controller owns the objects whose
controller reference names its uid; it adopts matching orphans (unless it is being deleted) and
releases owned objects whose labels no longer match its selector.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


async def _set_owner_references(client: Client, obj: Any, refs: Sequence[OwnerReference]) -> Any:
    from kframe.api import to_dict

    meta = obj.metadata
    # A merge patch with the uid and resourceVersion: it applies only to the object we saw.
    patch = {
        "metadata": {
            "ownerReferences": [to_dict(r) for r in refs],
            "uid": meta.uid,
            "resourceVersion": meta.resource_version,
        }
    }
    return await client.patch(
        type(obj), meta.name, patch, namespace=meta.namespace, patch_type="merge"
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
    objects that no longer match (ClaimPods/ClaimReplicaSets). Objects being deleted are never
    adopted; a failed adopt or release leaves the object out or in as it was (the next sync
    retries). ``can_adopt``: False while the owner itself is being deleted."""
    uid = owner.metadata.uid
    claimed: list[T] = []
    for obj in objects:
        meta = obj.metadata  # type: ignore[attr-defined]
        ref = controller_ref(obj)
        labels = meta.labels or {}
        if ref is not None:
            if ref.uid != uid:
                continue  # another controller's
            if selector.matches(labels) or meta.deletion_timestamp:
                claimed.append(obj)
                continue
            refs = [r for r in meta.owner_references or () if r.uid != uid]
            try:
                await _set_owner_references(client, obj, refs)
            except Exception as exc:
                if getattr(exc, "code", None) != 404:
                    claimed.append(obj)  # still ours until the release lands
            continue
        if not can_adopt or meta.deletion_timestamp or not selector.matches(labels):
            continue
        if owner.metadata.deletion_timestamp:
            continue
        try:
            adopted = await _set_owner_references(
                client, obj, [*(meta.owner_references or ()), new_controller_ref(owner)]
            )
        except Exception:
            continue  # gone or changed meanwhile: the next sync sees it again
        claimed.append(adopted)
    return claimed
