"""Vectorised timestamp parsing and Europe/Warsaw → UTC over pyarrow string arrays.

Same formats and rules as the scalar :mod:`gmina.ingest.times` (a test checks that both agree):

* formats using only ``%d %m %Y %H %M %S`` are parsed by pyarrow's ``strptime`` after a regex shape
  check; strptime rolls impossible days over (31.02 → 03.03), so results on days 1-3 of a month after
  a short one are re-checked exactly; other formats (and ISO 8601 that pyarrow's cast refuses) are
  parsed from regex groups with integer arithmetic;
* pyarrow's ``assume_timezone`` is ~7 µs per value; :func:`localize` instead tries each UTC offset the
  zone used in the years at hand and keeps those that map back to the same wall time (~0.1 µs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

import pyarrow as pa
import pyarrow.compute as pc

from gmina.ingest.times import (
    ISO8601,
    US_PER_DAY,
    US_PER_SECOND,
    CompiledFormat,
    compile_format,
    zone_offsets_us,
)

_NULL_INT = pa.scalar(None, pa.int64())


@dataclass(frozen=True)
class ParsedTimes:
    """Vectorised parse result; ``utc`` is null where ``invalid`` or ``nonexistent`` (or the input null)."""

    utc: pa.Array  # timestamp[us, tz=UTC]; the earlier instant of an ambiguous local time
    utc_later: pa.Array  # timestamp[us, tz=UTC]; differs from ``utc`` only where ``ambiguous``
    local_us: pa.Array  # int64 wall-clock micros (null for texts with an offset)
    ambiguous: pa.Array  # bool
    nonexistent: pa.Array  # bool
    invalid: pa.Array  # bool: text present, matches no format or is not a valid calendar date


def times_from_strings(
    texts: pa.Array, formats: Sequence[str], *, tz: str, default_time: time = time(0)
) -> ParsedTimes:
    """Vectorised :func:`parse_timestamp` (ambiguous times resolved to the earlier instant).

    >>> r = times_from_strings(pa.array(["26.10.2025 02:30", "30.03.2025 02:30", "31.02.2025 01:00", None]),
    ...                        ["%d.%m.%Y %H:%M"], tz="Europe/Warsaw")
    >>> [t.isoformat() if t else t for t in r.utc.to_pylist()]
    ['2025-10-26T00:30:00+00:00', None, None, None]
    >>> r.ambiguous.to_pylist(), r.nonexistent.to_pylist(), r.invalid.to_pylist()
    ([True, False, False, False], [False, True, False, False], [False, False, True, False])
    """
    if formats == (ISO8601,) or list(formats) == [ISO8601]:
        fast = _fast_iso_cast(texts)
        if fast is not None:
            false = pa.repeat(False, len(texts))
            return ParsedTimes(fast, fast, pa.nulls(len(texts), pa.int64()), false, false, false)
    stripped = pc.utf8_trim_whitespace(texts)
    local_us = pa.nulls(len(texts), pa.int64())
    zoned_us = pa.nulls(len(texts), pa.int64())
    for fmt in formats:
        compiled = compile_format(fmt)
        pending = pc.is_null(pc.coalesce(local_us, zoned_us))
        if not pc.any(pc.and_(pending, texts.is_valid())).as_py():
            break
        if compiled.strptime_safe:
            micros, offset = _micros_via_strptime(stripped, compiled), pa.nulls(len(texts), pa.int64())
        else:
            micros, offset = _micros_from_pattern(stripped, compiled)
        if not compiled.has_time:
            micros = pc.add(micros, (default_time.hour * 3600 + default_time.minute * 60) * US_PER_SECOND)
        micros = pc.if_else(pending, micros, _NULL_INT)
        has_zone = offset.is_valid()
        zoned_us = pc.coalesce(zoned_us, pc.if_else(has_zone, pc.subtract(micros, offset), _NULL_INT))
        local_us = pc.coalesce(local_us, pc.if_else(has_zone, _NULL_INT, micros))
    invalid = pc.and_(texts.is_valid(), pc.is_null(pc.coalesce(local_us, zoned_us)))
    earliest, latest, count = localize(local_us, tz)
    ambiguous = pc.fill_null(pc.greater(count, 1), False)
    nonexistent = pc.fill_null(pc.equal(count, 0), False)
    utc_type = pa.timestamp("us", tz="UTC")
    utc = pc.cast(pc.coalesce(zoned_us, earliest), utc_type)
    utc_later = pc.cast(pc.coalesce(zoned_us, latest), utc_type)
    return ParsedTimes(utc, utc_later, local_us, ambiguous, nonexistent, invalid)


def _fast_iso_cast(texts: pa.Array) -> pa.Array | None:
    try:
        return pc.cast(texts, pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


_MIN_US = -62135596800 * US_PER_SECOND  # 0001-01-01
_OVERFLOW_MONTHS = pa.array([3, 5, 7, 10, 12], pa.int64())  # 30.02 → 02.03, 31.04 → 01.05, …


def _micros_via_strptime(texts: pa.Array, compiled: CompiledFormat) -> pa.Array:
    """Fast path: the regex checks the shape, pyarrow's strptime computes the instant.

    strptime rolls impossible days over (31.02 → 03.03); such results land on days 1-3 of the month
    after a short one and are re-checked with the exact path.
    """
    shape = pc.fill_null(pc.match_substring_regex(texts, compiled.pattern), False)
    parsed = pc.strptime(texts, format=compiled.source, unit="us", error_is_null=True)
    micros = pc.cast(parsed, pa.int64())
    valid = pc.and_(shape, pc.fill_null(pc.greater_equal(micros, _MIN_US), False))
    micros = pc.if_else(valid, micros, _NULL_INT)
    suspect = pc.and_(valid, pc.less_equal(pc.day(parsed), 3))
    suspect = pc.fill_null(pc.and_(suspect, pc.is_in(pc.month(parsed), value_set=_OVERFLOW_MONTHS)), False)
    if pc.any(suspect).as_py():
        exact, _ = _micros_from_pattern(pc.filter(texts, suspect), compiled)
        micros = pc.replace_with_mask(micros, suspect, exact)
    return micros


def _micros_from_pattern(texts: pa.Array, compiled: CompiledFormat) -> tuple[pa.Array, pa.Array]:
    """(wall-clock micros or null, zone offset micros or null) for each text matching ``compiled``."""
    parts = pc.extract_regex(texts, compiled.pattern)
    matched = pc.fill_null(parts.is_valid(), False)
    names = {f.name for f in parts.type}

    def number(name: str, default: int) -> pa.Array:
        if name not in names:
            return pa.scalar(default, pa.int64())
        field = pc.struct_field(parts, name)
        return pc.cast(pc.if_else(pc.equal(field, ""), str(default), field), pa.int64())

    if "Y" in names:
        year = pc.cast(pc.if_else(matched, pc.struct_field(parts, "Y"), "2000"), pa.int64())
    else:
        year = pc.add(pc.cast(pc.if_else(matched, pc.struct_field(parts, "y"), "00"), pa.int64()), 2000)
    month = pc.cast(pc.if_else(matched, pc.struct_field(parts, "m"), "1"), pa.int64())
    day = pc.cast(pc.if_else(matched, pc.struct_field(parts, "d"), "1"), pa.int64())
    hour, minute, second = number("H", 0), number("M", 0), number("S", 0)
    valid = pc.and_(matched, _calendar_ok(year, month, day))
    for value, limit in ((hour, 23), (minute, 59), (second, 59)):
        valid = pc.and_(valid, pc.less_equal(value, limit))
    seconds = pc.add(pc.multiply(pc.add(pc.multiply(hour, 60), minute), 60), second)
    micros = pc.add(pc.multiply(_days_from_civil(year, month, day), US_PER_DAY), pc.multiply(seconds, 10**6))
    if "f" in names:
        frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.struct_field(parts, "f"), 6, "0"), 0, 6)
        micros = pc.add(micros, pc.cast(pc.if_else(matched, frac, "0"), pa.int64()))
    offset = pa.nulls(len(texts), pa.int64())
    if "z" in names:
        offset, zone_ok = _offsets(pc.struct_field(parts, "z"))
        valid = pc.and_(valid, zone_ok)
        offset = pc.if_else(valid, offset, _NULL_INT)
    return pc.if_else(valid, micros, _NULL_INT), offset


def _offsets(zones: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Zone texts ('' / 'Z' / '+02:00' / '+0200' / '+02') → (offset µs or null when absent, ok mask)."""
    present = pc.not_equal(zones, "")
    utc = pc.or_(pc.equal(zones, "Z"), pc.equal(zones, "z"))
    digits = pc.replace_substring(pc.utf8_slice_codeunits(zones, 1, 10), ":", "")
    numeric = pc.and_(present, pc.invert(utc))
    hours = pc.cast(pc.if_else(numeric, pc.utf8_slice_codeunits(digits, 0, 2), "0"), pa.int64())
    minutes_text = pc.utf8_slice_codeunits(digits, 2, 4)
    minutes = pc.cast(pc.if_else(pc.and_(numeric, pc.not_equal(minutes_text, "")), minutes_text, "0"), pa.int64())
    ok = pc.and_(pc.less_equal(hours, 23), pc.less_equal(minutes, 59))
    magnitude = pc.multiply(pc.add(pc.multiply(hours, 3600), pc.multiply(minutes, 60)), 10**6)
    signed = pc.if_else(pc.starts_with(zones, "-"), pc.negate(magnitude), magnitude)
    return pc.if_else(present, signed, _NULL_INT), ok


