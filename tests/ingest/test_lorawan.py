"""ChirpStack v4 and The Things Stack v3 uplinks (reference §2.1, §2.2)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gmina.ingest import FileRejected, parse_chirpstack_uplink
from gmina.ingest.tts import parse_tts_uplink
from tests.ingest.samples import CHIRPSTACK_UP, TTS_UP


def rows(batch: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return batch.readings.to_pylist(), batch.rejections.to_pylist()


def test_chirpstack_sample() -> None:
    readings, rejections = rows(parse_chirpstack_uplink(json.dumps(CHIRPSTACK_UP)))
    assert rejections == []
    [row] = readings
    assert (row["meter_ref"], row["ref_kind"], row["index_l"]) == ("70b3d5ffee001234", "device", 1234567)
    assert (row["observed_at"], row["time_basis"]) == (datetime(2025, 10, 26, 1, 0, tzinfo=UTC), "meter_clock")
    assert row["flags"] == [{"code": "leak", "state": "active", "raw": "alarms.leak"}]


def test_chirpstack_reception_time_nanoseconds_truncated() -> None:
    message = copy.deepcopy(CHIRPSTACK_UP)
    del message["object"]["meter_time"]
    [row], _ = rows(parse_chirpstack_uplink(message))
    assert (row["observed_at"], row["time_basis"]) == (
        datetime(2025, 10, 26, 1, 30, 12, 418000, tzinfo=UTC),
        "reception",
    )


def test_chirpstack_prefer_serial_from_object_or_tags() -> None:
    [row], _ = rows(parse_chirpstack_uplink(CHIRPSTACK_UP, prefer_serial=True))
    assert (row["meter_ref"], row["ref_kind"]) == ("23041234", "serial")
    message = copy.deepcopy(CHIRPSTACK_UP)
    del message["object"]["meter_serial"]
    message["deviceInfo"]["tags"]["meter_serial"] = "99"
    [row], _ = rows(parse_chirpstack_uplink(message, prefer_serial=True))
    assert row["meter_ref"] == "99"


def test_chirpstack_index_l_and_all_alarm_keys() -> None:
    message = copy.deepcopy(CHIRPSTACK_UP)
    message["object"] = {
        "index_l": 1500,
        "alarms": {"leak": True, "burst": True, "backflow": True, "magnet": True, "removal": True, "dry": True,
                   "battery_low": True, "tamper": True, "frost": True},
    }  # fmt: skip
    [row], _ = rows(parse_chirpstack_uplink(message))
    assert row["index_l"] == 1500
    assert [f["code"] for f in row["flags"]] == [
        "leak", "burst", "backflow", "tamper_magnet", "removal", "dry", "battery_low", "tamper_other", "other",
    ]  # fmt: skip


def test_chirpstack_without_object_is_rejected() -> None:
    message = copy.deepcopy(CHIRPSTACK_UP)
    del message["object"]
    readings, rejections = rows(parse_chirpstack_uplink(message))
    assert readings == []
    assert [(r["column"], r["reason"], r["message"]) for r in rejections] == [
        ("object", "missing_value", "no decoded object (codec missing or failed)")
    ]
    assert json.loads(rejections[0]["raw"])["deviceInfo"]["devEui"] == "70b3d5ffee001234"


def test_chirpstack_join_server_context_is_rejected() -> None:
    message = {**CHIRPSTACK_UP, "joinServerContext": {"sessionKeyId": "abc"}}
    _, rejections = rows(parse_chirpstack_uplink(message))
    assert [(r["column"], r["reason"]) for r in rejections] == [("joinServerContext", "malformed")]


@pytest.mark.parametrize(
    ("path", "value", "column", "reason"),
    [
        (("deviceInfo", "devEui"), None, "deviceInfo.devEui", "missing_value"),
        (("object", "volume_m3"), None, "object.volume_m3", "missing_value"),
        (("object", "volume_m3"), -1, "object.volume_m3", "negative_index"),
        (("object", "meter_time"), "2025-10-26 01:00", "object.meter_time", "bad_timestamp"),
        (("object", "alarms"), [1], "object.alarms", "malformed"),
        (("time",), "noon", "time", "bad_timestamp"),
    ],
)
def test_chirpstack_rejections(path: tuple[str, ...], value: object, column: str, reason: str) -> None:
    message = copy.deepcopy(CHIRPSTACK_UP)
    target = message
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    _, rejections = rows(parse_chirpstack_uplink(message))
    assert [(r["column"], r["reason"]) for r in rejections] == [(column, reason)]


def test_tts_sample() -> None:
    readings, rejections = rows(parse_tts_uplink(json.dumps(TTS_UP)))
    assert rejections == []
    [row] = readings
    assert (row["meter_ref"], row["index_l"], row["time_basis"]) == ("70b3d5ffee001234", 980004, "reception")
    assert row["observed_at"] == datetime(2025, 3, 30, 0, 45, 3, 991201, tzinfo=UTC)
    assert row["flags"] == [{"code": "backflow", "state": "active", "raw": "alarms.backflow"}]


def test_tts_simulated_is_dropped_and_missing_payload_rejected() -> None:
    assert rows(parse_tts_uplink({**TTS_UP, "simulated": True})) == ([], [])
    message = copy.deepcopy(TTS_UP)
    del message["uplink_message"]["decoded_payload"]
    _, rejections = rows(parse_tts_uplink(message))
    assert [(r["column"], r["reason"]) for r in rejections] == [("uplink_message.decoded_payload", "missing_value")]


@pytest.mark.parametrize("text", ["", "[]", "{", '"x"'])
def test_not_an_object(text: str) -> None:
    for parser in (parse_chirpstack_uplink, parse_tts_uplink):
        with pytest.raises(FileRejected):
            parser(text)
