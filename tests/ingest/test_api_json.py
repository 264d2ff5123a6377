"""The project's own batch JSON (REST API, MQTT)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmina.ingest import FileRejected, api_json, parse_api_json, parse_api_json_messages

SETTINGS = settings(
    max_examples=int(os.environ.get("INGEST_HYPOTHESIS_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def parse(readings: list[object]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    batch = parse_api_json(json.dumps({"readings": readings}))
    return batch.readings.to_pylist(), batch.rejections.to_pylist()


def test_valid_records() -> None:
    text = """{"readings": [
        {"meter": "23041234", "observed_at": "2025-10-26T01:15:00Z", "index_l": 1234567},
        {"device": "70B3D5FFEE001234", "observed_at": "2025-10-26T02:15:00+01:00", "index_m3": 1234.5675,
         "flow_lph": 12.5, "flags": ["leak", {"code": "tamper_magnet", "state": "historic"}, "OK"],
         "read_type": "final", "time_basis": "reception"},
        {"meter": "1", "observed_at": "2025-10-26T01:15:00.123456789+00:00", "index_m3": "1 234,567"}
    ]}"""
    batch = parse_api_json(text)
    assert batch.rejections.num_rows == 0
    rows = batch.readings.to_pylist()
    assert [(r["line"], r["meter_ref"], r["ref_kind"], r["index_l"]) for r in rows] == [
        (0, "23041234", "serial", 1234567),
        (1, "70b3d5ffee001234", "device", 1234568),  # 1234.5675 m³ exactly, half to even
        (2, "1", "serial", 1234567),
    ]
    assert rows[1]["observed_at"] == datetime(2025, 10, 26, 1, 15, tzinfo=UTC)
    assert rows[2]["observed_at"] == datetime(2025, 10, 26, 1, 15, 0, 123456, tzinfo=UTC)
    assert rows[1]["flags"] == [
        {"code": "leak", "state": "active", "raw": "leak"},
        {"code": "tamper_magnet", "state": "historic", "raw": "tamper_magnet"},
    ]
    assert (rows[1]["read_type"], rows[1]["time_basis"], rows[1]["flow_lph"]) == ("final", "reception", 12.5)
    assert (rows[0]["read_type"], rows[0]["time_basis"], rows[0]["flags"]) == ("actual", "meter_clock", [])


def test_index_m3_floats_are_exact_from_their_text() -> None:
    rows, _ = parse([{"meter": "m", "observed_at": "2025-01-01T00:00:00Z", "index_m3": 0.1 + 0.2}])
    assert rows[0]["index_l"] == 300  # 0.30000000000000004 m³
    batch = parse_api_json('{"readings": [{"meter": "m", "observed_at": "2025-01-01T00:00:00Z", "index_m3": 0.0015}]}')
    assert batch.readings.column("index_l").to_pylist() == [2]


OK = {"meter": "m", "observed_at": "2025-01-01T00:00:00Z", "index_l": 5}


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"meter": None}, "meter", "missing_value"),
        ({"meter": ""}, "meter", "missing_value"),
        ({"meter": 123}, "meter", "malformed"),
        ({"meter": "3,65E+07"}, "meter", "scientific_id"),
        ({"device": "abc"}, "device", "malformed"),  # both meter and device
        ({"observed_at": None}, "observed_at", "missing_value"),
        ({"observed_at": "2025-01-01T00:00:00"}, "observed_at", "bad_timestamp"),  # no offset
        ({"observed_at": "yesterday"}, "observed_at", "bad_timestamp"),
        ({"observed_at": 1735689600}, "observed_at", "bad_timestamp"),
        ({"index_l": None}, "index_l", "missing_value"),
        ({"index_l": 1.5}, "index_l", "bad_number"),
        ({"index_l": "5"}, "index_l", "bad_number"),
        ({"index_l": True}, "index_l", "bad_number"),
        ({"index_l": -1}, "index_l", "negative_index"),
        ({"index_l": 2**70}, "index_l", "bad_number"),
        ({"index_m3": 1}, "index_m3", "malformed"),  # both index_l and index_m3
        ({"flow_lph": "fast"}, "flow_lph", "bad_number"),
        ({"flags": "leak"}, "flags", "malformed"),
        ({"flags": [{"code": "leak", "state": "maybe"}]}, "flags", "malformed"),
        ({"flags": [3]}, "flags", "malformed"),
        ({"read_type": "guess"}, "read_type", "malformed"),
        ({"time_basis": "guess"}, "time_basis", "malformed"),
        ({"colour": "blue"}, "colour", "malformed"),
    ],
)
def test_bad_records_are_rejected_with_the_key(change: dict[str, object], column: str, reason: str) -> None:
    record = {**OK, **change}
    rows, rejections = parse([OK, record])
    assert [r["line"] for r in rows] == [0]
    assert [(r["line"], r["column"], r["reason"]) for r in rejections] == [(1, column, reason)]
    assert json.loads(str(rejections[0]["raw"])) == json.loads(json.dumps(record))


def test_missing_index_keys() -> None:
    _, rejections = parse([{"meter": "m", "observed_at": "2025-01-01T00:00:00Z"}])
    assert (rejections[0]["column"], rejections[0]["reason"]) == ("index_l", "missing_value")


def test_record_not_an_object_and_unknown_flag_code() -> None:
    rows, rejections = parse([[1, 2], {**OK, "flags": ["FOO_BAR", {"code": "new_code"}]}])
    assert [(r["line"], r["reason"]) for r in rejections] == [(0, "malformed")]
    assert rows[0]["flags"] == [
        {"code": "other", "state": "active", "raw": "FOO_BAR"},
        {"code": "other", "state": "active", "raw": "new_code"},
    ]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{"readings": [', 1, 15),
        ('{\n  "readings": [\n    {"meter": "a",}\n  ]\n}', 3, 19),
        ("[]", 1, 1),
        ('{"readings": {}}', 1, 1),
        ('{"readings": [], "extra": 1}', 1, 1),
        ("", 1, 1),
    ],
)
def test_file_level_errors(text: str, line: int, column: int) -> None:
    with pytest.raises(FileRejected) as error:
        parse_api_json(text)
    assert (error.value.line, error.value.column) == (line, column)


def test_bad_utf8_bytes() -> None:
    with pytest.raises(FileRejected) as error:
        parse_api_json(b'{"readings": [\n{"meter": "\xb3"}]}')
    assert (error.value.line, error.value.column) == (2, 12)


def test_lone_surrogates_do_not_break_arrow() -> None:
    batch = parse_api_json('{"readings": [{"meter": "a\\ud800", "observed_at": "x", "index_l": 1}]}')
    assert batch.rejections.num_rows == 1


_TIMES = st.one_of(
    st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2090, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.builds(
        lambda d, h, m, sign: d.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{h:02d}:{m:02d}",
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),  # noqa: DTZ001
        st.integers(0, 30),
        st.integers(0, 70),
        st.sampled_from("+-"),
    ),
    st.sampled_from(
        [
            "2025-02-30T00:00:00Z",
            "2025-10-26T24:00:00Z",
            "2025-10-26T01:15:60Z",
            "2025-10-26T01:15:00",
            "2025-10-26 01:15:00Z",
            "2025-10-26T01:15:00.1234567Z",
            " 2025-10-26T01:15:00Z",
            "2025-10-26T01:15:00z",
        ]
    ),
)
_REFS = st.one_of(st.text(min_size=0, max_size=12), st.sampled_from(["3,65E+07", "1e5", " 123", "AbC", ""]), st.none())
_INDEXES = st.one_of(st.integers(-5, 2**64), st.booleans(), st.decimals(allow_nan=False, places=3), st.text(max_size=4))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["meter", "device"]), _REFS, _TIMES, _INDEXES), max_size=8))
def test_the_quick_path_for_common_records_agrees_with_the_full_parser(records: list[tuple[Any, ...]]) -> None:
    """Records of the common shape are taken by a quick path; it must give what the full parser gives."""
    body = {"readings": [{key: ref, "observed_at": when, "index_l": index} for key, ref, when, index in records]}
    quick = parse_api_json(body)
    with patch.object(api_json, "_add_simple", return_value=False), patch.object(api_json, "_COLUMNS_FROM", 10**9):
        full = parse_api_json(body)
    assert quick.readings.equals(full.readings)
    assert quick.rejections.equals(full.rejections)


_VALID_TIMES = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 3),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(9999, 12, 29),  # noqa: DTZ001
        timezones=st.just(UTC),
    ).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.builds(
        lambda d, h, m, sign: d.isoformat() + f"{sign}{h:02d}:{m:02d}",
        st.datetimes(min_value=datetime(1, 1, 3), max_value=datetime(9999, 12, 29)),  # noqa: DTZ001
        st.integers(0, 23),
        st.integers(0, 59),
        st.sampled_from("+-"),
    ),
)
_COMMON = st.tuples(
    st.sampled_from(["meter", "device"]),
    st.text(alphabet="0123456789ABCDXYZabcdxyz-_", min_size=1, max_size=10),
    _VALID_TIMES,
    st.integers(0, 2**63 - 1),
)


@SETTINGS
@given(
    key=st.sampled_from(["meter", "device"]),
    records=st.lists(_COMMON, min_size=64, max_size=90),
    odd=st.lists(
        st.tuples(st.integers(0, 89), st.tuples(st.sampled_from(["meter", "device"]), _REFS, _TIMES, _INDEXES))
    ),
)
def test_whole_documents_of_the_common_shape_agree_with_the_record_path(
    key: str, records: list[tuple[Any, ...]], odd: list[tuple[int, tuple[Any, ...]]]
) -> None:
    """A document of many common records is taken a column at a time; it must give what the record
    path gives, including when a few records are odd (then the whole document takes the record path)."""
    rows = [(key, *rest) for _, *rest in records]
    for position, record in odd[:2]:
        rows[position % len(rows)] = record
    body = {"readings": [{k: ref, "observed_at": when, "index_l": index} for k, ref, when, index in rows]}
    columns = parse_api_json(body)
    with patch.object(api_json, "_COLUMNS_FROM", 10**9):
        records_path = parse_api_json(body)
    assert columns.readings.equals(records_path.readings)
    assert columns.rejections.equals(records_path.rejections)


def test_a_large_document_of_the_common_shape_is_taken_by_columns() -> None:
    body = {
        "readings": [
            {"device": f"D{i}", "observed_at": f"2025-10-26T02:{i % 60:02d}:00.5+02:00", "index_l": i}
            for i in range(100)
        ]
    }
    with (
        patch.object(api_json, "_add_record", side_effect=AssertionError("the record path was used")),
        patch.object(api_json, "_add_simple", side_effect=AssertionError("the record path was used")),
    ):
        batch = parse_api_json(body)
    assert batch.readings.column("line").to_pylist() == list(range(100))
    assert batch.readings.column("meter_ref")[1].as_py() == "d1"
    assert batch.readings.column("observed_at")[1].as_py() == datetime(2025, 10, 26, 0, 1, 0, 500000, tzinfo=UTC)


def test_the_quick_path_takes_the_common_shape() -> None:
    body = {"readings": [{"meter": "A1", "observed_at": "2025-10-26T02:30:00+02:00", "index_l": 5}]}
    with patch.object(api_json, "_add_record", side_effect=AssertionError("the full parser was used")):
        batch = parse_api_json(body)
    assert batch.readings.column("observed_at").to_pylist() == [datetime(2025, 10, 26, 0, 30, tzinfo=UTC)]


@SETTINGS
@given(
    records=st.lists(_COMMON, min_size=64, max_size=90),
    odd=st.lists(
        st.tuples(st.integers(0, 89), st.tuples(st.sampled_from(["meter", "device"]), _REFS, _TIMES, _INDEXES))
    ),
    broken=st.lists(
        st.tuples(st.integers(0, 89), st.sampled_from(['{"readings": ', "[]", '{"readings": [], "x": 1}']))
    ),
)
def test_a_group_of_messages_parsed_a_column_at_a_time_agrees_with_the_record_path(
    records: list[tuple[Any, ...]], odd: list[tuple[int, tuple[Any, ...]]], broken: list[tuple[int, str]]
) -> None:
    """One-reading messages (an MQTT group): their records taken together a column at a time give what
    the record path gives, lines being the messages' positions; refused documents likewise."""
    rows = list(records)
    for position, record in odd[:2]:
        rows[position % len(rows)] = record
    payloads = [
        json.dumps({"readings": [{k: ref, "observed_at": when, "index_l": index}]}, default=str)
        for k, ref, when, index in rows
    ]
    for position, text in broken[:2]:
        payloads[position % len(payloads)] = text
    messages = [(10 + n, p) for n, p in enumerate(payloads)]
    columns, refused = parse_api_json_messages(messages)
    with patch.object(api_json, "_COLUMNS_FROM", 10**9):
        records_path, refused_records_path = parse_api_json_messages(messages)
    assert columns.readings.equals(records_path.readings)
    assert columns.rejections.equals(records_path.rejections)
    assert [(n, str(e)) for n, e in refused] == [(n, str(e)) for n, e in refused_records_path]
