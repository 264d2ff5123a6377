"""The project's own batch JSON (REST API and MQTT) → :class:`~gmina.ingest.schema.ParsedBatch`.

Shape::

    {"readings": [
        {"meter": "23041234", "observed_at": "2025-10-26T01:15:00Z", "index_l": 1234567},
        {"device": "70B3D5FFEE001234", "observed_at": "2025-10-26T02:15:00+01:00", "index_m3": "1234,567",
         "flow_lph": 12.5, "flags": ["leak", {"code": "tamper_magnet", "state": "historic"}],
         "read_type": "actual", "time_basis": "meter_clock"}
    ]}

* exactly one of ``meter`` (printed serial) or ``device`` (radio id, lower-cased);
* ``observed_at`` is ISO 8601 **with** an offset (``Z`` or ``±HH:MM``); naive times are rejected;
* exactly one of ``index_l`` (integer litres) or ``index_m3`` (a number or a decimal string, converted
  exactly from its decimal text, half-to-even to litres);
* ``flags``: canonical codes, vendor tokens or ``{"code", "state"}`` objects; unknown codes → ``other``;
* ``time_basis`` defaults to ``meter_clock``; ``read_type`` to ``actual``; other keys are refused.

``line`` is the **0-based** index of the record in the ``readings`` array, as reported by the API.
A record that fails is rejected with ``column`` = the JSON key; invalid JSON or a wrong top-level shape
raises :class:`~gmina.ingest.schema.FileRejected` (line/column from the JSON decoder).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from gmina.ingest.alarms import AlarmCode, Flag, map_alarm_token, map_alarm_tokens
from gmina.ingest.batches import BatchBuilder, line_numbers
from gmina.ingest.jsonio import JsonInput, RecordRejected, dump_raw, float_of, litres_of, load_json
from gmina.ingest.numbers import INT64_MAX, is_scientific
from gmina.ingest.schema import (
    FLAG_TYPE,
    READINGS_SCHEMA,
    FileRejected,
    FlagState,
    ParsedBatch,
    ReadType,
    RefKind,
    RejectReason,
    TimeBasis,
)
from gmina.ingest.times import ISO8601, TimeError, parse_timestamp

RECORD_KEYS = frozenset(
    {"meter", "device", "observed_at", "index_l", "index_m3", "flow_lph", "flags", "read_type", "time_basis"}
)
_CANONICAL = frozenset(code.value for code in AlarmCode)


def parse_api_json(data: JsonInput | Mapping[str, Any]) -> ParsedBatch:
    """Parse an API/MQTT batch; see the module docstring for the shape.

    >>> batch = parse_api_json('{"readings": [{"meter": "23041234", "observed_at": "2025-10-26T01:15:00Z",'
    ...                        ' "index_m3": 1234.5675}, {"meter": "x"}]}')
    >>> batch.readings.column("index_l").to_pylist(), batch.rejections.column("column").to_pylist()
    ([1234568], ['observed_at'])
    """
    builder = BatchBuilder()
    _add_document(builder, data)
    return builder.build()


def parse_api_json_messages(
    payloads: Iterable[tuple[int, JsonInput]],
) -> tuple[ParsedBatch, list[tuple[int, FileRejected]]]:
    """Many small documents (one MQTT group) in one batch: each ``(line, payload)``'s records get ``line``.

    Building an Arrow batch costs more than parsing a one-reading message; here it is built once
    for the group. A document refused whole adds nothing; it is returned as ``(line, error)``.

    >>> batch, refused = parse_api_json_messages([(0, '{"readings": []}'), (1, '{"readings": '),
    ...     (2, '{"readings": [{"meter": "7", "observed_at": "2025-10-26T01:15:00Z", "index_l": 3}]}')])
    >>> batch.readings.column("line").to_pylist(), [(line, str(exc)[:13]) for line, exc in refused]
    ([2], [(1, 'line 1, colum')])
    """
    builder = BatchBuilder()
    refused: list[tuple[int, FileRejected]] = []
    records: list[Any] = []
    lines: list[int] = []
    positions: list[int] = []  # within its document
    for line, payload in payloads:
        try:
            document = _records_of(payload)
        except FileRejected as exc:
            refused.append((line, exc))
            continue
        records += document
        lines += [line] * len(document)
        positions += range(len(document))
    _add_records(builder, records, lines, positions)
    return builder.build(), refused


def _add_document(builder: BatchBuilder, data: JsonInput | Mapping[str, Any], *, line: int | None = None) -> None:
    """Check the document's shape (or raise ``FileRejected``), then add its records (line: their index or ``line``)."""
    records = _records_of(data)
    if line is None:
        _add_records(builder, records, None, None)
    else:
        _add_records(builder, records, [line] * len(records), list(range(len(records))))


