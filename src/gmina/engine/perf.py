"""Throughput check: synthetic hourly readings for N meters × D days, timed through the engine.

``python -m gmina.engine.perf --meters 40000 --days 90`` builds the frames (numpy → polars, seeded), times a plain
polars group-by pass over the readings (the baseline: consumption and count per meter), then the engine: the hourly
grid, the zone balance and every registered detector. It prints readings/s and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from gmina.engine.base import EngineInput, run_detectors
from gmina.engine.frames import METERS, UTC_US

__all__ = ["PerfResult", "main", "measure", "synthetic_input"]

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SHAPE = np.array([3, 1, 1, 1, 2, 8, 20, 26, 18, 12, 10, 10, 11, 10, 9, 9, 11, 15, 20, 22, 20, 16, 10, 5], float)


def synthetic_input(n_meters: int, days: int, *, per_zone: int = 200, seed: int = 0) -> EngineInput:
    """``n_meters`` customer meters in zones of ``per_zone`` (each with an inlet meter), hourly for ``days``.

    >>> data = synthetic_input(4, 2, per_zone=2)
    >>> data.readings.height, data.meters.height, data.boundary.height
    (288, 6, 2)
    """
    rng = np.random.default_rng(seed)
    h = days * 24
    n_zones = -(-n_meters // per_zone)
    rate = rng.lognormal(np.log(25.0), 0.45, n_meters)[:, None] * (SHAPE / SHAPE.sum())[None, (np.arange(h) + 1) % 24]
    use = rng.poisson(rate).astype(np.int64) * 10  # litres per hour, 10 L pulses
    zone_of = np.arange(n_meters) // per_zone
    inlet = np.zeros((n_zones, h), dtype=np.int64)
    np.add.at(inlet, zone_of, use)
    inlet += 150
    idx = np.cumsum(np.concatenate([use, inlet]), axis=1)
    del use, inlet
    ids = np.arange(1, n_meters + n_zones + 1, dtype=np.int64)
    t_us = (np.arange(1, h + 1, dtype=np.int64) * 3_600 + int(T0.timestamp())) * 1_000_000
    readings = pl.DataFrame(
        {"meter_id": np.repeat(ids, h), "observed_at": np.tile(t_us, ids.size), "index_l": idx.ravel()}
    ).with_columns(pl.col("observed_at").cast(UTC_US))
    del idx
    zone_ids = np.concatenate([zone_of, np.arange(n_zones)]) + 1
    meters = pl.DataFrame(
        {
            "meter_id": ids,
            "zone_id": zone_ids,
            "kind": ["customer"] * n_meters + ["zone"] * n_zones,
            "dn_mm": [15] * n_meters + [100] * n_zones,
            "q3_m3h": [2.5] * n_meters + [100.0] * n_zones,
            "register_capacity_l": [10**8] * ids.size,
        },
        schema=METERS.dtypes,
    )
    boundary = pl.DataFrame(
        {"zone_id": np.arange(1, n_zones + 1), "meter_id": ids[n_meters:], "direction": ["in"] * n_zones}
    )
    return EngineInput(readings, meters, T0 + timedelta(hours=h), boundary)


@dataclass(frozen=True)
class PerfResult:
    readings: int
    baseline_s: float
    engine_s: float
    alerts: int
    peak_rss_gb: float

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.engine_s

    @property
    def ratio(self) -> float:
        """Engine time / plain group-by time."""
        return self.engine_s / self.baseline_s


def measure(data: EngineInput) -> PerfResult:
    """Time the baseline group-by and the full engine pass over ``data`` (a fresh, uncached input)."""
    t = time.perf_counter()
    data.readings.group_by("meter_id").agg(
        (pl.col("index_l").max() - pl.col("index_l").min()).alias("used_l"), pl.len()
    )
    baseline = time.perf_counter() - t
    t = time.perf_counter()
    alerts = run_detectors(data)
    engine = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return PerfResult(data.readings.height, baseline, engine, alerts.height, rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=40_000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args(argv)
    t = time.perf_counter()
    data = synthetic_input(args.meters, args.days)
    built = time.perf_counter() - t
    r = measure(data)
    sys.stdout.write(
        f"readings {r.readings:,} (built in {built:.1f} s)\n"
        f"baseline polars group-by  {r.baseline_s:8.2f} s\n"
        f"engine (grid+zones+all detectors) {r.engine_s:8.2f} s  {r.readings_per_s:,.0f} readings/s  "
        f"ratio {r.ratio:.1f}x  alerts {r.alerts}  peak RSS {r.peak_rss_gb:.2f} GB\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
