"""The alarm taxonomy and the versioned mapping table (reference §3)."""

from __future__ import annotations

import pytest

from gmina.ingest import ALARM_TABLE_VERSION, AlarmCode, Flag, map_alarm_token, map_alarm_tokens
from gmina.ingest.schema import FlagState

A = AlarmCode
ACTIVE, HISTORIC = FlagState.ACTIVE, FlagState.HISTORIC


def test_canonical_codes() -> None:
    assert [c.value for c in AlarmCode] == [
        "leak", "burst", "backflow", "tamper_magnet", "tamper_other", "removal", "dry", "battery_low",
        "sensor_error", "no_usage", "other",
    ]  # fmt: skip
    assert isinstance(ALARM_TABLE_VERSION, str) and ALARM_TABLE_VERSION


@pytest.mark.parametrize(
    ("token", "code", "state"),
    [
        # Kamstrup
        ("LEAK", A.LEAK, ACTIVE),
        ("BURST", A.BURST, ACTIVE),
        ("REVERSE", A.BACKFLOW, ACTIVE),
        ("TAMPER", A.TAMPER_OTHER, ACTIVE),
        ("DRY", A.DRY, ACTIVE),
        ("LOW_BATTERY", A.BATTERY_LOW, ACTIVE),
        ("NO_CONSUMPTION", A.NO_USAGE, ACTIVE),
        ("FLOW_ABOVE_Q4", A.OTHER, ACTIVE),
        ("LOW_ABIENT_TEMPERATURE", A.OTHER, ACTIVE),
        ("LOW_AMBIENT_TEMPERATURE", A.OTHER, ACTIVE),
        ("High Ambient Temperature", A.OTHER, ACTIVE),
        ("Leak", A.LEAK, ACTIVE),
        ("Low Battery", A.BATTERY_LOW, ACTIVE),
        ("Reverse", A.BACKFLOW, ACTIVE),
        # Diehl IZAR
        ("leakage", A.LEAK, ACTIVE),
        ("LEAKAGE", A.LEAK, ACTIVE),
        ("PREV_LEAKAGE", A.LEAK, HISTORIC),
        ("back_flow", A.BACKFLOW, ACTIVE),
        ("BACK_FLOW", A.BACKFLOW, ACTIVE),
        ("meter_blocked", A.NO_USAGE, ACTIVE),
        ("SENSOR_FRAUD", A.TAMPER_MAGNET, ACTIVE),
        ("PREV_SENSOR_FRAUD", A.TAMPER_MAGNET, HISTORIC),
        ("mechanical_fraud", A.REMOVAL, ACTIVE),
        ("PREV_MECHANICAL_FRAUD", A.REMOVAL, HISTORIC),
        ("overflow", A.OTHER, ACTIVE),
        ("underflow", A.OTHER, ACTIVE),
        ("submarine", A.OTHER, ACTIVE),
        ("general_alarm", A.OTHER, ACTIVE),
        # Apator
        ("P_LEAK", A.LEAK, HISTORIC),
        ("REVERSE_FLOW", A.BACKFLOW, ACTIVE),
        ("MAGNETIC_FIELD", A.TAMPER_MAGNET, ACTIVE),
        ("P_MAGNETIC_FIELD", A.TAMPER_MAGNET, HISTORIC),
        ("STRONG_LIGHT", A.TAMPER_OTHER, ACTIVE),
        ("P_STRONG_LIGHT", A.TAMPER_OTHER, HISTORIC),
        ("DEVICE_DISCONNECTED", A.REMOVAL, ACTIVE),
        ("MBUS_DISCONNECTED", A.REMOVAL, ACTIVE),
        ("MEASUREMENT_UNCHANGED", A.NO_USAGE, ACTIVE),
        ("NO_FLOW", A.NO_USAGE, ACTIVE),
        ("BATTERY_LOW", A.BATTERY_LOW, ACTIVE),
        ("BATTERY_LIFETIME_THRESHOLD_EXCEEDED", A.BATTERY_LOW, ACTIVE),
        ("PROCESSOR_RESET", A.SENSOR_ERROR, ACTIVE),
        ("P_DETECTOR_ERROR", A.SENSOR_ERROR, HISTORIC),
        ("P_CLOCK_HAND_ERROR", A.SENSOR_ERROR, HISTORIC),
        ("MINIMUM_FLOW", A.OTHER, ACTIVE),
        ("MAXIMUM_FLOW", A.OTHER, ACTIVE),
        ("HIGH_TEMPERATURE", A.OTHER, ACTIVE),
        ("WRONG_TEMPERATURE", A.OTHER, ACTIVE),
        ("LEAK_PREV_MONTH", A.LEAK, HISTORIC),
        # BMeters hydrodigit
        ("MAGNETIC_FRAUD_ATTEMPT", A.TAMPER_MAGNET, ACTIVE),
        ("SENSOR_FRAUD_ATTEMPT", A.TAMPER_OTHER, ACTIVE),
        ("MODULE_REMOVED", A.REMOVAL, ACTIVE),
        # Sensus iPERL
        ("Reverse Flow", A.BACKFLOW, ACTIVE),
        ("Empty Pipe", A.DRY, ACTIVE),
        ("Dead Battery", A.BATTERY_LOW, ACTIVE),
        ("Continuous Flow", A.LEAK, ACTIVE),
        ("High Flow", A.BURST, ACTIVE),
        ("Config Error", A.SENSOR_ERROR, ACTIVE),
        ("Critical Hardware Warning", A.SENSOR_ERROR, ACTIVE),
        ("EMF Range", A.SENSOR_ERROR, ACTIVE),
        # Itron Cyble (Polish descriptions)
        ("dni z wyciekiem", A.LEAK, ACTIVE),
        ("rejestr detekcji wstecznego odczytu", A.BACKFLOW, ACTIVE),
        ("próby nielegalnego demontażu", A.REMOVAL, ACTIVE),
        ("próby magnesowania", A.TAMPER_MAGNET, ACTIVE),
        # OMS
        ("POWER_LOW", A.BATTERY_LOW, ACTIVE),
        ("PERMANENT_ERROR", A.SENSOR_ERROR, ACTIVE),
        ("TEMPORARY_ERROR", A.SENSOR_ERROR, ACTIVE),
        ("ALARM", A.OTHER, ACTIVE),
        ("UNKNOWN_E0", A.OTHER, ACTIVE),
        # our own codes
        ("tamper_magnet", A.TAMPER_MAGNET, ACTIVE),
        ("no_usage:historic", A.NO_USAGE, HISTORIC),
    ],
)
def test_vendor_tokens(token: str, code: AlarmCode, state: FlagState) -> None:
    assert map_alarm_token(token) == Flag(code, state, token)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Wyciek", A.LEAK),
        ("ciągły pobór", A.LEAK),
        ("Ciągły przepływ", A.LEAK),
        ("nieszczelność", A.LEAK),
        ("Duży przepływ", A.BURST),
        ("przekroczenie przepływu", A.BURST),
        ("Awaria", A.BURST),
        ("pęknięcie rury", A.BURST),
        ("Przepływ wsteczny", A.BACKFLOW),
        ("PRZEPLYW WSTECZNY", A.BACKFLOW),
        ("przepływ zwrotny", A.BACKFLOW),
        ("objętość wsteczna", A.BACKFLOW),
        ("Magnes", A.TAMPER_MAGNET),
        ("zewnętrzne pole magnetyczne", A.TAMPER_MAGNET),
        ("magnesowanie", A.TAMPER_MAGNET),
        ("ingerencja magnetyczna", A.TAMPER_MAGNET),
        ("Ingerencja", A.TAMPER_OTHER),
        ("manipulacja", A.TAMPER_OTHER),
        ("sabotaż", A.TAMPER_OTHER),
        ("światło (optyczny)", A.TAMPER_OTHER),
        ("demontaż", A.REMOVAL),
        ("zdjęcie nakładki", A.REMOVAL),
        ("Odłączenie nakładki od wodomierza", A.REMOVAL),
        ("odłączenie modułu", A.REMOVAL),
        ("brak wody", A.DRY),
        ("pusta rura", A.DRY),
        ("suchy", A.DRY),
        ("bateria", A.BATTERY_LOW),
        ("Niski stan baterii", A.BATTERY_LOW),
        ("rozładowana bateria", A.BATTERY_LOW),
        ("Błąd", A.SENSOR_ERROR),
        ("uszkodzenie", A.SENSOR_ERROR),
        ("awaria czujnika", A.SENSOR_ERROR),
        ("błąd pomiaru", A.SENSOR_ERROR),
        ("Brak ruchu wodomierza", A.NO_USAGE),
        ("brak przepływu", A.NO_USAGE),
        ("brak zużycia", A.NO_USAGE),
        ("wodomierz zablokowany", A.NO_USAGE),
        ("wodomierz zatrzymany", A.NO_USAGE),
        ("przepływ minimalny", A.OTHER),
        ("Przepływ maksymalny", A.OTHER),
        ("temperatura", A.OTHER),
    ],
)
def test_polish_terms(text: str, code: AlarmCode) -> None:
    assert map_alarm_tokens(text) == [Flag(code, ACTIVE, text)]


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Wyciek (aktywny)", ACTIVE),
        ("Wyciek (zapamiętany)", HISTORIC),
        ("WYCIEK (ZAPAMIETANY)", HISTORIC),
        ("wyciek zapamiętany", HISTORIC),
        ("Wyciek aktywny", ACTIVE),
        ("WYCIEK ZAPAMIETANY", HISTORIC),
        ("WYCIEK AKTYWNY", ACTIVE),
    ],
)
def test_polish_state(text: str, state: FlagState) -> None:
    assert map_alarm_tokens(text) == [Flag(A.LEAK, state, text)]