def _records_of(data: JsonInput | Mapping[str, Any]) -> list[Any]:
    """The ``readings`` list of a document whose shape is right; ``FileRejected`` otherwise."""
    document = data if isinstance(data, Mapping) else load_json(data)
    if not isinstance(document, Mapping) or not isinstance(document.get("readings"), list):
        raise FileRejected('expected a JSON object {"readings": [...]}', line=1, column=1)
    extra = sorted(set(document) - {"readings"})
    if extra:
        raise FileRejected(f"unknown top-level key(s): {', '.join(map(str, extra))}", line=1, column=1)
    records: list[Any] = document["readings"]
    return records


def _add_records(
    builder: BatchBuilder, records: list[Any], lines: list[int] | None, positions: list[int] | None
) -> None:
    """Add records a column at a time if they allow, else one by one.

    Record i gets line ``lines[i]`` (default: i); ``positions[i]`` is its index in its document (default: i).
    """
    if len(records) >= _COLUMNS_FROM and _add_columns(builder, records, lines):
        return
    for i, record in enumerate(records):
        at = i if lines is None else lines[i]
        position = i if positions is None else positions[i]
        if _add_simple(builder, at, record):
            continue
        try:
            _add_record(builder, position, record, at)
        except RecordRejected as exc:
            builder.reject(line=at, column=exc.column, reason=exc.reason, message=exc.message, raw=dump_raw(record))


# The shape nearly every integration sends: a meter or device id, an ISO 8601 time with an offset
# and whole litres. Such a record is taken here in a few microseconds; anything else, or anything
# this check is unsure of, goes through ``_add_record`` (tens of microseconds), which decides.
_SIMPLE_KEYS = (frozenset({"meter", "observed_at", "index_l"}), frozenset({"device", "observed_at", "index_l"}))
_SIMPLE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)


def _add_simple(builder: BatchBuilder, position: int, record: object) -> bool:
    """Add ``record`` if it has the common shape and is valid, with the result ``_add_record`` gives."""
    if type(record) is not dict or len(record) != 3:
        return False
    keys = record.keys()
    serial = keys == _SIMPLE_KEYS[0]
    if not serial and keys != _SIMPLE_KEYS[1]:
        return False
    ref, when, index = record["meter" if serial else "device"], record["observed_at"], record["index_l"]
    if type(ref) is not str or not ref or ref != ref.strip() or "e" in ref or "E" in ref:
        return False  # empty, padded, or possibly scientific notation
    if type(index) is not int or not 0 <= index <= INT64_MAX:
        return False
    if type(when) is not str or _SIMPLE_TIME.fullmatch(when) is None:
        return False
    try:
        observed_at = datetime.fromisoformat(when).astimezone(UTC)
    except ValueError:
        return False
    builder.add(
        line=position,
        meter_ref=ref if serial else ref.lower(),
        ref_kind=RefKind.SERIAL if serial else RefKind.DEVICE,
        observed_at=observed_at,
        index_l=index,
        time_basis=TimeBasis.METER_CLOCK,
        read_type=ReadType.ACTUAL,
        flags=[],
    )
    return True


