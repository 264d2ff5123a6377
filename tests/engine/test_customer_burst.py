"""Customer burst: three hours at 220 L/h are evidence only (one inner hour cannot show a steady flow); a fourth
steady hour raises it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from gmina.engine.base import EngineInput, run_detectors
from gmina.engine.frames import METERS, UTC_US

T0 = datetime(2025, 3, 2, 23, tzinfo=UTC)  # local midnight (CET) starting Monday 3 March 2025
ZONE, INLET, METER = 1, 900, 1
DAYS = 24
ONSET = (DAYS - 1) * 24 + 11  # 11:00 UTC on the last day


def _data(run_hours: int) -> EngineInput:
    hours = DAYS * 24
    day_hour = np.arange(hours) % 24
    use = np.where((day_hour >= 6) & (day_hour < 22), 40.0, 0.0)  # a household: 40 L/h by day, still nights
    use[day_hour == 7] = 100.0  # the morning peak
    use[ONSET : ONSET + run_hours] = 220.0  # the run under test (the last hours of the grid)
    index = np.r_[0.0, np.cumsum(use)].astype(np.int64)
    at = [T0 + timedelta(hours=h) for h in range(hours + 1)]
    n = ONSET + run_hours + 1  # the grid ends with the run: an ongoing flow
    readings = pl.concat(
        [
            pl.DataFrame({"meter_id": [METER] * n, "observed_at": at[:n], "index_l": index[:n]}),
            pl.DataFrame({"meter_id": [INLET] * n, "observed_at": at[:n], "index_l": np.arange(n) * 500}),
        ]
    ).with_columns(pl.col("observed_at").cast(UTC_US))
    meters = pl.DataFrame(
        {
            "meter_id": [METER, INLET],
            "zone_id": [ZONE, ZONE],
            "kind": ["customer", "zone"],
            "dn_mm": [15, 100],
            "q3_m3h": [2.5, 100.0],
            "register_capacity_l": [None, None],
        },
        schema=METERS.dtypes,
    )
    boundary = pl.DataFrame({"zone_id": [ZONE], "meter_id": [INLET], "direction": ["in"]})
    return EngineInput(readings, meters, T0 + timedelta(hours=n - 1), boundary)


@pytest.mark.parametrize(("run_hours", "confidence"), [(3, 0.45), (4, 0.82)])
def test_a_steady_run_is_raised_from_its_fourth_hour(run_hours: int, confidence: float) -> None:
    out = run_detectors(_data(run_hours), only=["customer_burst"])
    assert out["location_id"].to_list() == [METER]
    assert out["confidence"][0] == pytest.approx(confidence)
    assert out["end"][0] is None  # still flowing
