"""The one converter between typed models and JSON-shaped data, used at kframe's edges.

Reading is strict about types (a string field never accepts an int, as Go's decoder refuses it)
and every error names the JSON path of the bad field. Writing omits unset fields, so a manifest
round-trips to what the user wrote. Unknown fields are found by a separate walk, because what to
do with them is the caller's choice (Kubernetes' fieldValidation: Strict, Warn or Ignore).
"""

from __future__ import annotations

import datetime as _dt
import functools
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from kframe.api._quantity import Quantity, QuantityError
from kframe.api._types import (
    IntOrString,
    MicroTime,
    Time,
    format_micro_time,
    format_time,
    parse_time,
)

__all__ = ["DecodeError", "converter", "structure", "unknown_fields"]

T = TypeVar("T")
Hook = Callable[[Any, Any], Any]


class DecodeError(ValueError):
    """Data that does not fit the model; the message names the JSON path of each bad field.

    ``errors`` holds ``(path, reason)`` pairs, for example
    ``("spec.containers[0].image", "expected string, got int")``.
    """

    def __init__(self, errors: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{p}: {r}" if p else r for p, r in self.errors))

    @property
    def path(self) -> str:
        return self.errors[0][0]

    @property
    def reason(self) -> str:
        return self.errors[0][1]

    def within(self, segment: str) -> DecodeError:
        """The same error seen from the enclosing object (``segment`` is a key or ``[i]``)."""

        def join(path: str) -> str:
            if not path:
                return segment
            return segment + path if path.startswith("[") else f"{segment}.{path}"

        return DecodeError([(join(p), r) for p, r in self.errors])


def _json_type(value: object) -> str:
    # Names as a Kubernetes user reads them in a manifest, not Python's.
    if isinstance(value, bool):
        return "bool"
    for py, name in (
        (str, "string"),
        (int, "int"),
        (float, "float"),
        (dict, "object"),
        (list, "array"),
    ):
        if isinstance(value, py):
            return name
    return "null" if value is None else type(value).__name__


def _mismatch(expected: str, value: object) -> DecodeError:
    return DecodeError([("", f"expected {expected}, got {_json_type(value)}")])


def _structure_str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise _mismatch("string", value)
    return value


_INT64 = (-(2**63), 2**63 - 1)


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _mismatch("integer", value)
    if not _INT64[0] <= value <= _INT64[1]:  # Go's decoder refuses what int64 cannot hold
        raise DecodeError([("", f"value {value} overflows int64")])
    return value


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _mismatch("number", value)
    return float(value)


def _structure_bool(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise _mismatch("boolean", value)
    return value


def _structure_int_or_string(value: object, _: object) -> int | str:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _mismatch("integer or string", value)


def _structure_quantity(value: object, _: object) -> Quantity:
    # Kubernetes accepts JSON numbers for quantities (cpu: 1, cpu: 0.5).
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _mismatch("quantity string", value)
    try:
        return Quantity.parse(value)
    except QuantityError as exc:
        raise DecodeError([("", str(exc))]) from None


def _structure_time(value: object, _: object) -> _dt.datetime:
    if not isinstance(value, str):
        raise _mismatch("RFC 3339 time string", value)
    try:
        return parse_time(value)
    except ValueError as exc:
        raise DecodeError([("", str(exc))]) from None


def _structure_json_object(value: object, _: object) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _mismatch("object", value)
    return value


def _literal_hook(tp: Any) -> Hook:
    allowed = typing.get_args(tp)
    shown = ", ".join(f'"{a}"' for a in allowed)

    def structure(value: object, _: object) -> object:
        if value not in allowed or not isinstance(value, str):
            if not isinstance(value, str):
                raise _mismatch("string", value)
            # Kubernetes' field.NotSupported wording.
            raise DecodeError([("", f'Unsupported value: "{value}": supported values: {shown}')])
        return value

    return structure


def _is_optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, _types_union) and type(None) in typing.get_args(
        tp
    )


_types_union = type(int | str)


def _strip_optional(tp: Any) -> Any:
    if _is_optional(tp):
        rest = [a for a in typing.get_args(tp) if a is not type(None)]
        return rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp)


class _Field(typing.NamedTuple):
    attr: str
    hook: Hook
    tp: Any


@functools.cache
def _fields_by_json(cls: type) -> dict[str, _Field]:
    hints = typing.get_type_hints(cls)
    out = {}
    for a in attrs.fields(cls):
        tp = _strip_optional(hints[a.name])
        out[a.metadata.get("json", a.name)] = _Field(a.name, converter.get_structure_hook(tp), tp)
    return out


