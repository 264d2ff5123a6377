"""Alarm taxonomy (reference §3): canonical codes and a versioned table from vendor and Polish terms.

Every token maps to a :class:`Flag` ``(code, state, raw)``; the raw token is kept so that a later table
version can re-map stored flags. Unknown tokens become ``other`` (never dropped). OMS ``BUSY`` and
``ERROR`` are communication-layer bits and are ignored; ``OK``, ``no_alarm`` and empty texts carry no flag.

Historic (latched) markers: the ``P_`` and ``PREV_`` prefixes, the ``_PREV_MONTH`` / ``_THIS_MONTH``
suffixes (Ultrimis v2: "occurred this/last month"), izar ``previous_alarms`` (the caller passes
``historic=True``), the Polish *zapamiętany* and our own ``code:historic`` form (the ``gmina`` CSV
profile). *aktywny* (or nothing) means active.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from gmina.ingest.schema import FlagState

ALARM_TABLE_VERSION = "2025.1"
"""Bump when a mapping changes; stored flags keep ``raw`` so they can be re-mapped."""


class AlarmCode(StrEnum):
    """The canonical alarm codes (reference §3.1)."""

    LEAK = "leak"
    BURST = "burst"
    BACKFLOW = "backflow"
    TAMPER_MAGNET = "tamper_magnet"
    TAMPER_OTHER = "tamper_other"
    REMOVAL = "removal"
    DRY = "dry"
    BATTERY_LOW = "battery_low"
    SENSOR_ERROR = "sensor_error"
    NO_USAGE = "no_usage"
    OTHER = "other"


@dataclass(frozen=True)
class Flag:
    """One device alarm carried by a reading."""

    code: AlarmCode
    state: FlagState
    raw: str

    def as_dict(self) -> dict[str, str]:
        """The Arrow struct value (``schema.FLAG_TYPE``)."""
        return {"code": self.code.value, "state": self.state.value, "raw": self.raw}


_A = AlarmCode
# Vendor tokens, upper-case, after removing P_/PREV_ prefixes and month suffixes (reference §3.2).
VENDOR_TOKENS: dict[str, AlarmCode] = {
    **{code.value.upper(): code for code in AlarmCode},  # our own canonical codes (gmina CSV, API)
    # Kamstrup (kamwater, TTN decoder)
    "LEAK": _A.LEAK,
    "BURST": _A.BURST,
    "REVERSE": _A.BACKFLOW,
    "TAMPER": _A.TAMPER_OTHER,
    "DRY": _A.DRY,
    "LOW_BATTERY": _A.BATTERY_LOW,
    "NO_CONSUMPTION": _A.NO_USAGE,
    "FLOW_ABOVE_Q4": _A.OTHER,
    "LOW_ABIENT_TEMPERATURE": _A.OTHER,  # sic, the driver's typo
    "LOW_AMBIENT_TEMPERATURE": _A.OTHER,
    "HIGH_AMBIENT_TEMPERATURE": _A.OTHER,
    # Diehl IZAR (izar, izarv2)
    "LEAKAGE": _A.LEAK,
    "BACK_FLOW": _A.BACKFLOW,
    "METER_BLOCKED": _A.NO_USAGE,
    "SENSOR_FRAUD": _A.TAMPER_MAGNET,  # inference (§3.2 ⚠️)
    "MECHANICAL_FRAUD": _A.REMOVAL,  # inference (§3.2 ⚠️)
    "OVERFLOW": _A.OTHER,
    "UNDERFLOW": _A.OTHER,
    "SUBMARINE": _A.OTHER,
    "GENERAL_ALARM": _A.OTHER,
    # Apator (apatorna1, aptmbusna, Ultrimis)
    "REVERSE_FLOW": _A.BACKFLOW,
    "MAGNETIC_FIELD": _A.TAMPER_MAGNET,
    "STRONG_LIGHT": _A.TAMPER_OTHER,
    "DEVICE_DISCONNECTED": _A.REMOVAL,
    "MBUS_DISCONNECTED": _A.REMOVAL,
    "MEASUREMENT_UNCHANGED": _A.NO_USAGE,
    "NO_FLOW": _A.NO_USAGE,
    "BATTERY_LOW": _A.BATTERY_LOW,
    "BATTERY_LIFETIME_THRESHOLD_EXCEEDED": _A.BATTERY_LOW,
    "PROCESSOR_RESET": _A.SENSOR_ERROR,
    "DETECTOR_ERROR": _A.SENSOR_ERROR,
    "CLOCK_HAND_ERROR": _A.SENSOR_ERROR,
    "MINIMUM_FLOW": _A.OTHER,
    "MAXIMUM_FLOW": _A.OTHER,
    "HIGH_TEMPERATURE": _A.OTHER,
    "WRONG_TEMPERATURE": _A.OTHER,
    "DETECTION_WITHOUT_CHANGES": _A.OTHER,
    # BMeters hydrodigit
    "MAGNETIC_FRAUD_ATTEMPT": _A.TAMPER_MAGNET,
    "SENSOR_FRAUD_ATTEMPT": _A.TAMPER_OTHER,
    "MODULE_REMOVED": _A.REMOVAL,
    # Sensus iPERL (multi-word names, matched with spaces → underscores)
    "EMPTY_PIPE": _A.DRY,
    "DEAD_BATTERY": _A.BATTERY_LOW,
    "CONTINUOUS_FLOW": _A.LEAK,
    "HIGH_FLOW": _A.BURST,
    "CONFIG_ERROR": _A.SENSOR_ERROR,
    "CRITICAL_HARDWARE_WARNING": _A.SENSOR_ERROR,
    "EMF_RANGE": _A.SENSOR_ERROR,
    # OMS telegram status (all drivers)
    "POWER_LOW": _A.BATTERY_LOW,
    "PERMANENT_ERROR": _A.SENSOR_ERROR,
    "TEMPORARY_ERROR": _A.SENSOR_ERROR,
    "ALARM": _A.OTHER,
}
IGNORED_TOKENS = frozenset({"BUSY", "ERROR"})  # OMS communication-layer bits
NO_ALARM_TOKENS = frozenset({"", "OK", "NO_ALARM", "NONE", "BRAK", "BRAK_ALARMOW", "-", "0", "NIE"})
# Per-vendor overrides of VENDOR_TOKENS (vendor = wmbusmeters driver name or a CSV profile's vendor).
VENDOR_OVERRIDES: dict[str, dict[str, AlarmCode]] = {}

# Polish vocabulary (reference §3.3), folded (lower-case, no diacritics). The longest matching term wins.
POLISH_TERMS: dict[str, AlarmCode] = {
    "wyciek": _A.LEAK,
    "ciagly pobor": _A.LEAK,
    "ciagly przeplyw": _A.LEAK,
    "nieszczelnosc": _A.LEAK,
    "duzy przeplyw": _A.BURST,
    "przekroczenie przeplywu": _A.BURST,
    "awaria": _A.BURST,
    "pekniecie": _A.BURST,
    "przeplyw wsteczny": _A.BACKFLOW,
    "przeplyw zwrotny": _A.BACKFLOW,
    "objetosc wsteczna": _A.BACKFLOW,
    "wsteczn": _A.BACKFLOW,
    "magnes": _A.TAMPER_MAGNET,
    "pole magnetyczne": _A.TAMPER_MAGNET,
    "ingerencja magnetyczna": _A.TAMPER_MAGNET,
    "ingerencja": _A.TAMPER_OTHER,
    "manipulacja": _A.TAMPER_OTHER,
    "sabotaz": _A.TAMPER_OTHER,
    "swiatlo": _A.TAMPER_OTHER,
    "optyczn": _A.TAMPER_OTHER,
    "demontaz": _A.REMOVAL,
    "zdjecie nakladki": _A.REMOVAL,
    "odlaczenie nakladki": _A.REMOVAL,
    "odlaczenie modulu": _A.REMOVAL,
    "brak wody": _A.DRY,
    "pusta rura": _A.DRY,
    "suchy": _A.DRY,
    "bateri": _A.BATTERY_LOW,
    "blad": _A.SENSOR_ERROR,
    "uszkodzenie": _A.SENSOR_ERROR,
    "awaria czujnika": _A.SENSOR_ERROR,
    "blad pomiaru": _A.SENSOR_ERROR,
    "brak ruchu": _A.NO_USAGE,
    "brak przeplywu": _A.NO_USAGE,
    "brak zuzycia": _A.NO_USAGE,
    "zablokowany": _A.NO_USAGE,
    "zatrzymany": _A.NO_USAGE,
    "przeplyw minimalny": _A.OTHER,
    "przeplyw maksymalny": _A.OTHER,
    "temperatura": _A.OTHER,
}
_HISTORIC_WORDS = re.compile(r"\b(zapamietan\w*|historyczn\w*|poprzedni\w*)\b")
_STATE_SUFFIX = re.compile(r"^(?P<token>.+?):(?P<state>active|historic)$", re.IGNORECASE)
_STATE_NOTE = re.compile(r"\(\s*(zapamietan\w*|historyczn\w*|poprzedni\w*|aktywn\w*)\s*\)")
_IDENT_TOKENS = re.compile(r"^[A-Z0-9_]+(\s+[A-Z0-9_]+)*$")
_UNKNOWN_BIT = re.compile(r"^UNKNOWN_[0-9A-F]{1,4}$")
_SPLIT_LIST = re.compile(r"[;,\n|]")


def fold(text: str) -> str:
    """Lower-case, strip diacritics (also ``ł``), collapse whitespace.

    >>> fold("  Przepływ   WSTECZNY (zapamiętany) ")
    'przeplyw wsteczny (zapamietany)'
    """
    text = text.replace("ł", "l").replace("Ł", "L")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())


def map_alarm_token(token: str, *, vendor: str | None = None, historic: bool = False) -> Flag | None:
    """Map one token or phrase; ``None`` for no-alarm and ignored (BUSY/ERROR) tokens.

    >>> flag = map_alarm_token("P_MAGNETIC_FIELD")
    >>> flag.code.value, flag.state.value, flag.raw
    ('tamper_magnet', 'historic', 'P_MAGNETIC_FIELD')
    >>> map_alarm_token("Wyciek (aktywny)").code, map_alarm_token("BUSY"), map_alarm_token("FOO_BAR").code
    (<AlarmCode.LEAK: 'leak'>, None, <AlarmCode.OTHER: 'other'>)
    """
    raw = token.strip()
    state = FlagState.HISTORIC if historic else FlagState.ACTIVE
    suffixed = _STATE_SUFFIX.match(raw)  # our own "code:historic" form (gmina CSV)
    base = suffixed.group("token") if suffixed else raw
    if suffixed and suffixed.group("state").lower() == "historic":
        state = FlagState.HISTORIC
    key = re.sub(r"[\s-]+", "_", base.upper())
    if key.startswith("PREV_"):
        key, state = key[5:], FlagState.HISTORIC
    elif key.startswith("P_"):
        key, state = key[2:], FlagState.HISTORIC
    for suffix in ("_PREV_MONTH", "_THIS_MONTH"):
        if key.endswith(suffix):
            key, state = key[: -len(suffix)], FlagState.HISTORIC
    if key in NO_ALARM_TOKENS:
        return None
    if key in IGNORED_TOKENS:
        return None
    overrides = VENDOR_OVERRIDES.get(vendor.lower(), {}) if vendor else {}
    code = overrides.get(key) or VENDOR_TOKENS.get(key)
    if code is not None:
        return Flag(code, state, raw)
    if _UNKNOWN_BIT.match(key):
        return Flag(AlarmCode.OTHER, state, raw)
    return _map_polish(raw, historic=historic)


def _map_polish(raw: str, *, historic: bool) -> Flag | None:
    folded = fold(raw)
    state = FlagState.HISTORIC if historic or _HISTORIC_WORDS.search(folded) else FlagState.ACTIVE
    phrase = " ".join(_STATE_NOTE.sub(" ", folded).split())
    if phrase.replace(" ", "_").upper() in NO_ALARM_TOKENS:
        return None
    best: tuple[int, AlarmCode] | None = None
    for term, code in POLISH_TERMS.items():
        if term in phrase and (best is None or len(term) > best[0]):
            best = (len(term), code)
    return Flag(best[1] if best else AlarmCode.OTHER, state, raw)


def _is_phrase(part: str) -> bool:
    """An upper-case multi-word part that is one alarm ("REVERSE FLOW", "PRZEPLYW WSTECZNY")."""
    if " " not in part:
        return True
    if re.sub(r"\s+", "_", part) in VENDOR_TOKENS:
        return True
    phrase = fold(part)
    if _HISTORIC_WORDS.search(phrase) or re.search(r"\baktywn", phrase):
        return True
    return any(term in phrase for term in POLISH_TERMS if " " in term)


def map_alarm_tokens(text: str | None, *, vendor: str | None = None, historic: bool = False) -> list[Flag]:
    """Split an alarm text and map every part; duplicates are removed, order is kept.

    Splitting: ``;``, ``,``, ``|`` and newlines always separate (izar lists, CSV cells); a remaining part
    made only of upper-case identifiers is split on spaces (wmbusmeters ``status``) unless it names one
    known multi-word alarm ("REVERSE FLOW", "PRZEPLYW WSTECZNY"); any other part is one phrase
    ("Reverse Flow", "Przepływ wsteczny").

    >>> [(f.code.value, f.state.value) for f in map_alarm_tokens("LEAK TAMPER")]
    [('leak', 'active'), ('tamper_other', 'active')]
    >>> [(f.code.value, f.state.value) for f in map_alarm_tokens("Magnes (zapamiętany); Przepływ wsteczny")]
    [('tamper_magnet', 'historic'), ('backflow', 'active')]
    >>> map_alarm_tokens("OK"), map_alarm_tokens("no_alarm"), map_alarm_tokens("")
    ([], [], [])
    """
    if not text:
        return []
    flags: list[Flag] = []
    for part in _SPLIT_LIST.split(text):
        part = part.strip()
        if not part:
            continue
        tokens = part.split() if _IDENT_TOKENS.match(part) and not _is_phrase(part) else [part]
        for token in tokens:
            flag = map_alarm_token(token, vendor=vendor, historic=historic)
            if flag is not None and flag not in flags:
                flags.append(flag)
    return flags
