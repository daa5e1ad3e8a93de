"""Helpers the table-cell printers share: Go zero values, durations, labels, selectors, quantities.

Upstream's printers (``pkg/printers/internalversion/printers.go``) read typed Go structs, where an
absent field is the zero value (``""``, ``0``, ``nil``). Objects here are the stored JSON, so
these helpers read a field the way the Go struct would hold it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from kframe.api import (
    Quantity,
    QuantityError,
    SelectorError,
    parse_time,
    selector_from_label_selector,
)

# A module import, not ``from ... import age``: _table imports the cell printers in turn.
from kframe.apiserver import _table

__all__ = [
    "CellFn",
    "Cells",
    "fmt_labels",
    "fmt_selector",
    "go_int",
    "go_str",
    "images",
    "m",
    "names",
    "parse",
    "ptr_str",
    "quantity",
    "quantity_ptr",
    "selector_string",
    "seq",
    "since",
    "since_until",
]

CellFn: TypeAlias = Callable[[dict[str, Any], "_dt.datetime | None"], Any]
"""One column's printer: the object and "now" in, the cell out."""
Cells: TypeAlias = dict[str, CellFn]
"""A kind's printers by column name (the columns beyond the generic Name/Age/Created At)."""

_ZERO_TIME = "0001-01-01T00:00:00Z"


def m(obj: Any, *keys: str) -> dict[str, Any]:
    """The mapping at ``obj[k1][k2]...``, or ``{}`` where any step is missing (a nil struct)."""
    for key in keys:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj if isinstance(obj, dict) else {}


def seq(obj: Any, key: str) -> list[Any]:
    """The list at ``obj[key]``, or ``[]`` (a nil slice)."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, list) else []


def go_str(value: Any) -> str:
    """A Go string field: the value, or ``""`` when absent."""
    return value if isinstance(value, str) else ""


def ptr_str(value: Any, unset: str) -> str:
    """A Go ``*string`` field: its value, or ``unset`` when nil."""
    return value if isinstance(value, str) else unset


def go_int(value: Any) -> int:
    """A Go integer field: the value, or ``0`` when absent."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse(timestamp: Any) -> _dt.datetime | None:
    """A ``metav1.Time``/``MicroTime``, or None for the zero (absent or unparsable) time."""
    if not isinstance(timestamp, str) or not timestamp or timestamp == _ZERO_TIME:
        return None
    try:
        return parse_time(timestamp)
    except ValueError:
        return None


def since(timestamp: Any, now: _dt.datetime | None) -> str:
    """``translateTimestampSince``: HumanDuration since ``timestamp``, ``<unknown>`` if zero."""
    if parse(timestamp) is None:
        return "<unknown>"
    return _table.age(timestamp, now)


def since_until(start: Any, end: _dt.datetime) -> str:
    """HumanDuration of ``end - start`` (``start`` must be a non-zero timestamp)."""
    return _table.age(start, end)


def fmt_labels(labels: Any) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs joined by commas, ``<none>`` if empty."""
    if not isinstance(labels, Mapping) or not labels:
        return "<none>"
    return ",".join(f"{k}={go_str(labels[k])}" for k in sorted(labels))


def _as_selector(selector: Any) -> str:
    """``LabelSelectorAsSelector(selector).String()``; raises SelectorError as upstream errs."""
    if not isinstance(selector, Mapping):
        return ""  # nil: labels.Nothing(), which prints as ""
    labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    return str(
        selector_from_label_selector(
            labels if isinstance(labels, Mapping) else None,
            expressions if isinstance(expressions, list) else None,
        )
    )


def fmt_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<error>`` if invalid, ``<none>`` if empty."""
    try:
        text = _as_selector(selector)
    except (SelectorError, TypeError):
        return "<error>"
    return text or "<none>"


def selector_string(selector: Any) -> str:
    """What printDeployment shows: the selector's string, ``<invalid>`` if it does not parse."""
    try:
        return _as_selector(selector)
    except (SelectorError, TypeError):
        return "<invalid>"


def quantity(value: Any) -> str:
    """``Quantity.String()`` in canonical form; an absent quantity is the zero ``"0"``."""
    if value is None:
        return "0"
    try:
        return str(Quantity.parse(value))
    except (QuantityError, TypeError):
        return str(value)


def quantity_ptr(value: Any) -> str:
    """``(*Quantity).String()``, which prints a nil pointer as ``<nil>``."""
    return "<nil>" if value is None else quantity(value)


def _join(items: Iterable[Any], key: str) -> str:
    return ",".join(go_str(m(c).get(key)) for c in items)


def _template_containers(obj: Mapping[str, Any]) -> list[Any]:
    """``spec.template.spec.containers`` of a workload."""
    return seq(m(obj, "spec", "template", "spec"), "containers")


def images(obj: Mapping[str, Any]) -> str:
    """``layoutContainerCells``: the template's container images, joined by commas."""
    return _join(_template_containers(obj), "image")


def names(obj: Mapping[str, Any]) -> str:
    """``layoutContainerCells``: the template's container names, joined by commas."""
    return _join(_template_containers(obj), "name")
