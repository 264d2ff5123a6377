"""One zone fed by one inlet meter: the frames the engine's small regression tests build their cases on."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from gmina.engine.frames import METERS, UTC_US

ZONE, INLET = 1, 900
BOUNDARY = pl.DataFrame({"zone_id": [ZONE], "meter_id": [INLET], "direction": ["in"]})


def meters(customers: list[int]) -> pl.DataFrame:
    """The customer meters (DN 15, Q3 2.5 m³/h) and the zone's inlet, all in ``ZONE``."""
    return pl.DataFrame(
        {
            "meter_id": [*customers, INLET],
            "zone_id": [ZONE] * (len(customers) + 1),
            "kind": ["customer"] * len(customers) + ["zone"],
            "dn_mm": [15] * len(customers) + [100],
            "q3_m3h": [2.5] * len(customers) + [100.0],
            "register_capacity_l": [None] * (len(customers) + 1),
        },
        schema=METERS.dtypes,
    )


def readings(
    t0: datetime, meter: int, hours: np.ndarray, index: np.ndarray, backflow: np.ndarray | None = None
) -> pl.DataFrame:
    """One meter's readings at ``t0`` + ``hours`` (whole hours) with its register ``index`` in litres."""
    data: dict[str, object] = {
        "meter_id": np.full(hours.size, meter, dtype=np.int64),
        "observed_at": [t0 + timedelta(hours=int(h)) for h in hours],
        "index_l": index.astype(np.int64),
        "backflow_l": None if backflow is None else backflow.astype(np.int64),
    }
    frame = pl.DataFrame(data).with_columns(pl.col("observed_at").cast(UTC_US))
    return frame.with_columns(pl.col("backflow_l").cast(pl.Int64))