@pytest.mark.parametrize(
    "text", ["", "OK", "ok", "no_alarm", "BUSY", "ERROR", "BUSY ERROR", "Brak", "brak alarmów", None]
)
def test_no_flags(text: str | None) -> None:
    assert map_alarm_tokens(text) == []


def test_splitting() -> None:
    assert [f.code for f in map_alarm_tokens("LEAK TAMPER")] == [A.LEAK, A.TAMPER_OTHER]
    assert [f.code for f in map_alarm_tokens("BUSY LEAK ERROR")] == [A.LEAK]
    assert [(f.code, f.state) for f in map_alarm_tokens("leakage,sensor_fraud")] == [
        (A.LEAK, ACTIVE),
        (A.TAMPER_MAGNET, ACTIVE),
    ]
    assert map_alarm_tokens("Magnes (zapamiętany); Przepływ wsteczny") == [
        Flag(A.TAMPER_MAGNET, HISTORIC, "Magnes (zapamiętany)"),
        Flag(A.BACKFLOW, ACTIVE, "Przepływ wsteczny"),
    ]
    assert map_alarm_tokens("leak;battery_low") == [
        Flag(A.LEAK, ACTIVE, "leak"),
        Flag(A.BATTERY_LOW, ACTIVE, "battery_low"),
    ]
    assert map_alarm_tokens("LEAK LEAK") == [Flag(A.LEAK, ACTIVE, "LEAK")]


def test_previous_alarms_are_historic() -> None:
    assert map_alarm_tokens("leakage,mechanical_fraud", vendor="izar", historic=True) == [
        Flag(A.LEAK, HISTORIC, "leakage"),
        Flag(A.REMOVAL, HISTORIC, "mechanical_fraud"),
    ]


@pytest.mark.parametrize("token", ["FOO_BAR", "Zupełnie nowy alarm", "XYZ"])
def test_unknown_tokens_are_kept_as_other(token: str) -> None:
    assert map_alarm_tokens(token) == [Flag(A.OTHER, ACTIVE, token)]