# A document of many records that all have the common shape (a head-end's batch) is taken a column at a
# time: the checks of ``_add_simple`` over whole lists, times parsed by Arrow. If any record is not
# certainly of that shape and valid, the document goes record by record instead, which decides.
_COLUMNS_FROM = 64  # records; below this, building the columns costs more than it saves
_SIMPLE_TIME_ANCHORED = "^" + _SIMPLE_TIME.pattern + "$"
_DATETIME_RANGE_US = (  # what Python's datetime holds, with a day to spare each side
    (datetime(1, 1, 2, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
    (datetime(9999, 12, 30, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
)


def _add_columns(builder: BatchBuilder, records: list[Any], lines: list[int] | None) -> bool:
    """Add every record of the document, as ``_add_simple`` would one by one, or nothing (False)."""
    first = records[0]
    if type(first) is not dict:
        return False
    keys = first.keys()
    serial = keys == _SIMPLE_KEYS[0]
    if not serial and keys != _SIMPLE_KEYS[1]:
        return False
    name = "meter" if serial else "device"
    if not all(type(r) is dict and len(r) == 3 and r.keys() == keys for r in records):
        return False
    refs = [r[name] for r in records]
    whens = [r["observed_at"] for r in records]
    indexes = [r["index_l"] for r in records]
    if not all(type(ref) is str and ref and ref == ref.strip() and "e" not in ref and "E" not in ref for ref in refs):
        return False
    if not all(type(i) is int and 0 <= i <= INT64_MAX for i in indexes):
        return False
    if not all(type(w) is str for w in whens):
        return False
    try:
        times = pa.array(whens, pa.string())
        meter_refs = pa.array(refs if serial else [ref.lower() for ref in refs], pa.string())
    except (UnicodeEncodeError, pa.ArrowException):  # lone surrogates: the record path cleans them
        return False
    if not pc.all(pc.match_substring_regex(times, _SIMPLE_TIME_ANCHORED)).as_py():
        return False
    try:
        observed_at = pc.cast(times, pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:  # an impossible date or time: the record path rejects it
        return False
    micros = pc.min_max(pc.cast(observed_at, pa.int64())).as_py()
    if micros["min"] < _DATETIME_RANGE_US[0] or micros["max"] > _DATETIME_RANGE_US[1]:
        return False
    n = len(records)
    builder.extend(
        pa.RecordBatch.from_arrays(
            [
                line_numbers(0, n) if lines is None else pa.array(lines, pa.int64()),
                meter_refs,
                pa.array([RefKind.SERIAL.value if serial else RefKind.DEVICE.value] * n, pa.string()),
                observed_at,
                pa.array(indexes, pa.int64()),
                pa.nulls(n, pa.float64()),
                pa.nulls(n, pa.int64()),
                pa.array([TimeBasis.METER_CLOCK.value] * n, pa.string()),
                pa.array([False] * n, pa.bool_()),
                pa.array([ReadType.ACTUAL.value] * n, pa.string()),
                pa.ListArray.from_arrays(pa.array([0] * (n + 1), pa.int32()), pa.array([], FLAG_TYPE)),
            ],
            schema=READINGS_SCHEMA,
        )
    )
    return True


def _add_record(builder: BatchBuilder, position: int, record: object, line: int) -> None:
    if not isinstance(record, Mapping):
        raise RecordRejected(None, RejectReason.MALFORMED, f"record {position} is not a JSON object")
    unknown = sorted(str(k) for k in set(record) - RECORD_KEYS)
    if unknown:
        raise RecordRejected(unknown[0], RejectReason.MALFORMED, f"unknown key {unknown[0]!r}")
    meter_ref, ref_kind = _reference(record)
    observed_at = _observed_at(record.get("observed_at"))
    index_l = _index(record)
    builder.add(
        line=line,
        meter_ref=meter_ref,
        ref_kind=ref_kind,
        observed_at=observed_at,
        index_l=index_l,
        flow_lph=_flow(record.get("flow_lph")),
        time_basis=_enum(record, "time_basis", TimeBasis, TimeBasis.METER_CLOCK),
        read_type=_enum(record, "read_type", ReadType, ReadType.ACTUAL),
        flags=parse_flags(record.get("flags"), column="flags"),
    )


def _reference(record: Mapping[str, Any]) -> tuple[str, RefKind]:
    if "meter" in record and "device" in record:
        raise RecordRejected("device", RejectReason.MALFORMED, "give either meter or device, not both")
    key = "meter" if "meter" in record else "device"
    value = record.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordRejected("meter", RejectReason.MISSING_VALUE, "no meter (or device) id")
    if not isinstance(value, str):
        raise RecordRejected(key, RejectReason.MALFORMED, f"{key} must be a string, got {value!r}")
    value = value.strip()
    if is_scientific(value):
        raise RecordRejected(key, RejectReason.SCIENTIFIC_ID, f"{key} {value!r} is in scientific notation")
    if key == "device":
        return value.lower(), RefKind.DEVICE
    return value, RefKind.SERIAL


def _observed_at(value: object) -> datetime:
    if value is None:
        raise RecordRejected("observed_at", RejectReason.MISSING_VALUE, "no observed_at")
    if not isinstance(value, str):
        raise RecordRejected("observed_at", RejectReason.BAD_TIMESTAMP, f"observed_at {value!r} is not a string")
    try:
        parsed = parse_timestamp(value, (ISO8601,), tz="UTC")
    except TimeError as exc:
        raise RecordRejected("observed_at", exc.reason, f"observed_at: {exc}") from None
    if parsed.local is not None:
        raise RecordRejected("observed_at", RejectReason.BAD_TIMESTAMP, f"observed_at {value!r} has no UTC offset")
    return parsed.utc


def _index(record: Mapping[str, Any]) -> int:
    if "index_l" in record and "index_m3" in record:
        raise RecordRejected("index_m3", RejectReason.MALFORMED, "give either index_l or index_m3, not both")
    key = "index_m3" if "index_m3" in record else "index_l"
    value = record.get(key)
    if value is None:
        raise RecordRejected(key, RejectReason.MISSING_VALUE, "no index_l (or index_m3)")
    return litres_of(value, key, "m3" if key == "index_m3" else "l")


def _flow(value: object) -> float | None:
    return None if value is None else float_of(value, "flow_lph")


E = TypeVar("E", TimeBasis, ReadType)


def _enum(record: Mapping[str, Any], key: str, enum: type[E], default: E) -> E:
    value = record.get(key)
    if value is None:
        return default
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise RecordRejected(key, RejectReason.MALFORMED, f"{key} {value!r} is not one of {allowed}") from None


def parse_flags(value: object, *, column: str) -> list[Flag]:
    """API flags: a list of codes/tokens or ``{"code", "state"[, "raw"]}`` objects (unknown → other)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordRejected(column, RejectReason.MALFORMED, f"{column} must be a list")
    flags: list[Flag] = []
    for item in value:
        if isinstance(item, str):
            found = map_alarm_tokens(item)
        elif isinstance(item, Mapping) and isinstance(item.get("code"), str):
            found = [_flag_object(item, column)]
        else:
            raise RecordRejected(column, RejectReason.MALFORMED, f"{column}: bad flag {dump_raw(item)}")
        flags.extend(f for f in found if f not in flags)
    return flags


def _flag_object(item: Mapping[str, Any], column: str) -> Flag:
    code, state, raw = item["code"], item.get("state", "active"), item.get("raw")
    try:
        flag_state = FlagState(state)
    except ValueError:
        raise RecordRejected(column, RejectReason.MALFORMED, f"{column}: bad state {state!r}") from None
    if raw is not None and not isinstance(raw, str):
        raise RecordRejected(column, RejectReason.MALFORMED, f"{column}: raw must be a string")
    if code in _CANONICAL:
        return Flag(AlarmCode(code), flag_state, raw or code)
    mapped = map_alarm_token(code, historic=flag_state is FlagState.HISTORIC)
    return Flag(mapped.code if mapped else AlarmCode.OTHER, flag_state, raw or code)
