"""Interval consumption on a regular hourly UTC grid, derived from cumulative indexes.

The grid is dense: row ``i`` is meter ``meter_ids[i]``, column ``j`` is the hour ``[start + j h, start + (j+1) h)``.
The index at the hour boundary ``start + b h`` is the last reading in ``(start + (b-1) h + ALIGN, start + b h + ALIGN]``
with ``ALIGN`` = 5 minutes: a reading taken or stamped a little after the hour (capture delay, a clock a few seconds
off) is that hour's value, so an hourly meter's readings do not straddle boundaries; other sub-hourly readings are
aligned to the next boundary (a shift of at most 55 minutes).

An hour's volume is the index difference across it. Nothing is invented:

* an hour between two boundary readings ``k > 1`` hours apart gets ``1/k`` of the difference and is flagged
  ``interpolated`` (the total is known, its timing is not);
* an hour before a meter's first or after its last reading is unknown (``NaN``);
* a negative difference is kept (evidence of rollback or reverse flow), except a register rollover: the index
  fell from the upper to the lower half of ``register_capacity_l``, which adds the capacity (flagged ``rollover``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gmina.engine.frames import METERS, READINGS, UTC_US, validate

__all__ = ["ALIGN_US", "HOUR_US", "HourlyGrid", "build_grid", "hourly_consumption", "to_datetime"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000
"""One hour in microseconds."""
ALIGN_US = 300_000_000
"""A reading up to this long after an hour boundary is the boundary's value (see the module docstring)."""

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]


def to_datetime(us: int) -> datetime:
    """UTC datetime of a microsecond epoch timestamp.

    >>> to_datetime(0)
    datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    return EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, eq=False)
class HourlyGrid:
    """Per-meter hourly volumes (litres) on a dense UTC grid. Arrays are ``(n_meters, n_hours)`` unless noted."""

    meter_ids: I64
    """``(n_meters,)`` sorted meter ids, one per row."""
    start_us: int
    """UTC microseconds of the first hour's start."""
    volume_l: F64
    """Litres registered in the hour; ``NaN`` unknown; negative kept."""
    interpolated: B
    """The hour's volume is a share of a longer interval's (a gap in readings)."""
    rollover: B
    """The hour's interval crossed a register rollover (capacity added)."""
    last_seen_us: I64
    """``(n_meters,)`` UTC microseconds of each meter's last reading up to ``as_of``; ``-1`` never read."""
    backflow_l: F64 | None = None
    """Litres added to the reverse register in the hour, when any meter reports one."""

    @property
    def n_hours(self) -> int:
        return int(self.volume_l.shape[1])

    @property
    def hours_us(self) -> I64:
        """``(n_hours,)`` UTC microseconds of each hour's start."""
        return self.start_us + np.arange(self.n_hours, dtype=np.int64) * HOUR_US

    @cached_property
    def local_hour(self) -> I64:
        """``(n_hours,)`` hour of day (0–23) in Europe/Warsaw at each hour's start."""
        return self._local().dt.hour().cast(pl.Int64).to_numpy()

    @cached_property
    def local_day(self) -> I64:
        """``(n_hours,)`` Europe/Warsaw calendar day of each hour, as 0-based index from the first local day."""
        days = self._local().dt.date().cast(pl.Int64).to_numpy()
        return days - (days.min() if days.size else 0)

    def _local(self) -> pl.Series:
        return pl.Series(self.hours_us).cast(UTC_US).dt.convert_time_zone("Europe/Warsaw")

    def row(self, meter_id: int) -> int:
        """Row of ``meter_id``; ``-1`` when the grid has no such meter."""
        i = int(np.searchsorted(self.meter_ids, meter_id))
        return i if i < self.meter_ids.size and self.meter_ids[i] == meter_id else -1


