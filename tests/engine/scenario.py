"""A labelled synthetic scenario for the engine tests: 4 zones × 60 households, hourly, 60 days, seeded.

Households draw water as a compound Poisson process on a double-peaked diurnal shape (night hours are mostly
still); zone inlets see the true consumption plus background leakage plus the injected network events, with 0.5 %
meter noise. Injected faults change what a meter *registers*; injected non-events change what is *consumed*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from gmina.engine.base import EngineInput
from gmina.engine.frames import EVENTS, METERS, UTC_US

T0 = datetime(2025, 5, 1, tzinfo=UTC)
DAYS = 60
H = DAYS * 24
ZONES = (1, 2, 3, 4)
PER_ZONE = 60
SHAPE = np.array([3, 1, 1, 1, 2, 8, 20, 26, 18, 12, 10, 10, 11, 10, 9, 9, 11, 15, 20, 22, 20, 16, 10, 5], float)


def hour(day: float, h: int = 0) -> int:
    return int(day * 24) + h


@dataclass(frozen=True)
class Label:
    alert_class: str
    location_kind: str
    location_id: int
    start_h: int
    end_h: int | None = None


@dataclass
class Scenario:
    data: EngineInput
    labels: list[Label]
    non_event_meters: set[int] = field(default_factory=set)

    def at(self, as_of_h: int) -> EngineInput:
        """The same scenario seen at an earlier instant (hours since T0)."""
        as_of = T0 + timedelta(hours=as_of_h)
        r = self.data.readings.filter(pl.col("observed_at") <= as_of)
        return EngineInput(r, self.data.meters, as_of, self.data.boundary, self.data.events)


def build(seed: int = 7) -> Scenario:
    rng = np.random.default_rng(seed)
    ids = np.array([z * 1000 + i for z in ZONES for i in range(PER_ZONE)], dtype=np.int64)
    n = ids.size
    row = {int(m): i for i, m in enumerate(ids)}

    local = (np.arange(H) + 2) % 24  # CEST in May–June
    daily = rng.lognormal(np.log(280.0), 0.45, n)
    daily[row[4003]] = 900.0  # the bypass is at a big user
    rate = daily[:, None] / 12.0 * (SHAPE / SHAPE.sum())[local][None, :]
    events = rng.poisson(rate)
    true = rng.gamma(np.maximum(events, 1e-9) * 2.0, 6.0) * (events > 0)  # litres per hour, consumed
    labels: list[Label] = []
    non_events: set[int] = set()

    def cons(mid: int, h0: int, h1: int, add: float | np.ndarray) -> None:
        true[row[mid], h0:h1] += add

    # non-events: what is consumed changes
    for mid, d0, d1 in ((1015, 15, 29), (4030, 40, 50)):  # vacation
        true[row[mid], hour(d0) : hour(d1)] = 0.0
        non_events.add(mid)
    cons(1017, hour(33, 7), hour(33, 21), 1000.0)  # pool fill, 14 h
    non_events.add(1017)
    for mid in range(2030, 2045):  # evening watering on every other dry day
        for d in range(35, 56, 2):
            cons(mid, hour(d, 16), hour(d, 17 + int(rng.integers(0, 2))), 900.0)
        non_events.add(mid)
    r3003 = row[3003]  # new tenant: twice the use from day 30
    true[r3003, hour(30) :] *= 2.0
    non_events.add(3003)
    # customer-side leaks and bursts (consumed and registered)
    for mid, d, lph in ((1005, 25.33, 15.0), (3005, 12.0, 40.0), (4020, 20.5, 25.0)):
        cons(mid, hour(d), H, lph)
        labels.append(Label("customer_leak", "meter", mid, hour(d)))
    for mid, d, hrs, lph in ((2005, 45.58, 10, 2500.0), (1020, 50.25, 6, 3000.0)):
        cons(mid, hour(d), hour(d) + hrs, lph)
        labels.append(Label("customer_burst", "meter", mid, hour(d), hour(d) + hrs))
    registered = true.copy()
    # meter faults: what is registered changes
    for mid, d in ((1003, 20.4), (3010, 25.6)):
        registered[row[mid], hour(d) :] = 0.0
        labels.append(Label("stuck", "meter", mid, hour(d)))
    registered[row[2003], hour(22) :] *= -1.0
    labels.append(Label("reverse_flow", "meter", 2003, hour(22)))
    registered[row[4003], hour(35) :] *= 0.15  # bypass: 85 % of the use goes round the meter
    labels.append(Label("meter_bypass", "meter", 4003, hour(35)))
    true[row[4003]] *= 1.0  # (consumption unchanged: the zone inflow still sees it)
    idx = np.floor(np.cumsum(registered, axis=1)).astype(np.int64) + rng.integers(0, 500_000, n)[:, None]
    for mid, d, drop in ((1007, 30.42, 3000), (3012, 33.7, 5000)):
        idx[row[mid], hour(d) :] -= drop
        labels.append(Label("rollback", "meter", mid, hour(d)))
    for mid, d, jump in ((1009, 35.5, 50_000), (2012, 28.2, 20_000)):
        idx[row[mid], hour(d)] += jump
        labels.append(Label("spike", "meter", mid, hour(d)))
    present = np.ones((n, H), dtype=bool)
    present[row[1011], hour(40, 12) : hour(44, 12)] = False
    labels.append(Label("comm_loss", "meter", 1011, hour(40, 12), hour(44, 12)))
    present[row[1013], hour(57) :] = False
    labels.append(Label("comm_loss", "meter", 1013, hour(57)))
    # zone inlets: true consumption + background leakage + network events, 0.5 % noise
    zone_of = ids // 1000
    leak = np.zeros((len(ZONES), H))
    leak += rng.uniform(100.0, 200.0, (len(ZONES), 1)) * (1.0 + 0.15 * (SHAPE.max() - SHAPE[local]) / SHAPE.max())
    ramp = np.clip((np.arange(H) - hour(30)) / (10 * 24), 0.0, 1.0) * 400.0
    leak[1] += ramp
    labels.append(Label("network_leak", "zone", 2, hour(30)))
    leak[2, hour(40, 3) : hour(42, 3)] += 1500.0  # repaired after two days
    labels.append(Label("network_burst", "zone", 3, hour(40, 3), hour(42, 3)))
    inflow = np.stack([true[zone_of == z].sum(axis=0) for z in ZONES]) + leak
    inflow *= 1.0 + rng.normal(0.0, 0.005, inflow.shape)
    inlet_idx = np.floor(np.cumsum(inflow, axis=1)).astype(np.int64)
    # frames: a reading at the end of each hour
    t_us = (np.arange(1, H + 1, dtype=np.int64) * 3_600 + int(T0.timestamp())) * 1_000_000
    inlet_ids = np.array([9000 + z for z in ZONES], dtype=np.int64)
    all_ids = np.concatenate([ids, inlet_ids])
    all_idx = np.concatenate([idx, inlet_idx])
    all_present = np.concatenate([present, np.ones((len(ZONES), H), bool)])
    readings = pl.DataFrame(
        {
            "meter_id": np.repeat(all_ids, H)[all_present.ravel()],
            "observed_at": np.tile(t_us, all_ids.size)[all_present.ravel()],
            "index_l": all_idx.ravel()[all_present.ravel()],
        }
    ).with_columns(pl.col("observed_at").cast(UTC_US))
    meters = pl.DataFrame(
        {
            "meter_id": all_ids,
            "zone_id": np.concatenate([zone_of, np.array(ZONES)]),
            "kind": ["customer"] * n + ["zone"] * len(ZONES),
            "dn_mm": [15] * n + [100] * len(ZONES),
            "q3_m3h": [2.5] * n + [100.0] * len(ZONES),
            "register_capacity_l": [100_000_000] * (n + len(ZONES)),
        },
        schema=METERS.dtypes,
    )
    boundary = pl.DataFrame({"zone_id": list(ZONES), "meter_id": inlet_ids, "direction": ["in"] * len(ZONES)})
    ev = pl.DataFrame(
        {
            "meter_id": [4003, 1030],
            "code": ["tamper_magnet", "leak"],
            "state": ["active", "active"],
            "first_seen": [T0 + timedelta(hours=hour(35, 2)), T0 + timedelta(hours=hour(30))],
            "last_seen": [T0 + timedelta(hours=H - 1), T0 + timedelta(hours=H - 1)],
            "ended_at": [None, None],
        },
        schema=EVENTS.dtypes,
    )
    non_events.add(1030)  # its leak flag is contradicted by the data
    data = EngineInput(readings, meters, T0 + timedelta(hours=H), boundary, ev)
    return Scenario(data, labels, non_events)
