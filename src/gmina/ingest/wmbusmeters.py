"""One wmbusmeters JSON message (reference §1.2-1.4) → :class:`~gmina.ingest.schema.ParsedBatch`.

* ``meter_ref`` = ``id`` lower-cased (kept a string: IZAR ids contain hex letters), ``ref_kind=device``;
* ``observed_at`` = ``meter_datetime`` (meter-local, converted from Europe/Warsaw, ``time_basis
  meter_clock``; the repeated October hour → earlier instant, ``time_ambiguous``) if present, else
  ``timestamp`` (UTC reception time, ``time_basis reception``);
* ``index_l`` from ``total_m3`` converted exactly from its decimal text; a message without it is a
  ``missing_value`` rejection, not an exception;
* ``backflow_l`` from ``total_backward_m3`` / ``total_backwards_m3`` / ``backflow_m3``;
  ``flow_lph`` from ``flow_m3h`` / ``volume_flow_m3h``;
* flags from ``status`` and ``current_status`` (space-separated), IZAR ``current_alarms`` and
  ``previous_alarms`` (comma-separated; the latter historic); ``battery_y`` /
  ``remaining_battery_life_y`` below ``battery_low_years`` (default 1.0) → ``battery_low`` active.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from gmina.ingest.alarms import AlarmCode, Flag, map_alarm_tokens
from gmina.ingest.batches import BatchBuilder
from gmina.ingest.jsonio import JsonInput, RecordRejected, float_of, json_decimal, litres_of, load_object
from gmina.ingest.numbers import NumberError, is_scientific
from gmina.ingest.schema import FlagState, ParsedBatch, RefKind, RejectReason, TimeBasis
from gmina.ingest.times import ISO8601, WARSAW, TimeError, parse_timestamp

METER_DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
BACKFLOW_KEYS = ("total_backward_m3", "total_backwards_m3", "backflow_m3")
FLOW_KEYS = ("flow_m3h", "volume_flow_m3h")
BATTERY_KEYS = ("battery_y", "remaining_battery_life_y")


def parse_wmbusmeters(
    message: JsonInput | Mapping[str, Any],
    *,
    line: int = 0,
    tz: str = WARSAW,
    battery_low_years: Decimal = Decimal(1),
) -> ParsedBatch:
    """Parse one wmbusmeters message (``$METER_JSON``); ``line`` numbers it (e.g. in a JSONL file).

    >>> batch = parse_wmbusmeters('{"id": "2124589C", "total_m3": 457.579333, "status": "LEAK",'
    ...                           ' "timestamp": "2025-10-26T01:15:04Z"}')
    >>> row = batch.readings.to_pylist()[0]
    >>> row["meter_ref"], row["index_l"], row["time_basis"], [f["code"] for f in row["flags"]]
    ('2124589c', 457579, 'reception', ['leak'])
    """
    document, raw = load_object(message, "a wmbusmeters message")
    builder = BatchBuilder()
    try:
        _add(builder, document, line, tz, battery_low_years)
    except RecordRejected as exc:
        builder.reject(line=line, column=exc.column, reason=exc.reason, message=exc.message, raw=raw)
    return builder.build()


def _add(builder: BatchBuilder, doc: Mapping[str, Any], line: int, tz: str, battery_low: Decimal) -> None:
    device = doc.get("id")
    if not isinstance(device, str) or not device.strip():
        reason = RejectReason.MISSING_VALUE if device in (None, "") else RejectReason.MALFORMED
        raise RecordRejected("id", reason, f"id must be a non-empty string, got {device!r}")
    if is_scientific(device):
        raise RecordRejected("id", RejectReason.SCIENTIFIC_ID, f"id {device!r} is in scientific notation")
    observed_at, basis, ambiguous = _observed_at(doc, tz)
    total = doc.get("total_m3")
    if total is None:
        raise RecordRejected("total_m3", RejectReason.MISSING_VALUE, "no total_m3 in the message")
    index_l = litres_of(total, "total_m3")
    backflow_key = next((k for k in BACKFLOW_KEYS if doc.get(k) is not None), None)
    flow_key = next((k for k in FLOW_KEYS if doc.get(k) is not None), None)
    builder.add(
        line=line,
        meter_ref=device.strip().lower(),
        ref_kind=RefKind.DEVICE,
        observed_at=observed_at,
        index_l=index_l,
        backflow_l=litres_of(doc[backflow_key], backflow_key) if backflow_key else None,
        flow_lph=float_of(doc[flow_key], flow_key, 1000) if flow_key else None,
        time_basis=basis,
        time_ambiguous=ambiguous,
        flags=_flags(doc, battery_low),
    )


def _observed_at(doc: Mapping[str, Any], tz: str) -> tuple[datetime, TimeBasis, bool]:
    meter_time = doc.get("meter_datetime")
    try:
        if isinstance(meter_time, str) and meter_time.strip():
            parsed = parse_timestamp(meter_time, METER_DATETIME_FORMATS, tz=tz)
            return parsed.utc, TimeBasis.METER_CLOCK, parsed.ambiguous
    except TimeError as exc:
        raise RecordRejected("meter_datetime", exc.reason, f"meter_datetime: {exc}") from None
    stamp = doc.get("timestamp")
    if stamp is None:
        raise RecordRejected("timestamp", RejectReason.MISSING_VALUE, "no timestamp and no meter_datetime")
    if not isinstance(stamp, str):
        raise RecordRejected("timestamp", RejectReason.BAD_TIMESTAMP, f"timestamp {stamp!r} is not a string")
    try:
        return parse_timestamp(stamp, (ISO8601,), tz="UTC").utc, TimeBasis.RECEPTION, False
    except TimeError as exc:
        raise RecordRejected("timestamp", exc.reason, f"timestamp: {exc}") from None


def _flags(doc: Mapping[str, Any], battery_low: Decimal) -> list[Flag]:
    vendor = doc.get("meter") if isinstance(doc.get("meter"), str) else None
    flags: list[Flag] = []
    sources = (
        ("status", False),
        ("current_status", False),
        ("current_alarms", False),
        ("previous_alarms", True),
    )
    for key, historic in sources:
        text = doc.get(key)
        if isinstance(text, str):
            flags.extend(f for f in map_alarm_tokens(text, vendor=vendor, historic=historic) if f not in flags)
    for key in BATTERY_KEYS:
        value = doc.get(key)
        try:
            years = json_decimal(value) if value is not None else None
        except NumberError:
            years = None
        if years is not None and years < battery_low:
            flags.append(Flag(AlarmCode.BATTERY_LOW, FlagState.ACTIVE, f"{key}={value}"))
            break
    return flags
