"""The event catalogue: classes, families, documented magnitude ranges and the ground-truth label.

Ranges deliberately include the hard small cases (reviewed against the literature cited per range):

* network leak (incipient, growing): 1–8 % of the zone's mean inflow at full size, growing over 3–21
  days (UKWIR/IWA background and reported leakage; 1 % is below typical night-flow noise);
* network burst (abrupt): 10–60 % of the zone's mean inflow, repaired after 4 h–3 days;
* customer-side leak: 3–60 L/h, log-uniform (a running toilet or dripping valve starts at a few L/h;
  DeOreo et al., Residential End Uses of Water v2, 2016: leaks median ~ 2–4 L/h, long tail);
* customer-side burst: 150–1500 L/h for 2–36 h (a burst pipe behind the meter, frost);
* under-registration: 5–30 % at full drift, reached over 7–45 days (ageing meters; Arregui et al. 2006);
* index spike: one reading off by +10⁴…10⁷ L (transmission/decoding error); rollback: the index drops by
  50 L–20 m³ and continues from there (module reset, wrong reprogramming);
* bypass/tampering: registration falls to 0–20 % of the true use (pipe around the meter, magnet);
* illegal connection: an unmetered, consumption-shaped draw of 0.3–3 m³/day at a junction;
* non-events that must not alarm: vacation (7–21 days of zero use), a new tenant (use level ×0.3…×3),
  the garden watering season, filling a pool (8–30 m³ at 15–25 L/min).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventClass(StrEnum):
    NETWORK_LEAK = "network_leak"
    NETWORK_BURST = "network_burst"
    CUSTOMER_LEAK = "customer_leak"
    CUSTOMER_BURST = "customer_burst"
    METER_STUCK = "meter_stuck"
    UNDER_REGISTRATION = "under_registration"
    REVERSE_INSTALLATION = "reverse_installation"
    INDEX_SPIKE = "index_spike"
    INDEX_ROLLBACK = "index_rollback"
    COMM_LOSS = "comm_loss"
    METER_REPLACEMENT = "meter_replacement"
    METER_BYPASS = "meter_bypass"
    ILLEGAL_CONNECTION = "illegal_connection"
    VACATION = "vacation"
    NEW_TENANT = "new_tenant"
    GARDEN_WATERING = "garden_watering"
    POOL_FILLING = "pool_filling"


class Family(StrEnum):
    METER_FAILURE = "meter_failure"
    NETWORK_FAILURE = "network_failure"
    UNAUTHORIZED_DRAW = "unauthorized_draw"
    NONE = "none"  # not an anomaly: must not alarm


E = EventClass
FAMILY: dict[EventClass, Family] = {
    E.NETWORK_LEAK: Family.NETWORK_FAILURE,
    E.NETWORK_BURST: Family.NETWORK_FAILURE,
    E.CUSTOMER_LEAK: Family.NETWORK_FAILURE,
    E.CUSTOMER_BURST: Family.NETWORK_FAILURE,
    E.METER_STUCK: Family.METER_FAILURE,
    E.UNDER_REGISTRATION: Family.METER_FAILURE,
    E.REVERSE_INSTALLATION: Family.METER_FAILURE,
    E.INDEX_SPIKE: Family.METER_FAILURE,
    E.INDEX_ROLLBACK: Family.METER_FAILURE,
    E.COMM_LOSS: Family.METER_FAILURE,
    E.METER_BYPASS: Family.UNAUTHORIZED_DRAW,
    E.ILLEGAL_CONNECTION: Family.UNAUTHORIZED_DRAW,
    E.METER_REPLACEMENT: Family.NONE,
    E.VACATION: Family.NONE,
    E.NEW_TENANT: Family.NONE,
    E.GARDEN_WATERING: Family.NONE,
    E.POOL_FILLING: Family.NONE,
}

ANOMALIES = tuple(c for c in EventClass if FAMILY[c] is not Family.NONE)
NON_EVENTS = tuple(c for c in EventClass if FAMILY[c] is Family.NONE)
ZONE_CLASSES = (E.NETWORK_LEAK, E.NETWORK_BURST, E.ILLEGAL_CONNECTION)
"""Located at a pipe or junction of a zone; every other class is located at a meter."""

RANGES: dict[EventClass, tuple[float, float, str]] = {
    E.NETWORK_LEAK: (0.01, 0.08, "fraction of zone mean inflow at full size"),
    E.NETWORK_BURST: (0.10, 0.60, "fraction of zone mean inflow"),
    E.CUSTOMER_LEAK: (3.0, 60.0, "L/h"),
    E.CUSTOMER_BURST: (150.0, 1500.0, "L/h"),
    E.METER_STUCK: (0.0, 0.0, "registration factor"),
    E.UNDER_REGISTRATION: (0.05, 0.30, "fraction not registered at full drift"),
    E.REVERSE_INSTALLATION: (-1.0, -1.0, "registration factor"),
    E.INDEX_SPIKE: (1e4, 1e7, "L added to one reading"),
    E.INDEX_ROLLBACK: (50.0, 20000.0, "L the index drops"),
    E.COMM_LOSS: (3.0, 21.0, "days without readings"),
    E.METER_REPLACEMENT: (0.0, 30.0, "L on the new meter"),
    E.METER_BYPASS: (0.0, 0.20, "registration factor while bypassed"),
    E.ILLEGAL_CONNECTION: (300.0, 3000.0, "L/day, consumption-shaped"),
    E.VACATION: (7.0, 21.0, "days of zero use"),
    E.NEW_TENANT: (0.3, 3.0, "use level factor"),
    E.GARDEN_WATERING: (0.0, 0.0, "season"),
    E.POOL_FILLING: (8.0, 30.0, "m³"),
}
DURATION_DAYS: dict[EventClass, tuple[float, float]] = {
    E.NETWORK_LEAK: (3.0, 21.0),  # growth time; the leak runs until the end of the scenario
    E.NETWORK_BURST: (4 / 24, 3.0),
    E.CUSTOMER_LEAK: (7.0, 60.0),
    E.CUSTOMER_BURST: (2 / 24, 36 / 24),
    E.UNDER_REGISTRATION: (7.0, 45.0),  # ramp time; the drift stays
    E.COMM_LOSS: (3.0, 21.0),
    E.VACATION: (7.0, 21.0),
}


@dataclass
class Label:
    """Ground truth of one injected event (or non-event). Times are UTC; ``end`` None = still running."""

    event_id: str
    event_class: EventClass
    start: datetime
    end: datetime | None
    zone: str
    location_kind: str  # meter | pipe | junction
    meter: str | None = None
    service_point: str | None = None
    junction: str | None = None
    pipe: str | None = None
    magnitude: float = 0.0
    unit: str = ""
    loss_m3: float = 0.0  # water lost (real loss) or not billed (apparent loss) inside the scenario
    loss_lph: float = 0.0  # mean rate of that loss while the event runs (L/h)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> Family:
        return FAMILY[self.event_class]

    @property
    def anomaly(self) -> bool:
        return self.family is not Family.NONE

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["event_class"] = self.event_class.value
        data["family"] = self.family.value
        data["anomaly"] = self.anomaly
        data["start"] = _iso(self.start)
        data["end"] = _iso(self.end) if self.end is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Label:
        values = {k: v for k, v in data.items() if k not in ("family", "anomaly")}
        values["event_class"] = EventClass(values["event_class"])
        values["start"] = datetime.fromisoformat(values["start"])
        values["end"] = datetime.fromisoformat(values["end"]) if values.get("end") else None
        return cls(**values)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


DEFAULT_COUNTS: dict[EventClass, int] = {
    **dict.fromkeys(ZONE_CLASSES, 1),
    **{c: 2 for c in EventClass if c not in ZONE_CLASSES and c is not E.GARDEN_WATERING},
}
"""Default events per zone (garden watering is labelled wherever it happens, not planned)."""
