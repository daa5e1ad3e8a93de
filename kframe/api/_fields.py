"""Field selectors, as ``k8s.io/apimachinery/pkg/fields`` defines them.

A field selector (``?fieldSelector=metadata.name=web,status.phase!=Running``) is an AND of
``field=value`` / ``field==value`` / ``field!=value`` terms over an object's selectable fields.
Values may contain ``\\``, ``,`` and ``=`` only backslash-escaped (``EscapeValue``); field names
are not escaped at all, so a term splits at its first operator. Errors are the same
:class:`~kframe.api.SelectorError` label selectors raise, with upstream's messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeAlias

import attrs

from kframe.api._labels import SelectorError

__all__ = [
    "FieldOperator",
    "FieldRequirement",
    "FieldSelector",
    "escape_field_value",
    "parse_field_selector",
    "unescape_field_value",
]

#: The operators a field selector term may be written with; ``==`` means ``=``.
FieldOperator: TypeAlias = Literal["=", "==", "!="]

# Upstream tries "!=" before "==" before "=" at each position, so "a==b" is not "a" = "=b".
_TERM_OPERATORS: tuple[FieldOperator, ...] = ("!=", "==", "=")


def escape_field_value(value: str) -> str:
    """Upstream ``EscapeValue``: backslash-escape ``\\``, ``,`` and ``=`` in a literal value."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(text: str) -> str:
    """Upstream ``UnescapeValue``: the literal value, or :class:`SelectorError`.

    Only ``\\\\``, ``\\,`` and ``\\=`` are escape sequences; any other (``\\!`` too) is an error, as
    is an unescaped ``,`` or ``=``.
    """
    if not any(ch in text for ch in "\\,="):
        return text
    out: list[str] = []
    in_slash = False
    for ch in text:
        if in_slash:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch in ",=":
            # Go formats the rune with %v, which prints its code point: '=' shows as 61.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _normalize_operator(operator: FieldOperator) -> Literal["=", "!="]:
    # Upstream keeps no trace of "==": both spellings become a hasTerm, printed with "=".
    if operator in ("=", "=="):
        return "="
    if operator == "!=":
        return "!="
    raise SelectorError(f"invalid field selector operator: {operator!r}")


@attrs.frozen
class FieldRequirement:
    """One term: ``field`` equals (``=``) or differs from (``!=``) ``value``."""

    field: str
    operator: Literal["=", "!="] = attrs.field(converter=_normalize_operator)
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Compare with ``fields``; a missing field counts as the empty string, as upstream."""
        have = fields.get(self.field, "")
        return have == self.value if self.operator == "=" else have != self.value

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_field_value(self.value)}"


def _as_tuple(requirements: Iterable[FieldRequirement]) -> tuple[FieldRequirement, ...]:
    return tuple(requirements)


@attrs.frozen
class FieldSelector:
    """The AND of field requirements, in the order given (a parse sorts its terms' text)."""

    requirements: tuple[FieldRequirement, ...] = attrs.field(default=(), converter=_as_tuple)

    @classmethod
    def everything(cls) -> FieldSelector:
        """The selector that matches every object (``fields.Everything()``)."""
        return cls()

    @classmethod
    def from_set(cls, fields: Mapping[str, str]) -> FieldSelector:
        """``fields.SelectorFromSet``: ``field=value`` for each entry (sorted, for a stable str)."""
        return cls(tuple(FieldRequirement(f, "=", v) for f, v in sorted(fields.items())))

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether every requirement holds for ``fields``."""
        return all(r.matches(fields) for r in self.requirements)

    def empty(self) -> bool:
        """True when the selector does not restrict anything."""
        return not self.requirements

    def requires_exact_match(self, field: str) -> str | None:
        """The value an ``=`` term pins ``field`` to (the first such term), if any."""
        for r in self.requirements:
            if r.field == field and r.operator == "=":
                return r.value
        return None

    def transform(self, fn: Callable[[str, str], tuple[str, str]]) -> FieldSelector:
        """``Selector.Transform``: map each (field, value); terms mapped to ("", "") are dropped.

        The API server uses this to rename fields per version (and to drop ones it handles).
        """
        out: list[FieldRequirement] = []
        for r in self.requirements:
            field, value = fn(r.field, r.value)
            if field or value:
                out.append(FieldRequirement(field, r.operator, value))
        return FieldSelector(tuple(out))

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _split_terms(text: str) -> list[str]:
    """Upstream ``splitTerms``: split at commas not preceded by an escaping backslash."""
    if not text:
        return []
    terms: list[str] = []
    start, in_slash = 0, False
    for i, ch in enumerate(text):
        if in_slash:
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, FieldOperator, str] | None:
    """Upstream ``splitTerm``: split at the first operator; the value is still escaped."""
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def parse_field_selector(text: str) -> FieldSelector:
    """Parse ``metadata.name=web,status.phase!=Running``; ``""`` is everything.

    Terms come out sorted by their text (so parsing is deterministic), empty terms are skipped,
    and a term with both an empty field and an empty value (``=``) is dropped, as upstream's
    identity transform does. Raises :class:`SelectorError` with upstream's messages.
    """
    requirements: list[FieldRequirement] = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, raw = split
        requirements.append(FieldRequirement(field, op, unescape_field_value(raw)))
    return FieldSelector(tuple(requirements)).transform(lambda field, value: (field, value))
