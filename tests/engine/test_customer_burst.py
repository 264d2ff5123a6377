"""Customer burst: three hours at 220 L/h are evidence only (one inner hour cannot show a steady flow); a fourth
steady hour raises it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from gmina.engine.base import EngineInput, run_detectors
from tests.engine.one_zone import BOUNDARY, INLET, meters, readings

T0 = datetime(2025, 3, 2, 23, tzinfo=UTC)  # local midnight (CET) starting Monday 3 March 2025
METER = 1
DAYS = 24
ONSET = (DAYS - 1) * 24 + 11  # 11:00 UTC on the last day


def _data(run_hours: int) -> EngineInput:
    hours = DAYS * 24
    day_hour = np.arange(hours) % 24
    use = np.where((day_hour >= 6) & (day_hour < 22), 40.0, 0.0)  # a household: 40 L/h by day, still nights
    use[day_hour == 7] = 100.0  # the morning peak
    use[ONSET : ONSET + run_hours] = 220.0  # the run under test (the last hours of the grid)
    n = ONSET + run_hours + 1  # the grid ends with the run: an ongoing flow
    at = np.arange(n)
    index = np.r_[0.0, np.cumsum(use)][:n]
    frames = pl.concat([readings(T0, METER, at, index), readings(T0, INLET, at, at * 500)])
    return EngineInput(frames, meters([METER]), T0 + timedelta(hours=n - 1), BOUNDARY)


@pytest.mark.parametrize(("run_hours", "confidence"), [(3, 0.45), (4, 0.82)])
def test_a_steady_run_is_raised_from_its_fourth_hour(run_hours: int, confidence: float) -> None:
    out = run_detectors(_data(run_hours), only=["customer_burst"])
    assert out["location_id"].to_list() == [METER]
    assert out["confidence"][0] == pytest.approx(confidence)
    assert out["end"][0] is None  # still flowing
