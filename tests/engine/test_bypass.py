"""Bypass: a household away over a long holiday weekend is not a bypass until working days show the fall too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from gmina.engine.base import EngineInput, run_detectors
from gmina.engine.frames import METERS, UTC_US

T0 = datetime(2025, 3, 2, 23, tzinfo=UTC)  # local midnight (CET) starting Monday 3 March 2025
ZONE, INLET = 1, 900
DAYS = 50  # to local midnight after Easter Monday, 21 April 2025 (CEST from 30 March)
EASTER_AWAY = (46, 50)  # Good Friday 18 April (a working day in Poland) to Easter Monday
BYPASSED_FROM = 36  # Tuesday 8 April


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(7)
    hours = DAYS * 24 - 1  # summer time: the last local day ends at 22:00 UTC
    meters = list(range(1, 31))
    frames = []
    for m in meters:
        level = np.full(hours, 300.0 / 24.0) * rng.uniform(0.9, 1.1, hours)
        day = np.arange(hours) // 24
        if m == 1:
            level[day >= BYPASSED_FROM] *= 0.15
        if m == 2:
            level[(day >= EASTER_AWAY[0]) & (day < EASTER_AWAY[1])] = 5.0 / 24.0  # a dripping tap
        index = np.r_[0.0, np.cumsum(level)].round().astype(np.int64)
        frames.append(
            pl.DataFrame(
                {
                    "meter_id": np.full(hours + 1, m, dtype=np.int64),
                    "observed_at": [T0 + timedelta(hours=h) for h in range(hours + 1)],
                    "index_l": index,
                }
            )
        )
    frames.append(
        pl.DataFrame(
            {
                "meter_id": np.full(hours + 1, INLET, dtype=np.int64),
                "observed_at": [T0 + timedelta(hours=h) for h in range(hours + 1)],
                "index_l": np.arange(hours + 1, dtype=np.int64) * 400,
            }
        )
    )
    readings = pl.concat(frames).with_columns(pl.col("observed_at").cast(UTC_US))
    meter_frame = pl.DataFrame(
        {
            "meter_id": [*meters, INLET],
            "zone_id": [ZONE] * (len(meters) + 1),
            "kind": ["customer"] * len(meters) + ["zone"],
            "dn_mm": [15] * len(meters) + [100],
            "q3_m3h": [2.5] * len(meters) + [100.0],
            "register_capacity_l": [None] * (len(meters) + 1),
        },
        schema=METERS.dtypes,
    )
    return readings, meter_frame


def test_an_easter_absence_is_not_a_bypass_and_a_bypass_still_is() -> None:
    readings, meters = _frames()
    boundary = pl.DataFrame({"zone_id": [ZONE], "meter_id": [INLET], "direction": ["in"]})
    as_of = T0 + timedelta(days=DAYS, hours=-1)
    out = run_detectors(EngineInput(readings, meters, as_of, boundary), only=["bypass"])
    # meter 2's four low days (Friday to Easter Monday) hold one working day: not judged yet
    assert out["location_id"].to_list() == [1]
    assert out["confidence"][0] == 0.75  # two weeks low: sure