def _model_hook(cls: type) -> Hook:
    def structure(data: object, _: object) -> object:
        if not isinstance(data, dict):
            raise _mismatch("object", data)
        fields = _fields_by_json(cls)
        kwargs = {}
        for key, value in data.items():
            field = fields.get(key)
            # Unknown keys are the unknown_fields walk's business; null means unset.
            if field is None or value is None:
                continue
            try:
                kwargs[field.attr] = field.hook(value, field.tp)
            except DecodeError as exc:
                raise exc.within(key) from None
        return cls(**kwargs)

    return structure


def _tuple_hook(tp: Any) -> Hook:
    item_tp = _strip_optional(typing.get_args(tp)[0])
    item_hook = converter.get_structure_hook(item_tp)

    def structure(value: object, _: object) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise _mismatch("array", value)
        out = []
        for i, item in enumerate(value):
            try:
                out.append(item_hook(item, item_tp))
            except DecodeError as exc:
                raise exc.within(f"[{i}]") from None
        return tuple(out)

    return structure


def _mapping_hook(tp: Any) -> Hook:
    value_tp = _strip_optional(typing.get_args(tp)[1])
    value_hook = converter.get_structure_hook(value_tp)

    def structure(value: object, _: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _mismatch("object", value)
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DecodeError([(f"[{key}]", "map keys must be strings")])
            try:
                out[key] = value_hook(item, value_tp)
            except DecodeError as exc:
                raise exc.within(f"[{key}]") from None
        return out

    return structure


def _is_literal(tp: Any) -> bool:
    origin: object = typing.get_origin(tp)
    return origin is Literal


def _is_tuple(tp: Any) -> bool:
    return typing.get_origin(tp) is tuple


def _is_mapping(tp: Any) -> bool:
    return typing.get_origin(tp) in (Mapping, dict)


def _model_unstructure_hook(cls: type) -> Callable[[Any], dict[str, Any]]:
    overrides: dict[str, Any] = {
        a.name: override(rename=a.metadata["json"], omit_if_default=not a.metadata.get("always"))
        for a in attrs.fields(cls)
        if "json" in a.metadata
    }
    return make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=True, **overrides)


def _build_converter() -> cattrs.Converter:
    conv = cattrs.Converter(omit_if_default=True)
    for tp, hook in (
        (str, _structure_str),
        (int, _structure_int),
        (float, _structure_float),
        (bool, _structure_bool),
        (Quantity, _structure_quantity),
        (Time, _structure_time),
        (MicroTime, _structure_time),
    ):
        conv.register_structure_hook(tp, hook)
    conv.register_structure_hook_func(lambda t: t == IntOrString, _structure_int_or_string)
    conv.register_structure_hook_func(lambda t: t == Mapping[str, Any], _structure_json_object)
    conv.register_structure_hook_factory(_is_literal, _literal_hook)
    conv.register_structure_hook_factory(_is_tuple, _tuple_hook)
    conv.register_structure_hook_factory(_is_mapping, _mapping_hook)
    conv.register_structure_hook_factory(_is_model, _model_hook)

    conv.register_unstructure_hook(Quantity, str)
    conv.register_unstructure_hook(Time, format_time)
    conv.register_unstructure_hook(MicroTime, format_micro_time)
    conv.register_unstructure_hook_factory(_is_model, _model_unstructure_hook)
    return conv


converter = _build_converter()


def structure(data: object, cls: type[T]) -> T:
    """Decode ``data`` into ``cls``; raises DecodeError naming the bad field's path."""
    result: T = converter.structure(data, cls)
    return result


def unknown_fields(data: object, cls: type) -> list[str]:
    """JSON paths of keys in ``data`` that ``cls`` does not model, in document order."""
    found: list[str] = []
    _walk_unknown(data, cls, "", found)
    return found


def _walk_unknown(data: object, tp: Any, path: str, found: list[str]) -> None:
    tp = _strip_optional(tp)
    if _is_model(tp) and isinstance(data, dict):
        fields = _fields_by_json(tp)
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            field = fields.get(key)
            if field is None:
                found.append(sub)
            elif value is not None:
                _walk_unknown(value, field.tp, sub, found)
    elif _is_tuple(tp) and isinstance(data, list):
        for i, item in enumerate(data):
            _walk_unknown(item, typing.get_args(tp)[0], f"{path}[{i}]", found)
    elif _is_mapping(tp) and isinstance(data, dict) and tp != Mapping[str, Any]:
        for key, item in data.items():
            _walk_unknown(item, typing.get_args(tp)[1], f"{path}[{key}]", found)
