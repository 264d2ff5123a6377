"""CSV import profiles: one sniffing parser plus a column-mapping profile per utility (reference §4).

A :class:`CsvProfile` says how to read one utility's export: charset, delimiter, which header (or
position) holds each canonical field, date formats and zone, volume unit, id padding and read types.
Built-in profiles live in :data:`PROFILES`; :func:`load_profile` also reads a TOML file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from gmina.ingest.alarms import fold
from gmina.ingest.charsets import normalise_charset
from gmina.ingest.schema import ReadType, TimeBasis
from gmina.ingest.times import ISO8601, compile_format

FIELDS = ("meter_serial", "device_key", "observed_at", "index", "unit", "alarms", "read_type", "flow")
"""Canonical fields a CSV column can map to."""

DEFAULT_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {  # reference §4.3 plus English; most specific first (the first alias present in the header wins)
        "meter_serial": (
            "nr wodomierza", "numer wodomierza", "nr licznika", "numer licznika", "numer fabryczny",
            "nr fabryczny", "meter serial", "meter no", "meter number", "serial", "meter",
        ),
        "device_key": (
            "nr radiowy", "nr nakladki", "numer nakladki", "numer modulu", "nr modulu", "adres radiowy",
            "id radiowe", "radio id", "module id", "miu", "device key", "device", "id",
        ),
        "observed_at": ("data i godzina odczytu", "data odczytu", "data", "read date", "observed at", "date"),
        "index": (
            "stan wodomierza", "stan licznika", "stan", "odczyt", "wskazanie", "index l", "index",
            "reading", "register",
        ),
        "unit": ("jednostka", "j m", "jm", "unit"),
        "alarms": ("kody alarmow", "alarmy", "zdarzenia", "status", "uwagi", "alarms", "flags"),
        "read_type": ("typ odczytu", "rodzaj odczytu", "read type"),
        "flow": ("przeplyw", "flow lph", "flow"),
    }
)  # fmt: skip

DEFAULT_READ_TYPES: Mapping[str, ReadType] = MappingProxyType(
    {
        "rzeczywisty": ReadType.ACTUAL,
        "szacunkowy": ReadType.ESTIMATED,
        "klienta": ReadType.CUSTOMER,
        "koncowy": ReadType.FINAL,
        "demontaz": ReadType.FINAL,
        "poczatkowy": ReadType.INITIAL,
        "montaz": ReadType.INITIAL,
        **{t.value: t for t in ReadType},
    }
)

VolumeUnitName = Literal["m3", "l"]
_UNIT_HINT = re.compile(r"[\[(]\s*(m3|m³|m\^3|l|dm3|dm³)\s*[\])]", re.IGNORECASE)
_UNIT_WORDS = {"m3": "m3", "m³": "m3", "m^3": "m3", "l": "l", "dm3": "l", "dm³": "l"}


class ProfileError(ValueError):
    """A profile definition is invalid; the message names the offending key."""


@dataclass(frozen=True)
class CsvProfile:
    """How to read one kind of CSV export. ``None`` for ``delimiter``/``encoding`` means sniff."""

    name: str
    delimiter: str | None = None
    encoding: str | None = None
    has_header: bool = True
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # field → header names
    positions: Mapping[str, int] = field(default_factory=dict)  # field → 0-based index (no header)
    default_aliases: bool = True  # also try DEFAULT_ALIASES for fields not in ``columns``
    date_formats: tuple[str, ...] = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y", ISO8601)
    default_time: time = time(0)  # local time of day for date-only values
    timezone: str = "Europe/Warsaw"  # zone of texts without an offset: "Europe/Warsaw" or "UTC"
    volume_unit: VolumeUnitName | None = None  # None: a [m3]/[l] hint in the header, else m3
    flow_unit: Literal["lph", "m3h"] = "lph"
    whole_litres: bool = False  # litre indices must be integers (else fractions are rounded half-even)
    id_width: int | None = None  # re-pad meter serials with leading zeros to this width
    time_basis: TimeBasis = TimeBasis.RECEPTION
    read_types: Mapping[str, ReadType] = field(
        default_factory=lambda: DEFAULT_READ_TYPES
    )  # folded text (or one word of it) → type
    default_read_type: ReadType = ReadType.ACTUAL
    null_values: tuple[str, ...] = ("",)  # texts that mean "no value"
    alarm_vendor: str | None = None  # vendor hint for alarm mapping
    prefer: Literal["serial", "device"] = "serial"  # which id becomes meter_ref when both are present

    def __post_init__(self) -> None:
        _validate(self)

    def aliases(self, name: str) -> tuple[str, ...]:
        """Folded header names that map to canonical field ``name``, in priority order."""
        own = tuple(fold_header(a)[0] for a in self.columns.get(name, ()))
        extra = DEFAULT_ALIASES.get(name, ()) if self.default_aliases else ()
        return own + tuple(a for a in extra if a not in own)


def fold_header(header: str) -> tuple[str, VolumeUnitName | None]:
    """A header folded for matching, plus the unit hint it carries (``Stan [m3]`` → ``stan``, m3).

    >>> fold_header("Stan [m3]"), fold_header(" Nr_nakładki "), fold_header("J.m.")
    (('stan', 'm3'), ('nr nakladki', None), ('j m', None))
    """
    hint = _UNIT_HINT.search(header)
    unit: VolumeUnitName | None = None
    if hint is not None:
        unit = "m3" if _UNIT_WORDS[hint.group(1).lower()] == "m3" else "l"
        header = header[: hint.start()] + header[hint.end() :]
    text = fold(re.sub(r"[._\-:/]+", " ", header))
    return text, unit


def match_read_type(text: str, profile: CsvProfile) -> ReadType | None:
    """The read type a cell names: the whole folded text, else its words (all must agree).

    >>> match_read_type("końcowy - demontaż", PL_WALKBY), match_read_type("", PL_WALKBY)
    (<ReadType.FINAL: 'final'>, <ReadType.ACTUAL: 'actual'>)
    >>> match_read_type("odczyt poczatkowy", PL_WALKBY), match_read_type("dziwny", PL_WALKBY)
    (<ReadType.INITIAL: 'initial'>, None)
    """
    folded = fold_header(text)[0]
    if not folded:
        return profile.default_read_type
    if folded in profile.read_types:
        return profile.read_types[folded]
    found = {profile.read_types[w] for w in folded.split() if w in profile.read_types}
    return found.pop() if len(found) == 1 else None


def _validate(profile: CsvProfile) -> None:
    def bad(key: str, problem: str) -> ProfileError:
        return ProfileError(f"profile {profile.name!r}: {key}: {problem}")

    if profile.delimiter is not None and len(profile.delimiter) != 1:
        raise bad("delimiter", f"must be one character, got {profile.delimiter!r}")
    if profile.encoding is not None:
        try:
            normalise_charset(profile.encoding)
        except ValueError as exc:
            raise bad("encoding", str(exc)) from None
    for key in (*profile.columns, *profile.positions):
        if key not in FIELDS:
            raise bad("columns" if key in profile.columns else "positions", f"unknown field {key!r}")
    if not profile.has_header:
        needed = {"observed_at", "index"} - set(profile.positions)
        if not profile.positions.keys() & {"meter_serial", "device_key"}:
            needed.add("meter_serial or device_key")
        if needed:
            raise bad("positions", f"a profile without a header row needs positions for {sorted(needed)}")
    for fmt in profile.date_formats:
        try:
            compile_format(fmt)
        except ValueError as exc:
            raise bad("date_formats", str(exc)) from None
    if profile.timezone not in ("UTC", "Europe/Warsaw"):
        raise bad("timezone", f"must be 'UTC' or 'Europe/Warsaw', got {profile.timezone!r}")
    if profile.volume_unit not in (None, "m3", "l"):
        raise bad("volume_unit", f"must be 'm3' or 'l', got {profile.volume_unit!r}")
    if profile.flow_unit not in ("lph", "m3h"):
        raise bad("flow_unit", f"must be 'lph' or 'm3h', got {profile.flow_unit!r}")
    if profile.id_width is not None and not 1 <= profile.id_width <= 64:
        raise bad("id_width", f"must be between 1 and 64, got {profile.id_width!r}")
    if profile.prefer not in ("serial", "device"):
        raise bad("prefer", f"must be 'serial' or 'device', got {profile.prefer!r}")


GMINA = CsvProfile(
    name="gmina",
    delimiter=",",
    encoding="utf-8",
    columns={
        "meter_serial": ("meter",),
        "observed_at": ("observed_at",),
        "index": ("index_l",),
        "flow": ("flow_lph",),
        "alarms": ("flags",),
        "read_type": ("read_type",),
    },
    default_aliases=False,
    date_formats=(ISO8601,),
    timezone="UTC",
    volume_unit="l",
    whole_litres=True,
    time_basis=TimeBasis.METER_CLOCK,
)
"""The project's own export/import format (``meter,observed_at,index_l[,flow_lph][,flags][,read_type]``)."""

