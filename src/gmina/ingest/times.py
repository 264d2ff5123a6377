"""Timestamps: ISO 8601, day-first Polish formats, and local Europe/Warsaw → UTC (reference §6.1).

Scalar functions (for JSON payloads) and vectorised ones (for CSV batches) share one implementation of
the formats: a strptime-like format is compiled to a regular expression understood by both Python's
``re`` and RE2 (pyarrow), so both accept exactly the same texts. Calendar validation is strict
(31.02 is rejected, not rolled over into March).

Local → UTC rules:

* a local time inside the spring-forward gap (e.g. 30.03.2025 02:30) does not exist →
  :class:`TimeError` with reason ``NONEXISTENT_LOCAL_TIME``;
* a local time in the repeated October hour is ambiguous → the earlier instant (``fold=0``, CEST) and
  ``time_ambiguous=True``; when the **same meter** has a second reading at the **same** ambiguous local
  time further down the file (row order), the second one gets the later instant (``fold=1``, CET);
  see :class:`RepeatedHourResolver`. Both readings keep ``time_ambiguous=True``.

pyarrow's ``assume_timezone`` does this too but is ~7 µs per value; :func:`localize` instead tries each
UTC offset the zone has ever used and keeps those that map back to the same wall time (~60 ns per value).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from gmina.ingest.schema import RejectReason

WARSAW = "Europe/Warsaw"
ISO8601 = "ISO8601"
"""Pseudo-format: ISO 8601 / RFC 3339, with ``Z`` or a ``±HH:MM`` offset (naive → the profile's zone)."""

_ISO_RE = (
    r"^(?P<Y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[T ](?P<H>[0-9]{2})(?::(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?)?)?"
    r" ?(?P<z>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_DIRECTIVES = {
    "d": r"(?P<d>0?[1-9]|[12][0-9]|3[01])",
    "m": r"(?P<m>0?[1-9]|1[0-2])",
    "Y": r"(?P<Y>[0-9]{4})",
    "y": r"(?P<y>[0-9]{2})",
    "H": r"(?P<H>[01]?[0-9]|2[0-3])",
    "M": r"(?P<M>[0-5]?[0-9])",
    "S": r"(?P<S>[0-5]?[0-9])",
    "f": r"(?P<f>[0-9]{1,9})",
    "%": "%",
}
_REGEX_META = frozenset(".^$*+?()[]{}|\\")
_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_NULL_INT = pa.scalar(None, pa.int64())


class TimeError(ValueError):
    """A timestamp that cannot be used; ``reason`` is the rejection reason to report."""

    def __init__(self, message: str, reason: RejectReason = RejectReason.BAD_TIMESTAMP) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CompiledFormat:
    """A strptime-like format compiled to a regex with named groups (Y m d y H M S f z)."""

    source: str
    pattern: str
    has_time: bool
    has_zone: bool
    strptime_safe: bool = False  # only %d %m %Y %H %M %S: pyarrow's strptime may do the parsing


@lru_cache(maxsize=64)
def compile_format(fmt: str) -> CompiledFormat:
    """Compile ``%d %m %Y %y %H %M %S %f`` formats (or :data:`ISO8601`) to a regex.

    >>> compile_format("%Y-%m-%d").pattern
    '^(?P<Y>[0-9]{4})-(?P<m>0?[1-9]|1[0-2])-(?P<d>0?[1-9]|[12][0-9]|3[01])$'
    """
    if fmt == ISO8601:
        return CompiledFormat(fmt, _ISO_RE, has_time=True, has_zone=True)
    out, i, seen = ["^"], 0, set()
    while i < len(fmt):
        char = fmt[i]
        if char == "%":
            if i + 1 >= len(fmt) or fmt[i + 1] not in _DIRECTIVES:
                raise ValueError(f"unsupported directive in date format {fmt!r} at position {i}")
            directive = fmt[i + 1]
            if directive in seen:
                raise ValueError(f"directive %{directive} repeated in date format {fmt!r}")
            seen.add(directive)
            out.append(_DIRECTIVES[directive])
            i += 2
        else:
            out.append("\\" + char if char in _REGEX_META else char)
            i += 1
    if not ({"Y", "y"} & seen and "m" in seen and "d" in seen):
        raise ValueError(f"date format {fmt!r} needs a year, a month and a day")
    out.append("$")
    safe = seen <= {"d", "m", "Y", "H", "M", "S", "%"}
    return CompiledFormat(fmt, "".join(out), has_time="H" in seen, has_zone=False, strptime_safe=safe)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_offsets_us(tz: str, first_year: int = 1900, last_year: int = 2100) -> tuple[int, ...]:
    """Every UTC offset (µs) ``tz`` used in the given years, largest first.

    >>> [o // 3_600_000_000 for o in zone_offsets_us("Europe/Warsaw", 2025, 2026)]
    [2, 1]
    """
    first, last = max(first_year, 1800), min(last_year, 2200)
    years = set(range(first, last + 1)) | {min(first, 2200), max(last, 1800)}
    offsets: set[int] = set()
    for year in years:
        offsets.update(_year_offsets(tz, year))
    return tuple(sorted(offsets, reverse=True))


@lru_cache(maxsize=4096)
def _year_offsets(tz: str, year: int) -> frozenset[int]:
    zone = _zone(tz)
    start = datetime(year, 1, 1, tzinfo=UTC) - timedelta(days=2)
    offsets = set()
    for day in range(369):
        offset = (start + timedelta(days=day)).astimezone(zone).utcoffset()
        assert offset is not None
        offsets.add(offset // timedelta(microseconds=1))
    return frozenset(offsets)


# --------------------------------------------------------------------------------------------- scalar


@dataclass(frozen=True)
class ParsedTime:
    """A parsed timestamp: the UTC instant, plus the local wall time if the text had no offset."""

    utc: datetime
    ambiguous: bool = False
    local: datetime | None = None  # naive wall time (for the repeated-hour rule), None for offset texts


def local_to_utc(naive: datetime, tz: str = WARSAW, *, fold: int = 0) -> tuple[datetime, bool]:
    """Convert a naive local time to UTC; returns ``(utc, ambiguous)``.

    >>> local_to_utc(datetime(2025, 10, 26, 2, 30))
    (datetime.datetime(2025, 10, 26, 0, 30, tzinfo=datetime.timezone.utc), True)
    >>> local_to_utc(datetime(2025, 10, 26, 2, 30), fold=1)[0].isoformat()
    '2025-10-26T01:30:00+00:00'
    >>> local_to_utc(datetime(2025, 3, 30, 2, 30))
    Traceback (most recent call last):
    ...
    gmina.ingest.times.TimeError: local time 2025-03-30 02:30:00 does not exist in Europe/Warsaw (DST gap)
    """
    if tz == "UTC":
        return naive.replace(tzinfo=UTC), False
    zone = _zone(tz)
    candidates = []
    for f in (0, 1):
        utc = naive.replace(tzinfo=zone, fold=f).astimezone(UTC)
        if utc.astimezone(zone).replace(tzinfo=None) == naive:
            candidates.append(utc)
    if not candidates:
        raise TimeError(f"local time {naive} does not exist in {tz} (DST gap)", RejectReason.NONEXISTENT_LOCAL_TIME)
    ambiguous = len(candidates) == 2 and candidates[0] != candidates[1]
    return (candidates[-1] if ambiguous and fold else candidates[0]), ambiguous


def parse_timestamp(
    text: str, formats: Sequence[str] = (ISO8601,), *, tz: str = WARSAW, default_time: time = time(0)
) -> ParsedTime:
    """Parse ``text`` with the first matching format; local times are converted from ``tz``.

    Date-only formats get ``default_time`` (local). Fractions beyond microseconds are truncated.

    >>> parse_timestamp("2025-10-26T01:15:04Z").utc.isoformat()
    '2025-10-26T01:15:04+00:00'
    >>> parse_timestamp("2025-10-26T01:30:12.418000000+00:00").utc.isoformat()
    '2025-10-26T01:30:12.418000+00:00'
    >>> p = parse_timestamp("26.10.2025 02:30", ["%d.%m.%Y %H:%M"])
    >>> p.utc.isoformat(), p.ambiguous
    ('2025-10-26T00:30:00+00:00', True)
    >>> parse_timestamp("26.10.2025", ["%d.%m.%Y"]).utc.isoformat()
    '2025-10-25T22:00:00+00:00'
    """
    stripped = text.strip()
    for fmt in formats:
        compiled = compile_format(fmt)
        match = re.match(compiled.pattern, stripped)
        if match is None:
            continue
        fields = {k: v for k, v in match.groupdict().items() if v}
        local = _naive_from_fields(fields, text)
        if not compiled.has_time:
            local = datetime.combine(local.date(), default_time)
        zone = fields.get("z")
        if zone is not None:
            return ParsedTime((local - timedelta(microseconds=_zone_offset_us(zone))).replace(tzinfo=UTC))
        utc, ambiguous = local_to_utc(local, tz)
        return ParsedTime(utc, ambiguous, local)
    raise TimeError(f"not a timestamp in the expected format ({', '.join(formats)}): {text!r}")


def _naive_from_fields(fields: dict[str, str], text: str) -> datetime:
    year = int(fields["Y"]) if "Y" in fields else 2000 + int(fields["y"])
    micro = int(fields.get("f", "0")[:6].ljust(6, "0"))
    try:
        return datetime(  # noqa: DTZ001 - a naive wall time on purpose; the caller localises it
            year,
            int(fields["m"]),
            int(fields["d"]),
            int(fields.get("H", 0)),
            int(fields.get("M", 0)),
            int(fields.get("S", 0)),
            micro,
        )
    except ValueError as exc:
        raise TimeError(f"not a valid date/time: {text!r} ({exc})") from exc


def _zone_offset_us(zone: str) -> int:
    if zone in ("Z", "z"):
        return 0
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise TimeError(f"bad UTC offset {zone!r}")
    offset = (hours * 3600 + minutes * 60) * _US_PER_SECOND
    return -offset if zone[0] == "-" else offset


class RepeatedHourResolver:
    """Row-order rule for the repeated October hour (one instance per file or stream).

    The first reading of a meter at an ambiguous local time gets the earlier instant; a later reading of
    the same meter at the same local time gets the later instant.

    >>> r = RepeatedHourResolver()
    >>> r.take_later("m1", 1), r.take_later("m2", 1), r.take_later("m1", 1)
    (False, False, True)
    """

    def __init__(self) -> None:
        self._seen: set[tuple[str, int]] = set()

    def take_later(self, meter: str, local_key: int) -> bool:
        """True if this (meter, ambiguous local time) was already seen earlier in row order."""
        key = (meter, local_key)
        if key in self._seen:
            return True
        self._seen.add(key)
        return False


# ----------------------------------------------------------------------------------------- vectorised


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
    ...                        ["%d.%m.%Y %H:%M"], tz=WARSAW)
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
            micros = pc.add(micros, (default_time.hour * 3600 + default_time.minute * 60) * _US_PER_SECOND)
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


_MIN_US = -62135596800 * _US_PER_SECOND  # 0001-01-01
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
    micros = pc.add(pc.multiply(_days_from_civil(year, month, day), _US_PER_DAY), pc.multiply(seconds, 10**6))
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
    return 1970 + micros // (_US_PER_DAY * 36525 // 100)


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