def build_grid(
    readings: pl.DataFrame, meters: pl.DataFrame, as_of: datetime, start: datetime | None = None
) -> HourlyGrid:
    """Build the hourly grid for all ``meters`` from ``start`` (default: the first reading's hour) to ``as_of``.

    Only complete hours before ``as_of`` are columns; readings after ``as_of`` and of unknown meters are ignored.

    >>> from datetime import timedelta
    >>> t0 = datetime(2025, 1, 1, tzinfo=UTC)
    >>> r = pl.DataFrame({"meter_id": [7] * 4, "observed_at": [t0 + timedelta(hours=h) for h in (0, 1, 4, 5)],
    ...                   "index_l": [100, 110, 140, 130]}).with_columns(pl.col("observed_at").cast(UTC_US))
    >>> m = pl.DataFrame({"meter_id": [7], "zone_id": [1], "kind": ["customer"], "dn_mm": [15], "q3_m3h": [2.5],
    ...                   "register_capacity_l": [None]}, schema=METERS.dtypes)
    >>> g = build_grid(r, m, t0 + timedelta(hours=6))
    >>> g.volume_l.tolist(), g.interpolated.tolist()
    ([[10.0, 10.0, 10.0, 10.0, -10.0, nan]], [[False, True, True, True, False, False]])
    """
    readings = validate(readings, READINGS)
    meters = validate(meters, METERS)
    meter_ids = np.unique(meters["meter_id"].to_numpy()).astype(np.int64)
    as_of_us = int(pl.Series([as_of]).cast(UTC_US).cast(pl.Int64)[0])
    r = readings.filter(pl.col("observed_at") <= pl.lit(as_of).cast(UTC_US))
    t = r["observed_at"].cast(pl.Int64).to_numpy()
    if start is None:
        start_us = int(t.min()) // HOUR_US * HOUR_US if t.size else as_of_us // HOUR_US * HOUR_US
    else:
        start_us = int(pl.Series([start]).cast(UTC_US).cast(pl.Int64)[0]) // HOUR_US * HOUR_US
    n_hours = max(0, (as_of_us - start_us) // HOUR_US)
    m = meter_ids.size
    mid = r["meter_id"].to_numpy()
    pos = np.searchsorted(meter_ids, mid)
    known = pos < m
    known[known] = meter_ids[pos[known]] == mid[known]
    # boundary b = ceil((t - start - ALIGN) / 1 h); readings before start or on unknown meters are dropped
    b = -((start_us + ALIGN_US - t) // HOUR_US)
    keep = known & (b >= 0) & (b <= n_hours)
    row, b = pos[keep], b[keep]
    key = row * (n_hours + 1) + b
    if key.size and not bool(np.all(key[1:] >= key[:-1])):
        by_time = np.argsort(t[keep], kind="stable")  # then by cell, stably: the last reading per cell wins
        order = by_time[np.argsort(key[by_time], kind="stable")]
    else:
        order = np.arange(key.size)
    row, b = row[order], b[order]
    last_seen = np.full(m, -1, dtype=np.int64)
    if row.size:
        ends = np.flatnonzero(np.r_[row[1:] != row[:-1], True])
        last_seen[row[ends]] = t[keep][order][ends]
    caps = meters.group_by("meter_id").agg(pl.col("register_capacity_l").first()).sort("meter_id")
    cap = caps["register_capacity_l"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    volume, interp, roll = _deltas(row, b, r["index_l"].to_numpy()[keep][order], m, n_hours, cap)
    backflow = None
    if r["backflow_l"].null_count() < r.height:
        bf = r["backflow_l"].cast(pl.Float64).fill_null(np.nan).to_numpy()[keep][order]
        backflow = _deltas(row, b, bf, m, n_hours, np.full(m, np.nan))[0]
    return HourlyGrid(meter_ids, start_us, volume, interp, roll, last_seen, backflow)


def _deltas(row: I64, b: I64, values: NDArray[np.generic], m: int, n_hours: int, cap: F64) -> tuple[F64, B, B]:
    """Volumes per hour from register values at hour boundaries (see the module docstring)."""
    idx = np.full((m, n_hours + 1), np.nan)
    idx[row, b] = values  # numpy assigns in order: the last duplicate wins
    volume = np.diff(idx, axis=1)  # exact where both boundaries are read (the common case)
    interp = np.zeros(volume.shape, dtype=np.bool_)
    roll = np.zeros(volume.shape, dtype=np.bool_)
    gappy = np.flatnonzero(np.isnan(volume).any(axis=1))
    if gappy.size:
        volume[gappy], interp[gappy], roll[gappy] = _gap_deltas(idx[gappy], cap[gappy])
    with np.errstate(invalid="ignore"):
        rr, cc = np.nonzero((volume < 0) & ~interp)
    lo, hi, c = idx[rr, cc], idx[rr, cc + 1], cap[rr]
    wrap = (lo > 0.5 * c) & (hi < 0.5 * c)
    volume[rr[wrap], cc[wrap]] += c[wrap]
    roll[rr[wrap], cc[wrap]] = True
    return volume, interp, roll


def _gap_deltas(idx: F64, cap: F64) -> tuple[F64, B, B]:
    """Rows with gaps: each hour gets its share of the difference between the readings around it."""
    n_hours = idx.shape[1] - 1
    valid = ~np.isnan(idx)
    cols = np.arange(n_hours + 1, dtype=np.int32)
    prev = np.maximum.accumulate(np.where(valid, cols, np.int32(-1)), axis=1)[:, :-1]
    nxt = np.minimum.accumulate(np.where(valid, cols, np.int32(n_hours + 1))[:, ::-1], axis=1)[:, ::-1][:, 1:]
    ok = (prev >= 0) & (nxt <= n_hours)
    lo = np.take_along_axis(idx, np.where(ok, prev, 0), axis=1)
    hi = np.take_along_axis(idx, np.where(ok, nxt, 0), axis=1)
    delta = hi - lo
    span = (nxt - prev).astype(np.float64)
    capm = cap[:, None]
    roll = ok & (span > 1) & (delta < 0) & (lo > 0.5 * capm) & (hi < 0.5 * capm)
    delta = np.where(roll, delta + capm, delta)
    volume = np.where(ok, delta / np.where(ok, span, 1.0), np.nan)
    return volume, ok & (span > 1), roll


def hourly_consumption(grid: HourlyGrid) -> pl.DataFrame:
    """The grid as a long frame of known hours.

    Columns: ``meter_id`` Int64; ``hour`` Datetime[us, UTC] (start of the hour); ``volume_l`` Float64 (litres, may be
    negative); ``interpolated`` Boolean (share of a gap's volume); ``rollover`` Boolean.

    >>> g = HourlyGrid(np.array([3]), 0, np.array([[5.0, np.nan]]), np.array([[True, False]]),
    ...                np.array([[False, False]]), np.array([0]))
    >>> hourly_consumption(g).rows()
    [(3, datetime.datetime(1970, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 5.0, True, False)]
    """
    m, h = grid.volume_l.shape
    frame = pl.DataFrame(
        {
            "meter_id": np.repeat(grid.meter_ids, h),
            "hour": np.tile(grid.hours_us, m),
            "volume_l": grid.volume_l.ravel(),
            "interpolated": grid.interpolated.ravel(),
            "rollover": grid.rollover.ravel(),
        }
    )
    return frame.filter(pl.col("volume_l").is_not_nan()).with_columns(pl.col("hour").cast(UTC_US))
