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
  fell from the upper to the lower half of ``register_capacity_l``, which adds the capacity (flagged ``rollover``);
* the interval that ends at a reading marked ``restart`` (a new meter on the same register id, a reset) is
  unknown: the difference across a restart is not consumption.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TypeVar, cast

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gmina.engine.calendar import polish_holidays
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
S = TypeVar("S", bound=np.generic)


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

    @cached_property
    def rest_day(self) -> B:
        """``(n_hours,)`` the hour falls on a Saturday, a Sunday or a Polish public holiday (Europe/Warsaw)."""
        local = self._local()
        dates = local.dt.date()
        years = {int(y) for y in local.dt.year().unique().to_list()}
        holidays = pl.Series(sorted(d for y in years for d in polish_holidays(y)), dtype=pl.Date)
        rest = (local.dt.weekday() >= 6) | dates.is_in(holidays.implode())
        return rest.to_numpy().astype(np.bool_)

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
    Readings may come in any order; in meter and time order, or in time order, they are not sorted at all.

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
    as_of_us = _us(as_of)
    t = readings["observed_at"].cast(pl.Int64)
    if start is None:
        first = _first_us(t, as_of_us)
        start_us = (first if first is not None else as_of_us) // HOUR_US * HOUR_US
    else:
        start_us = _us(start) // HOUR_US * HOUR_US
    caps = meters.group_by("meter_id").agg(pl.col("register_capacity_l").first()).sort("meter_id")
    cap = caps["register_capacity_l"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    backflow = readings["backflow_l"]
    with_backflow = backflow.null_count() < backflow.len() and bool((backflow.is_not_null() & (t <= as_of_us)).any())
    writer = _GridWriter(meter_ids, start_us, max(0, (as_of_us - start_us) // HOUR_US), as_of_us, cap, with_backflow)
    columns = (
        readings["meter_id"].to_numpy(),
        t.to_numpy(),
        readings["index_l"].to_numpy(),
        backflow.cast(pl.Float64).fill_null(np.nan).to_numpy() if with_backflow else None,
    )
    cells = meter_ids.size * (writer.n_hours + 1)
    if readings["meter_id"].is_sorted() and ascending(columns[1], columns[0]):
        writer.write_sorted(*columns)
    elif ascending(columns[1]) and cells <= max(1 << 24, 4 * readings.height):
        writer.write_time_ordered(*columns)
    else:
        writer.write_unsorted(*columns)
    if readings["restart"].any():
        _forget_restarts(readings, writer, as_of_us)
    return HourlyGrid(meter_ids, start_us, writer.volume, writer.interp, writer.roll, writer.last_seen, writer.backflow)


def _forget_restarts(readings: pl.DataFrame, writer: _GridWriter, as_of_us: int) -> None:
    """Make unknown the hours between each restart reading's boundary and the boundary of the reading before it."""
    r = readings.select(
        "meter_id", pl.col("observed_at").cast(pl.Int64).alias("t"), pl.col("restart").fill_null(False)
    ).filter(pl.col("t") <= as_of_us)
    mid, t = r["meter_id"].to_numpy(), r["t"].to_numpy()
    if not (r["meter_id"].is_sorted() and ascending(t, mid)):  # the store's order needs no sort
        r = r.sort("meter_id", "t")
        mid, t = r["meter_id"].to_numpy(), r["t"].to_numpy()
    at = np.flatnonzero(r["restart"].to_numpy())
    prev = np.maximum(at - 1, 0)
    same = (at > 0) & (mid[prev] == mid[at])  # a meter's first reading has none before it
    rows = _grid_rows(writer.meter_ids, mid[at])
    b1 = np.clip(writer.boundary(t[at]), 0, writer.n_hours)
    b0 = np.clip(writer.boundary(np.where(same, t[prev], writer.start_us)), 0, writer.n_hours)
    for row, lo, hi in zip(rows.tolist(), b0.tolist(), b1.tolist(), strict=True):
        if row >= 0 and hi > lo:
            writer.volume[row, lo:hi] = np.nan
            writer.interp[row, lo:hi] = False
            writer.roll[row, lo:hi] = False


def _us(t: datetime) -> int:
    """UTC microseconds of an aware datetime."""
    return int(pl.Series([t]).cast(UTC_US).cast(pl.Int64)[0])


def _first_us(t: pl.Series, as_of_us: int) -> int | None:
    """The earliest of the microsecond times ``t`` up to ``as_of_us``; ``None`` when there is none."""
    last = t.max()
    if last is None:
        return None
    first = t.min() if int(cast(int, last)) <= as_of_us else t.filter(t <= as_of_us).min()
    return None if first is None else int(cast(int, first))


CHUNK = 1 << 20
"""Readings handled per step (whole meters at a time): working arrays stay small and cache-friendly."""


def ascending(t: I64, group: I64 | None = None) -> bool:
    """Whether ``t`` never decreases (within each run of equal ``group`` values, when given)."""
    for lo in range(0, t.size, CHUNK):
        u = t[lo : lo + CHUNK + 1]
        back = u[1:] < u[:-1]
        if group is not None:
            g = group[lo : lo + CHUNK + 1]
            back &= g[1:] == g[:-1]
        if bool(back.any()):
            return False
    return True


def _chunks(key: NDArray[np.integer]) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` slices of about ``CHUNK`` of a sorted ``key``, never splitting equal keys; ``(0, 0)`` if empty."""
    lo = 0
    while True:
        hi = key.size
        if key.size - lo > CHUNK:
            hi = int(np.searchsorted(key, key[lo + CHUNK], side="left"))
            if hi == lo:  # one key with more than CHUNK readings
                hi = int(np.searchsorted(key, key[lo], side="right"))
        yield lo, hi
        if hi == key.size:
            return
        lo = hi


class _GridWriter:
    """Writes the grid's arrays from readings in grid-row order, one chunk of whole meters at a time.

    A meter's boundary readings (the last reading at each hour boundary), in time order, make pairs of consecutive
    boundaries ``(b1, v1), (b2, v2)``: the hours ``b1 .. b2 - 1`` each get ``(v2 - v1) / (b2 - b1)``. A meter's known
    hours are contiguous, so a chunk's grid rows are one ``np.repeat`` of its pairs' values, interleaved with the
    unknown hours before each meter's first and after its last boundary reading: O(readings + cells), no dense
    search for the readings around a gap. Rows read at every boundary (the usual hourly case) are plain differences.
    """

    def __init__(self, meter_ids: I64, start_us: int, n_hours: int, as_of_us: int, cap: F64, backflow: bool) -> None:
        m = meter_ids.size
        self.meter_ids, self.start_us, self.n_hours, self.as_of_us = meter_ids, start_us, n_hours, as_of_us
        self.cap = cap
        self.volume = np.empty((m, n_hours))
        self.interp = np.empty((m, n_hours), dtype=np.bool_)
        self.roll = np.empty((m, n_hours), dtype=np.bool_)
        self.backflow = np.empty((m, n_hours)) if backflow else None
        self.last_seen = np.full(m, -1, dtype=np.int64)

    def boundary(self, t: I64) -> I64:
        """The hour boundary a reading belongs to: ``ceil((t - start - ALIGN) / 1 h)``."""
        return -((self.start_us + ALIGN_US - t) // HOUR_US)

    def readable(self, b: I64, t: I64) -> B | None:
        """Readings on the grid: from its first boundary to its last, and not after ``as_of`` (``None``: all)."""
        if not b.size or (int(b.min()) >= 0 and int(b.max()) <= self.n_hours and int(t.max()) <= self.as_of_us):
            return None
        return (b >= 0) & (b <= self.n_hours) & (t <= self.as_of_us)

    def write_sorted(self, mid: I64, t: I64, index: I64, bf: F64 | None) -> None:
        """From readings sorted by meter and time (unknown meters included)."""
        ids, done = self.meter_ids, 0
        for lo, hi in _chunks(mid):
            end = ids.size if hi == mid.size else int(np.searchsorted(ids, mid[hi - 1], side="right"))
            m, tc, ic, bc = mid[lo:hi], t[lo:hi], index[lo:hi], None if bf is None else bf[lo:hi]
            heads = np.flatnonzero(np.r_[True, m[1:] != m[:-1]]) if m.size else np.empty(0, dtype=np.int64)
            row = _grid_rows(ids, m[heads])
            lengths = np.diff(np.r_[heads, m.size])
            rc, b = np.repeat(row, lengths), self.boundary(tc)
            readable = self.readable(b, tc)
            keep = np.repeat(row >= 0, lengths) if readable is None else np.repeat(row >= 0, lengths) & readable
            if not keep.all():
                rc, b, tc, ic, bc = rc[keep], b[keep], tc[keep], ic[keep], None if bc is None else bc[keep]
            self._write_rows(rc, b, tc, ic, bc, done, end)
            done = end

    def write_time_ordered(self, mid: I64, t: I64, index: I64, bf: F64 | None) -> None:
        """From readings in time order (the other usual order): no sort. The value at a boundary is its last
        reading, the one of greatest position; one pass marks it in a ``(meters, n_hours + 1)`` table, a second
        reads the table a block of grid rows at a time, in row and boundary order."""
        m, h1 = self.meter_ids.size, self.n_hours + 1
        last = np.full(m * h1, -1, dtype=np.int64)
        for lo in range(0, mid.size, CHUNK):
            row, tc = _grid_rows(self.meter_ids, mid[lo : lo + CHUNK]), t[lo : lo + CHUNK]
            b = self.boundary(tc)
            readable = self.readable(b, tc)
            sel = np.flatnonzero(row >= 0 if readable is None else (row >= 0) & readable)
            np.maximum.at(last, row[sel] * h1 + b[sel], sel + lo)
        step = max(1, CHUNK // h1)
        for r0 in range(0, m, step):
            r1 = min(m, r0 + step)
            block = last[r0 * h1 : r1 * h1]
            read = np.flatnonzero(block >= 0)
            o = block[read]
            row, b = np.divmod(read, h1)
            self._write_rows(row + r0, b, t[o], index[o], None if bf is None else bf[o], r0, r1)

    def write_unsorted(self, mid: I64, t: I64, index: I64, bf: F64 | None) -> None:
        """From readings in any order: those on the grid, sorted by grid row and time (equal times stay in order)."""
        row = _grid_rows(self.meter_ids, mid)
        b = self.boundary(t)
        readable = self.readable(b, t)
        sel = np.flatnonzero(row >= 0 if readable is None else (row >= 0) & readable)
        order = sel[np.lexsort((t[sel], row[sel]))]
        del sel
        row, b = row[order], b[order]
        done = 0
        for lo, hi in _chunks(row):
            end = self.meter_ids.size if hi == row.size else int(row[hi - 1]) + 1
            o = order[lo:hi]
            self._write_rows(row[lo:hi], b[lo:hi], t[o], index[o], None if bf is None else bf[o], done, end)
            done = end

    def _write_rows(self, row: I64, b: I64, t: I64, index: I64, bf: F64 | None, lo: int, hi: int) -> None:
        """Write grid rows ``lo .. hi - 1`` from their readings on the grid, in row and time order."""
        if row.size:
            meter_end = np.r_[row[1:] != row[:-1], True]
            self.last_seen[row[meter_end]] = t[meter_end]
            cell_end = meter_end | np.r_[b[1:] != b[:-1], True]  # the last reading at a boundary is its value
            if not cell_end.all():
                row, b, index, bf = row[cell_end], b[cell_end], index[cell_end], None if bf is None else bf[cell_end]
        rows = slice(lo, hi)
        if row.size == (hi - lo) * (self.n_hours + 1):  # every row read at every boundary (the usual case)
            self._write_dense(index, rows, self.volume, self.cap, self.interp, self.roll)
        else:
            pairs = _Pairs(row, b, index.astype(np.float64), self.cap)
            spans = _Spans(pairs, lo, hi, self.n_hours)
            self.volume[rows] = spans.expand(pairs.volume, np.nan)
            self.interp[rows] = spans.expand(pairs.interpolated, False)
            self.roll[rows] = spans.expand(pairs.rollover, False)
        if self.backflow is not None and bf is not None:
            read = ~np.isnan(bf)  # a reading without a reverse register value leaves its boundary unknown
            if read.all() and row.size == (hi - lo) * (self.n_hours + 1):
                self._write_dense(bf, rows, self.backflow)
            else:
                reverse = _Pairs(row[read], b[read], bf[read])
                self.backflow[rows] = _Spans(reverse, lo, hi, self.n_hours).expand(reverse.volume, np.nan)

    def _write_dense(
        self,
        value: I64 | F64,
        rows: slice,
        out: F64,
        cap: F64 | None = None,
        interp: B | None = None,
        roll: B | None = None,
    ) -> None:
        """Rows read at every boundary: ``value`` is ``(rows, n_hours + 1)``, the hours are its differences."""
        v = value.reshape(-1, self.n_hours + 1)
        if v.dtype == np.int64 and v.size and max(-int(v.min()), int(v.max())) >= 1 << 53:
            v = v.astype(np.float64)  # beyond exact floats: difference the rounded values, as floats
        # integers below 2**53 are exact floats, and so is the float of their difference: one pass, no float copy
        np.subtract(v[:, 1:], v[:, :-1], out=out[rows], casting="unsafe")
        if interp is not None:
            interp[rows] = False
        if roll is None or cap is None:
            return
        roll[rows] = False
        flat = np.flatnonzero(out[rows] < 0)
        r, c = flat // self.n_hours, flat % self.n_hours
        lo, hi = v[r, c].astype(np.float64), v[r, c + 1].astype(np.float64)
        wrapped = _rollover(lo, hi, cap[rows][r])
        out[rows][r[wrapped], c[wrapped]] += cap[rows][r[wrapped]]
        roll[rows][r[wrapped], c[wrapped]] = True


def _rollover(lo: F64, hi: F64, cap: F64) -> B:
    """A fall from the upper to the lower half of the register's capacity (``NaN``: no capacity, no rollover)."""
    with np.errstate(invalid="ignore"):
        return (hi < lo) & (lo > 0.5 * cap) & (hi < 0.5 * cap)


def _grid_rows(meter_ids: I64, mid: I64) -> I64:
    """Grid row of each meter id; ``-1`` for a meter not on the grid."""
    if meter_ids.size == 0:
        return np.full(mid.size, -1, dtype=np.int64)
    low, span = int(meter_ids[0]), int(meter_ids[-1]) - int(meter_ids[0]) + 1
    if mid.size > meter_ids.size and span <= max(1 << 16, mid.size):  # a lookup table beats a binary search
        table = np.full(span + 1, -1, dtype=np.int64)  # the last entry: ids out of range
        table[meter_ids - low] = np.arange(meter_ids.size)
        return table[np.clip(mid - low, -1, span) % (span + 1)]
    pos = np.minimum(np.searchsorted(meter_ids, mid), meter_ids.size - 1)
    return np.where(meter_ids[pos] == mid, pos, -1)


class _Pairs:
    """Consecutive boundary readings of each meter (see the module docstring for the rules).

    ``row``, ``b``, ``value``: one reading per boundary, sorted by row and boundary; ``cap`` per grid row (``None``:
    a register without rollover).
    """

    def __init__(self, row: I64, b: I64, value: F64, cap: F64 | None = None) -> None:
        same = row[1:] == row[:-1]
        delta = (value[1:] - value[:-1])[same]
        self.row = row[:-1][same]
        self.span = (b[1:] - b[:-1])[same]
        """Hours the pair covers."""
        self.rollover = np.zeros(delta.size, dtype=np.bool_)
        fall = np.flatnonzero(delta < 0) if cap is not None else row[:0]
        if cap is not None and fall.size:
            left = np.flatnonzero(same)[fall]
            c = cap[self.row[fall]]
            wrapped = _rollover(value[left], value[left + 1], c)
            delta[fall[wrapped]] += c[wrapped]
            self.rollover[fall[wrapped]] = True
        self.volume: F64 = delta / self.span
        self.interpolated: B = self.span > 1
        heads = np.flatnonzero(np.r_[True, ~same]) if row.size else row
        tails = np.r_[heads[1:] - 1, row.size - 1] if row.size else row
        self.read_rows, self.first_b, self.last_b = row[heads], b[heads], b[tails]
        """Rows with a boundary reading, and their first and last boundary."""


class _Spans:
    """Where the pairs of grid rows ``lo .. hi - 1`` go: each row is its unknown hours before the first boundary
    reading, its pairs' hours, and its unknown hours after the last one (all unknown for a row never read)."""

    def __init__(self, pairs: _Pairs, lo: int, hi: int, n_hours: int) -> None:
        n_rows, n_pairs = hi - lo, pairs.row.size
        self.shape = (n_rows, n_hours)
        per_row = np.bincount(pairs.row - lo, minlength=n_rows)
        self.lead = np.r_[0, np.cumsum(per_row)[:-1]] + 2 * np.arange(n_rows)
        self.trail = self.lead + per_row + 1
        self.at = np.arange(n_pairs) + 2 * (pairs.row - lo) + 1
        self.lengths = np.empty(n_pairs + 2 * n_rows, dtype=np.int64)
        self.lengths[self.lead] = n_hours
        self.lengths[self.trail] = 0
        read = pairs.read_rows - lo
        self.lengths[self.lead[read]] = pairs.first_b
        self.lengths[self.trail[read]] = n_hours - pairs.last_b
        self.lengths[self.at] = pairs.span

    def expand(self, per_pair: NDArray[S], unknown: object) -> NDArray[S]:
        """``(rows, n_hours)``: each pair's value on its hours, ``unknown`` elsewhere."""
        values = np.empty(self.lengths.size, dtype=per_pair.dtype)
        values[self.lead] = unknown
        values[self.trail] = unknown
        values[self.at] = per_pair
        return np.repeat(values, self.lengths).reshape(self.shape)


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
