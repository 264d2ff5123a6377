"""read_csv: the walk-by sample (§4.4), the gmina and wmbusmeters-fields profiles, rejections, lines."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gmina.ingest import PROFILES, CsvProfile, FileRejected, read_csv
from tests.ingest.samples import WALKBY_CP1250, WMBUS_FIELDS_LINE
from tests.ingest.util import collect, parse_bytes

GMINA = PROFILES["gmina"]
WALKBY = PROFILES["pl-walkby"]
FIELDS = PROFILES["wmbusmeters-fields"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_walkby_sample_cp1250_crlf() -> None:
    readings, rejections = parse_bytes(WALKBY_CP1250, WALKBY)
    assert rejections == []
    assert [r["line"] for r in readings] == [2, 3, 4, 5]
    assert [r["meter_ref"] for r in readings] == ["00123456", "00123457", "00099812", "00131001"]
    assert {r["ref_kind"] for r in readings} == {"serial"}
    assert [r["index_l"] for r in readings] == [1234567, 98004, 15000, 0]
    assert [r["observed_at"] for r in readings] == [
        utc(2025, 10, 26, 0, 30),  # 02:30 local happens twice: the earlier instant…
        utc(2025, 10, 26, 0, 31),
        utc(2025, 10, 25, 22, 0),  # date only → 00:00 local (CEST)
        utc(2025, 10, 25, 22, 0),
    ]
    assert [r["time_ambiguous"] for r in readings] == [True, True, False, False]  # …and is marked
    assert [r["read_type"] for r in readings] == ["actual", "actual", "final", "initial"]
    assert {r["time_basis"] for r in readings} == {"reception"}
    assert readings[0]["flags"] == [{"code": "leak", "state": "active", "raw": "Wyciek (aktywny)"}]
    assert readings[1]["flags"] == [
        {"code": "tamper_magnet", "state": "historic", "raw": "Magnes (zapamiętany)"},
        {"code": "backflow", "state": "active", "raw": "Przepływ wsteczny"},
    ]
    assert readings[2]["flags"] == [] and readings[3]["flags"] == []
    assert all(r["flow_lph"] is None and r["backflow_l"] is None for r in readings)


def test_walkby_utf8_bom_and_iso_8859_2_give_the_same_readings() -> None:
    from tests.ingest.samples import WALKBY_TEXT

    expected, _ = parse_bytes(WALKBY_CP1250, WALKBY)
    for data in (b"\xef\xbb\xbf" + WALKBY_TEXT.encode("utf-8"), WALKBY_TEXT.encode("iso-8859-2")):
        readings, rejections = parse_bytes(data, WALKBY)
        assert (readings, rejections) == (expected, [])


def test_repeated_hour_second_reading_of_same_meter_gets_later_instant() -> None:
    text = (
        "Nr wodomierza;Data odczytu;Stan\n"
        "A1;26.10.2025 02:30;1,000\n"
        "B2;26.10.2025 02:30;5,000\n"
        "A1;26.10.2025 02:30;1,100\n"
        "A1;26.10.2025 02:45;1,200\n"
    )
    readings, _ = parse_bytes(text.encode(), WALKBY, batch_rows=2)
    got = [(r["meter_ref"], r["observed_at"], r["time_ambiguous"]) for r in readings]
    assert got == [
        ("A1", utc(2025, 10, 26, 0, 30), True),
        ("B2", utc(2025, 10, 26, 0, 30), True),
        ("A1", utc(2025, 10, 26, 1, 30), True),  # same meter, same local time, later row → CET
        ("A1", utc(2025, 10, 26, 0, 45), True),
    ]


def test_walkby_rejections() -> None:
    text = (
        "Nr wodomierza;Nr radiowy;Data odczytu;Stan [m3];Typ odczytu\r\n"
        "3,65E+07;;26.10.2025 10:00;1,0;rzeczywisty\r\n"
        ";;26.10.2025 10:00;1,0;rzeczywisty\r\n"
        "00000003;;30.03.2025 02:30;1,0;rzeczywisty\r\n"
        "00000004;;31.02.2025 10:00;1,0;rzeczywisty\r\n"
        "00000005;;;1,0;rzeczywisty\r\n"
        "00000006;;26.10.2025 10:00;;rzeczywisty\r\n"
        "00000007;;26.10.2025 10:00;1,2,3;rzeczywisty\r\n"
        "00000008;;26.10.2025 10:00;-0,5;rzeczywisty\r\n"
        "00000009;;26.10.2025 10:00;1,5;dziwny\r\n"
        "00000010;;26.10.2025 10:00;1,5;\r\n"
    )
    readings, rejections = parse_bytes(text.encode("cp1250"), WALKBY)
    assert [(r["line"], r["meter_ref"], r["index_l"]) for r in readings] == [(11, "00000010", 1500)]
    got = [(r["line"], r["column"], r["reason"]) for r in rejections]
    assert got == [
        (2, "Nr wodomierza", "scientific_id"),
        (3, "Nr wodomierza", "missing_value"),
        (4, "Data odczytu", "nonexistent_local_time"),
        (5, "Data odczytu", "bad_timestamp"),
        (6, "Data odczytu", "missing_value"),
        (7, "Stan [m3]", "missing_value"),
        (8, "Stan [m3]", "bad_number"),
        (9, "Stan [m3]", "negative_index"),
        (10, "Typ odczytu", "malformed"),
    ]
    assert rejections[0]["raw"] == "3,65E+07;;26.10.2025 10:00;1,0;rzeczywisty"
    assert "'3,65E+07'" in rejections[0]["message"]
    assert "'30.03.2025 02:30'" in rejections[2]["message"]
    assert "'1,2,3'" in rejections[6]["message"]
    assert "'dziwny'" in rejections[8]["message"]


def test_device_key_used_when_no_serial() -> None:
    text = "Nr wodomierza;Nr radiowy;Data odczytu;Stan\n;ABCD1234;01.07.2025 12:00;2,5\n0042;X9;01.07.2025 12:00;3\n"
    readings, _ = parse_bytes(text.encode(), WALKBY)
    assert [(r["meter_ref"], r["ref_kind"]) for r in readings] == [("abcd1234", "device"), ("0042", "serial")]


def test_gmina_profile() -> None:
    text = (
        "meter,observed_at,index_l,flow_lph,flags\n"
        "23041234,2025-10-26T01:15:00Z,1234567,12.5,leak;battery_low\n"
        "23041235,2025-10-26T02:15:00+01:00,7,,\n"
        "23041236,2025-10-26T01:15:00Z,-1,,\n"
        "23041237,2025-10-26T01:15:00Z,1.5,,\n"
        "23041238,not-a-time,1,,\n"
        "23041239,2025-10-26T01:15:00Z,5,fast,tamper_magnet:historic\n"
    )
    readings, rejections = parse_bytes(text.encode(), GMINA)
    assert [(r["line"], r["meter_ref"], r["observed_at"], r["index_l"], r["flow_lph"]) for r in readings] == [
        (2, "23041234", utc(2025, 10, 26, 1, 15), 1234567, 12.5),
        (3, "23041235", utc(2025, 10, 26, 1, 15), 7, None),
    ]
    assert readings[0]["flags"] == [
        {"code": "leak", "state": "active", "raw": "leak"},
        {"code": "battery_low", "state": "active", "raw": "battery_low"},
    ]
    assert readings[1]["flags"] == []
    assert {r["time_basis"] for r in readings} == {"meter_clock"}
    assert [(r["line"], r["column"], r["reason"]) for r in rejections] == [
        (4, "index_l", "negative_index"),
        (5, "index_l", "bad_number"),
        (6, "observed_at", "bad_timestamp"),
        (7, "flow_lph", "bad_number"),
    ]


def test_gmina_without_optional_columns_has_null_flags() -> None:
    readings, _ = parse_bytes(b"meter,observed_at,index_l\nM1,2025-01-01T00:00:00Z,1\n", GMINA)
    assert readings[0]["flags"] is None and readings[0]["flow_lph"] is None


def test_wmbusmeters_fields() -> None:
    data = (
        WMBUS_FIELDS_LINE + "2124589C;null;OK;2025-10-26 12:00.00\n6123456A;1.5;BUSY;2025-03-30 02:30.00\n"
    ).encode()
    readings, rejections = parse_bytes(data, FIELDS)
    assert [(r["line"], r["meter_ref"], r["ref_kind"], r["index_l"]) for r in readings] == [
        (1, "61234567", "device", 412083)
    ]
    assert readings[0]["observed_at"] == utc(2025, 10, 26, 0, 15, 4) and readings[0]["time_ambiguous"]
    assert readings[0]["flags"] == [{"code": "leak", "state": "active", "raw": "LEAK"}]
    assert [(r["line"], r["column"], r["reason"]) for r in rejections] == [
        (2, "index", "missing_value"),
        (3, "observed_at", "nonexistent_local_time"),
    ]


def test_blank_lines_and_quoted_newlines_keep_physical_line_numbers() -> None:
    text = (
        "Nr wodomierza;Data odczytu;Stan;Alarmy\r\n"
        "\r\n"
        '00000001;01.07.2025 12:00;1,0;"Wyciek\r\n(aktywny)"\r\n'
        "00000002;01.07.2025 12:00;x;\r\n"
        "\r\n"
        "00000003;01.07.2025 12:00;3,0;\r\n"
        '00000004;01.07.2025 12:00;y;"Magnes;\r\nzapamiętany"\r\n'
    )
    readings, rejections = parse_bytes(text.encode(), WALKBY)
    assert [(r["line"], r["meter_ref"]) for r in readings] == [(3, "00000001"), (7, "00000003")]
    assert readings[0]["flags"][0]["code"] == "leak"
    assert [(r["line"], r["raw"]) for r in rejections] == [
        (5, "00000002;01.07.2025 12:00;x;"),
        (8, '00000004;01.07.2025 12:00;y;"Magnes;\nzapamiętany"'),
    ]


def test_unit_column_and_bad_unit() -> None:
    profile = CsvProfile(name="units", delimiter=";")
    text = "nr wodomierza;data;stan;j.m.\nA;01.07.2025;1,5;m3\nB;01.07.2025;1,5;l\nC;01.07.2025;1;kg\nD;01.07.2025;2;\n"
    readings, rejections = parse_bytes(text.encode(), profile)
    assert [(r["meter_ref"], r["index_l"]) for r in readings] == [("A", 1500), ("B", 2), ("D", 2000)]
    assert [(r["line"], r["column"], r["reason"]) for r in rejections] == [(4, "j.m.", "bad_unit")]


def test_header_unit_hint_litres() -> None:
    profile = CsvProfile(name="hint", delimiter=";")
    readings, _ = parse_bytes(b"nr wodomierza;data;stan [l]\nA;01.07.2025;1500\n", profile)
    assert readings[0]["index_l"] == 1500


def test_header_unit_conflicting_with_profile_is_refused() -> None:
    with pytest.raises(FileRejected) as error:
        list(read_csv(io.BytesIO(b"meter,observed_at,index_l [m3]\n"), GMINA))
    assert error.value.line == 1 and error.value.column == 3


def test_id_width_repads_only_when_declared() -> None:
    text = b"nr wodomierza;data;stan\n123456;01.07.2025;1\nAB12;01.07.2025;1\n"
    plain, _ = parse_bytes(text, CsvProfile(name="p", delimiter=";"))
    padded, _ = parse_bytes(text, CsvProfile(name="p", delimiter=";", id_width=8))
    assert [r["meter_ref"] for r in plain] == ["123456", "AB12"]
    assert [r["meter_ref"] for r in padded] == ["00123456", "AB12"]


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), (",", "comma"), ("\t", "tab"), ("|", "pipe")])
def test_delimiter_sniffing(delimiter: str, name: str) -> None:
    rows = ["Nr wodomierza", "Data odczytu", "Stan"], ["A1", "01.07.2025 12:00", "15"]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    readings, _ = parse_bytes(text.encode(), CsvProfile(name=name))
    assert [(r["meter_ref"], r["index_l"]) for r in readings] == [("A1", 15000)]


def test_missing_header_columns() -> None:
    with pytest.raises(FileRejected) as error:
        list(read_csv(io.BytesIO(b"Nr wodomierza;Adres\n1;x\n"), WALKBY))
    assert error.value.line == 1
    assert "observed_at" in str(error.value) and "index" in str(error.value)


@pytest.mark.parametrize("data", [b"", b"\r\n", b"\xef\xbb\xbf"])
def test_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(FileRejected) as error:
        list(read_csv(io.BytesIO(data), WALKBY))
    assert error.value.line == 1


def test_header_only_yields_nothing() -> None:
    assert list(read_csv(io.BytesIO(b"meter,observed_at,index_l\n"), GMINA)) == []
    assert list(read_csv(io.BytesIO(b""), FIELDS)) == []


def test_wrong_field_count_is_refused_with_its_line() -> None:
    text = b"meter,observed_at,index_l\nA,2025-01-01T00:00:00Z,1\n\nB,2025-01-01T00:00:00Z\nC,2025-01-01T00:00:00Z,3\n"
    with pytest.raises(FileRejected) as error:
        list(read_csv(io.BytesIO(text), GMINA))
    assert error.value.line == 4
    assert "expected 3 fields, found 2" in str(error.value)


def test_wrong_field_count_late_in_file_raises_after_earlier_batches() -> None:
    rows = [f"M{i},2025-01-01T00:00:00Z,{i}" for i in range(5000)]
    rows[4000] += ",extra"
    data = ("meter,observed_at,index_l\n" + "\n".join(rows) + "\n").encode()
    batches = read_csv(io.BytesIO(data), GMINA, batch_rows=500)
    seen = 0
    with pytest.raises(FileRejected) as error:
        for batch in batches:
            seen += batch.readings.num_rows
    assert error.value.line == 4002
    assert 0 < seen < 4001


def test_batches_respect_batch_rows_roughly_and_progress_reaches_the_end(tmp_path: Path) -> None:
    rows = "".join(f"M{i},2025-01-01T00:00:00Z,{i}\n" for i in range(10_000))
    path = tmp_path / "x.csv"
    path.write_text("meter,observed_at,index_l\n" + rows)
    progress: list[int] = []
    batches = list(read_csv(str(path), GMINA, batch_rows=1000, on_progress=progress.append))
    sizes = [b.readings.num_rows for b in batches]
    assert sum(sizes) == 10_000 and 5 <= len(sizes) <= 20 and max(sizes) <= 1500
    assert progress == sorted(progress) and progress[-1] == path.stat().st_size
    readings, _ = collect(batches)
    assert [r["line"] for r in readings] == list(range(2, 10_002))
    assert collect(list(read_csv(path, GMINA))) == (readings, [])  # a PathLike works too


def test_file_object_is_not_closed() -> None:
    handle = io.BytesIO(b"meter,observed_at,index_l\nM,2025-01-01T00:00:00Z,1\n")
    list(read_csv(handle, GMINA))
    assert not handle.closed


def test_bad_batch_rows() -> None:
    with pytest.raises(ValueError, match="batch_rows"):
        list(read_csv(io.BytesIO(b""), GMINA, batch_rows=0))


def test_dst_2026_in_a_walkby_file() -> None:
    text = (
        "Nr wodomierza;Data odczytu;Stan\n"
        "A1;29.03.2026 01:59;1\n"
        "A1;29.03.2026 02:15;2\n"
        "A1;29.03.2026 03:00;3\n"
        "A1;25.10.2026 02:15;4\n"
        "A1;25.10.2026 02:15;5\n"
        "A1;25.10.2026 03:00;6\n"
    )
    readings, rejections = parse_bytes(text.encode(), WALKBY)
    assert [(r["line"], r["observed_at"], r["time_ambiguous"]) for r in readings] == [
        (2, utc(2026, 3, 29, 0, 59), False),
        (4, utc(2026, 3, 29, 1, 0), False),
        (5, utc(2026, 10, 25, 0, 15), True),
        (6, utc(2026, 10, 25, 1, 15), True),
        (7, utc(2026, 10, 25, 2, 0), False),
    ]
    assert [(r["line"], r["reason"]) for r in rejections] == [(3, "nonexistent_local_time")]
