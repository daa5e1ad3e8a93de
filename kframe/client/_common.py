"""What both Client implementations share: resources of models, encoding, list options."""

from __future__ import annotations

from typing import Any, TypeVar

from kframe.api import from_dict, to_dict
from kframe.apiserver import APIError, Resource, by_kind

__all__ = ["decode", "encode", "namespace_of", "resource_of"]

T = TypeVar("T")


def resource_of(cls: type) -> Resource:
    api_version, kind = getattr(cls, "API_VERSION", None), getattr(cls, "KIND", None)
    resource = (
        by_kind(api_version, kind)
        if isinstance(api_version, str) and isinstance(kind, str)
        else None
    )
    if resource is None:
        raise TypeError(f"{cls.__qualname__} is not a kind the API server serves")
    return resource


def encode(obj: object) -> dict[str, Any]:
    return to_dict(obj)


def decode(data: dict[str, Any], cls: type[T]) -> T:
    return from_dict(data, cls)


def namespace_of(resource: Resource, body: dict[str, Any], namespace: str | None) -> str | None:
    if not resource.namespaced:
        return None
    return namespace or (body.get("metadata") or {}).get("namespace") or "default"


def status_error(status: dict[str, Any], code: int) -> APIError:
    """The APIError a ``Status`` response describes."""
    return APIError(
        int(status.get("code") or code),
        str(status.get("reason") or ""),
        str(status.get("message") or f"HTTP {code}"),
    )
