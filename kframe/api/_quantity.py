"""Kubernetes resource quantities: ``k8s.io/apimachinery/pkg/api/resource.Quantity`` in Python.

Quantities are the fixed-point numbers of resource requests and limits ("500m", "1.5Gi", "1e3").
This module reproduces upstream's parser, its canonical serialization and its arithmetic, so a
quantity read here is written back byte for byte as kube-apiserver writes it. Values are exact
``decimal.Decimal`` numbers; no float is used internally.

Upstream references are to ``staging/src/k8s.io/apimachinery/pkg/api/resource`` in
kubernetes/kubernetes: quantity.go, suffix.go and amount.go.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Final, Literal, NamedTuple, cast, final, get_args

__all__ = ["Format", "Quantity", "QuantityError"]

Format = Literal["DecimalExponent", "BinarySI", "DecimalSI"]
_FORMATS: Final = frozenset(get_args(Format))

# Upstream's error texts, kept verbatim because API validation messages quote them.
_SPLIT_RE: Final = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_ERR_FORMAT: Final = f"quantities must match the regular expression '{_SPLIT_RE}'"
_ERR_NUMERIC: Final = "unable to parse numeric part of quantity"
_ERR_SUFFIX: Final = "unable to parse quantity's suffix"

_DIGITS: Final = frozenset("0123456789")
_SUFFIX_CHARS: Final = frozenset("eEinumkKMGTP")
# Suffix -> power of ten (n = 10^-9 ... E = 10^18) and suffix -> power of two (Ki ... Ei).
_DECIMAL_SUFFIXES: Final = dict(
    zip(("n", "u", "m", "", "k", "M", "G", "T", "P", "E"), range(-9, 19, 3), strict=True)
)
_BINARY_SUFFIXES: Final = dict(
    zip(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), range(10, 61, 10), strict=True)
)
_DECIMAL_BY_EXPONENT: Final = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER: Final = {e // 10: s for s, e in _BINARY_SUFFIXES.items()}

_MAX_INT32: Final = 2**31 - 1
# Upstream caps parsed BinarySI values at int64 max ("8Ei" parses as 2^63-1), and only those.
_MAX_BINARY: Final = Decimal(2**63 - 1)
_NANO: Final = Decimal("1e-9")
# Every operation below is exact: the precision is unbounded in practice and the exponent range
# covers any int32 exponent a quantity can be written with.
_CTX: Final = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    rounding=decimal.ROUND_UP,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)


# Parsed strings: a Quantity never changes once made (its cached text is derived), so the same
# object can stand for every occurrence of a string ("100m", "500Mi") in decoded objects.
_PARSED: dict[str, Quantity] = {}
_PARSED_MAX: Final = 4096


class QuantityError(ValueError):
    """A string is not a quantity; the message is Kubernetes' own (``ErrFormatWrong`` ...)."""


class _Scan(NamedTuple):
    negative: bool
    num: str  # integer digits without leading zeros, "0" when there are none
    denom: str  # fraction digits, possibly empty
    suffix: str
    has_digits: bool


def _scan(text: str) -> _Scan:
    """Split ``text`` as upstream's ``parseQuantityString`` does, with the same leniency.

    Upstream accepts a bare sign or dot as zero ("-", "."), a number without digits before a
    suffix ("Ki", "m"), and "1." or ".5"; the suffix is only checked later, by ``_interpret``.
    """
    end = len(text)
    pos = 0
    negative = False
    if text[0] in "+-":
        negative = text[0] == "-"
        pos = 1
    start = pos
    while pos < end and text[pos] == "0":
        pos += 1
    if pos == end:
        return _Scan(negative, "0", "", "", pos > start)
    num_start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[num_start:pos] or "0"
    has_digits = pos > start
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        denom_start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[denom_start:pos]
        has_digits = has_digits or bool(denom)
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos != end:
        raise QuantityError(_ERR_FORMAT)
    return _Scan(negative, num, denom, text[suffix_start:], has_digits)


