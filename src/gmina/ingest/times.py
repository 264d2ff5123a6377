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

The vectorised versions (same rules, same results) are in :mod:`gmina.ingest.time_arrays`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

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
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND


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
    offset = (hours * 3600 + minutes * 60) * US_PER_SECOND
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
