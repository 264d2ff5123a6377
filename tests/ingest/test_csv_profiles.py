"""CSV profiles: built-ins, TOML loading with clear errors, header matching."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from gmina.ingest import PROFILES, CsvProfile, ProfileError, ReadType, TimeBasis, load_profile
from gmina.ingest.csv_profiles import fold_header, match_read_type
from tests.ingest.util import parse_bytes


def test_builtins() -> None:
    assert set(PROFILES) == {"gmina", "pl-walkby", "wmbusmeters-fields"}
    assert load_profile("gmina") is PROFILES["gmina"]
    gmina = PROFILES["gmina"]
    assert (gmina.delimiter, gmina.encoding, gmina.timezone, gmina.volume_unit) == (",", "utf-8", "UTC", "l")
    assert not PROFILES["wmbusmeters-fields"].has_header


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "utility.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_profile(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        name = "wodociagi-x"
        delimiter = ";"
        encoding = "windows-1250"
        date_formats = ["%Y-%m-%d %H:%M"]
        default_time = "23:59"
        volume_unit = "m3"
        id_width = 8
        time_basis = "billing_date"
        default_aliases = false
        [columns]
        meter_serial = "Licznik"
        observed_at = ["Data", "Dzień"]
        index = "Wartość"
        [read_types]
        "odczyt z SMS" = "customer"
        """,
    )
    profile = load_profile(path)
    assert profile.name == "wodociagi-x" and profile.encoding == "windows-1250"
    assert profile.default_time == time(23, 59) and profile.id_width == 8
    assert profile.time_basis is TimeBasis.BILLING_DATE
    assert profile.columns["observed_at"] == ("Data", "Dzień")
    assert match_read_type("Odczyt z SMS", profile) is ReadType.CUSTOMER
    data = "Licznik;Dzień;Wartość\n123;2025-07-01 12:00;1,5\n".encode("cp1250")
    readings, rejections = parse_bytes(data, profile)
    assert rejections == [] and [(r["meter_ref"], r["index_l"], r["time_basis"]) for r in readings] == [
        ("00000123", 1500, "billing_date")
    ]


def test_toml_extends_a_builtin(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, 'extends = "pl-walkby"\nname = "pl-walkby-utf8"\nencoding = "utf-8"\n'))
    assert profile.name == "pl-walkby-utf8" and profile.delimiter == ";" and profile.encoding == "utf-8"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('delimiterr = ";"', "delimiterr"),
        ('delimiter = ";;"', "delimiter"),
        ("delimiter = 1", "delimiter"),
        ('encoding = "ebcdic"', "encoding"),
        ('timezone = "Europe/Berlin"', "timezone"),
        ('volume_unit = "gal"', "volume_unit"),
        ('date_formats = ["%d.%m.%Y %Q"]', "date_formats"),
        ('default_time = "25:00"', "default_time"),
        ('time_basis = "guess"', "time_basis"),
        ("id_width = true", "id_width"),
        ('[columns]\nmeter = "Nr"', "columns"),
        ('[read_types]\n"x" = "maybe"', "read_types.x"),
        ('extends = "nope"', "extends"),
        ("has_header = false", "positions"),
    ],
)
def test_toml_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ProfileError, match=key.replace(".", r"\.")):
        load_profile(write(tmp_path, text))


def test_unknown_profile_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="unknown profile"):
        load_profile("no-such-profile")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(write(tmp_path, "this is = = not toml"))


def test_dataclass_validation() -> None:
    with pytest.raises(ProfileError, match="positions"):
        CsvProfile(name="x", has_header=False)
    with pytest.raises(ProfileError, match="index"):
        CsvProfile(name="x", has_header=False, positions={"device_key": 0, "observed_at": 1})
    with pytest.raises(ProfileError, match="unknown field"):
        CsvProfile(name="x", columns={"serial": ("Nr",)})


@pytest.mark.parametrize(
    ("header", "folded", "unit"),
    [
        ("Stan [m3]", "stan", "m3"),
        ("Stan (m³)", "stan", "m3"),
        ("Stan [l]", "stan", "l"),
        ("NR_NAKŁADKI", "nr nakladki", None),
        ("Data  i godzina odczytu", "data i godzina odczytu", None),
        ("J.m.", "j m", None),
        ("Wskazanie:", "wskazanie", None),
    ],
)
def test_fold_header(header: str, folded: str, unit: str | None) -> None:
    assert fold_header(header) == (folded, unit)


def test_header_aliases_are_case_and_diacritic_insensitive() -> None:
    profile = CsvProfile(name="aliases", delimiter=";")
    text = (
        "NUMER FABRYCZNY;Data i godzina odczytu;WSKAZANIE;Kody alarmów;Rodzaj odczytu\n"
        "1;01.07.2025;2;wyciek;szacunkowy\n"
    )
    readings, _ = parse_bytes(text.encode(), profile)
    assert [(r["meter_ref"], r["index_l"], r["read_type"], r["flags"][0]["code"]) for r in readings] == [
        ("1", 2000, "estimated", "leak")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rzeczywisty", ReadType.ACTUAL),
        ("Szacunkowy", ReadType.ESTIMATED),
        ("klienta", ReadType.CUSTOMER),
        ("końcowy - demontaż", ReadType.FINAL),
        ("Końcowy – demontaż licznika", ReadType.FINAL),
        ("początkowy - montaż", ReadType.INITIAL),
        ("montaż", ReadType.INITIAL),
        ("", ReadType.ACTUAL),
        ("final", ReadType.FINAL),
        ("początkowy końcowy", None),
        ("inny", None),
    ],
)
def test_read_types(text: str, expected: ReadType | None) -> None:
    assert match_read_type(text, PROFILES["pl-walkby"]) is expected
