"""Under-registration drift: a gradual, deepening fall is a case (evidence, below the raise threshold); an office's
weekends and holidays and a new tenant's step are not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from gmina.engine.base import EngineInput, registered_detectors
from gmina.engine.frames import METERS, UTC_US

T0 = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
DAYS = 50  # to 2025-04-22: the last complete days are Easter Saturday, Sunday and Monday
DRIFT, OFFICE, TENANT = 1, 2, 3


def _daily_use() -> dict[int, np.ndarray]:
    rng = np.random.default_rng(7)
    day = np.arange(DAYS)
    noise = rng.lognormal(0.0, 0.05, (3, DAYS))
    share = np.where(day < 15, 1.0, 1.0 - 0.5 * (day - 15) / (DAYS - 15))  # registers ever less: 100 % → 50 %
    dates = [(T0 + timedelta(days=int(d))).date() for d in day]
    weekday = np.array([d.weekday() for d in dates])
    holiday = np.array([d.isoformat() == "2025-04-21" for d in dates])
    return {
        DRIFT: 400.0 * share * noise[0],
        OFFICE: np.where(holiday | (weekday == 6), 150.0, np.where(weekday == 5, 1400.0, 3000.0)) * noise[1],
        TENANT: np.where(day < 25, 400.0, 260.0) * noise[2],
    }


def _input() -> EngineInput:
    frames = []
    hours = np.arange(1, DAYS * 24 + 1)
    for meter, use in _daily_use().items():
        index = np.cumsum(np.repeat(use / 24.0, 24)).round().astype(np.int64)
        frames.append(
            pl.DataFrame(
                {
                    "meter_id": np.full(hours.size, meter, dtype=np.int64),
                    "observed_at": [T0 + timedelta(hours=int(h)) for h in hours],
                    "index_l": index,
                }
            ).with_columns(pl.col("observed_at").cast(UTC_US))
        )
    meters = pl.DataFrame(
        {
            "meter_id": [DRIFT, OFFICE, TENANT],
            "zone_id": [1, 1, 1],
            "kind": ["customer"] * 3,
            "dn_mm": [15] * 3,
            "q3_m3h": [2.5] * 3,
            "register_capacity_l": [None] * 3,
        },
        schema=METERS.dtypes,
    )
    boundary = pl.DataFrame({"zone_id": [1], "meter_id": [900], "direction": ["in"]})
    return EngineInput(pl.concat(frames), meters, T0 + timedelta(days=DAYS), boundary)


def test_a_deepening_fall_is_evidence_and_weekends_and_a_step_are_not() -> None:
    detector = next(d for d in registered_detectors() if d.name == "under_registration")
    out = detector.detect(_input())
    assert out["location_id"].to_list() == [DRIFT]
    case = out.row(0, named=True)
    assert 0.4 <= case["confidence"] < 0.5  # evidence for replacement planning: fusion does not raise it
    evidence = json.loads(case["evidence"])
    assert 0.55 <= evidence["registered_share"] <= 0.8
    assert case["start"] >= T0 + timedelta(days=12)
