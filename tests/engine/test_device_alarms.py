"""Device alarms judged by the data: an electronic meter that freezes its forward register on reverse flow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from gmina.engine.base import EngineInput, run_detectors
from gmina.engine.frames import UTC_US
from tests.engine.one_zone import BOUNDARY, meters

T0 = datetime(2025, 3, 3, tzinfo=UTC)
DAYS = 10
ALARM = T0 + timedelta(days=8, hours=20, minutes=45)  # the first quarter-hour reading carrying the flag


def _quarter_hours(meter: int, frozen_from: datetime | None) -> pl.DataFrame:
    """15-minute readings of a premise drawing about 300 L/day; the register stands still from ``frozen_from``."""
    rng = np.random.default_rng(meter)
    times = [T0 + timedelta(minutes=15 * i) for i in range(DAYS * 96)]
    use = rng.uniform(2.0, 4.5, len(times)).round()
    if frozen_from is not None:
        use[[t > frozen_from for t in times]] = 0.0  # the reading at the alarm still counts the use before it
    frame = pl.DataFrame({"meter_id": [meter] * len(times), "observed_at": times, "index_l": np.cumsum(use)})
    return frame.with_columns(
        pl.col("observed_at").cast(UTC_US), pl.col("index_l").cast(pl.Int64), pl.lit(None, pl.Int64).alias("backflow_l")
    )


def test_a_backflow_alarm_with_a_frozen_register_is_confirmed_from_the_hour_after_it() -> None:
    readings = pl.concat([_quarter_hours(1, ALARM), _quarter_hours(2, None)])
    events = pl.DataFrame(
        {
            "meter_id": [1, 2],
            "code": ["backflow", "backflow"],
            "state": ["active", "active"],
            "first_seen": [ALARM, ALARM],
            "last_seen": [T0 + timedelta(days=DAYS) - timedelta(minutes=15)] * 2,
            "ended_at": [None, None],
        }
    ).with_columns(pl.col("first_seen", "last_seen", "ended_at").cast(UTC_US))
    data = EngineInput(readings, meters([1, 2]), T0 + timedelta(days=DAYS), BOUNDARY, events)
    out = run_detectors(data, only=["device_alarms"]).sort("location_id")
    assert out["alert_class"].to_list() == ["reverse_flow", "reverse_flow"]
    # meter 1: the hour of the alarm holds 45 minutes of use, after it the register stood still
    assert out["confidence"].to_list() == [0.9, 0.15]
    assert '"confirmed"' in out["evidence"][0] and '"contradicted"' in out["evidence"][1]
