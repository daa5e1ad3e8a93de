"""``from_dict`` and ``to_dict``: the public edge between JSON-shaped data and typed objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, overload

import attrs

from kframe.api._codec import DecodeError, converter, structure, unknown_fields
from kframe.api._kinds import class_for
from kframe.api._unstructured import Unstructured

__all__ = ["from_dict", "to_dict"]

T = TypeVar("T")


@overload
def from_dict(
    data: Mapping[str, Any],
    cls: None = None,
    *,
    strict: bool = False,
    unknown: list[str] | None = None,
) -> object: ...
@overload
def from_dict(
    data: Mapping[str, Any],
    cls: type[T],
    *,
    strict: bool = False,
    unknown: list[str] | None = None,
) -> T: ...
def from_dict(
    data: Mapping[str, Any],
    cls: type[T] | None = None,
    *,
    strict: bool = False,
    unknown: list[str] | None = None,
) -> object:
    """Decode one Kubernetes object from its JSON form.

    Without ``cls`` the class is chosen by ``apiVersion`` and ``kind``; a kind kframe does not
    model comes back as :class:`Unstructured`. Unknown fields are an error when ``strict``
    (Kubernetes' ``fieldValidation=Strict``); otherwise they are dropped and, if ``unknown`` is
    a list, their paths are appended to it (``Warn``). Raises :class:`DecodeError`.
    """
    if not isinstance(data, Mapping):
        raise DecodeError([("", f"expected object, got {type(data).__name__}")])
    target: type | None = cls
    if target is None:
        api_version, kind = data.get("apiVersion"), data.get("kind")
        if not isinstance(api_version, str) or not api_version:
            raise DecodeError([("apiVersion", "Required value: apiVersion must be set")])
        if not isinstance(kind, str) or not kind:
            raise DecodeError([("kind", "Required value: kind must be set")])
        target = class_for(api_version, kind)
        if target is None:
            return Unstructured(dict(data))
    if strict or unknown is not None:
        extra = unknown_fields(data, target)
        if strict and extra:
            raise DecodeError([(p, "unknown field") for p in extra])
        if unknown is not None:
            unknown.extend(extra)
    return structure(dict(data), target)


def to_dict(obj: object) -> dict[str, Any]:
    """Encode a typed object as JSON-shaped data, omitting unset fields.

    Empty lists and maps are unset, as Go's ``omitempty`` treats them; ``apiVersion``, ``kind``
    and the few collections Kubernetes always writes (``items`` of a list) are kept.
    """
    if isinstance(obj, Unstructured):
        return dict(obj.data)
    if not attrs.has(type(obj)):
        raise TypeError(f"to_dict() takes a kframe model, not {type(obj).__name__}")
    out: dict[str, Any] = converter.unstructure(obj)
    return out
