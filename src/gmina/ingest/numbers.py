"""Polish number parsing (reference §4.2 step 4) and exact m³ → litre conversion, scalar and vectorised.

Rules, the same in both versions:

* spaces, U+00A0, U+202F and apostrophes (thousands grouping) are removed;
* if both ``.`` and ``,`` remain, the **last** one is the decimal mark and the other is grouping;
* if only one kind remains and it occurs once, it is the decimal mark (``1,5`` and ``1.5``);
* if only one kind remains and it occurs more than once, it is grouping and every group after the first
  must have exactly three digits (``1.234.567``);
* scientific notation is never a number here (``3,65E+07`` is a spreadsheet-mangled value);
* litres are ``round(value × 1000)`` computed **exactly** on the decimal text, rounding **half to even**
  (Python's ``round`` on a ``Decimal``): ``0.0005`` m³ → 0 L, ``0.0015`` m³ → 2 L.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

VolumeUnit = Literal["m3", "l"]

INT64_MAX = 2**63 - 1
_GROUPING_CHARS = (" ", "\u00a0", "\u202f", "'")
_GROUPING_RE = re.compile("[ \u00a0\u202f']")
_SIGNED_DIGITS = re.compile(r"^([+-]?)([0-9.,]+)$")
# Excel writes 3,65E+07 / 1E+15; require a decimal mark or an exponent sign so that hex ids such as
# "12e45678" are not taken for numbers.
_SCIENTIFIC = re.compile(r"^[+-]?[0-9]+[.,][0-9]+[eE][+-]?[0-9]+$|^[+-]?[0-9]+[eE][+-][0-9]+$")
_SCIENTIFIC_RE2 = _SCIENTIFIC.pattern
# The shape that the vectorised fast path handles itself; anything else goes to the scalar parser.
_SIMPLE_RE2 = r"^(?P<sign>[-+]?)(?P<int>[0-9]{1,15})(?:[.,](?P<frac>[0-9]+))?$"
_UNIT_DIGITS: dict[str, int] = {"m3": 3, "l": 0}


class NumberError(ValueError):
    """The text is not a number under the Polish CSV rules."""


def is_scientific(text: str) -> bool:
    """True if ``text`` looks like spreadsheet scientific notation (an id Excel has mangled).

    >>> is_scientific("3,65E+07"), is_scientific("1E+15")
    (True, True)
    >>> is_scientific("2124589c"), is_scientific("12e45678")
    (False, False)
    """
    return _SCIENTIFIC.match(text.strip()) is not None


def parse_decimal(text: str) -> Decimal:
    """Parse a number written the Polish (or English) way into an exact ``Decimal``.

    >>> parse_decimal("1 234,567")
    Decimal('1234.567')
    >>> parse_decimal("1.234,5"), parse_decimal("1,234.5"), parse_decimal("1.234.567"), parse_decimal("-0,5")
    (Decimal('1234.5'), Decimal('1234.5'), Decimal('1234567'), Decimal('-0.5'))
    >>> parse_decimal("3,65E+07")
    Traceback (most recent call last):
    ...
    gmina.ingest.numbers.NumberError: not a number: '3,65E+07'
    """
    cleaned = _GROUPING_RE.sub("", text.strip())
    match = _SIGNED_DIGITS.match(cleaned)
    if match is None:
        raise NumberError(f"not a number: {text!r}")
    sign, body = match.groups()
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        mark = "." if body.rfind(".") > body.rfind(",") else ","
        grouping = "," if mark == "." else "."
        if body.count(mark) != 1:
            raise NumberError(f"more than one decimal mark in {text!r}")
        whole, frac = body.split(mark)
        whole = _ungroup(whole, grouping, text)
    elif dots + commas == 1:
        whole, frac = body.replace(",", ".").split(".")
    elif dots + commas > 1:
        whole, frac = _ungroup(body, "." if dots else ",", text), ""
    else:
        whole, frac = body, ""
    if not whole or (frac == "" and body[-1:] in ".,"):
        raise NumberError(f"not a number: {text!r}")
    return Decimal(f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}")


def _ungroup(digits: str, grouping: str, text: str) -> str:
    groups = digits.split(grouping)
    if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
        raise NumberError(f"bad digit grouping in {text!r}")
    return "".join(groups)


def to_litres(value: Decimal, unit: VolumeUnit = "m3") -> int:
    """Exact ``round(value × 1000)`` for m³ (``round(value)`` for litres), half to even.

    >>> to_litres(Decimal("1234.567")), to_litres(Decimal("0.0005")), to_litres(Decimal("0.0015"))
    (1234567, 0, 2)
    >>> to_litres(Decimal("457.579333")), to_litres(Decimal("12.5"), "l")
    (457579, 12)
    """
    if not value.is_finite():
        raise NumberError(f"not a finite number: {value}")
    with localcontext() as ctx:
        ctx.prec = 60
        try:
            litres = int(value.scaleb(_UNIT_DIGITS[unit]).to_integral_value(rounding=ROUND_HALF_EVEN))
        except InvalidOperation as exc:  # pragma: no cover - absurd exponents
            raise NumberError(f"number out of range: {value}") from exc
    if abs(litres) > INT64_MAX:
        raise NumberError(f"number out of range: {value}")
    return litres


def parse_litres(text: str, unit: VolumeUnit = "m3") -> int:
    """:func:`parse_decimal` then :func:`to_litres`.

    >>> parse_litres("1 234,567"), parse_litres("  98,004"), parse_litres("15", "l")
    (1234567, 98004, 15)
    """
    return to_litres(parse_decimal(text), unit)


@dataclass(frozen=True)
class ParsedColumn:
    """A vectorised parse result: ``values`` is null where the input was null or ``invalid``."""

    values: pa.Array
    invalid: pa.Array  # bool, True where the text was present but did not parse


def litres_from_strings(texts: pa.Array, unit: VolumeUnit = "m3", *, whole: bool = False) -> ParsedColumn:
    """Vectorised :func:`parse_litres` over a string array (nulls stay null and are not invalid).

    ``whole=True`` (litres only) refuses fractions instead of rounding them.

    >>> r = litres_from_strings(pa.array(["1 234,567", "98,004", "1.234.567,0005", "x", None, "-0,0015"]))
    >>> r.values.to_pylist(), r.invalid.to_pylist()
    ([1234567, 98004, 1234567000, None, None, -2], [False, False, False, True, False, False])
    """
    if unit == "l":
        try:  # the common case for litre registers: plain integers
            values = pc.cast(texts, pa.int64())
            return ParsedColumn(values, _false_like(texts))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        if whole:
            return _whole_litres(texts)
    digits = _UNIT_DIGITS[unit]
    cleaned = pc.utf8_trim_whitespace(texts)
    for char in _GROUPING_CHARS:
        has_char = pc.any(pc.match_substring(cleaned, char)).as_py()
        if has_char:
            cleaned = pc.replace_substring(cleaned, char, "")
    fast = _via_float(cleaned, digits)
    if fast is not None:
        return ParsedColumn(fast, _false_like(texts))
    parts = pc.extract_regex(cleaned, _SIMPLE_RE2)
    simple = pc.fill_null(parts.is_valid(), False)
    whole = pc.cast(pc.if_else(simple, pc.struct_field(parts, "int"), "0"), pa.int64())
    frac = pc.fill_null(pc.struct_field(parts, "frac"), "")
    scale = 10**digits
    base = pc.multiply(whole, scale)
    if digits:
        head = pc.utf8_slice_codeunits(pc.utf8_rpad(frac, digits, "0"), 0, digits)
        base = pc.add(base, pc.cast(head, pa.int64()))
    rest = pc.utf8_rtrim(pc.utf8_slice_codeunits(frac, digits, 2**31 - 1), characters="0")
    odd = pc.equal(pc.bit_wise_and(base, 1), 1)
    round_up = pc.or_(pc.greater(rest, "5"), pc.and_(pc.equal(rest, "5"), odd))
    litres = pc.add(base, pc.cast(round_up, pa.int64()))
    litres = pc.if_else(pc.equal(pc.struct_field(parts, "sign"), "-"), pc.negate(litres), litres)
    litres = pc.if_else(simple, litres, pa.scalar(None, pa.int64()))
    invalid = pc.and_(texts.is_valid(), pc.invert(simple))
    if pc.any(invalid).as_py():
        litres, invalid = _scalar_fallback(texts, litres, invalid, unit)
    return ParsedColumn(litres, invalid)


def _whole_litres(texts: pa.Array) -> ParsedColumn:
    """Integer litres only (``whole=True``): anything but optional sign and digits is invalid."""
    trimmed = pc.utf8_trim_whitespace(texts)
    ok = pc.fill_null(pc.match_substring_regex(trimmed, r"^[-+]?[0-9]{1,18}$"), True)
    values = pc.cast(pc.if_else(ok, trimmed, "0"), pa.int64())
    return ParsedColumn(pc.if_else(ok, values, pa.scalar(None, pa.int64())), pc.invert(ok))


def _via_float(cleaned: pa.Array, digits: int) -> pa.Array | None:
    """Exact fast path when every value has at most 12 integer and ``digits`` decimal digits.

    The scaled value is an integer below 1e15; the float64 parse and the multiplication each err by at
    most 2**-53 relative, i.e. < 0.25 absolute, so rounding to the nearest integer is exact.
    """
    shape = rf"^[-+]?[0-9]{{1,12}}([.,][0-9]{{1,{digits}}})?$" if digits else r"^[-+]?[0-9]{1,12}$"
    if not pc.all(pc.match_substring_regex(cleaned, shape)).as_py():  # nulls are skipped by "all"
        return None
    floats = pc.cast(pc.replace_substring(cleaned, ",", "."), pa.float64())
    return pc.cast(pc.round(pc.multiply(floats, float(10**digits))), pa.int64())


def _scalar_fallback(
    texts: pa.Array, litres: pa.Array, invalid: pa.Array, unit: VolumeUnit
) -> tuple[pa.Array, pa.Array]:
    """Rows outside the simple shape (grouping with both marks, garbage) go through the scalar parser."""
    rows = pc.indices_nonzero(invalid)
    parsed: list[int | None] = []
    for text in pc.take(texts, rows).to_pylist():
        try:
            parsed.append(parse_litres(text, unit))
        except NumberError:
            parsed.append(None)
    fixed = pa.array(parsed, pa.int64())
    litres = pc.replace_with_mask(litres, invalid, fixed)
    still_bad = pc.replace_with_mask(invalid, invalid, fixed.is_null())
    return litres, still_bad


def floats_from_strings(texts: pa.Array) -> ParsedColumn:
    """Vectorised float parsing with the same decimal-mark rules (for flow columns).

    >>> r = floats_from_strings(pa.array(["1,5", "0.25", "1 200,5", "1.234,5", "abc", None]))
    >>> r.values.to_pylist(), r.invalid.to_pylist()
    ([1.5, 0.25, 1200.5, 1234.5, None, None], [False, False, False, False, True, False])
    """
    try:
        dotted = texts
        if pc.any(pc.match_substring(texts, ",")).as_py():
            dotted = pc.replace_substring(texts, ",", ".")
        values = pc.cast(dotted, pa.float64())
        if not pc.any(pc.is_nan(values)).as_py() and not pc.any(pc.is_inf(values)).as_py():
            return ParsedColumn(values, _false_like(texts))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    parsed: list[float | None] = []
    bad: list[bool] = []
    for text in texts.to_pylist():
        if text is None:
            parsed.append(None)
            bad.append(False)
            continue
        try:
            parsed.append(float(parse_decimal(text)))
            bad.append(False)
        except NumberError:
            parsed.append(None)
            bad.append(True)
    return ParsedColumn(pa.array(parsed, pa.float64()), pa.array(bad, pa.bool_()))


def scientific_mask(texts: pa.Array) -> pa.Array:
    """Vectorised :func:`is_scientific` (null → False).

    >>> scientific_mask(pa.array(["3,65E+07", "00123456", None])).to_pylist()
    [True, False, False]
    """
    candidates = pc.or_(pc.match_substring(texts, "E"), pc.match_substring(texts, "e"))
    if not pc.any(candidates).as_py():
        return _false_like(texts)
    return pc.fill_null(pc.match_substring_regex(pc.utf8_trim_whitespace(texts), _SCIENTIFIC_RE2), False)


def _false_like(array: pa.Array) -> pa.Array:
    return pa.repeat(False, len(array))
