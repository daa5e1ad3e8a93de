"""Go's ``errors.NewAggregate(...).Error()``, as it shows through NodeAffinity's messages."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["aggregate"]


def aggregate(messages: Sequence[str]) -> str:
    """A flattened aggregate's ``Error()``: duplicates dropped, several in brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
