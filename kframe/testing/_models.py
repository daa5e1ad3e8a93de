"""A strategy for any model class, built from its type hints, with size caps.

Every field can appear; each object sets a random subset of at most ``max_fields`` of its fields
(halved at every level down), so examples stay small enough for Hypothesis while, over a run,
every field is exercised.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import attrs
from hypothesis import strategies as st

from kframe.api import IntOrString, JSONObject, MicroTime, Quantity, Time
from kframe.api.models import LabelSelector, ObjectMeta
from kframe.testing._names import dns1123_labels, dns1123_subdomains, labels
from kframe.testing._values import (
    int_or_strings,
    label_selectors,
    micro_times,
    quantities,
    times,
)

__all__ = ["objects"]

T = TypeVar("T")

_json_scalars = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=8)

_SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    str: st.text(max_size=12),
    int: st.integers(-(2**31), 2**31 - 1),
    float: st.floats(allow_nan=False, allow_infinity=False, width=64).filter(
        lambda f: math.isfinite(f)
    ),
    bool: st.booleans(),
    Quantity: quantities(),
    Time: times(),
    MicroTime: micro_times(),
    IntOrString: int_or_strings(),
    JSONObject: st.dictionaries(st.text(max_size=6), _json_scalars, max_size=3),
}

# Fields whose shape Kubernetes validates, so examples look like real objects.
_FIELDS: dict[tuple[type, str], st.SearchStrategy[Any]] = {
    (ObjectMeta, "name"): dns1123_subdomains(),
    (ObjectMeta, "generate_name"): dns1123_labels(max_size=20).map(lambda s: s + "-"),
    (ObjectMeta, "namespace"): dns1123_labels(max_size=20),
    (ObjectMeta, "labels"): labels(),
}


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) not in (typing.Union, type(int | str)):
        return tp
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007


def _for_type(tp: Any, max_fields: int, max_items: int) -> st.SearchStrategy[Any]:
    tp = _strip_optional(tp)
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin = typing.get_origin(tp)
    if origin is Literal:
        return st.sampled_from(typing.get_args(tp))
    if origin is tuple:
        item = _for_type(typing.get_args(tp)[0], max_fields, max_items)
        return st.lists(item, max_size=max_items).map(tuple)
    if origin in (Mapping, dict):
        value = _for_type(typing.get_args(tp)[1], max_fields, max_items)
        return st.dictionaries(st.text(min_size=1, max_size=10), value, max_size=max_items)
    if tp is LabelSelector:
        return label_selectors(max_size=max_items)
    if isinstance(tp, type) and attrs.has(tp):
        return _model(tp, max_fields, max_items)
    raise TypeError(f"no strategy for {tp!r}")


def _deferred(tp: Any, max_fields: int, max_items: int) -> st.SearchStrategy[Any]:
    # Built on first draw: eagerly building every nested strategy of every kind is slow.
    return st.deferred(lambda: _for_type(tp, max_fields, max_items))


@functools.cache
def _model(cls: type, max_fields: int, max_items: int) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    # apiVersion and kind of a kind class stay at their defaults: they choose the class.
    names = [
        a.name
        for a in attrs.fields(cls)
        if not (a.metadata.get("always") and isinstance(a.default, str))
    ]
    if not names:
        return st.builds(cls)
    child_fields = max(1, max_fields // 2)
    field_strategies = {
        n: _FIELDS[(cls, n)]
        if (cls, n) in _FIELDS
        else _deferred(hints[n], child_fields, max_items)
        for n in names
    }

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        chosen = draw(
            st.lists(st.sampled_from(names), max_size=min(max_fields, len(names)), unique=True)
        )
        return cls(**{n: draw(field_strategies[n]) for n in chosen})

    return build()


def objects(cls: type[T], *, max_fields: int = 6, max_items: int = 2) -> st.SearchStrategy[T]:
    """Instances of any kframe model class (a kind such as ``Pod``, or a part like ``PodSpec``).

    ``max_fields`` caps how many fields the top-level object sets (each level below gets half);
    ``max_items`` caps every list and map.
    """
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise TypeError(f"objects() takes a model class, not {cls!r}")
    if max_fields < 1 or max_items < 0:
        raise ValueError("max_fields must be >= 1 and max_items >= 0")
    strategy: st.SearchStrategy[T] = _model(cls, max_fields, max_items)
    return strategy