def _interpret(suffix: str) -> tuple[int, int, Format]:
    """Return (base, exponent, format) for a suffix, as upstream's ``suffixer.interpret``."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], "DecimalSI"
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE":
        # strconv.ParseInt: one optional sign, then at least one digit. Exponents outside
        # [-MaxInt32, MaxInt32] are rejected rather than wrapped (kubernetes#141203).
        digits = suffix[2:] if suffix[1] in "+-" else suffix[1:]
        if digits and set(digits) <= _DIGITS:
            digits = digits.lstrip("0") or "0"
            if len(digits) <= 10 and int(digits) <= _MAX_INT32:  # no int() of huge strings
                return 10, -int(digits) if suffix[1] == "-" else int(digits), "DecimalExponent"
    raise QuantityError(_ERR_SUFFIX)


def _fast_path(scan: _Scan, base: int, exponent: int) -> bool:
    """Whether upstream's ParseQuantity takes its int64 fast path for this input."""
    if base == 2:
        # No fraction, and upstream's rough precision estimate for the shifted value,
        # 15 - len(num) - exponent*3/10 - 1, must not go negative.
        return not scan.denom and 14 - len(scan.num) - exponent * 3 // 10 >= 0
    return len(scan.num) + len(scan.denom) <= 18 and exponent - len(scan.denom) >= -9


def _input_is_kept(scan: _Scan, base: int, exponent: int) -> bool:
    """Whether upstream's ParseQuantity keeps the input text as the quantity's String().

    Its fast path caches the input when a cheap test says it is already canonical. The test is
    loose ("1.441", "+1k", "01" and "1E3" are kept verbatim, kubernetes#138165), and the cached
    text is what String() and MarshalJSON return, so it is reproduced here as it is.
    """
    if not _fast_path(scan, base, exponent):
        return False
    if base == 2:
        return int(scan.num) & 7 != 0
    digits = scan.num + scan.denom
    return (exponent - len(scan.denom)) % 3 == 0 and not digits.endswith("000") and digits[0] != "0"


def _parse(text: str) -> Quantity:
    if not text:
        raise QuantityError(_ERR_FORMAT)
    scan = _scan(text)
    base, exponent, fmt = _interpret(scan.suffix)
    if not scan.has_digits and not _fast_path(scan, base, exponent):
        # Off the fast path ("e-10", "Pi") upstream parses with inf.Dec, which wants a digit.
        raise QuantityError(_ERR_NUMERIC)
    magnitude = Decimal(f"{scan.num}.{scan.denom}")
    if base == 10:
        magnitude = magnitude.scaleb(exponent, _CTX)
    else:
        magnitude = _CTX.multiply(magnitude, Decimal(1 << exponent))
    # Round anything finer than nano away from zero: "if you want some resources, you should
    # get some resources" (quantity.go), so "0.1n" is 1n and "-0.1n" is -1n.
    exp = magnitude.as_tuple().exponent
    if magnitude and isinstance(exp, int) and exp < -9:
        magnitude = magnitude.quantize(_NANO, decimal.ROUND_UP, _CTX)
    if fmt == "BinarySI":
        magnitude = min(magnitude, _MAX_BINARY)
        if 0 < magnitude < 1:
            fmt = "DecimalSI"  # as upstream: a fraction of a byte is not written in Ki
    value = magnitude.copy_negate() if scan.negative and magnitude else magnitude
    kept = text if text == "0" or _input_is_kept(scan, base, exponent) else None
    return Quantity._make(value, fmt, kept)


def _mantissa_exponent(value: Decimal) -> tuple[str, int]:
    """Signed mantissa digits and a base-10 exponent that is a multiple of 3 (AsCanonicalBytes)."""
    sign, digit_tuple, exp = value.as_tuple()
    assert isinstance(exp, int)
    digits = "".join(map(str, digit_tuple))
    mantissa = digits.rstrip("0")
    exp += len(digits) - len(mantissa)
    pad = exp % 3  # move down to a multiple of three, growing the mantissa
    return ("-" if sign else "") + mantissa + "0" * pad, exp - pad


