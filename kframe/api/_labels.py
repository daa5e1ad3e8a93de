"""Label selectors, as ``k8s.io/apimachinery/pkg/labels`` defines them.

- :class:`Requirement` is one term (``tier in (web,api)``), validated as ``NewRequirement`` does.
- :class:`Selector` is their conjunction; ``str()`` gives upstream's canonical string.
- :func:`parse_label_selector` reads the ``kubectl -l`` / ``?labelSelector=`` syntax,
  :func:`selector_from_set` a ``matchLabels``-style map, and :func:`selector_from_label_selector`
  the ``metav1.LabelSelector`` API object (``LabelSelectorAsSelector``).

Errors are :class:`SelectorError` carrying upstream's message text, including its field paths
(``values[0][tier]: Invalid value: ...``) and Go-quoted values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeAlias

import attrs

from kframe.api._validation import (
    _aggregate,
    _go_quote,
    _invalid,
    is_qualified_name,
    is_valid_label_value,
)

__all__ = [
    "Operator",
    "Requirement",
    "Selector",
    "SelectorError",
    "parse_label_selector",
    "selector_from_label_selector",
    "selector_from_set",
]

#: ``selection.Operator``: the spellings upstream uses internally ("exists" and "!" are unary).
Operator: TypeAlias = Literal["=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt"]

# Upstream's binaryOperators then unaryOperators; the order shows up in error messages.
_BINARY_OPS: tuple[str, ...] = ("in", "notin", "=", "==", "!=", "gt", "lt")
_VALID_OPS: tuple[str, ...] = (*_BINARY_OPS, "exists", "!")
# metav1.LabelSelectorOperator -> selection.Operator, as LabelSelectorAsSelector maps them.
_API_OPS: dict[str, Operator] = {
    "In": "in",
    "NotIn": "notin",
    "Exists": "exists",
    "DoesNotExist": "!",
}


class SelectorError(ValueError):
    """A label or field selector that does not parse or validate; ``str()`` is upstream's text."""


# --- Go behaviour that shows through: %#v of values, strconv.ParseInt ---------------------------


def _go_strings(values: tuple[str, ...]) -> str:
    # %#v of a []string. An empty list is shown as nil: LabelSelectorAsSelector copies values
    # with append([]string(nil), ...), so that is what servers print for a missing values list.
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(v) for v in values) + "}"


def _parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``: ASCII digits, optional sign, int64 range."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 19:  # also keeps int() clear of Python's long-string conversion limit
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


# --- Requirement and Selector --------------------------------------------------------------------


