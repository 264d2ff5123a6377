"""Polish number parsing and exact m³ → litres (reference §4.2 step 4)."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmina.ingest.numbers import (
    NumberError,
    floats_from_strings,
    is_scientific,
    litres_from_strings,
    parse_decimal,
    parse_litres,
    scientific_mask,
    to_litres,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,567", "1234.567"),
        ("1\u00a0234,567", "1234.567"),
        ("1\u202f234,567", "1234.567"),
        ("1'234.567", "1234.567"),
        ("  98,004", "98.004"),
        ("1.234,567", "1234.567"),
        ("1,234.567", "1234.567"),
        ("1.234.567", "1234567"),
        ("1,234,567", "1234567"),
        ("1.234.567,25", "1234567.25"),
        ("12,5", "12.5"),
        ("12.5", "12.5"),
        ("1,234", "1.234"),  # one comma and nothing else: the decimal mark
        ("-3,5", "-3.5"),
        ("+3", "3"),
        ("0,000", "0.000"),
        ("457.579333", "457.579333"),
    ],
)
def test_parse_decimal(text: str, expected: str) -> None:
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["3,65E+07", "1E+15", "1e5", "", " ", "abc", "1,", ",5", "1.2.3,4", "1,2.3,4", "1.23.456", "--1", "1 2x"],
)
def test_parse_decimal_rejects(text: str) -> None:
    with pytest.raises(NumberError):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("value", "unit", "litres"),
    [
        ("1234.567", "m3", 1234567),
        ("0.0005", "m3", 0),  # half to even
        ("0.0015", "m3", 2),
        ("0.0025", "m3", 2),
        ("0.00250001", "m3", 3),
        ("-0.0015", "m3", -2),
        ("457.579333", "m3", 457579),
        ("2.5", "l", 2),
        ("3.5", "l", 4),
        ("99999.999", "m3", 99999999),
        ("9223372036854775.807", "m3", 2**63 - 1),
    ],
)
def test_to_litres_exact_half_even(value: str, unit: str, litres: int) -> None:
    assert to_litres(Decimal(value), unit) == litres  # type: ignore[arg-type]


def test_to_litres_out_of_range() -> None:
    with pytest.raises(NumberError):
        to_litres(Decimal("9223372036854775.808"))
    with pytest.raises(NumberError):
        to_litres(Decimal("NaN"))


def test_parse_litres_no_float_error() -> None:
    # 1234.567 * 1000 in floats is 1234566.9999999998
    assert parse_litres("1 234,567") == 1234567
    assert parse_litres("0,1") + parse_litres("0,2") == parse_litres("0,3")


def test_scientific() -> None:
    assert is_scientific("3,65E+07") and is_scientific("3.65E07") and is_scientific(" 1E+15 ")
    assert not is_scientific("00123456") and not is_scientific("2124589c") and not is_scientific("12e45678")
    assert scientific_mask(pa.array(["3,65E+07", "12e45678", None, "1E-3"])).to_pylist() == [
        True,
        False,
        False,
        True,
    ]


TEXTS = [
    "1 234,567",
    "98,004",
    "0,0005",
    "0,0015",
    "1.234.567,0005",
    "-0,0015",
    "12",
    "12,",
    "x",
    "3,65E+07",
    "1,234.5675",
    "999999999999999,9995",
    "9999999999999999,999",
    "\u00a012,5 ",
    "0,12345678901234567890",
]


@pytest.mark.parametrize("unit", ["m3", "l"])
def test_vectorised_matches_scalar(unit: str) -> None:
    result = litres_from_strings(pa.array([*TEXTS, None]), unit)  # type: ignore[arg-type]
    expected = []
    for text in TEXTS:
        try:
            expected.append(parse_litres(text, unit))  # type: ignore[arg-type]
        except NumberError:
            expected.append(None)
    assert result.values.to_pylist() == [*expected, None]
    assert result.invalid.to_pylist() == [v is None for v in expected] + [False]


def test_vectorised_fast_paths() -> None:
    assert litres_from_strings(pa.array(["1,5", "2.25", None]), "m3").values.to_pylist() == [1500, 2250, None]
    assert litres_from_strings(pa.array(["15", "-3", None]), "l").values.to_pylist() == [15, -3, None]


NUMBERISH = st.text(alphabet="0123456789,. -+'\u00a0eE", max_size=24)


@settings(max_examples=300, deadline=None)
@given(st.lists(NUMBERISH, max_size=20), st.sampled_from(["m3", "l"]))
def test_vectorised_equals_scalar_property(texts: list[str], unit: str) -> None:
    result = litres_from_strings(pa.array(texts, pa.string()), unit)  # type: ignore[arg-type]
    for text, value, bad in zip(texts, result.values.to_pylist(), result.invalid.to_pylist(), strict=True):
        try:
            assert value == parse_litres(text, unit)  # type: ignore[arg-type]
            assert not bad
        except NumberError:
            assert value is None and bad


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=3, allow_nan=False))
def test_polish_rendering_round_trips(value: Decimal) -> None:
    text = f"{value:,.3f}".replace(",", "\u00a0").replace(".", ",")
    assert parse_litres(text) == int(value * 1000)
    assert litres_from_strings(pa.array([text])).values.to_pylist() == [int(value * 1000)]


def test_floats() -> None:
    result = floats_from_strings(pa.array(["1,5", "0.25", "1 200,5", "1.234,5", "nan", "abc", None]))
    assert result.values.to_pylist() == [1.5, 0.25, 1200.5, 1234.5, None, None, None]
    assert result.invalid.to_pylist() == [False, False, False, False, True, True, False]