def _canonical(value: Decimal, fmt: Format) -> str:
    """Upstream's CanonicalizeBytes."""
    if not value:
        return "0"
    if fmt == "BinarySI":
        # Binary suffixes only for whole numbers of at least 1Ki in magnitude; anything else
        # would need rounding, so it is written as DecimalSI.
        if -1024 < value < 1024 or value != value.to_integral_value(context=_CTX):
            fmt = "DecimalSI"
        else:
            number = int(value)
            power = ((number & -number).bit_length() - 1) // 10  # factors of 1024
            if power == 0:
                return str(Decimal(number))  # no suffix (kubernetes#140459)
            if power <= 6:
                return f"{Decimal(number >> (10 * power))}{_BINARY_BY_POWER[power]}"
            # Past Ei there is no binary suffix; upstream writes the exact decimal form.
            fmt = "DecimalExponent"
    mantissa, exponent = _mantissa_exponent(value)
    if fmt == "DecimalSI" and exponent in _DECIMAL_BY_EXPONENT:
        return mantissa + _DECIMAL_BY_EXPONENT[exponent]
    # DecimalExponent, and DecimalSI beyond "E" (or below "n"), which falls back to "e"
    # notation rather than dropping the exponent (kubernetes#140459).
    return mantissa if exponent == 0 else f"{mantissa}e{exponent}"


