"""Label selectors against upstream's tables and messages.

Tables come from k8s.io/apimachinery/pkg/labels/selector_test.go (TestSelectorParse,
TestDeterministicParse, TestSelectorMatches, TestSetMatches, TestEverything, TestSetIsEmpty,
TestLexer, TestLexerSequence, TestRequirementConstructor, TestToString,
TestRequirementSelectorMatching, TestSetSelectorParser, TestAdd, TestRequiresExactMatch) and
pkg/apis/meta/v1/helpers_test.go (TestLabelSelectorAsSelector). Error texts are the ones servers
return (several quoted in issues and other projects' tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api._labels import (
    Requirement,
    Selector,
    SelectorError,
    _lex,
    parse_label_selector,
    selector_from_label_selector,
    selector_from_set,
)


def req(key: str, op: str, *values: str) -> Requirement:
    return Requirement(key, op, values)  # type: ignore[arg-type]


# --- TestSelectorParse / TestDeterministicParse --------------------------------------------------

GOOD = ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"]


@pytest.mark.parametrize("text", GOOD)
def test_parse_restrings_without_spaces(text: str) -> None:
    assert str(parse_label_selector(text)) == text.replace(" ", "")


@pytest.mark.parametrize("text", ["x=a||y=b", "x==a==b", "!x=a", "x<a"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(text)


def test_parse_is_deterministic() -> None:
    assert str(parse_label_selector("x=a,a=x")) == str(parse_label_selector("a=x,x=a"))


# --- TestSelectorMatches / TestSetMatches / TestEverything / TestSetIsEmpty ----------------------

MATCH = [
    ("", {"x": "y"}),
    ("x=y", {"x": "y"}),
    ("x=y,z=w", {"x": "y", "z": "w"}),
    ("x!=y,z!=w", {"x": "z", "z": "a"}),
    ("notin=in", {"notin": "in"}),  # in and notin in exactMatch
    ("x", {"x": "z"}),
    ("!x", {"y": "z"}),
    ("x>1", {"x": "2"}),
    ("x<1", {"x": "0"}),
    ("foo=bar", {"foo": "bar", "baz": "blah"}),
    ("baz=blah", {"foo": "bar", "baz": "blah"}),
    ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}),
]
NO_MATCH = [
    ("x=z", {}),
    ("x=y", {"x": "z"}),
    ("x=y,z=w", {"x": "w", "z": "w"}),
    ("x!=y,z!=w", {"x": "z", "z": "w"}),
    ("x", {"y": "z"}),
    ("!x", {"x": "z"}),
    ("x>1", {"x": "0"}),
    ("x<1", {"x": "2"}),
    ("foo=blah", {"foo": "bar", "baz": "blah"}),
    ("baz=bar", {"foo": "bar", "baz": "blah"}),
    ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}),
]


@pytest.mark.parametrize(("text", "labels"), MATCH)
def test_selector_matches(text: str, labels: dict[str, str]) -> None:
    assert parse_label_selector(text).matches(labels)


@pytest.mark.parametrize(("text", "labels"), NO_MATCH)
def test_selector_does_not_match(text: str, labels: dict[str, str]) -> None:
    assert not parse_label_selector(text).matches(labels)


@pytest.mark.parametrize(
    "subset", [{}, {"foo": "bar"}, {"baz": "blah"}, {"foo": "bar", "baz": "blah"}]
)
def test_selector_from_set_matches(subset: dict[str, str]) -> None:
    assert selector_from_set(subset).matches({"foo": "bar", "baz": "blah"})


def test_everything_and_nothing() -> None:
    assert Selector.everything().matches({"x": "y"})
    assert Selector.everything().empty()
    assert selector_from_set({}).empty()
    assert parse_label_selector("").empty()
    nothing = Selector.nothing()
    assert not nothing.matches({})
    assert not nothing.empty()
    assert str(nothing) == ""
    assert nothing.add(req("x", "exists")) == nothing


# --- TestLexer / TestLexerSequence ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        *[("", "end of string"), (",", ","), ("notin", "notin"), ("in", "in"), ("=", "=")],
        *[("==", "=="), (">", ">"), ("<", "<"), ("!", "!"), ("!=", "!="), ("(", "("), (")", ")")],
        *[("~", "identifier"), ("||", "identifier")],  # the longest valid token is returned
    ],
)
def test_lexer(text: str, kind: str) -> None:
    assert _lex(text)[0] == (kind, text)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("key in ( value )", "identifier in ( identifier )"),
        ("key notin ( value )", "identifier notin ( identifier )"),
        ("key in ( value1, value2 )", "identifier in ( identifier , identifier )"),
        ("key", "identifier"),
        ("!key", "! identifier"),
        ("()", "( )"),
        ("x in (),y", "identifier in ( ) , identifier"),
        ("== != (), = notin", "== != ( ) , = notin"),
        ("key>2", "identifier > identifier"),
        ("key<1", "identifier < identifier"),
    ],
)
def test_lexer_sequence(text: str, kinds: str) -> None:
    assert [kind for kind, _ in _lex(text)] == [*kinds.split(), "end of string"]


def test_lexer_nul_is_end_of_input_like_go() -> None:
    # Go's Lexer reads a NUL byte as its end-of-input marker.
    assert _lex("a \x00b") == [("identifier", "a"), ("end of string", "")]
    assert _lex("a=\x00b")[2] == ("identifier", "b")


# --- TestRequirementConstructor / TestToString / TestRequirementSelectorMatching --------------


@pytest.mark.parametrize(
    ("key", "op", "values", "ok"),
    [
        ("x", "in", (), False),
        ("x", "notin", (), False),
        ("x", "in", ("foo",), True),
        ("x", "notin", ("foo",), True),
        ("x", "exists", (), True),
        ("x", "!", (), True),
        ("1foo", "in", ("bar",), True),
        ("1234", "in", ("bar",), True),
        ("y", "gt", ("1",), True),
        ("z", "lt", ("6",), True),
        ("foo", "gt", ("bar",), False),
        ("barz", "lt", ("blah",), False),
        ("a" * 254, "exists", (), False),  # breaks DNS rule that len(key) <= 253
    ],
)
def test_requirement_constructor(key: str, op: str, values: tuple[str, ...], ok: bool) -> None:
    if ok:
        req(key, op, *values)
    else:
        with pytest.raises(SelectorError):
            req(key, op, *values)


@pytest.mark.parametrize(
    ("requirements", "text"),
    [
        (
            [req("x", "in", "abc", "def"), req("y", "notin", "jkl"), req("z", "exists")],
            "x in (abc,def),y notin (jkl),z",
        ),
        (
            [req("x", "notin", "abc", "def"), req("y", "!=", "jkl"), req("z", "!")],
            "x notin (abc,def),y!=jkl,!z",
        ),
        (
            [req("x", "notin", "abc"), req("y", "in", "jkl", "mno"), req("z", "notin", "")],
            "x notin (abc),y in (jkl,mno),z notin ()",
        ),
        (
            [req("x", "=", "abc"), req("y", "==", "jkl"), req("z", "!=", "a"), req("z", "exists")],
            "x=abc,y==jkl,z!=a,z",
        ),
        ([req("x", "gt", "2"), req("y", "lt", "8"), req("z", "exists")], "x>2,y<8,z"),
        ([req("x", "in", "def", "abc")], "x in (abc,def)"),  # safeSort: sorted on output only
    ],
)
def test_to_string(requirements: list[Requirement], text: str) -> None:
    assert str(Selector(tuple(requirements))) == text


@pytest.mark.parametrize(
    ("labels", "requirements", "match"),
    [
        ({"x": "foo", "y": "baz"}, [req("x", "in", "foo"), req("y", "notin", "alpha")], True),
        ({"x": "foo", "y": "baz"}, [req("x", "in", "foo"), req("y", "in", "alpha")], False),
        ({"y": ""}, [req("x", "notin", ""), req("y", "exists")], True),
        ({"y": ""}, [req("x", "!"), req("y", "exists")], True),
        ({"y": ""}, [req("x", "notin", ""), req("y", "!")], False),
        ({"y": "baz"}, [req("x", "in", "")], False),
        ({"z": "2"}, [req("z", "gt", "1")], True),
        ({"z": "v2"}, [req("z", "gt", "1")], False),
    ],
)
def test_requirement_selector_matching(
    labels: dict[str, str], requirements: list[Requirement], match: bool
) -> None:
    assert Selector(tuple(requirements)).matches(labels) is match


# --- TestSetSelectorParser -------------------------------------------------------------------

PARSED: list[tuple[str, list[Requirement]]] = [
    ("", []),
    ("\rx", [req("x", "exists")]),
    (
        "this-is-a-dns.domain.com/key-with-dash",
        [req("this-is-a-dns.domain.com/key-with-dash", "exists")],
    ),
    (
        "this-is-another-dns.domain.com/key-with-dash in (so,what)",
        [req("this-is-another-dns.domain.com/key-with-dash", "in", "so", "what")],
    ),
    (
        "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
        [req("0.1.2.domain/99", "notin", "10.10.100.1", "tick.tack.clock")],
    ),
    ("foo  in\t (abc)", [req("foo", "in", "abc")]),
    ("x notin\n (abc)", [req("x", "notin", "abc")]),
    ("x  notin\t\t\t(abc,def)", [req("x", "notin", "abc", "def")]),
    ("x in (abc,def)", [req("x", "in", "abc", "def")]),
    ("x in (abc,)", [req("x", "in", "", "abc")]),
    ("x in ()", [req("x", "in", "")]),
    (
        "x notin (abc,,def),bar,z in (),w",
        [
            req("bar", "exists"),
            req("w", "exists"),
            req("x", "notin", "", "abc", "def"),
            req("z", "in", ""),
        ],
    ),
    ("x,y in (a)", [req("x", "exists"), req("y", "in", "a")]),
    ("x=a", [req("x", "=", "a")]),
    ("x>1", [req("x", "gt", "1")]),
    ("x<7", [req("x", "lt", "7")]),
    ("x=a,y!=b", [req("x", "=", "a"), req("y", "!=", "b")]),
    (
        "x=a,y!=b,z in (h,i,j)",
        [req("x", "=", "a"), req("y", "!=", "b"), req("z", "in", "h", "i", "j")],
    ),
    ("x notin ( )", [req("x", "notin", "")]),
    ("x notin (, a)", [req("x", "notin", "", "a")]),
    ("a ", [req("a", "exists")]),
    ("a in (x,y,notin, z,in)", [req("a", "in", "in", "notin", "x", "y", "z")]),
]


@pytest.mark.parametrize(("text", "requirements"), PARSED)
def test_set_selector_parser(text: str, requirements: list[Requirement]) -> None:
    assert parse_label_selector(text) == Selector(tuple(requirements))


# Invalid rows of TestSetSelectorParser (and a few more), with the message upstream's parser gives.
NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
BAD: list[tuple[str, str]] = [
    (
        "x=a||y=b",
        'unable to parse requirement: values[0][x]: Invalid value: "a||y": ' + LABEL_VALUE,
    ),
    ("x,,y", "found ',', expected: identifier after ','"),
    (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
    (
        "x nott in (y)",
        "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt",
    ),
    ("a in (xyz),", "found '', expected: identifier after ','"),
    ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
    ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
    ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
    ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
    ("(", "found '(', expected: !, identifier, or 'end of string'"),
    ("x==a==b", "found '==', expected: ',' or 'end of string'"),
    ("!x=a", "found '=', expected: ',' or 'end of string'"),
    (
        "x<a",
        'unable to parse requirement: values[0]: Invalid value: "a": '
        "for 'Gt', 'Lt' operators, the value must be an integer",
    ),
    ("x in a", "unable to parse requirement: found 'a' expected: '('"),
    ("x in (a=)", "unable to parse requirement: found '=', expected: ',' or ')'"),
    ("x in (,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
    ("x in =", "unable to parse requirement: found '=' expected: '('"),
    ("x in (=", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
    ("x=(", "unable to parse requirement: found '(', expected: identifier"),
    ("!=x", "found '!=', expected: !, identifier, or 'end of string'"),
    # As kubectl shows it for `get pods -l app:monolith`.
    (
        "app:monolith",
        'unable to parse requirement: <nil>: Invalid value: "app:monolith": ' + NAME_PART,
    ),
    (
        "a/b/c ?=? def",
        'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name '
        + NAME_PART.removeprefix("name part ")
        + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_parse_error_messages(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_label_selector(text)
    assert str(info.value) == message


# --- TestAdd / TestRequiresExactMatch --------------------------------------------------------


def test_add_sorts_by_key() -> None:
    sel = Selector.everything().add(req("key", "in", "value"))
    assert sel.requirements == (req("key", "in", "value"),)
    sel = Selector((req("key2", "=", "value2"),)).add(req("key", "in", "value"))
    assert sel.requirements == (req("key", "in", "value"), req("key2", "=", "value2"))


@pytest.mark.parametrize(
    ("requirements", "label", "value"),
    [
        ([req("key", "in", "value")], "key", "value"),
        ([req("key", "in", "value", "value2")], "key", None),
        ([req("key", "in", "value", "value1"), req("key2", "in", "value2")], "key2", "value2"),
        ([req("key", "=", "value")], "key", "value"),
        ([req("key", "==", "value")], "key", "value"),
        ([req("key", "!=", "value")], "key", None),
        ([req("key", "in", "value"), req("key2", "in", "value2")], "key", "value"),
    ],
)
def test_requires_exact_match(
    requirements: list[Requirement], label: str, value: str | None
) -> None:
    assert Selector(tuple(requirements)).requires_exact_match(label) == value


# --- LabelSelectorAsSelector (TestLabelSelectorAsSelector, plus upstream's error texts) ------


EMPTY_IN = (
    "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
)


def expr(key: str, operator: str, values: list[str] | None = None) -> SimpleNamespace:
    return SimpleNamespace(key=key, operator=operator, values=values)


def test_label_selector_as_selector() -> None:
    in_expr = expr("baz", "In", ["qux", "norf"])
    assert selector_from_label_selector(None, None) == Selector.everything()
    assert selector_from_label_selector({}, []).empty()
    assert str(selector_from_label_selector({"foo": "bar"}, None)) == "foo=bar"
    assert str(selector_from_label_selector(None, [in_expr])) == "baz in (norf,qux)"
    both = selector_from_label_selector({"foo": "bar"}, [in_expr])
    assert str(both) == "baz in (norf,qux),foo=bar"
    assert both.matches({"foo": "bar", "baz": "qux"})
    assert not both.matches({"foo": "bar"})
    mapping = {"key": "tier", "operator": "DoesNotExist"}  # unstructured form works too
    assert str(selector_from_label_selector(None, [mapping])) == "!tier"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            expr("baz", "Exists", ["qux", "norf"]),
            'values: Invalid value: []string{"qux", "norf"}: '
            "values set must be empty for exists and does not exist",
        ),
        (expr("name", "In", []), EMPTY_IN),
        (expr("name", "NotIn"), EMPTY_IN),
        (expr("name", "Seriously"), '"Seriously" is not a valid label selector operator'),
        (
            expr("a/b/c", "In", ["-x"]),
            '[key: Invalid value: "a/b/c": a qualified name '
            + NAME_PART.removeprefix("name part ")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName'), "
            'values[0][a/b/c]: Invalid value: "-x": ' + LABEL_VALUE + "]",
        ),
    ],
)
def test_label_selector_as_selector_errors(expression: SimpleNamespace, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        selector_from_label_selector(None, [expression])
    assert str(info.value) == message


def test_requirement_error_details() -> None:
    with pytest.raises(SelectorError, match=r'^values: Invalid value: \[\]string\{"1", "2"\}: '):
        req("x", "gt", "1", "2")
    with pytest.raises(SelectorError) as info:
        req("x", "bogus")
    assert str(info.value) == (
        'operator: Unsupported value: "bogus": supported values: '
        '"in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"'
    )
    with pytest.raises(SelectorError, match=r'Invalid value: "a\\tb\\x00"'):  # Go's %q quoting
        req("x", "=", "a\tb\x00")
    with pytest.raises(TypeError):
        Requirement("x", "in", "abc")
    assert not req("x", "gt", "1").matches({"x": "9" * 30})  # beyond int64: ParseInt fails


# --- properties ------------------------------------------------------------------------------

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
names = st.text(alphabet=ALNUM + "-_.", max_size=10).map(lambda s: f"a{s}z")
keys = names | st.builds(
    lambda p, n: f"{p}.example.com/{n}", st.sampled_from(["a", "b1", "k8s"]), names
)
keys = keys | st.sampled_from(["in", "notin", "x"])  # keywords are identifiers in key position
values = st.just("") | names | st.sampled_from(["in", "notin", "1", "007"])
numbers = st.integers(0, 10**6).map(str)


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    key = draw(keys)
    op = draw(st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt"]))
    if op in ("exists", "!"):
        return req(key, op)
    if op in ("gt", "lt"):
        return req(key, op, draw(numbers))
    if op in ("in", "notin"):
        # A parse yields a set, so a canonical selector has its values sorted and unique.
        return req(key, op, *sorted(draw(st.sets(values, min_size=1, max_size=3))))
    return req(key, op, draw(values))


selectors = st.lists(requirements(), max_size=5).map(lambda rs: Selector(tuple(rs)))


@given(selectors)
def test_parse_of_str_round_trips(selector: Selector) -> None:
    assert parse_label_selector(str(selector)) == selector


def _model(selector: Selector, labels: Mapping[str, str]) -> bool:
    """Set semantics written out independently: every requirement must hold."""
    for r in selector.requirements:
        wanted, have = set(r.values), labels.get(r.key)
        if r.operator in ("=", "==", "in"):
            holds = have in wanted
        elif r.operator in ("!=", "notin"):
            holds = have not in wanted
        elif r.operator in ("exists", "!"):
            holds = (r.key in labels) == (r.operator == "exists")
        elif have is None or not have.isdigit():  # gt / lt need a (non-negative) integer
            holds = False
        elif r.operator == "gt":
            holds = int(have) > int(r.values[0])
        else:
            holds = int(have) < int(r.values[0])
        if not holds:
            return False
    return True


@given(selectors, st.data())
def test_matches_agrees_with_set_model(selector: Selector, data: st.DataObject) -> None:
    # Labels drawn over the selector's own keys (and values), so both outcomes are common.
    used_keys = [r.key for r in selector.requirements] + ["other"]
    used_values = [v for r in selector.requirements for v in r.values] + ["v", "5"]
    labels = data.draw(
        st.dictionaries(st.sampled_from(used_keys), st.sampled_from(used_values) | numbers)
    )
    assert selector.matches(labels) == _model(selector, labels)


@given(st.dictionaries(keys, values, max_size=4))
def test_selector_from_set_matches_its_set(labels: dict[str, str]) -> None:
    selector = selector_from_set(labels)
    assert selector.matches(labels)
    assert parse_label_selector(str(selector)) == selector
    assert all(selector.requires_exact_match(k) == v for k, v in labels.items())