def _days_from_civil(year: pa.Array, month: pa.Array, day: pa.Array) -> pa.Array:
    """Days since 1970-01-01 (H. Hinnant's algorithm; years 0-9999, so integer division is floor)."""
    y = pc.subtract(year, pc.cast(pc.less_equal(month, 2), pa.int64()))
    era = pc.divide(y, 400)
    yoe = pc.subtract(y, pc.multiply(era, 400))
    mp = pc.modulo(pc.add(month, 9), 12)
    doy = pc.add(pc.divide(pc.add(pc.multiply(mp, 153), 2), 5), pc.subtract(day, 1))
    doe = pc.add(pc.add(pc.multiply(yoe, 365), pc.divide(yoe, 4)), pc.subtract(doy, pc.divide(yoe, 100)))
    return pc.subtract(pc.add(pc.multiply(era, 146097), doe), 719468)


_MONTH_DAYS = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int64())


def _calendar_ok(year: pa.Array, month: pa.Array, day: pa.Array) -> pa.Array:
    month_ok = pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12))
    safe_month = pc.if_else(month_ok, month, 1)
    leap = pc.and_(
        pc.equal(pc.modulo(year, 4), 0),
        pc.or_(pc.not_equal(pc.modulo(year, 100), 0), pc.equal(pc.modulo(year, 400), 0)),
    )
    days = pc.add(pc.take(_MONTH_DAYS, safe_month), pc.cast(pc.and_(leap, pc.equal(safe_month, 2)), pa.int64()))
    return pc.and_(
        pc.and_(month_ok, pc.greater_equal(year, 1)),
        pc.and_(pc.greater_equal(day, 1), pc.less_equal(day, days)),
    )


