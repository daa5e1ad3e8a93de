"""Which class models which (apiVersion, kind): the modelled kinds plus user-registered ones."""

from __future__ import annotations

from kframe.api.models import KINDS as _MODELLED

__all__ = ["all_kinds", "class_for", "register_kind"]

_kinds: dict[tuple[str, str], type] = dict(_MODELLED)


def class_for(api_version: str, kind: str) -> type | None:
    """The class that models ``kind`` in ``api_version``, or None if kframe has none."""
    return _kinds.get((api_version, kind))


def register_kind(cls: type) -> type:
    """Register an attrs class with ``API_VERSION`` and ``KIND`` class attributes.

    Usable as a decorator, so a custom resource's typed model decodes through ``from_dict``.
    Registering a different class for a kind that is already taken is an error.
    """
    api_version = getattr(cls, "API_VERSION", None)
    kind = getattr(cls, "KIND", None)
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise TypeError(f"{cls.__qualname__} needs str class attributes API_VERSION and KIND")
    existing = _kinds.get((api_version, kind))
    if existing is not None and existing is not cls:
        raise ValueError(f"{api_version} {kind} is already modelled by {existing.__qualname__}")
    _kinds[(api_version, kind)] = cls
    return cls


def all_kinds() -> dict[tuple[str, str], type]:
    """A copy of the (apiVersion, kind) -> class table."""
    return dict(_kinds)
