"""JSON loading for the payload parsers: exact decimals, file-level errors with line and column."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from gmina.ingest.numbers import NumberError, VolumeUnit, parse_decimal, to_litres
from gmina.ingest.schema import FileRejected, RejectReason

JsonInput = bytes | bytearray | memoryview | str


class RecordRejected(Exception):
    """One record of a payload is refused; the parser turns it into a rejection row."""

    def __init__(self, column: str | None, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.reason = reason
        self.message = message


def load_json(data: JsonInput) -> Any:
    """Parse JSON keeping numbers with a fraction as exact ``Decimal`` (``NaN``/``Infinity`` too).

    >>> load_json(b'{"total_m3": 412.083}')
    {'total_m3': Decimal('412.083')}
    >>> load_json("{oops")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gmina.ingest.schema.FileRejected: line 1, column 2: not valid JSON: Expecting property name ...
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - raw.rfind(b"\n", 0, exc.start)
            raise FileRejected(f"not valid UTF-8 (byte 0x{raw[exc.start]:02X})", line=line, column=column) from None
    else:
        text = data
    try:
        if text.startswith("\ufeff"):  # as json.loads refuses a text (not bytes) with a BOM
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)  # what json.loads does, without a new decoder per call
    except json.JSONDecodeError as exc:
        raise FileRejected(f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise FileRejected("not valid JSON: nested too deeply", line=1) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
        raise FileRejected(f"not valid JSON: {exc}", line=1) from None


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)


def load_object(data: JsonInput | Mapping[str, Any], what: str) -> tuple[Mapping[str, Any], str]:
    """A JSON object (already parsed or as text) and its raw text; :class:`FileRejected` otherwise."""
    if isinstance(data, Mapping):
        return data, dump_raw(data)
    parsed = load_json(data)
    if not isinstance(parsed, dict):
        raise FileRejected(f"expected a JSON object ({what}), got {type(parsed).__name__}", line=1, column=1)
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
    return parsed, text.strip()


def dump_raw(value: object) -> str:
    """Compact JSON text with ``Decimal`` written as a number (for ``raw`` columns).

    >>> dump_raw({"a": Decimal("1.50"), "b": [True, None]})
    '{"a":1.50,"b":[true,null]}'
    """
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump_raw(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dump_raw(v) for v in value) + "]"
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return json.dumps(repr(value))


def json_decimal(value: object) -> Decimal:
    """A JSON number (or a numeric string, Polish decimal comma allowed) as an exact finite ``Decimal``.

    >>> json_decimal(Decimal("412.083")), json_decimal(7), json_decimal("1 234,5"), json_decimal(0.1)
    (Decimal('412.083'), Decimal('7'), Decimal('1234.5'), Decimal('0.1'))
    """
    if isinstance(value, bool) or value is None:
        raise NumberError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))  # the shortest text that round-trips: what the JSON said
    elif isinstance(value, str):
        result = parse_decimal(value)
    else:
        raise NumberError(f"not a number: {value!r}")
    if not result.is_finite():
        raise NumberError(f"not a finite number: {value!r}")
    return result


def litres_of(value: object, key: str, unit: VolumeUnit = "m3") -> int:
    """A non-negative JSON volume → litres (exact, half to even); :class:`RecordRejected` names ``key``.

    ``unit="l"`` requires whole litres given as a JSON number (a string is refused).

    >>> litres_of(Decimal("412.083"), "total_m3"), litres_of(12, "index_l", "l")
    (412083, 12)
    """
    try:
        amount = json_decimal(value)
        if unit == "l" and (isinstance(value, str) or amount != amount.to_integral_value()):
            raise NumberError(f"must be a whole number of litres, got {value!r}")
        litres = to_litres(amount, unit)
    except NumberError as exc:
        raise RecordRejected(key, RejectReason.BAD_NUMBER, f"{key}: {exc}") from None
    if litres < 0:
        raise RecordRejected(key, RejectReason.NEGATIVE_INDEX, f"{key}: negative value {dump_raw(value)}")
    return litres


def float_of(value: object, key: str, scale: int = 1) -> float:
    """A JSON number × ``scale`` as a float (m³/h → L/h: 1000); :class:`RecordRejected` names ``key``.

    >>> float_of(Decimal("0.612"), "max_flow_m3h", 1000)
    612.0
    """
    try:
        return float(json_decimal(value) * scale)
    except NumberError as exc:
        raise RecordRejected(key, RejectReason.BAD_NUMBER, f"{key}: {exc}") from None
