"""The decoded-payload shape shared by the LoRaWAN adapters (ChirpStack ``object``, TTS ``decoded_payload``).

Our generic decoder (reference §2.1, an illustration, not a vendor format) returns::

    {"meter_serial": "23041234", "volume_m3": 1234.567, "meter_time": "2025-10-26T01:00:00Z",
     "alarms": {"leak": true, "magnet": false, ...}, "battery_pct": 87.0}

``index_l`` (integer litres) may replace ``volume_m3``; ``flow_m3h``/``flow_lph`` and ``backflow_m3`` are
optional. ``meter_time`` must carry an offset. Alarm booleans map by key (``magnet`` → tamper_magnet,
``tamper`` → tamper_other, unknown keys → other); only ``true`` raises a flag (TTS omits false values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gmina.ingest.alarms import AlarmCode, Flag
from gmina.ingest.batches import BatchBuilder
from gmina.ingest.jsonio import RecordRejected, float_of, litres_of
from gmina.ingest.numbers import is_scientific
from gmina.ingest.schema import FlagState, RefKind, RejectReason, TimeBasis
from gmina.ingest.times import ISO8601, TimeError, parse_timestamp

ALARM_KEYS: dict[str, AlarmCode] = {
    "leak": AlarmCode.LEAK,
    "burst": AlarmCode.BURST,
    "backflow": AlarmCode.BACKFLOW,
    "reverse": AlarmCode.BACKFLOW,
    "reverse_flow": AlarmCode.BACKFLOW,
    "magnet": AlarmCode.TAMPER_MAGNET,
    "magnetic": AlarmCode.TAMPER_MAGNET,
    "tamper": AlarmCode.TAMPER_OTHER,
    "removal": AlarmCode.REMOVAL,
    "dry": AlarmCode.DRY,
    "battery_low": AlarmCode.BATTERY_LOW,
    "low_battery": AlarmCode.BATTERY_LOW,
    "sensor_error": AlarmCode.SENSOR_ERROR,
    "no_usage": AlarmCode.NO_USAGE,
}


@dataclass(frozen=True)
class Uplink:
    """What the network-server envelope tells us, independent of the server."""

    line: int
    device: str  # DevEUI, lower-case
    reception: datetime | None
    reception_key: str  # JSON path of the reception time, for messages
    object_key: str  # JSON path of the decoded payload, for messages
    serial_hint: str | None = None  # e.g. ChirpStack tags.meter_serial


def parse_time(value: object, key: str) -> datetime:
    """An RFC 3339 time with an offset (nanoseconds truncated to microseconds)."""
    if not isinstance(value, str):
        raise RecordRejected(key, RejectReason.BAD_TIMESTAMP, f"{key} {value!r} is not a string")
    try:
        parsed = parse_timestamp(value, (ISO8601,), tz="UTC")
    except TimeError as exc:
        raise RecordRejected(key, exc.reason, f"{key}: {exc}") from None
    if parsed.local is not None:
        raise RecordRejected(key, RejectReason.BAD_TIMESTAMP, f"{key} {value!r} has no UTC offset")
    return parsed.utc


def add_decoded(builder: BatchBuilder, uplink: Uplink, decoded: object, *, prefer_serial: bool) -> None:
    """Add the reading in ``decoded`` (or raise :class:`RecordRejected`)."""
    prefix = uplink.object_key
    if not isinstance(decoded, Mapping):
        raise RecordRejected(prefix, RejectReason.MISSING_VALUE, "no decoded object (codec missing or failed)")
    if decoded.get("meter_time") is not None:
        observed_at, basis = parse_time(decoded["meter_time"], f"{prefix}.meter_time"), TimeBasis.METER_CLOCK
    elif uplink.reception is not None:
        observed_at, basis = uplink.reception, TimeBasis.RECEPTION
    else:
        raise RecordRejected(uplink.reception_key, RejectReason.MISSING_VALUE, "no reception time and no meter_time")
    meter_ref, ref_kind = _reference(uplink, decoded, prefer_serial)
    flow = None
    if decoded.get("flow_m3h") is not None:
        flow = float_of(decoded["flow_m3h"], f"{prefix}.flow_m3h", 1000)
    elif decoded.get("flow_lph") is not None:
        flow = float_of(decoded["flow_lph"], f"{prefix}.flow_lph")
    backflow = decoded.get("backflow_m3")
    builder.add(
        line=uplink.line,
        meter_ref=meter_ref,
        ref_kind=ref_kind,
        observed_at=observed_at,
        index_l=_index(decoded, prefix),
        flow_lph=flow,
        backflow_l=None if backflow is None else litres_of(backflow, f"{prefix}.backflow_m3"),
        time_basis=basis,
        flags=_alarms(decoded.get("alarms"), prefix),
    )


def _reference(uplink: Uplink, decoded: Mapping[str, Any], prefer_serial: bool) -> tuple[str, RefKind]:
    serial = decoded.get("meter_serial") if isinstance(decoded.get("meter_serial"), str) else uplink.serial_hint
    if prefer_serial and serial and serial.strip():
        if is_scientific(serial):
            raise RecordRejected("meter_serial", RejectReason.SCIENTIFIC_ID, f"serial {serial!r} is scientific")
        return serial.strip(), RefKind.SERIAL
    return uplink.device, RefKind.DEVICE


def _index(decoded: Mapping[str, Any], prefix: str) -> int:
    if decoded.get("volume_m3") is not None:
        return litres_of(decoded["volume_m3"], f"{prefix}.volume_m3")
    if decoded.get("index_l") is not None:
        return litres_of(decoded["index_l"], f"{prefix}.index_l", "l")
    raise RecordRejected(f"{prefix}.volume_m3", RejectReason.MISSING_VALUE, "no volume_m3 (or index_l)")


def _alarms(alarms: object, prefix: str) -> list[Flag]:
    if alarms is None:
        return []
    if not isinstance(alarms, Mapping):
        raise RecordRejected(f"{prefix}.alarms", RejectReason.MALFORMED, "alarms must be an object of booleans")
    return [
        Flag(ALARM_KEYS.get(str(key).lower(), AlarmCode.OTHER), FlagState.ACTIVE, f"alarms.{key}")
        for key, value in alarms.items()
        if value is True
    ]
