"""wmbusmeters JSON messages (reference §1.2-1.4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gmina.ingest import FileRejected, parse_wmbusmeters
from tests.ingest.samples import WMBUS_KAMSTRUP, WMBUS_KAMSTRUP_JSON


def one(message: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    batch = parse_wmbusmeters(message, **kwargs)
    return batch.readings.to_pylist(), batch.rejections.to_pylist()


def test_kamstrup_sample() -> None:
    readings, rejections = one(WMBUS_KAMSTRUP_JSON)
    assert rejections == []
    [row] = readings
    assert (row["line"], row["meter_ref"], row["ref_kind"], row["index_l"]) == (0, "61234567", "device", 412083)
    assert row["observed_at"] == datetime(2025, 10, 26, 1, 15, 4, tzinfo=UTC)
    assert (row["time_basis"], row["time_ambiguous"]) == ("reception", False)
    assert row["flags"] == [{"code": "leak", "state": "active", "raw": "LEAK"}]  # status + current_status, once
    assert row["flow_lph"] is None and row["backflow_l"] is None  # max_flow_m3h is not the current flow


def test_same_message_as_bytes_and_as_mapping() -> None:
    assert one(WMBUS_KAMSTRUP_JSON.encode())[0] == one(WMBUS_KAMSTRUP)[0] == one(WMBUS_KAMSTRUP_JSON)[0]


def test_meter_datetime_is_local_and_preferred() -> None:
    readings, _ = one({**WMBUS_KAMSTRUP, "meter_datetime": "2025-10-26 02:30"}, line=7)
    assert readings[0]["observed_at"] == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert (readings[0]["line"], readings[0]["time_basis"], readings[0]["time_ambiguous"]) == (7, "meter_clock", True)
    readings, _ = one({**WMBUS_KAMSTRUP, "meter_datetime": "2025-07-01 12:00:30"})
    assert readings[0]["observed_at"] == datetime(2025, 7, 1, 10, 0, 30, tzinfo=UTC)


def test_nonexistent_meter_datetime_is_rejected() -> None:
    _, rejections = one({**WMBUS_KAMSTRUP, "meter_datetime": "2025-03-30 02:30"})
    assert [(r["column"], r["reason"]) for r in rejections] == [("meter_datetime", "nonexistent_local_time")]
    assert json.loads(rejections[0]["raw"])["id"] == "61234567"


def test_izar_hex_id_alarms_battery_and_registers() -> None:
    message = {
        "meter": "izar",
        "id": "2124589C",
        "total_m3": 457.579333,
        "current_alarms": "leakage,sensor_fraud",
        "previous_alarms": "mechanical_fraud",
        "remaining_battery_life_y": 0.5,
        "total_backwards_m3": 0.0125,
        "volume_flow_m3h": 0.25,
        "timestamp": "2025-10-26T01:15:04Z",
    }
    [row], _ = one(message)
    assert (row["meter_ref"], row["index_l"], row["backflow_l"], row["flow_lph"]) == ("2124589c", 457579, 12, 250.0)
    assert [(f["code"], f["state"]) for f in row["flags"]] == [
        ("leak", "active"),
        ("tamper_magnet", "active"),
        ("removal", "historic"),
        ("battery_low", "active"),
    ]
    assert row["flags"][-1]["raw"] == "remaining_battery_life_y=0.5"


def test_izarv2_status_with_prev_tokens_and_oms_bits() -> None:
    [row], _ = one({**WMBUS_KAMSTRUP, "status": "LEAKAGE PREV_SENSOR_FRAUD BUSY", "current_status": ""})
    assert [(f["code"], f["state"]) for f in row["flags"]] == [("leak", "active"), ("tamper_magnet", "historic")]


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"total_m3": None}, "total_m3", "missing_value"),
        ({"total_m3": "abc"}, "total_m3", "bad_number"),
        ({"total_m3": -1}, "total_m3", "negative_index"),
        ({"id": None}, "id", "missing_value"),
        ({"id": 61234567}, "id", "malformed"),
        ({"timestamp": None}, "timestamp", "missing_value"),
        ({"timestamp": "yesterday"}, "timestamp", "bad_timestamp"),
        ({"flow_m3h": "x"}, "flow_m3h", "bad_number"),
    ],
)
def test_rejections(change: dict[str, Any], column: str, reason: str) -> None:
    message = {k: v for k, v in {**WMBUS_KAMSTRUP, **change}.items() if v is not None}
    readings, rejections = one(message)
    assert readings == []
    assert [(r["line"], r["column"], r["reason"]) for r in rejections] == [(0, column, reason)]


def test_no_total_is_a_rejection_not_an_exception() -> None:
    message = {k: v for k, v in WMBUS_KAMSTRUP.items() if k != "total_m3"}
    _, rejections = one(json.dumps(message))
    assert rejections[0]["reason"] == "missing_value" and rejections[0]["message"] == "no total_m3 in the message"


@pytest.mark.parametrize("text", ["", "[1]", '{"id": ', "null"])
def test_not_an_object(text: str) -> None:
    with pytest.raises(FileRejected):
        parse_wmbusmeters(text)