def _year_of(micros: int) -> int:
    return 1970 + micros // (US_PER_DAY * 36525 // 100)


def localize(local_us: pa.Array, tz: str) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Wall-clock micros in ``tz`` → (earliest UTC µs, latest UTC µs, number of matching instants).

    A count of 0 means the wall time does not exist (DST gap), 2 that it is ambiguous.
    """
    if tz == "UTC":
        count = pc.if_else(local_us.is_valid(), 1, _NULL_INT)
        return local_us, local_us, count
    earliest = pa.nulls(len(local_us), pa.int64())
    latest = pa.nulls(len(local_us), pa.int64())
    count = pc.if_else(local_us.is_valid(), 0, _NULL_INT)
    zoned = pa.timestamp("us", tz=tz)
    bounds = pc.min_max(local_us)
    if not bounds["min"].is_valid:
        return earliest, latest, count
    years = (_year_of(bounds["min"].as_py()) - 1, _year_of(bounds["max"].as_py()) + 1)
    for offset in zone_offsets_us(tz, *years):  # largest offset first = earliest instant first
        candidate = pc.subtract(local_us, offset)
        back = pc.cast(pc.local_timestamp(pc.cast(candidate, zoned)), pa.int64())
        hit = pc.fill_null(pc.equal(back, local_us), False)
        earliest = pc.coalesce(earliest, pc.if_else(hit, candidate, _NULL_INT))
        latest = pc.if_else(hit, candidate, latest)
        count = pc.add(count, pc.cast(hit, pa.int64()))
    return earliest, latest, count
