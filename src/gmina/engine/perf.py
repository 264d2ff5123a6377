"""Throughput check: synthetic hourly readings for N meters × D days, timed through the engine.

``python -m gmina.engine.perf --meters 40000 --days 90 --runs 3`` builds the frames (numpy → polars, seeded), then
``runs`` times over: a plain polars group-by pass over the readings (the baseline: consumption and count per meter)
and the engine from those frames: validating them into an :class:`EngineInput`, the hourly grid, the zone balance
and every registered detector. It prints each run, the medians, readings/s, the ratio engine / baseline, the peak
RSS of the process and, with ``--breakdown``, one more pass timed stage by stage (grid, zone balance, each detector).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from gmina.engine.base import EngineInput, registered_detectors, run_detectors
from gmina.engine.frames import METERS, UTC_US

__all__ = ["Frames", "PerfResult", "breakdown", "main", "measure", "synthetic_frames", "synthetic_input"]

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SHAPE = np.array([3, 1, 1, 1, 2, 8, 20, 26, 18, 12, 10, 10, 11, 10, 9, 9, 11, 15, 20, 22, 20, 16, 10, 5], float)


@dataclass(frozen=True)
class Frames:
    """The engine's input frames, before validation."""

    readings: pl.DataFrame
    meters: pl.DataFrame
    boundary: pl.DataFrame
    as_of: datetime

    def engine_input(self) -> EngineInput:
        return EngineInput(self.readings, self.meters, self.as_of, self.boundary)


def synthetic_frames(n_meters: int, days: int, *, per_zone: int = 200, seed: int = 0) -> Frames:
    """``n_meters`` customer meters in zones of ``per_zone`` (each with an inlet meter), hourly for ``days``.

    Readings are in meter and time order, as a store returns them.

    >>> frames = synthetic_frames(4, 2, per_zone=2)
    >>> frames.readings.height, frames.meters.height, frames.boundary.height
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
    return Frames(readings, meters, boundary, T0 + timedelta(hours=h))


def synthetic_input(n_meters: int, days: int, *, per_zone: int = 200, seed: int = 0) -> EngineInput:
    """:func:`synthetic_frames` as an :class:`EngineInput`."""
    return synthetic_frames(n_meters, days, per_zone=per_zone, seed=seed).engine_input()


@dataclass(frozen=True)
class PerfResult:
    readings: int
    baseline_s: list[float]
    """Seconds of each run's plain polars group-by."""
    engine_s: list[float]
    """Seconds of each run's full engine pass (validation, grid, zone balance, every detector)."""
    alerts: int
    peak_rss_gb: float

    @property
    def baseline_median_s(self) -> float:
        return statistics.median(self.baseline_s)

    @property
    def engine_median_s(self) -> float:
        return statistics.median(self.engine_s)

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.engine_median_s

    @property
    def ratio(self) -> float:
        """Median engine time / median plain group-by time."""
        return self.engine_median_s / self.baseline_median_s


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def measure(frames: Frames, runs: int = 1) -> PerfResult:
    """Time the baseline group-by and the full engine pass from ``frames``, ``runs`` times, side by side."""
    baseline, engine, alerts = [], [], 0
    for _ in range(runs):
        t = time.perf_counter()
        frames.readings.group_by("meter_id").agg(
            (pl.col("index_l").max() - pl.col("index_l").min()).alias("used_l"), pl.len()
        )
        baseline.append(time.perf_counter() - t)
        t = time.perf_counter()
        alerts = run_detectors(frames.engine_input()).height
        engine.append(time.perf_counter() - t)
    return PerfResult(frames.readings.height, baseline, engine, alerts, _peak_rss_gb())


def breakdown(frames: Frames) -> dict[str, float]:
    """Seconds of each stage of one engine pass: ``input`` (validation), ``grid``, ``zone_balance``, each detector."""
    stages: dict[str, float] = {}
    t = time.perf_counter()
    data = frames.engine_input()
    stages["input"] = time.perf_counter() - t
    for name, step in (("grid", lambda: data.grid), ("zone_balance", lambda: data.zone_balance)):
        t = time.perf_counter()
        step()
        stages[name] = time.perf_counter() - t
    for detector in registered_detectors():
        t = time.perf_counter()
        detector.detect(data)
        stages[detector.name] = time.perf_counter() - t
    return stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--meters", type=int, default=40_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=1, help="timed passes (medians are reported)")
    parser.add_argument("--breakdown", action="store_true", help="one more pass, timed stage by stage")
    args = parser.parse_args(argv)
    t = time.perf_counter()
    frames = synthetic_frames(args.meters, args.days)
    built = time.perf_counter() - t
    out = sys.stdout
    out.write(f"readings {frames.readings.height:,} (built in {built:.1f} s)\n")
    r = measure(frames, args.runs)
    for i, (b, e) in enumerate(zip(r.baseline_s, r.engine_s, strict=True), 1):
        out.write(f"run {i}: baseline {b:6.2f} s  engine {e:6.2f} s\n")
    out.write(
        f"baseline polars group-by  {r.baseline_median_s:8.2f} s (median of {args.runs})\n"
        f"engine (grid+zones+all detectors) {r.engine_median_s:8.2f} s  {r.readings_per_s:,.0f} readings/s  "
        f"ratio {r.ratio:.1f}x  alerts {r.alerts}  peak RSS {r.peak_rss_gb:.2f} GB\n"
    )
    if args.breakdown:
        stages = breakdown(frames)
        out.write("breakdown: " + "  ".join(f"{k} {v:.2f}" for k, v in stages.items()))
        out.write(f"  (sum {sum(stages.values()):.2f} s, peak RSS {_peak_rss_gb():.2f} GB)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
