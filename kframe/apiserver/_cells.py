"""The cells of server-side tables: what upstream's printers put in each ``kubectl get`` column.

:func:`cell` gives one cell of one object, exactly as kube-apiserver's printer for the kind
(``pkg/printers/internalversion/printers.go``) fills it in a server-side table, which is always
generated as ``-o wide``. Cells are strings, except where upstream's printer puts an integer
(``int64``) or a boolean, which stay ``int``/``bool`` here whatever the column's declared type.

The printers read the stored object as the Go struct would hold it: an absent field is its zero
value, and no defaulting happens here (defaulting belongs to the write path, as upstream).
The per-kind printers live in ``_cells_pods``, ``_cells_workloads`` and ``_cells_core``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kframe.api import format_time
from kframe.apiserver._cells_common import Cells, go_str, m, parse, since
from kframe.apiserver._cells_core import CORE_CELLS
from kframe.apiserver._cells_pods import POD_CELLS
from kframe.apiserver._cells_workloads import WORKLOAD_CELLS

__all__ = ["cell"]

_BY_PLURAL: dict[str, Cells] = {"pods": POD_CELLS, **WORKLOAD_CELLS, **CORE_CELLS}


def _created_at(obj: dict[str, Any]) -> str:
    """The default table convertor's ``Created At``: RFC 3339 in UTC (zero time if unset)."""
    created = parse(m(obj, "metadata").get("creationTimestamp"))
    return format_time(created) if created is not None else "0001-01-01T00:00:00Z"


def cell(plural: str, column: str, obj: dict[str, Any], now: _dt.datetime | None = None) -> Any:
    """The cell of ``column`` for ``obj`` (a resource of ``plural``) in a server-side table.

    ``now`` is the time durations are measured to (the current time by default). A column that
    no printer of the resource has gives ``<unknown>``.
    """
    if column == "Name":
        return go_str(m(obj, "metadata").get("name"))
    if column == "Age":
        return since(m(obj, "metadata").get("creationTimestamp"), now)
    if column == "Created At":
        return _created_at(obj)
    printer = _BY_PLURAL.get(plural, {}).get(column)
    return printer(obj, now) if printer is not None else "<unknown>"
