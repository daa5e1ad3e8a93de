"""``field.Error`` as upstream words it, for the per-kind validation of ``_validate``.

A Python rendering of ``k8s.io/apimachinery/pkg/util/validation/field`` (``Required``, ``Invalid``,
``NotSupported`` ...) and of the Go value formatting its messages show: ``%q`` for strings and
``%#v`` for maps, slices and the few structs users meet (label selectors, ``IntOrString``).
Struct dumps upstream prints in full are abbreviated as ``core.Kind{...}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kframe.api import (
    Quantity,
    QuantityError,
)
from kframe.apiserver._errors import Cause

Obj = dict[str, Any]

IMMUTABLE = "field is immutable"
NEGATIVE = "must be greater than or equal to 0"


class Go:
    """A value already written the way Go's ``%#v`` prints it (shown verbatim in a message)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


#: ``field.OmitValueType{}``: an ``Invalid`` error that shows no value.
OMIT = Go("")
#: What upstream shows for a non-nil pointer inside a ``%#v`` struct dump (an address).
PTR = "0xc000000000"


# --- Go formatting ---------------------------------------------------------------------------

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", "\\": "\\\\", '"': '\\"'}  # fmt: skip


def go_quote(text: str) -> str:
    """Go's ``%q``."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_strings(values: Sequence[Any] | None) -> str:
    """``%#v`` of a ``[]string`` (a missing list is Go's nil slice)."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}"


def go_map(values: Mapping[str, Any] | None) -> str:
    """``%#v`` of a ``map[string]string``: keys sorted, as fmt prints maps."""
    if values is None:
        return "map[string]string(nil)"
    items = (f"{go_quote(k)}:{go_quote(str(values[k]))}" for k in sorted(values))
    return "map[string]string{" + ", ".join(items) + "}"


def go_int_or_string(value: Any) -> str:
    """``%#v`` of an ``intstr.IntOrString``."""
    if isinstance(value, str):
        return f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}"
    return f'intstr.IntOrString{{Type:0, IntVal:{int(value or 0)}, StrVal:""}}'


def go_label_selector(sel: Mapping[str, Any] | None) -> str:
    """``%#v`` of a ``metav1.LabelSelector`` (what upstream shows for a bad selector)."""
    if sel is None:
        return "null"
    exprs = sel.get("matchExpressions")
    if exprs is None:
        shown = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = (
            f"v1.LabelSelectorRequirement{{Key:{go_quote(e.get('key') or '')}, "
            f"Operator:{go_quote(e.get('operator') or '')}, Values:{go_strings(e.get('values'))}}}"
            for e in exprs
        )
        shown = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    match_labels = go_map(sel.get("matchLabels"))
    return f"v1.LabelSelector{{MatchLabels:{match_labels}, MatchExpressions:{shown}}}"


def go_value(value: Any) -> str:
    if isinstance(value, Go):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Mapping):
        return go_map(value)
    if isinstance(value, list | tuple):
        return go_strings(value)
    return str(value)


# --- field.Error constructors ----------------------------------------------------------------


def _with(body: str, detail: str) -> str:
    return f"{body}: {detail}" if detail else body


def required(path: str, detail: str = "") -> Cause:
    return Cause(path, _with("Required value", detail), "FieldValueRequired")


def invalid(path: str, value: Any, detail: str) -> Cause:
    body = "Invalid value" if value is OMIT else f"Invalid value: {go_value(value)}"
    return Cause(path, _with(body, detail), "FieldValueInvalid")


def not_supported(path: str, value: Any, supported: Iterable[str]) -> Cause:
    listed = ", ".join(go_quote(s) for s in supported)
    detail = f"supported values: {listed}" if listed else ""
    return Cause(
        path, _with(f"Unsupported value: {go_value(value)}", detail), "FieldValueNotSupported"
    )


def duplicate(path: str, value: Any, detail: str = "") -> Cause:
    return Cause(path, _with(f"Duplicate value: {go_value(value)}", detail), "FieldValueDuplicate")


def not_found(path: str, value: Any, detail: str = "") -> Cause:
    return Cause(path, _with(f"Not found: {go_value(value)}", detail), "FieldValueNotFound")


def forbidden(path: str, detail: str) -> Cause:
    return Cause(path, _with("Forbidden", detail), "FieldValueForbidden")


def too_long(path: str, limit: int) -> Cause:
    return Cause(path, f"Too long: must have at most {limit} bytes", "FieldValueTooLong")


def too_many(path: str, actual: int, limit: int) -> Cause:
    return Cause(path, f"Too many: {actual}: must have at most {limit} items", "FieldValueTooMany")


def immutable(path: str, value: Any) -> Cause:
    return invalid(path, value, IMMUTABLE)


def nonnegative(value: Any, path: str) -> list[Cause]:
    """``ValidateNonnegativeField``; a missing (defaulted) value passes."""
    return [invalid(path, value, NEGATIVE)] if isinstance(value, int) and value < 0 else []


# --- values ----------------------------------------------------------------------------------


def quantity(value: Any) -> Quantity | None:
    try:
        return Quantity.parse(value)
    except (QuantityError, TypeError):
        return None


def pruned(value: Any) -> Any:
    """A value with empty members dropped (``omitempty``), for semantic equality checks."""
    if isinstance(value, Mapping):
        kept = {k: pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [pruned(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    return bool(pruned(a) == pruned(b))


def diff(old: Any, new: Any, path: str = "") -> list[str]:
    """A short report of what changed (upstream shows a ``cmp.Diff`` of the Go structs)."""
    old, new = pruned(old), pruned(new)
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in dict.fromkeys([*old, *new]):
            lines += diff(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return lines
    if old == new:
        return []
    lines = [f"- {path}: {_json(old)}"] if old is not None else []
    return lines + ([f"+ {path}: {_json(new)}"] if new is not None else [])


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"))
