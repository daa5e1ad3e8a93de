"""``attrs.evolve`` without its walk over the class's fields on every call.

``attrs.evolve`` reads each field, builds keyword arguments and runs ``__init__``: about 8 us for
a PodSpec's 40 fields. The generated models have no validators, converters or init hooks, so a
copy is the same object: for such a class a function made once per class copies the slots
straight over and sets the changed ones, in about half the time. Any other attrs class goes to
``attrs.evolve`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["evolve"]

T = TypeVar("T")

_Replace = Callable[[Any, dict[str, Any]], Any]
_REPLACERS: dict[type, _Replace] = {}


def evolve(inst: T, **changes: Any) -> T:
    """``attrs.evolve(inst, **changes)``: a new instance with ``changes`` applied."""
    cls = type(inst)
    replace = _REPLACERS.get(cls)
    if replace is None:
        replace = _REPLACERS[cls] = _replacer(cls)
    out: T = replace(inst, changes)
    return out


def _by_attrs(inst: Any, changes: dict[str, Any]) -> Any:
    return attrs.evolve(inst, **changes)


def _plain(cls: type) -> bool:
    """Whether ``__init__`` only stores its arguments, one per field, in slots."""
    if not attrs.has(cls) or "__slots__" not in vars(cls):
        return False
    if any(hasattr(cls, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__")):
        return False
    fields = attrs.fields(cls)
    if any(
        not f.init or f.validator is not None or f.converter is not None or f.alias != f.name
        for f in fields
    ):
        return False
    # Every slot in the class's line is a field (no cached hash or other state to leave out).
    names = {f.name for f in fields}
    slots = {s for c in cls.__mro__ for s in vars(c).get("__slots__", ())}
    return slots - {"__weakref__"} <= names


def _replacer(cls: type) -> _Replace:
    if not _plain(cls):
        return _by_attrs
    names = [f.name for f in attrs.fields(cls)]
    lines = [
        "def replace(inst, changes):",
        "    new = _new(cls)",
        *(f"    _set(new, {n!r}, inst.{n})" for n in names),
        "    for name, value in changes.items():",
        "        if name not in names:",
        "            raise TypeError(",
        "                f'{cls.__name__}.__init__() got an unexpected keyword argument {name!r}'",
        "            )",
        "        _set(new, name, value)",
        "    return new",
    ]
    scope: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "cls": cls,
        "names": frozenset(names),
    }
    exec("\n".join(lines), scope)  # the source above, made from the class's own fields
    replace: _Replace = scope["replace"]
    return replace