def _as_values(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError("values must be an iterable of strings, not a single string")
    return tuple(values)


# NewRequirement's checks on the number of values, per operator.
_COUNT_RULES: tuple[tuple[tuple[str, ...], Callable[[int], bool], str], ...] = (
    (("in", "notin"), lambda n: n == 0, "for 'in', 'notin' operators, values set can't be empty"),
    (("=", "==", "!="), lambda n: n != 1, "exact-match compatibility requires one single value"),
    (("exists", "!"), lambda n: n != 0, "values set must be empty for exists and does not exist"),
    (("gt", "lt"), lambda n: n != 1, "for 'Gt', 'Lt' operators, exactly one value is required"),
)


def _requirement_errors(key: str, operator: str, values: tuple[str, ...]) -> list[str]:
    """Everything ``NewRequirement`` reports, in its order (field paths relative to the term)."""
    errs: list[str] = []
    if key_errs := is_qualified_name(key):
        errs.append(_invalid("key", _go_quote(key), "; ".join(key_errs)))
    shown = _go_strings(values)
    for ops, bad_count, detail in _COUNT_RULES:
        if operator in ops and bad_count(len(values)):
            errs.append(_invalid("values", shown, detail))
    if operator in ("gt", "lt"):
        for i, value in enumerate(values):
            if _parse_int64(value) is None:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                errs.append(_invalid(f"values[{i}]", _go_quote(value), detail))
    elif operator not in _VALID_OPS:
        supported = ", ".join(_go_quote(op) for op in _VALID_OPS)
        shown_op = _go_quote(str(operator))
        errs.append(f"operator: Unsupported value: {shown_op}: supported values: {supported}")
    for i, value in enumerate(values):
        if value_errs := is_valid_label_value(value):
            path = f"values[{i}][{key}]"
            errs.append(_invalid(path, _go_quote(value), "; ".join(value_errs)))
    return errs


@attrs.frozen
class Requirement:
    """One term of a selector: ``key``, an :data:`Operator`, and its values (kept as given).

    Construction validates as upstream ``NewRequirement`` does and raises :class:`SelectorError`.
    """

    key: str
    operator: Operator
    values: tuple[str, ...] = attrs.field(default=(), converter=_as_values)

    def __attrs_post_init__(self) -> None:
        if errs := _requirement_errors(self.key, self.operator, self.values):
            raise SelectorError(_aggregate(errs))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this term; an absent key satisfies ``notin``/``!=``/``!``."""
        present = self.key in labels
        op = self.operator
        if op in ("in", "=", "=="):
            return present and labels[self.key] in self.values
        if op in ("notin", "!="):
            return not present or labels[self.key] not in self.values
        if op == "exists":
            return present
        if op == "!":
            return not present
        # gt / lt: both sides must be int64s, else the term simply does not match.
        if not present or len(self.values) != 1:
            return False
        have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if op == "gt" else have < want

    def __str__(self) -> str:
        op = self.operator
        if op == "exists":
            return self.key
        if op == "!":
            return "!" + self.key
        # Upstream writes a single value as is and sorts several, without touching the term.
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in ("in", "notin"):
            return f"{self.key} {op} ({values})"
        return self.key + {"gt": ">", "lt": "<"}.get(op, op) + values


def _sorted_by_key(requirements: Iterable[Requirement]) -> tuple[Requirement, ...]:
    # Every way upstream builds a selector (Parse, Add, SelectorFromSet) sorts by key, which
    # is what makes String() canonical; Python's sort is stable, so same-key terms keep order.
    return tuple(sorted(requirements, key=lambda r: r.key))


@attrs.frozen
class Selector:
    """A label selector: the AND of its requirements, kept sorted by key.

    ``Selector.everything()`` (no requirements) matches every label set; ``Selector.nothing()``
    matches none, as upstream's ``labels.Nothing()``, and prints as ``""`` like it.
    """

    requirements: tuple[Requirement, ...] = attrs.field(default=(), converter=_sorted_by_key)
    #: False only for :meth:`nothing`: upstream's ``Requirements()`` "selectable" flag.
    selectable: bool = attrs.field(default=True, kw_only=True)

    @classmethod
    def everything(cls) -> Selector:
        """The selector that matches all labels (``labels.Everything()``)."""
        return cls()

    @classmethod
    def nothing(cls) -> Selector:
        """The selector that matches no labels (``labels.Nothing()``)."""
        return cls(selectable=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every requirement holds for ``labels``."""
        return self.selectable and all(r.matches(labels) for r in self.requirements)

    def empty(self) -> bool:
        """True when the selector does not restrict anything (it matches every label set)."""
        return self.selectable and not self.requirements

    def add(self, *requirements: Requirement) -> Selector:
        """A copy with more requirements (``Selector.Add``); ``nothing()`` stays nothing."""
        if not self.selectable:
            return self
        return Selector((*self.requirements, *requirements))

    def requires_exact_match(self, label: str) -> str | None:
        """The single value the selector pins ``label`` to, if its first term on it does so."""
        for r in self.requirements:
            if r.key == label:
                if r.operator in ("=", "==", "in") and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def selector_from_set(labels: Mapping[str, str]) -> Selector:
    """A selector matching exactly ``labels`` (``key=value`` terms); empty matches everything.

    Unlike upstream's unvalidated ``SelectorFromSet`` the keys and values are validated (as
    ``ValidatedSelectorFromSet`` does), since a :class:`Requirement` is always a valid one.
    """
    return Selector(tuple(Requirement(k, "=", (v,)) for k, v in labels.items()))


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def selector_from_label_selector(
    match_labels: Mapping[str, str] | None, match_expressions: Iterable[Any] | None
) -> Selector:
    """``LabelSelectorAsSelector`` for a ``metav1.LabelSelector``'s two fields.

    ``match_expressions`` items need ``key``, ``operator`` (``In``, ``NotIn``, ``Exists``,
    ``DoesNotExist``) and ``values``, as attributes or mapping keys. When both fields are empty the
    result is :meth:`Selector.everything`; a *missing* selector (``nil`` upstream) means
    :meth:`Selector.nothing`, which callers choose themselves.
    """
    if not match_labels and not match_expressions:
        return Selector.everything()
    requirements = [Requirement(k, "=", (v,)) for k, v in (match_labels or {}).items()]
    for expr in match_expressions or ():
        api_op = _field(expr, "operator")
        op = _API_OPS.get(api_op) if isinstance(api_op, str) else None
        if op is None:
            raise SelectorError(f"{_go_quote(str(api_op))} is not a valid label selector operator")
        key = _field(expr, "key") or ""
        requirements.append(Requirement(key, op, _field(expr, "values") or ()))
    return Selector(tuple(requirements))


# --- the string syntax: a port of upstream's Lexer and Parser ------------------------------------

_EOS, _ID = "end of string", "identifier"  # token kinds; symbols and keywords are their own kind
# One token of upstream's Lexer, after the whitespace it skips: "==" and "!=" win over their first
# character (longest match), and an identifier is any run of other characters. Go reads bytes and
# takes a NUL for the end of input: a NUL right after a token is swallowed with it, and one where a
# token should start ends the input (the match fails), so the pattern reproduces both.
_TOKEN = re.compile(r"[ \t\r\n]*(?:(==|!=|[=!(),><])|([^=!(),>< \t\r\n\x00]+))\x00?")
# The operator tokens parseOperator accepts, and the selection.Operator each one means.
_TOKEN_OPS: dict[str, Operator] = {
    "in": "in", "notin": "notin", "=": "=", "==": "==", "!=": "!=", ">": "gt", "<": "lt",
}  # fmt: skip


def _lex(text: str) -> list[tuple[str, str]]:
    """Upstream ``Lexer``: (kind, literal) pairs, ending with the end-of-string token."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while match := _TOKEN.match(text, pos):
        symbol, word = match.group(1, 2)
        if symbol:
            tokens.append((symbol, symbol))
        else:
            tokens.append((word if word in ("in", "notin") else _ID, word))
        pos = match.end()
    tokens.append((_EOS, ""))
    return tokens


class _Parser:
    """Upstream ``Parser``: recursive descent over the scanned tokens, same messages."""

    def __init__(self, text: str) -> None:
        self._items = _lex(text)
        self._pos = 0

    def _peek(self, values: bool = True) -> tuple[str, str]:
        kind, lit = self._items[self._pos]
        # In the Values context "in" and "notin" are plain identifiers ("x in (in,notin)").
        return (_ID, lit) if values and kind in ("in", "notin") else (kind, lit)

    def _next(self, values: bool = True) -> tuple[str, str]:
        item = self._peek(values)
        self._pos += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            kind, lit = self._peek()
            if kind == _EOS:
                return requirements
            if kind not in (_ID, "!"):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self._requirement())
            except SelectorError as err:
                raise SelectorError(f"unable to parse requirement: {err}") from None
            kind, lit = self._next()
            if kind == _EOS:
                return requirements
            if kind != ",":
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            kind, lit = self._peek()
            if kind not in (_ID, "!"):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        # parseKeyAndInferOperator: "!key" or "key" alone are the unary forms.
        kind, key = self._next()
        negated = kind == "!"
        if negated:
            kind, key = self._next()
        if kind != _ID:
            raise SelectorError(f"found '{key}', expected: identifier")
        if errs := is_qualified_name(key):
            # The parser validates keys with a nil field path, which Go prints as "<nil>".
            raise SelectorError(_invalid("<nil>", _go_quote(key), "; ".join(errs)))
        if negated or self._peek()[0] in (_EOS, ","):
            # "!key=value" is let through here and fails on the "=" that follows, as upstream.
            return Requirement(key, "!" if negated else "exists", ())
        kind, lit = self._next(values=False)
        if kind not in _TOKEN_OPS:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPS)}")
        op = _TOKEN_OPS[kind]
        values = self._value_set() if op in ("in", "notin") else self._exact_value()
        # Upstream collects values in a string set, so duplicates vanish and the order is sorted.
        return Requirement(key, op, tuple(sorted(values)))

    def _value_set(self) -> set[str]:
        kind, lit = self._next()
        if kind != "(":
            raise SelectorError(f"found '{lit}' expected: '('")
        kind, lit = self._peek()
        if kind == ")":  # "()" is the set holding the empty value
            self._next()
            return {""}
        if kind not in (_ID, ","):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:  # parseIdentifiersList: empty entries ("(,a)", "(a,,b)", "(a,)") mean ""
            kind, lit = self._next()
            if kind == _ID:
                values.add(lit)
                after, after_lit = self._peek()
                if after == ")":
                    break
                if after != ",":
                    raise SelectorError(f"found '{after_lit}', expected: ',' or ')'")
            elif kind == ",":
                after = self._peek()[0]
                if not values or after in (",", ")"):
                    values.add("")
                if after == ")":
                    break
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")
        self._next()  # the ")" seen above
        return values

    def _exact_value(self) -> set[str]:
        if self._peek()[0] in (_EOS, ","):  # "x=" and "x=,y" compare with the empty value
            return {""}
        kind, lit = self._next()
        if kind != _ID:
            raise SelectorError(f"found '{lit}', expected: identifier")
        return {lit}


def parse_label_selector(text: str) -> Selector:
    """Parse ``kubectl -l`` syntax: ``a=b,c in (x,y),!d,e!=f,g notin (h),i,j>5``.

    ``""`` is :meth:`Selector.everything`. Raises :class:`SelectorError` with upstream's message.
    """
    return Selector(tuple(_Parser(text).parse()))
