"""Name and label validators against upstream's tables and wording.

Tables come from k8s.io/apimachinery/pkg/util/validation/validation_test.go (TestIsDNS1123Label,
TestIsDNS1123Subdomain, TestIsDNS1035Label, TestIsValidPortNum, TestIsQualifiedName,
TestIsValidLabelValue) and pkg/api/validate/content/kube_test.go (TestIsLabelKey,
TestIsLabelValue); exact messages are the ones Kubernetes servers return.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api._validation import (
    DNS1123_LABEL_FMT,
    DNS1123_SUBDOMAIN_FMT,
    QUALIFIED_NAME_FMT,
    is_c_identifier,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    is_valid_port_num,
    regex_error,
)

LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
# As printed by kubectl for `-l app:monolith` ("name part must consist of ...").
NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)

# --- TestIsDNS1123Label / TestIsDNS1123Subdomain / TestIsDNS1035Label ---------------------------

LABEL_GOOD = ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a"]
LABEL_GOOD += ["1--a--b--2", "a" * 63]
LABEL_BAD = ["", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1"]
LABEL_BAD += ["_", "a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2"]
LABEL_BAD += [" ", "a ", " a", "a b", "1 ", " 1", "1 2", "a" * 64]

SUBDOMAIN_GOOD = [*LABEL_GOOD[:-1], "a.a", "ab.a", "abc.a", "a1.a", "a-1.a", "a--1--2--b.a"]
SUBDOMAIN_GOOD += ["a.1", "ab.1", "abc.1", "a1.1", "a-1.1", "a--1--2--b.1", "0.a", "01.a"]
SUBDOMAIN_GOOD += ["012.a", "1a.a", "1-a.a", "0.1", "01.1", "012.1", "1a.1", "1-a.1"]
SUBDOMAIN_GOOD += ["1--a--b--2.1", "a.b.c.d.e", "aa.bb.cc.dd.ee", "1.2.3.4.5", "11.22.33.44.55"]
SUBDOMAIN_GOOD += ["a" * 253]
SUBDOMAIN_BAD = ["", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_"]
SUBDOMAIN_BAD += ["a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a..b", "1.", ".1", "1..2"]
SUBDOMAIN_BAD += [" ", "a ", " a", "a b", "1 ", " 1", "1 2", "A.a", "aB.a", "ab.A", "A1.a", "a1.A"]
SUBDOMAIN_BAD += ["A.1", "aB.1", "A1.1", "1A.1", "0.A", "01.A", "012.A", "1A.a", "1a.A"]
SUBDOMAIN_BAD += ["A.B.C.D.E", "AA.BB.CC.DD.EE", "a.B.c.d.e", "aa.bB.cc.dd.ee", "a@b", "a,b"]
SUBDOMAIN_BAD += ["a;b", "a:b", "a%b", "a?b", "a$b", "a" * 254]

DNS1035_GOOD = ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "a" * 63]
DNS1035_BAD = ["0", "01", "012", "1a", "1-a", "1--a--b--2", *LABEL_BAD]


@pytest.mark.parametrize("value", LABEL_GOOD)
def test_dns1123_label_accepts(value: str) -> None:
    assert is_dns1123_label(value) == []


@pytest.mark.parametrize("value", LABEL_BAD)
def test_dns1123_label_rejects(value: str) -> None:
    assert is_dns1123_label(value)


@pytest.mark.parametrize("value", SUBDOMAIN_GOOD)
def test_dns1123_subdomain_accepts(value: str) -> None:
    assert is_dns1123_subdomain(value) == []


@pytest.mark.parametrize("value", SUBDOMAIN_BAD)
def test_dns1123_subdomain_rejects(value: str) -> None:
    assert is_dns1123_subdomain(value)


@pytest.mark.parametrize("value", DNS1035_GOOD)
def test_dns1035_label_accepts(value: str) -> None:
    assert is_dns1035_label(value) == []


@pytest.mark.parametrize("value", DNS1035_BAD)
def test_dns1035_label_rejects(value: str) -> None:
    assert is_dns1035_label(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a.b", ["must not contain dots"]),  # a valid subdomain fails only on its dots
        ("A", [LABEL_MSG]),
        ("a" * 64, ["must be no more than 63 characters"]),
        ("A" * 64, ["must be no more than 63 characters", LABEL_MSG]),
        ("abc\n", [LABEL_MSG]),  # Go's $ does not match before a trailing newline
    ],
)
def test_dns1123_label_messages(value: str, expected: list[str]) -> None:
    assert is_dns1123_label(value) == expected


def test_dns1123_subdomain_and_1035_messages() -> None:
    assert is_dns1123_subdomain("Example.com") == [SUBDOMAIN_MSG]
    assert is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]
    assert is_dns1035_label("1abc") == [DNS1035_MSG]


# --- TestIsQualifiedName / TestIsLabelKey ------------------------------------------------------

QUALIFIED_GOOD = ["simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple"]
QUALIFIED_GOOD += ["now-with-dashes/simple", "now-with-dashes/now-with-dashes"]
QUALIFIED_GOOD += ["now.with.dots/simple", "now-with.dashes-and.dots/simple", "1-num.2-num/3-num"]
QUALIFIED_GOOD += ["1234/5678", "1.2.3.4/5678", "Uppercase_Is_OK_123"]
QUALIFIED_GOOD += ["example.com/Uppercase_Is_OK_123", "requests.storage-foo", "a" * 63]
QUALIFIED_GOOD += ["a" * 253 + "/" + "b" * 63]
QUALIFIED_BAD = ["nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-"]
QUALIFIED_BAD += ["only/one/slash", "Example.com/abc", "example_com/abc", "example.com/"]
QUALIFIED_BAD += ["/simple", "a" * 64, "a" * 254 + "/abc"]


@pytest.mark.parametrize("value", QUALIFIED_GOOD)
def test_qualified_name_accepts(value: str) -> None:
    assert is_qualified_name(value) == []


@pytest.mark.parametrize("value", QUALIFIED_BAD)
def test_qualified_name_rejects(value: str) -> None:
    assert is_qualified_name(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("app:monolith", [NAME_PART_MSG]),
        ("/simple", ["prefix part must be non-empty"]),
        ("example.com/", ["name part must be non-empty", NAME_PART_MSG]),
        ("Example.com/abc", ["prefix part " + SUBDOMAIN_MSG]),
        ("a" * 64, ["name part must be no more than 63 characters"]),
        (
            "a/b/c",
            [
                "a qualified name "
                + NAME_PART_MSG.removeprefix("name part ")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ],
        ),
    ],
)
def test_qualified_name_messages(value: str, expected: list[str]) -> None:
    assert is_qualified_name(value) == expected


# --- TestIsValidLabelValue / TestIsLabelValue --------------------------------------------------

LABEL_VALUE_GOOD = ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234"]
LABEL_VALUE_GOOD += ["a" * 63, ""]
LABEL_VALUE_BAD = ["nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad"]
LABEL_VALUE_BAD += ["-starts-with-dash", "ends-with-dash-", ".starts.with.dot", "ends.with.dot."]
LABEL_VALUE_BAD += ["a" * 64]


@pytest.mark.parametrize("value", LABEL_VALUE_GOOD)
def test_label_value_accepts(value: str) -> None:
    assert is_valid_label_value(value) == []


@pytest.mark.parametrize("value", LABEL_VALUE_BAD)
def test_label_value_rejects(value: str) -> None:
    assert is_valid_label_value(value)


def test_label_value_messages() -> None:
    assert is_valid_label_value("-a") == [LABEL_VALUE_MSG]
    assert is_valid_label_value("a" * 64) == ["must be no more than 63 characters"]
    # 32 two-byte characters are 64 bytes: Go's len() counts bytes, so the length error shows.
    assert is_valid_label_value("ā" * 32) == ["must be no more than 63 characters", LABEL_VALUE_MSG]


# --- TestIsValidPortNum, IsCIdentifier, RegexError --------------------------------------------


@pytest.mark.parametrize("port", [1, 2, 1000, 16384, 32768, 65535])
def test_port_num_accepts(port: int) -> None:
    assert is_valid_port_num(port) == []


@pytest.mark.parametrize("port", [0, -1, 65536, 100000])
def test_port_num_rejects(port: int) -> None:
    assert is_valid_port_num(port) == ["must be between 1 and 65535, inclusive"]


def test_c_identifier() -> None:
    assert is_c_identifier("_my_name1") == []
    assert is_c_identifier("1abc") == [
        "a valid C identifier must start with alphabetic character or '_', followed by a string "
        "of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex "
        "used for validation is '[A-Za-z_][A-Za-z0-9_]*')"
    ]


def test_regex_error_without_examples() -> None:
    assert regex_error("bad", "x+") == "bad (regex used for validation is 'x+')"


# --- properties: character-level models, independent of the regexes --------------------------

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM = LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _label_model(value: str, first: str = LOWER_ALNUM) -> bool:
    return (
        0 < len(value) <= 63
        and set(value) <= set(LOWER_ALNUM + "-")
        and value[0] in first
        and value[-1] in LOWER_ALNUM
    )


def _name_part_model(value: str) -> bool:
    return (
        0 < len(value) <= 63
        and set(value) <= set(ALNUM + "-_.")
        and value[0] in ALNUM
        and value[-1] in ALNUM
    )


def dns_labels() -> st.SearchStrategy[str]:
    return st.from_regex(re.compile(DNS1123_LABEL_FMT), fullmatch=True).filter(
        lambda s: len(s) <= 63
    )


names_ish = st.text(alphabet=LOWER_ALNUM + "-._/A", max_size=70)


@given(dns_labels())
def test_generated_labels_pass(value: str) -> None:
    assert is_dns1123_label(value) == []
    assert is_dns1123_subdomain(value) == []


@given(st.lists(dns_labels(), min_size=1, max_size=4).map(".".join))
def test_generated_subdomains_pass(value: str) -> None:
    assert re.fullmatch(DNS1123_SUBDOMAIN_FMT, value)
    expected = [] if len(value) <= 253 else ["must be no more than 253 characters"]
    assert is_dns1123_subdomain(value) == expected


@given(st.from_regex(re.compile(QUALIFIED_NAME_FMT), fullmatch=True), st.none() | dns_labels())
def test_generated_qualified_names_pass(name: str, prefix: str | None) -> None:
    name = name[:63].rstrip("-_.") or "a"
    key = name if prefix is None else f"{prefix}/{name}"
    assert is_qualified_name(key) == []
    assert is_valid_label_value(name) == []


@given(names_ish)
def test_label_validators_agree_with_a_character_model(value: str) -> None:
    assert (is_dns1123_label(value) == []) == _label_model(value)
    assert (is_dns1035_label(value) == []) == _label_model(
        value, first="abcdefghijklmnopqrstuvwxyz"
    )
    assert (is_valid_label_value(value) == []) == (value == "" or _name_part_model(value))
    subdomain_ok = len(value) <= 253 and all(_label_model(p) for p in value.split("."))
    assert (is_dns1123_subdomain(value) == []) == subdomain_ok


@given(names_ish)
def test_qualified_name_agrees_with_a_character_model(value: str) -> None:
    parts = value.split("/")
    if len(parts) == 1:
        expected = _name_part_model(value)
    elif len(parts) == 2:
        expected = is_dns1123_subdomain(parts[0]) == [] and _name_part_model(parts[1])
    else:
        expected = False
    assert (is_qualified_name(value) == []) == expected