@final
class Quantity:
    """An exact resource quantity, immutable and hashable.

    ``Quantity("1.5Gi")`` parses as Kubernetes does; ``str()`` gives the text Kubernetes writes
    (``"1536Mi"``). Equality, ordering and hashing use the value only, so
    ``Quantity("1k") == Quantity("1000") == 1000``. ``+``, ``-`` and ``*`` (by an int) are exact
    and keep the left operand's format, except that a zero left operand takes the right one's
    (Go's ``Add``/``Sub``). An int operand counts as a DecimalSI quantity.
    """

    __slots__ = ("_format", "_string", "_value")

    _value: Decimal
    _format: Format
    _string: str | None

    def __init__(self, value: str | int | Quantity = 0, /) -> None:
        if isinstance(value, str):
            value = _parse(value)
        elif isinstance(value, int):
            value = Quantity.from_int(value)
        elif not isinstance(value, Quantity):
            raise TypeError(f"Quantity() takes a str, int or Quantity, not {type(value).__name__}")
        self._value, self._format, self._string = value._value, value._format, value._string

    @classmethod
    def _make(cls, value: Decimal, fmt: Format, string: str | None = None) -> Quantity:
        quantity = object.__new__(cls)
        quantity._value, quantity._format, quantity._string = value, fmt, string
        return quantity

    @classmethod
    def parse(cls, value: str | int | float) -> Quantity:
        """Parse a quantity string, or a JSON number as Kubernetes accepts one (``cpu: 0.5``).

        An int is taken as its decimal digits, a float as its ``repr``. Raises
        :class:`QuantityError` for anything upstream's ParseQuantity rejects.
        """
        if isinstance(value, bool):
            raise QuantityError(_ERR_FORMAT)  # JSON true/false is not a number
        if isinstance(value, int):
            return cls.from_int(value)  # same value, format and text as parsing str(value)
        if isinstance(value, float):
            return _parse(repr(value))
        if isinstance(value, str):
            quantity = _PARSED.get(value)
            if quantity is None:
                quantity = _parse(value)
                if len(_PARSED) >= _PARSED_MAX:
                    _PARSED.clear()
                _PARSED[value] = quantity
            return quantity
        raise TypeError(f"cannot parse a quantity from {type(value).__name__}")

    @classmethod
    def from_milli(cls, milli: int, format: Format = "DecimalSI") -> Quantity:
        """``milli``/1000 (Go's ``NewMilliQuantity``)."""
        return cls._make(Decimal(milli).scaleb(-3, _CTX), _check_format(format))

    @classmethod
    def from_int(cls, value: int, format: Format = "DecimalSI") -> Quantity:
        """An integer quantity (Go's ``NewQuantity``)."""
        return cls._make(Decimal(value), _check_format(format))

    @property
    def format(self) -> Format:
        """The format ``str()`` writes in, from the parsed suffix or the constructor."""
        return self._format

    def as_decimal(self) -> Decimal:
        """The exact value."""
        return self._value

    def value(self) -> int:
        """The value rounded to an integer away from zero (Go's ``Value``, without overflow)."""
        return int(self._value.to_integral_value(decimal.ROUND_UP, _CTX))

    def milli_value(self) -> int:
        """The value in thousandths, rounded away from zero (Go's ``MilliValue``)."""
        return int(self._value.scaleb(3, _CTX).to_integral_value(decimal.ROUND_UP, _CTX))

    def is_zero(self) -> bool:
        return not self._value

    def __str__(self) -> str:
        if self._string is None:
            self._string = _canonical(self._value, self._format)  # cached, as Go does
        return self._string

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def __hash__(self) -> int:
        return hash(self._value)  # Decimal hashes agree with int hashes for equal values

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Quantity):
            return self._value == other._value
        if isinstance(other, int):
            return self._value == other
        return NotImplemented

    def __lt__(self, other: Quantity | int) -> bool:
        rhs = _operand(other)
        return NotImplemented if rhs is None else self._value < rhs._value

    def __le__(self, other: Quantity | int) -> bool:
        rhs = _operand(other)
        return NotImplemented if rhs is None else self._value <= rhs._value

    def __gt__(self, other: Quantity | int) -> bool:
        rhs = _operand(other)
        return NotImplemented if rhs is None else self._value > rhs._value

    def __ge__(self, other: Quantity | int) -> bool:
        rhs = _operand(other)
        return NotImplemented if rhs is None else self._value >= rhs._value

    def __add__(self, other: Quantity | int) -> Quantity:
        rhs = _operand(other)
        return NotImplemented if rhs is None else _combine(self, rhs, negate=False)

    def __radd__(self, other: int) -> Quantity:
        lhs = _operand(other)
        return NotImplemented if lhs is None else _combine(lhs, self, negate=False)

    def __sub__(self, other: Quantity | int) -> Quantity:
        rhs = _operand(other)
        return NotImplemented if rhs is None else _combine(self, rhs, negate=True)

    def __rsub__(self, other: int) -> Quantity:
        lhs = _operand(other)
        return NotImplemented if lhs is None else _combine(lhs, self, negate=True)

    def __mul__(self, other: int) -> Quantity:
        if not isinstance(other, int):
            return NotImplemented
        return Quantity._make(_CTX.multiply(self._value, Decimal(other)), self._format)

    __rmul__ = __mul__

    def __neg__(self) -> Quantity:
        return Quantity._make(_CTX.minus(self._value), self._format)

    def __abs__(self) -> Quantity:
        return Quantity._make(_CTX.abs(self._value), self._format)


def _check_format(format: str) -> Format:
    if format not in _FORMATS:
        raise ValueError(f"unknown quantity format {format!r}; expected one of {sorted(_FORMATS)}")
    return cast(Format, format)


def _operand(other: object) -> Quantity | None:
    if isinstance(other, Quantity):
        return other
    if isinstance(other, int):
        return Quantity.from_int(other)
    return None


def _combine(lhs: Quantity, rhs: Quantity, *, negate: bool) -> Quantity:
    left, right = lhs.as_decimal(), rhs.as_decimal()
    value = _CTX.subtract(left, right) if negate else _CTX.add(left, right)
    # Go's Add and Sub keep the receiver's format unless the receiver is zero, so summing from
    # a zero start keeps the addends' suffix style (TestQuantityAddZeroPreservesSuffix).
    return Quantity._make(value, rhs.format if not left else lhs.format)
