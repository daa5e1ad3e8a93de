"""Objects for the garbage collector's tests: owners and dependents with owner references,
made directly (no workload controller runs)."""

from __future__ import annotations

from typing import Any, TypeVar

from kframe.api import from_dict
from kframe.api.models import ConfigMap, Deployment, OwnerReference, Pod, ReplicaSet
from kframe.client import Client

T = TypeVar("T")

LABELS = {"app": "web"}
TEMPLATE = {
    "metadata": {"labels": LABELS},
    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
}


def ref(owner: Any, *, block: bool = True, controller: bool = True) -> OwnerReference:
    return OwnerReference(
        api_version=type(owner).API_VERSION,
        kind=type(owner).KIND,
        name=owner.metadata.name,
        uid=owner.metadata.uid,
        controller=controller,
        block_owner_deletion=block,
    )


def _meta(name: str, namespace: str, owners: tuple[OwnerReference, ...], **extra: Any) -> Any:
    from kframe.api import to_dict

    meta: dict[str, Any] = {"name": name, "namespace": namespace, **extra}
    if owners:
        meta["ownerReferences"] = [to_dict(o) for o in owners]
    return meta


def deployment(name: str, namespace: str = "default") -> Deployment:
    return from_dict(
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": LABELS}, "template": TEMPLATE},
        },
        Deployment,
    )


def replica_set(
    name: str, namespace: str = "default", owners: tuple[OwnerReference, ...] = (), **meta: Any
) -> ReplicaSet:
    return from_dict(
        {
            "metadata": _meta(name, namespace, owners, **meta),
            "spec": {"replicas": 0, "selector": {"matchLabels": LABELS}, "template": TEMPLATE},
        },
        ReplicaSet,
    )


def pod(
    name: str, namespace: str = "default", owners: tuple[OwnerReference, ...] = (), **meta: Any
) -> Pod:
    return from_dict(
        {"metadata": _meta(name, namespace, owners, **meta), "spec": TEMPLATE["spec"]}, Pod
    )


def config_map(
    name: str, namespace: str = "default", owners: tuple[OwnerReference, ...] = (), **meta: Any
) -> ConfigMap:
    return from_dict({"metadata": _meta(name, namespace, owners, **meta)}, ConfigMap)


async def lookup(client: Client, cls: type[T], name: str, namespace: str = "default") -> T | None:
    try:
        return await client.get(cls, name, namespace=namespace)
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise
