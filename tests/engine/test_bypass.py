"""Bypass: a household away over a long holiday weekend is not a bypass until working days show the fall too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from gmina.engine.base import EngineInput, run_detectors
from tests.engine.one_zone import BOUNDARY, INLET, meters, readings

T0 = datetime(2025, 3, 2, 23, tzinfo=UTC)  # local midnight (CET) starting Monday 3 March 2025
CUSTOMERS = list(range(1, 31))
DAYS = 50  # to local midnight after Easter Monday, 21 April 2025 (CEST from 30 March)
EASTER_AWAY = (46, 50)  # Good Friday 18 April (a working day in Poland) to Easter Monday
BYPASSED_FROM = 36  # Tuesday 8 April


def _readings() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    hours = DAYS * 24 - 1  # summer time: the last local day ends at 22:00 UTC
    at = np.arange(hours + 1)
    frames = []
    for m in CUSTOMERS:
        level = np.full(hours, 300.0 / 24.0) * rng.uniform(0.9, 1.1, hours)
        day = np.arange(hours) // 24
        if m == 1:
            level[day >= BYPASSED_FROM] *= 0.15
        if m == 2:
            level[(day >= EASTER_AWAY[0]) & (day < EASTER_AWAY[1])] = 5.0 / 24.0  # a dripping tap
        frames.append(readings(T0, m, at, np.r_[0.0, np.cumsum(level)].round()))
    frames.append(readings(T0, INLET, at, at * 400))
    return pl.concat(frames)


def test_an_easter_absence_is_not_a_bypass_and_a_bypass_still_is() -> None:
    as_of = T0 + timedelta(days=DAYS, hours=-1)
    out = run_detectors(EngineInput(_readings(), meters(CUSTOMERS), as_of, BOUNDARY), only=["bypass"])
    # meter 2's four low days (Friday to Easter Monday) hold one working day: not judged yet
    assert out["location_id"].to_list() == [1]
    assert out["confidence"][0] == 0.75  # two weeks low: sure
