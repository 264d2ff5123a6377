"""Charset sniffing (reference §4.2 steps 1-2): BOM, UTF-8, CP1250, ISO-8859-2, mixed files refused."""

from __future__ import annotations

import io

import pytest

from gmina.ingest import PROFILES, CsvProfile, FileRejected, read_csv
from gmina.ingest.charsets import ByteScanner, decide_charset
from tests.ingest.samples import WALKBY_CP1250, WALKBY_TEXT
from tests.ingest.util import PipeReader, collect, parse_bytes

WALKBY = PROFILES["pl-walkby"]
HEADER = "Nr wodomierza;Adres;Data odczytu;Stan\r\n"


def rejected(data: bytes, profile: CsvProfile = WALKBY) -> FileRejected:
    with pytest.raises(FileRejected) as error:
        list(read_csv(io.BytesIO(data), profile))
    return error.value


def test_cp1250_iso_and_utf8_decode_to_the_same_text() -> None:
    expected, _ = parse_bytes(WALKBY_CP1250, WALKBY)
    assert expected and expected[0]["flags"][0]["raw"] == "Wyciek (aktywny)"
    for data in (
        WALKBY_TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + WALKBY_TEXT.encode("utf-8"),
        WALKBY_TEXT.encode("iso-8859-2"),
        WALKBY_TEXT.encode("cp1250"),
    ):
        assert parse_bytes(data, WALKBY) == (expected, [])


def test_polish_letters_survive_in_raw() -> None:
    text = HEADER + "1;ul. Źródlana 3;01.07.2025;x\r\n"
    for encoding in ("cp1250", "iso-8859-2", "utf-8"):
        _, rejections = parse_bytes(text.encode(encoding), WALKBY)
        assert rejections[0]["raw"] == "1;ul. Źródlana 3;01.07.2025;x"


def test_utf16_bom_tab_separated() -> None:
    text = "Nr wodomierza\tData odczytu\tStan\r\nA1\t01.07.2025 12:00\t1,5\r\n"
    readings, _ = parse_bytes(b"\xff\xfe" + text.encode("utf-16-le"), CsvProfile(name="excel-unicode"))
    assert [(r["meter_ref"], r["index_l"]) for r in readings] == [("A1", 1500)]


def test_utf8_file_with_a_cp1250_line_is_refused_at_the_first_bad_byte() -> None:
    data = (HEADER + "1;ul. Łąkowa 5;01.07.2025;1\r\n").encode("utf-8") + "2;ul. Łąkowa 7;01.07.2025;1\r\n".encode(
        "cp1250"
    )
    error = rejected(data)
    assert (error.line, error.column) == (3, 7)
    assert "mixed" in str(error)


def test_cp1250_and_iso_8859_2_letters_in_one_file_are_refused() -> None:
    data = (HEADER + "1;ul. Śląska 1;01.07.2025;1\r\n").encode("cp1250") + "2;ul. Wąska 2;01.07.2025;1\r\n".encode(
        "iso-8859-2"
    )
    error = rejected(data)
    assert (error.line, error.column) == (3, 8)  # the ISO-8859-2 "ą" after CP1250 "Ś"/"ś"


def test_byte_undefined_in_cp1250_is_refused() -> None:
    data = (HEADER + "1;ul. Śląska 1;01.07.2025;1\r\n").encode("cp1250") + b"2;\x98;01.07.2025;1\r\n"
    error = rejected(data)
    assert (error.line, error.column) == (3, 3)


def test_declared_utf8_refuses_other_bytes() -> None:
    data = "meter,observed_at,index_l\nM1,2025-01-01T00:00:00Z,1\nŁ2,2025-01-01T00:00:00Z,1\n".encode("cp1250")
    error = rejected(data, PROFILES["gmina"])
    assert (error.line, error.column) == (3, 1)


def test_nothing_is_yielded_before_an_encoding_error_in_a_seekable_file() -> None:
    good = "".join(f"{i};ul. Łąkowa;01.07.2025;1\r\n" for i in range(20_000))
    data = (HEADER + good).encode("utf-8") + "x;ł;01.07.2025;1\r\n".encode("cp1250")
    batches = read_csv(io.BytesIO(data), WALKBY, batch_rows=1000)
    with pytest.raises(FileRejected) as error:
        next(batches)
    assert error.value.line == 20_002


def test_pipe_is_sniffed_on_its_first_block() -> None:
    readings, _ = collect(list(read_csv(PipeReader(WALKBY_CP1250), WALKBY)))
    assert readings == parse_bytes(WALKBY_CP1250, WALKBY)[0]


def test_pipe_with_a_late_bad_block_is_refused_mid_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    from gmina.ingest import csv_chunks

    good = (HEADER + "".join(f"{i};ul. Lesna;01.07.2025;1\r\n" for i in range(3000))).encode()
    data = good + "x;ł;01.07.2025;1\r\n".encode("cp1250")
    monkeypatch.setattr(csv_chunks, "RAW_BLOCK", 4096)  # so that the bad byte is not in the first block
    with pytest.raises(FileRejected) as error:
        list(read_csv(PipeReader(data, piece=1000), WALKBY, batch_rows=100))
    assert (error.value.line, error.value.column) == (3002, 3)


@pytest.mark.parametrize(
    ("data", "charset"),
    [
        (b"plain ascii", "utf-8"),
        ("zażółć gęślą jaźń".encode(), "utf-8"),
        ("zażółć gęślą jaźń".encode("cp1250"), "cp1250"),
        ("zażółć gęślą jaźń".encode("iso-8859-2"), "iso-8859-2"),
        ("Łódź".encode("cp1250"), "cp1250"),  # no distinguishing letter: CP1250 is the default
    ],
)
def test_decide_charset(data: bytes, charset: str) -> None:
    scanner = ByteScanner()
    scanner.feed(data, final=True)
    assert decide_charset(scanner, None) == charset