PL_WALKBY = CsvProfile(
    name="pl-walkby",
    delimiter=";",
    columns={
        "meter_serial": ("Nr wodomierza",),
        "device_key": ("Nr radiowy",),
        "observed_at": ("Data odczytu",),
        "index": ("Stan",),
        "read_type": ("Typ odczytu",),
        "alarms": ("Alarmy",),
    },
    date_formats=("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
    timezone="Europe/Warsaw",
    time_basis=TimeBasis.RECEPTION,
)
"""A Polish walk-by export (reference §4.4): CP1250 or UTF-8 with BOM, ``;``, decimal comma, m³."""

WMBUSMETERS_FIELDS = CsvProfile(
    name="wmbusmeters-fields",
    delimiter=";",
    encoding="utf-8",
    has_header=False,
    positions={"device_key": 0, "index": 1, "alarms": 2, "observed_at": 3},
    date_formats=("%Y-%m-%d %H:%M.%S", "%Y-%m-%d %H:%M:%S"),
    timezone="Europe/Warsaw",
    volume_unit="m3",
    time_basis=TimeBasis.RECEPTION,
    null_values=("", "null"),
    alarm_vendor="wmbusmeters",
    prefer="device",
)
"""``wmbusmeters --format=fields --selectfields=id,total_m3,status,timestamp`` (local times, no header)."""

PROFILES: Mapping[str, CsvProfile] = MappingProxyType({p.name: p for p in (GMINA, PL_WALKBY, WMBUSMETERS_FIELDS)})

_TOML_KEYS = {f.name for f in dataclasses.fields(CsvProfile)} | {"extends"}


def load_profile(name_or_path: str | os.PathLike[str]) -> CsvProfile:
    """A built-in profile by name, or a profile from a TOML file (optionally ``extends = "<built-in>"``).

    >>> load_profile("gmina").timezone
    'UTC'
    """
    key = os.fspath(name_or_path)
    if key in PROFILES:
        return PROFILES[key]
    path = Path(key)
    if not path.is_file():
        raise ProfileError(f"unknown profile {key!r}: not a built-in ({', '.join(PROFILES)}) nor a file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from exc
    return profile_from_mapping(data, default_name=path.stem)


def profile_from_mapping(data: Mapping[str, Any], *, default_name: str = "custom") -> CsvProfile:
    """Build a profile from TOML-like data; errors name the bad key."""
    unknown = sorted(set(data) - _TOML_KEYS)
    if unknown:
        raise ProfileError(f"unknown key(s): {', '.join(unknown)}; allowed: {', '.join(sorted(_TOML_KEYS))}")
    base_name = data.get("extends")
    if base_name is not None and base_name not in PROFILES:
        raise ProfileError(f"extends: unknown built-in profile {base_name!r}")
    base = PROFILES[base_name] if base_name else None
    values: dict[str, Any] = {"name": data.get("name", default_name)}
    for key, raw in data.items():
        if key in ("extends", "name"):
            continue
        values[key] = _convert(key, raw)
    try:
        if base is not None:
            return dataclasses.replace(base, **values)
        return CsvProfile(**values)
    except TypeError as exc:
        raise ProfileError(str(exc)) from exc


def _convert(key: str, raw: Any) -> Any:
    def expect(kind: type | tuple[type, ...], what: str) -> None:
        if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
            raise ProfileError(f"{key}: expected {what}, got {raw!r}")

    if key in ("delimiter", "encoding", "volume_unit", "timezone", "alarm_vendor", "flow_unit", "prefer"):
        expect(str, "a string")
        return raw
    if key in ("has_header", "default_aliases", "whole_litres"):
        expect(bool, "true or false")
        return raw
    if key == "id_width":
        expect(int, "an integer")
        return raw
    if key in ("date_formats", "null_values"):
        expect(list, "a list of strings")
        if not all(isinstance(v, str) for v in raw):
            raise ProfileError(f"{key}: expected a list of strings, got {raw!r}")
        return tuple(raw)
    if key == "columns":
        expect(dict, "a table of field = [header, ...]")
        out: dict[str, tuple[str, ...]] = {}
        for name, headers in raw.items():
            headers = [headers] if isinstance(headers, str) else headers
            if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
                raise ProfileError(f"columns.{name}: expected a header name or a list of names")
            out[name] = tuple(headers)
        return out
    if key == "positions":
        expect(dict, "a table of field = index")
        for name, index in raw.items():
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise ProfileError(f"positions.{name}: expected a non-negative integer, got {index!r}")
        return dict(raw)
    if key == "default_time":
        expect(str, 'a time such as "23:59"')
        try:
            return time.fromisoformat(raw)
        except ValueError:
            raise ProfileError(f"default_time: not a time: {raw!r}") from None
    if key in ("time_basis", "default_read_type"):
        enum: type[TimeBasis] | type[ReadType] = TimeBasis if key == "time_basis" else ReadType
        try:
            return enum(raw)
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise ProfileError(f"{key}: expected one of {allowed}, got {raw!r}") from None
    if key == "read_types":
        expect(dict, "a table of text = read type")
        mapping = dict(DEFAULT_READ_TYPES)
        for text, value in raw.items():
            try:
                mapping[fold(text)] = ReadType(value)
            except ValueError:
                raise ProfileError(f"read_types.{text}: unknown read type {value!r}") from None
        return mapping
    raise ProfileError(f"{key}: cannot be set from TOML")  # pragma: no cover - keys are checked above
