"""Property tests: every parser returns batches or refuses the input, deterministically, never crashes."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmina.ingest import (
    PROFILES,
    FileRejected,
    ParsedBatch,
    parse_api_json,
    parse_chirpstack_uplink,
    parse_tts_uplink,
    parse_wmbusmeters,
    read_csv,
)
from gmina.ingest.api_json import RECORD_KEYS

EXAMPLES = int(os.environ.get("INGEST_HYPOTHESIS_EXAMPLES", "200"))  # raise it locally to search harder
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Outcome = tuple[str, Any]


def check_batch(batch: ParsedBatch) -> None:
    """Non-nullable columns hold no nulls (the schema does not enforce it by itself)."""
    for table in (batch.readings, batch.rejections):
        for field in table.schema:
            if not field.nullable:
                assert table.column(field.name).null_count == 0, field.name


def csv_outcome(data: bytes, profile: str, batch_rows: int = 7) -> Outcome:
    """Readings and rejections as rows, or the refusal (message, line, column)."""
    try:
        batches = list(read_csv(io.BytesIO(data), PROFILES[profile], batch_rows=batch_rows))
    except FileRejected as exc:
        return "rejected", (str(exc), exc.line, exc.column)
    for batch in batches:
        check_batch(batch)
    return "ok", [(b.readings.to_pylist(), b.rejections.to_pylist()) for b in batches]


def payload_outcome(parser: Callable[[Any], ParsedBatch], data: Any) -> Outcome:
    try:
        batch = parser(data)
    except FileRejected as exc:
        return "rejected", (str(exc), exc.line, exc.column)
    check_batch(batch)
    return "ok", (batch.readings.to_pylist(), batch.rejections.to_pylist())


HEADERS = {
    "gmina": "meter,observed_at,index_l,flow_lph,flags\n",
    "pl-walkby": "Nr wodomierza;Nr radiowy;Data odczytu;Stan [m3];Typ odczytu;Alarmy\r\n",
    "wmbusmeters-fields": "",
}
CSVISH = st.text(alphabet='0123456789;,.\t|"\r\n -:TZ+Ee\u00a0ąłśŹ', max_size=300)
ENCODINGS = st.sampled_from(["utf-8", "cp1250", "iso-8859-2", "utf-8-sig"])


@SETTINGS
@given(st.binary(max_size=600), st.sampled_from(sorted(PROFILES)))
def test_csv_any_bytes(data: bytes, profile: str) -> None:
    outcome = csv_outcome(data, profile)
    assert outcome == csv_outcome(data, profile)  # deterministic


@SETTINGS
@given(CSVISH, st.sampled_from(sorted(PROFILES)), ENCODINGS, st.booleans(), st.integers(1, 20))
def test_csv_csvish_text(text: str, profile: str, encoding: str, header: bool, batch_rows: int) -> None:
    body = (HEADERS[profile] if header else "") + text
    data = body.encode(encoding, "replace")
    outcome = csv_outcome(data, profile, batch_rows)
    assert outcome == csv_outcome(data, profile, batch_rows)


METERS = st.text(alphabet="ABCDEFabcdef0123456789", min_size=1, max_size=12)
INSTANTS = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
ROWS = st.lists(st.tuples(METERS, INSTANTS, st.integers(0, 2**62)), max_size=40)


def gmina_csv(rows: list[tuple[str, datetime, int]]) -> bytes:
    lines = ["meter,observed_at,index_l\n"]
    for meter, when, index in rows:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{when.microsecond:06d}" if when.microsecond else "") + "Z"
        lines.append(f"{meter},{stamp},{index}\n")
    return "".join(lines).encode()


def readings_of(data: bytes, batch_rows: int) -> list[tuple[str, datetime, int]]:
    result = []
    for batch in read_csv(io.BytesIO(data), PROFILES["gmina"], batch_rows=batch_rows):
        assert batch.rejections.num_rows == 0
        for row in batch.readings.to_pylist():
            result.append((row["meter_ref"], row["observed_at"], row["index_l"]))
    return result


@SETTINGS
@given(ROWS, st.integers(1, 50))
def test_gmina_round_trip(rows: list[tuple[str, datetime, int]], batch_rows: int) -> None:
    parsed = readings_of(gmina_csv(rows), batch_rows)
    assert [(m, t.astimezone(UTC), i) for m, t, i in parsed] == rows


@SETTINGS
@given(ROWS, st.randoms(use_true_random=False), st.integers(1, 50))
def test_gmina_shuffling_keeps_the_set_of_readings(rows: list[tuple[str, datetime, int]], rnd: Any, size: int) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert sorted(readings_of(gmina_csv(rows), size)) == sorted(readings_of(gmina_csv(shuffled), size))


@SETTINGS
@given(ROWS, st.integers(1, 50))
def test_gmina_reparse_is_identical(rows: list[tuple[str, datetime, int]], batch_rows: int) -> None:
    data = gmina_csv(rows)
    first = list(read_csv(io.BytesIO(data), PROFILES["gmina"], batch_rows=batch_rows))
    second = list(read_csv(io.BytesIO(data), PROFILES["gmina"], batch_rows=batch_rows))
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert a.readings.equals(b.readings) and a.rejections.equals(b.rejections)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["2025-10-26T01:15:04Z", "2025-03-30 02:30", "26.10.2025 02:30", "1 234,567", "LEAK TAMPER"]),
)


def json_values(keys: list[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        JSON_SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(keys), inner, max_size=6),
        max_leaves=20,
    )


PAYLOADS: dict[str, tuple[Callable[[Any], ParsedBatch], list[str]]] = {
    "api": (parse_api_json, ["readings", *sorted(RECORD_KEYS), "code", "state", "raw", "x"]),
    "wmbusmeters": (
        parse_wmbusmeters,
        ["id", "meter", "total_m3", "timestamp", "meter_datetime", "status", "current_status", "current_alarms",
         "previous_alarms", "battery_y", "total_backward_m3", "flow_m3h", "x"],
    ),
    "chirpstack": (
        parse_chirpstack_uplink,
        ["time", "deviceInfo", "devEui", "tags", "meter_serial", "object", "volume_m3", "index_l", "meter_time",
         "alarms", "leak", "magnet", "joinServerContext", "flow_m3h", "backflow_m3"],
    ),
    "tts": (
        parse_tts_uplink,
        ["end_device_ids", "dev_eui", "received_at", "uplink_message", "decoded_payload", "simulated", "volume_m3",
         "alarms", "meter_time", "index_l"],
    ),
}  # fmt: skip


@SETTINGS
@given(st.sampled_from(sorted(PAYLOADS)), st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_payload_any_input(name: str, data: bytes | str) -> None:
    parser, _ = PAYLOADS[name]
    assert payload_outcome(parser, data) == payload_outcome(parser, data)


@SETTINGS
@given(st.data())
def test_payload_structured_json(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(PAYLOADS)))
    parser, keys = PAYLOADS[name]
    value = data.draw(json_values(keys))
    if name == "api" and data.draw(st.booleans()):
        value = {"readings": data.draw(st.lists(json_values(keys), max_size=5))}
    text = json.dumps(value)
    outcome = payload_outcome(parser, text)
    assert outcome == payload_outcome(parser, text.encode())
    if isinstance(value, dict):
        assert payload_outcome(parser, value)[0] == outcome[0]
