"""Field selectors against upstream's tables and messages.

Tables come from k8s.io/apimachinery/pkg/fields/selector_test.go (TestSplitTerms, TestSplitTerm,
TestEscapeValue, TestSelectorParse, TestDeterministicParse, TestSelectorMatches,
TestOneTermEqualSelector, TestSetMatches, TestSetIsEmpty, TestRequiresExactMatch, TestTransform).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api._fields import (
    FieldRequirement,
    FieldSelector,
    _split_term,
    _split_terms,
    escape_field_value,
    parse_field_selector,
    unescape_field_value,
)
from kframe.api._labels import SelectorError

# --- TestSplitTerms / TestSplitTerm ----------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "terms"),
    [
        ("a", ["a"]),
        ("a=avalue", ["a=avalue"]),
        ("a=avalue,b=bvalue", ["a=avalue", "b=bvalue"]),
        ("a=avalue,b==bvalue,c!=cvalue", ["a=avalue", "b==bvalue", "c!=cvalue"]),
        ("", []),
        ("a=a,", ["a=a", ""]),
        (",a=a", ["", "a=a"]),
        (r"k=\,,k2=v2", [r"k=\,", "k2=v2"]),  # escaped comma in value
        (r"k=\\,k2=v2", [r"k=\\", "k2=v2"]),  # escaped backslash, unescaped comma
        (r"k=\\\,,k2=v2", [r"k=\\\,", "k2=v2"]),  # escaped backslash and comma
        ("k=\\a\\b\\", ["k=\\a\\b\\"]),  # non-escape sequences
        ("k=\\", ["k=\\"]),  # orphan backslash
        ("함=수,목=록", ["함=수", "목=록"]),  # multi-byte
    ],
)
def test_split_terms(selector: str, terms: list[str]) -> None:
    assert _split_terms(selector) == terms


@pytest.mark.parametrize(
    ("term", "split"),
    [
        ("a=value", ("a", "=", "value")),
        ("b==value", ("b", "==", "value")),
        ("c!=value", ("c", "!=", "value")),
        ("", None),
        ("a", None),
        (r"k=\,", ("k", "=", r"\,")),
        (r"k=\=", ("k", "=", r"\=")),
        ("k=\\\\\\a\\b\\=\\,\\", ("k", "=", "\\\\\\a\\b\\=\\,\\")),
        ("함=수", ("함", "=", "수")),
    ],
)
def test_split_term(term: str, split: tuple[str, str, str] | None) -> None:
    assert _split_term(term) == split


# --- TestEscapeValue -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("", ""), ("a", "a"), ("=", r"\="), (",", r"\,"), ("\\", r"\\"), ("\\=\\,\\", r"\\\=\\\,\\")],
)
def test_escape_value(raw: str, escaped: str) -> None:
    assert escape_field_value(raw) == escaped
    assert unescape_field_value(escaped) == raw


@pytest.mark.parametrize(
    ("escaped", "message"),
    [
        ("\\", "invalid field selector: invalid escape sequence: \\"),  # orphan slash
        ("\\\\\\", "invalid field selector: invalid escape sequence: \\"),
        (r"\a", r"invalid field selector: invalid escape sequence: \a"),
        (r"\!", r"invalid field selector: invalid escape sequence: \!"),  # "!" is not escapable
        ("a=b", "invalid field selector: unescaped character in value: 61"),  # Go prints the rune
        ("a,b", "invalid field selector: unescaped character in value: 44"),
    ],
)
def test_unescape_errors(escaped: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        unescape_field_value(escaped)
    assert str(info.value) == message


# --- TestSelectorParse / TestDeterministicParse ----------------------------------------------


@pytest.mark.parametrize("text", ["x=a,y=b,z=c", "", "x!=a,y=b", r"x=a||y\=b", r"x=a\=\=b"])
def test_parse_restrings(text: str) -> None:
    assert str(parse_field_selector(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x=a||y=b", "invalid field selector: unescaped character in value: 61"),
        ("x==a==b", "invalid field selector: unescaped character in value: 61"),
        ("x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"),
        ("x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"),
        ("x in (a,b,c)", "invalid selector: 'x in (a,b,c)'; can't understand 'b'"),  # terms sorted
        ("x", "invalid selector: 'x'; can't understand 'x'"),
    ],
)
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_field_selector(text)
    assert str(info.value) == message


def test_parse_is_deterministic_and_normalizes() -> None:
    assert str(parse_field_selector("x=a,a=x")) == str(parse_field_selector("a=x,x=a")) == "a=x,x=a"
    assert str(parse_field_selector("b==v")) == "b=v"  # "==" is a hasTerm, printed with "="
    assert parse_field_selector("a=,=,").requirements == (FieldRequirement("a", "=", ""),)
    assert parse_field_selector("=").empty()  # empty field and value: dropped, as upstream


# --- TestSelectorMatches / TestOneTermEqualSelector / TestSetMatches / TestSetIsEmpty ---------

FIELDS = {"foo": "bar", "baz": "blah", "complex": "=value\\,\\"}


@pytest.mark.parametrize(
    ("text", "fields", "match"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),  # in and notin in exactMatch
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("foo=bar", FIELDS, True),
        ("baz=blah", FIELDS, True),
        ("foo=bar,baz=blah", FIELDS, True),
        (r"foo=bar,baz=blah,complex=\=value\\\,\\", FIELDS, True),
        ("foo=blah", FIELDS, False),
        ("baz=bar", FIELDS, False),
        ("foo=bar,foobar=bar,baz=blah", FIELDS, False),
        ("missing=", {}, True),  # a missing field reads as ""
        ("missing!=x", {}, True),
    ],
)
def test_selector_matches(text: str, fields: dict[str, str], match: bool) -> None:
    assert parse_field_selector(text).matches(fields) is match


def test_set_selectors() -> None:
    assert FieldSelector.from_set({"x": "y"}).matches({"x": "y"})
    assert not FieldSelector.from_set({"x": "y"}).matches({"x": "z"})
    labels = {"foo": "bar", "baz": "blah"}
    for subset in ({}, {"foo": "bar"}, {"baz": "blah"}, {"foo": "bar", "baz": "blah"}):
        assert FieldSelector.from_set(subset).matches(labels)
    for other in (
        {"foo": "=blah"},
        {"baz": "=bar"},
        {"foo": "=bar", "foobar": "bar", "baz": "blah"},
    ):
        assert not FieldSelector.from_set(other).matches(labels)
    assert str(FieldSelector.from_set({"b": "=", "a": "1"})) == r"a=1,b=\="
    assert FieldSelector.from_set({}).empty()
    assert FieldSelector.everything().matches({"x": "y"})
    assert FieldSelector.everything().empty()
    assert not FieldSelector((FieldRequirement("", "=", ""),)).empty()


# --- TestRequiresExactMatch / TestTransform --------------------------------------------------


@pytest.mark.parametrize(
    ("requirements", "field", "value"),
    [
        ([], "test", None),
        ([("", "=", "")], "test", None),
        ([("a", "=", "b")], "test", None),
        ([("test", "=", "b")], "test", "b"),
        ([("test", "=", "")], "test", ""),
        ([("test", "!=", "b")], "test", None),
        ([("test", "!=", "")], "test", None),
        ([("", "=", ""), ("test", "=", "b")], "test", "b"),
        ([("test", "!=", "a"), ("test", "==", "b")], "test", "b"),
    ],
)
def test_requires_exact_match(
    requirements: list[tuple[str, str, str]], field: str, value: str | None
) -> None:
    selector = FieldSelector(tuple(FieldRequirement(*r) for r in requirements))  # type: ignore[arg-type]
    assert selector.requires_exact_match(field) == value


@pytest.mark.parametrize(
    ("text", "renames", "result"),
    [
        ("", {}, ""),
        ("a=b,c=d", {}, "a=b,c=d"),
        ("a=b,c=d", {"a": ("e", "f")}, "e=f,c=d"),
        ("a=b", {"a": ("", "")}, ""),
        ("a=b,c=d,e=f", {"c": ("", "")}, "a=b,e=f"),
    ],
)
def test_transform(text: str, renames: dict[str, tuple[str, str]], result: str) -> None:
    selector = parse_field_selector(text).transform(lambda f, v: renames.get(f, (f, v)))
    assert str(selector) == result
    assert selector.empty() is (result == "")


def test_bad_operator_is_rejected() -> None:
    with pytest.raises(SelectorError):
        FieldRequirement("a", "in", "b")  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------

field_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=1, max_size=12)
field_values = st.text(max_size=12) | st.sampled_from(["", "=", ",", "\\", "!", "a\\,b"])


@given(st.text())
def test_escape_round_trips(value: str) -> None:
    escaped = escape_field_value(value)
    assert unescape_field_value(escaped) == value
    assert _split_terms(escaped) == ([escaped] if escaped else [])  # no bare delimiter survives


@st.composite
def selectors(draw: st.DrawFn) -> FieldSelector:
    terms = draw(
        st.lists(
            st.builds(FieldRequirement, field_names, st.sampled_from(["=", "!="]), field_values),
            max_size=5,
        )
    )
    # A parse orders the terms by their text, so that is the canonical order.
    return FieldSelector(tuple(sorted(terms, key=str)))


@given(selectors())
def test_parse_of_str_round_trips(selector: FieldSelector) -> None:
    assert parse_field_selector(str(selector)) == selector


def _model(selector: FieldSelector, fields: Mapping[str, str]) -> bool:
    have = {r.field: fields.get(r.field, "") for r in selector.requirements}
    wanted = {(r.field, r.value) for r in selector.requirements if r.operator == "="}
    refused = {(r.field, r.value) for r in selector.requirements if r.operator == "!="}
    return wanted <= set(have.items()) and not (refused & set(have.items()))


@given(selectors(), st.data())
def test_matches_agrees_with_set_model(selector: FieldSelector, data: st.DataObject) -> None:
    names = [r.field for r in selector.requirements] + ["other"]
    values = [r.value for r in selector.requirements] + ["v"]
    fields = data.draw(st.dictionaries(st.sampled_from(names), st.sampled_from(values)))
    assert selector.matches(fields) == _model(selector, fields)
