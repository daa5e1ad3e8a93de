"""The bits of Go formatting and parsing that show through NodeAffinity's error messages.

``%q`` of a string, ``%#v`` of a ``[]string``, ``errors.NewAggregate(...).Error()`` and
``strconv.ParseInt(s, 10, 64)``; ``%q`` is kframe.api's ``go_quote``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kframe.api import go_quote

__all__ = ["aggregate", "go_quote", "go_strings", "parse_int64"]


def go_strings(values: Sequence[str]) -> str:
    """``%#v`` of a ``[]string`` (a missing list prints as ``[]string(nil)``)."""
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


def aggregate(messages: Sequence[str]) -> str:
    """A flattened aggregate's ``Error()``: duplicates dropped, several in brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


_INT = re.compile(r"[+-]?[0-9]+")


def parse_int64(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``, or None where Go returns an error."""
    if not _INT.fullmatch(text) or len(text.lstrip("+-").lstrip("0")) > 19:
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None
