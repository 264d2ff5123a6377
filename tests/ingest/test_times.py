"""Timestamps and the Europe/Warsaw DST edges of 2025 and 2026 (reference §6.1)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmina.ingest.schema import RejectReason
from gmina.ingest.time_arrays import times_from_strings
from gmina.ingest.times import (
    ISO8601,
    WARSAW,
    RepeatedHourResolver,
    TimeError,
    compile_format,
    local_to_utc,
    parse_timestamp,
)

PL = "%d.%m.%Y %H:%M"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("local", "expected", "ambiguous"),
    [
        ("30.03.2025 01:59", utc(2025, 3, 30, 0, 59), False),
        ("30.03.2025 03:00", utc(2025, 3, 30, 1, 0), False),
        ("26.10.2025 01:59", utc(2025, 10, 25, 23, 59), False),
        ("26.10.2025 02:00", utc(2025, 10, 26, 0, 0), True),
        ("26.10.2025 02:30", utc(2025, 10, 26, 0, 30), True),
        ("26.10.2025 02:59", utc(2025, 10, 26, 0, 59), True),
        ("26.10.2025 03:00", utc(2025, 10, 26, 2, 0), False),
        ("29.03.2026 01:59", utc(2026, 3, 29, 0, 59), False),
        ("29.03.2026 03:00", utc(2026, 3, 29, 1, 0), False),
        ("25.10.2026 02:15", utc(2026, 10, 25, 0, 15), True),
        ("25.10.2026 03:15", utc(2026, 10, 25, 2, 15), False),
        ("15.07.2025 12:00", utc(2025, 7, 15, 10, 0), False),
        ("15.01.2026 12:00", utc(2026, 1, 15, 11, 0), False),
    ],
)
def test_local_to_utc_scalar_and_vectorised(local: str, expected: datetime, ambiguous: bool) -> None:
    parsed = parse_timestamp(local, [PL], tz=WARSAW)
    assert (parsed.utc, parsed.ambiguous) == (expected, ambiguous)
    vector = times_from_strings(pa.array([local]), [PL], tz=WARSAW)
    assert vector.utc.to_pylist() == [expected]
    assert vector.ambiguous.to_pylist() == [ambiguous]


@pytest.mark.parametrize("local", ["30.03.2025 02:00", "30.03.2025 02:30", "30.03.2025 02:59", "29.03.2026 02:15"])
def test_spring_gap_does_not_exist(local: str) -> None:
    with pytest.raises(TimeError) as error:
        parse_timestamp(local, [PL], tz=WARSAW)
    assert error.value.reason is RejectReason.NONEXISTENT_LOCAL_TIME
    vector = times_from_strings(pa.array([local]), [PL], tz=WARSAW)
    assert vector.nonexistent.to_pylist() == [True]
    assert vector.utc.to_pylist() == [None]
    assert vector.invalid.to_pylist() == [False]


def test_fold_one_is_the_later_instant() -> None:
    naive = datetime(2025, 10, 26, 2, 30)  # noqa: DTZ001
    assert local_to_utc(naive, fold=0) == (utc(2025, 10, 26, 0, 30), True)
    assert local_to_utc(naive, fold=1) == (utc(2025, 10, 26, 1, 30), True)
    vector = times_from_strings(pa.array(["26.10.2025 02:30"]), [PL], tz=WARSAW)
    assert vector.utc_later.to_pylist() == [utc(2025, 10, 26, 1, 30)]


def test_grid_around_transitions_vectorised_equals_scalar() -> None:
    texts = []
    for day in ("30.03.2025", "26.10.2025", "29.03.2026", "25.10.2026"):
        for minutes in range(0, 5 * 60, 5):
            texts.append(f"{day} {minutes // 60:02d}:{minutes % 60:02d}")
    vector = times_from_strings(pa.array(texts), [PL], tz=WARSAW)
    for i, text in enumerate(texts):
        try:
            parsed = parse_timestamp(text, [PL], tz=WARSAW)
        except TimeError:
            assert vector.nonexistent[i].as_py()
            continue
        assert vector.utc[i].as_py() == parsed.utc, text
        assert vector.ambiguous[i].as_py() == parsed.ambiguous, text


@pytest.mark.parametrize(
    ("text", "formats", "expected"),
    [
        ("2025-10-26T01:15:04Z", [ISO8601], utc(2025, 10, 26, 1, 15, 4)),
        ("2025-10-26T03:15:04+02:00", [ISO8601], utc(2025, 10, 26, 1, 15, 4)),
        ("2025-10-26T01:30:12.418000000+00:00", [ISO8601], utc(2025, 10, 26, 1, 30, 12, 418000)),
        ("2025-10-26T01:30:12.123456789Z", [ISO8601], utc(2025, 10, 26, 1, 30, 12, 123456)),
        ("2025-07-01T12:00:00", [ISO8601], utc(2025, 7, 1, 10, 0)),  # naive ISO: the profile's zone
        ("26.10.2025 02:30:15", ["%d.%m.%Y %H:%M:%S"], utc(2025, 10, 26, 0, 30, 15)),
        ("2025-10-26 02:15.04", ["%Y-%m-%d %H:%M.%S"], utc(2025, 10, 26, 0, 15, 4)),
        ("1.7.2025 8:05", [PL], utc(2025, 7, 1, 6, 5)),
        ("29.02.2024 12:00", [PL], utc(2024, 2, 29, 11, 0)),
        ("15.01.26", ["%d.%m.%y"], utc(2026, 1, 14, 23, 0)),
    ],
)
def test_formats(text: str, formats: list[str], expected: datetime) -> None:
    assert parse_timestamp(text, formats, tz=WARSAW).utc == expected
    assert times_from_strings(pa.array([text]), formats, tz=WARSAW).utc.to_pylist() == [expected]


def test_date_only_gets_the_declared_time() -> None:
    formats = ["%d.%m.%Y %H:%M", "%d.%m.%Y"]
    assert parse_timestamp("26.10.2025", formats, tz=WARSAW).utc == utc(2025, 10, 25, 22, 0)
    late = parse_timestamp("26.10.2025", formats, tz=WARSAW, default_time=time(23, 59))
    assert late.utc == utc(2025, 10, 26, 22, 59)
    vector = times_from_strings(
        pa.array(["26.10.2025", "26.10.2025 12:00"]), formats, tz=WARSAW, default_time=time(23, 59)
    )
    assert vector.utc.to_pylist() == [utc(2025, 10, 26, 22, 59), utc(2025, 10, 26, 11, 0)]


BAD = [
    "31.02.2025 01:00",
    "29.02.2025 01:00",
    "31.04.2025 10:00",
    "26.10.2025 24:00",
    "26.10.2025 12:60",
    "32.10.2025 12:00",
    "26.13.2025 12:00",
    "26.10.25 12:00",
    "2025-10-26 12:00",
    "26.10.2025  12:00",
    "26/10/2025 12:00",
    "",
    "00.10.2025 12:00",
]


@pytest.mark.parametrize("text", BAD)
def test_invalid(text: str) -> None:
    with pytest.raises(TimeError) as error:
        parse_timestamp(text, [PL], tz=WARSAW)
    assert error.value.reason is RejectReason.BAD_TIMESTAMP
    vector = times_from_strings(pa.array([text]), [PL], tz=WARSAW)
    assert vector.invalid.to_pylist() == [True]
    assert vector.utc.to_pylist() == [None]


@pytest.mark.parametrize("text", ["2025-10-26T01:15:61Z", "2025-02-30T00:00:00Z", "2025-10-26T01:15:04+25:00", "x"])
def test_invalid_iso(text: str) -> None:
    with pytest.raises(TimeError):
        parse_timestamp(text, [ISO8601], tz="UTC")
    assert times_from_strings(pa.array([text]), [ISO8601], tz="UTC").invalid.to_pylist() == [True]


def test_bad_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported directive"):
        compile_format("%d.%m.%Y %Q")
    with pytest.raises(ValueError, match="year"):
        compile_format("%H:%M")


def test_repeated_hour_resolver() -> None:
    resolver = RepeatedHourResolver()
    assert [resolver.take_later(m, 1) for m in ("a", "b", "a", "a")] == [False, False, True, True]


DATETIMES = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31))  # noqa: DTZ001


@settings(max_examples=200, deadline=None)
@given(st.lists(DATETIMES, max_size=30))
def test_vectorised_equals_scalar_on_local_times(values: list[datetime]) -> None:
    texts = [v.strftime(PL) for v in values]
    vector = times_from_strings(pa.array(texts, pa.string()), [PL], tz=WARSAW)
    for i, text in enumerate(texts):
        try:
            parsed = parse_timestamp(text, [PL], tz=WARSAW)
        except TimeError:
            assert vector.nonexistent[i].as_py()
            continue
        assert vector.utc[i].as_py() == parsed.utc
        assert vector.ambiguous[i].as_py() == parsed.ambiguous


DATEISH = st.text(alphabet="0123456789.:- TZ+", max_size=22)


@settings(max_examples=300, deadline=None)
@given(st.lists(DATEISH, max_size=20), st.sampled_from([[PL, "%d.%m.%Y"], [ISO8601], ["%Y-%m-%d %H:%M.%S"]]))
def test_vectorised_and_scalar_agree_on_noise(texts: list[str], formats: list[str]) -> None:
    vector = times_from_strings(pa.array(texts, pa.string()), formats, tz=WARSAW)
    for i, text in enumerate(texts):
        try:
            parsed = parse_timestamp(text, formats, tz=WARSAW)
        except TimeError as exc:
            if exc.reason is RejectReason.NONEXISTENT_LOCAL_TIME:
                assert vector.nonexistent[i].as_py(), text
            else:
                assert vector.invalid[i].as_py(), text
            continue
        assert vector.utc[i].as_py() == parsed.utc, text
