"""Derived per-meter views shared by several detectors, computed once per :class:`EngineInput`.

* :func:`night_matrix` — each meter's exact hourly volumes in the local night hours of every local day, with the
  night's minimum (the customer-leak and burst detectors' raw material);
* :func:`reading_pairs` — consecutive readings of each meter (reading space, not the hourly grid: a daily meter's
  spike or rollback is one pair, whatever the grid spreads it over);
* :func:`daily_volumes` — litres per local day per meter, with the share of the day known only by interpolation.

Views are cached on the input object (weakly: they go when it goes), keyed by their parameters.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gmina.engine.grid import HOUR_US, ascending
from gmina.engine.series import nanmedian, padded_median

if TYPE_CHECKING:
    from gmina.engine.base import EngineInput

__all__ = [
    "DailyVolumes",
    "NightMatrix",
    "ReadingPairs",
    "daily_volumes",
    "day_kind_factors",
    "meter_cadence_h",
    "night_matrix",
    "reading_pairs",
    "rest_days",
    "zone_day_factors",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]
V = TypeVar("V")

_CACHE: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()


def cached(data: EngineInput, key: Hashable, build: Callable[[], V]) -> V:
    """``build()`` once per ``(data, key)``."""
    store = _CACHE.setdefault(data, {})
    if key not in store:
        store[key] = build()
    return store[key]  # type: ignore[no-any-return]


class _SteadyParams(Protocol):
    @property
    def steady_hours(self) -> int: ...
    @property
    def steady_tol_l(self) -> float: ...
    @property
    def steady_rel(self) -> float: ...


@dataclass(frozen=True, eq=False)
class NightMatrix:
    """Night hours of every local day. ``values`` is ``(n_meters, n_nights, len(night_hours))`` exact litres (NaN:
    not read at both ends, or no such hour that day); ``minimum`` ``(n_meters, n_nights)`` the night's minimum where
    at least ``min_hours`` are exact (else NaN)."""

    values: F64
    minimum: F64
    night_end_col: I64
    """``(n_nights,)`` grid column just after the night's last hour (the instant the night can be judged)."""
    resolved: B
    """``(n_meters,)`` the meter resolves hours: most of its known hours are read at both ends."""

    def steady(self, row: int, p: _SteadyParams) -> B:
        """``(n_nights,)`` at least ``p.steady_hours`` night hours lie within the tolerance of the night's minimum."""
        mins = self.minimum[row][:, None]
        band = np.maximum(p.steady_tol_l, p.steady_rel * mins)
        with np.errstate(invalid="ignore"):
            near = (np.abs(self.values[row] - mins) <= band).sum(axis=1)
        return np.asarray(near >= p.steady_hours, dtype=np.bool_)


def night_matrix(data: EngineInput, night_hours: tuple[int, ...], min_hours: int) -> NightMatrix:
    """The :class:`NightMatrix` of ``data`` for ``night_hours`` (local hours of day, e.g. ``(0, 1, 2, 3, 4)``)."""
    return cached(data, ("nights", night_hours, min_hours), lambda: _night_matrix(data, night_hours, min_hours))


def _night_matrix(data: EngineInput, night_hours: tuple[int, ...], min_hours: int) -> NightMatrix:
    g = data.grid
    m, h = g.volume_l.shape
    n_days = int(g.local_day.max()) + 1 if h else 0
    slot = {hour: i for i, hour in enumerate(night_hours)}
    cols = np.full((n_days, len(night_hours)), -1, dtype=np.int64)
    for col in np.flatnonzero(np.isin(g.local_hour, night_hours)).tolist():
        cols[g.local_day[col], slot[int(g.local_hour[col])]] = col
    known = ~np.isnan(g.volume_l)
    n_known = np.count_nonzero(known, axis=1)
    n_exact = n_known - np.count_nonzero(known & g.interpolated, axis=1)
    resolved = n_exact >= 0.5 * np.maximum(n_known, 1)
    at = np.maximum(cols, 0)
    values = np.where((cols[None, :, :] >= 0) & ~g.interpolated[:, at], g.volume_l[:, at], np.nan)
    enough = (~np.isnan(values)).sum(axis=2) >= min_hours
    with np.errstate(invalid="ignore"):
        minimum = np.where(enough, np.nanmin(np.where(np.isnan(values), np.inf, values), axis=2), np.nan)
    end_col = np.where(cols >= 0, cols + 1, -1).max(axis=1) if n_days else np.zeros(0, dtype=np.int64)
    return NightMatrix(values, minimum, end_col.astype(np.int64), resolved)


@dataclass(frozen=True, eq=False)
class ReadingPairs:
    """Consecutive readings of the grid meters in meter and time order: pair ``k`` is readings ``k`` and ``k + 1``.

    Arrays are views on the sorted readings where they can be (no copy of tens of millions of values). A pair that
    is not two readings of one meter in time order — it crosses from one meter to the next, or into a register
    ``restart`` — is not ``valid``: its ``delta`` and ``hours`` are NaN.
    """

    row: NDArray[np.int32]
    """Grid row of the pair's later reading (sorted)."""
    t0_us: I64
    t1_us: I64
    index0: NDArray[np.int64]
    index1: NDArray[np.int64]
    valid: B
    delta: F64
    """Litres the register moved between the two readings (NaN: not a pair)."""
    hours: F64
    """Hours between the two readings (NaN: not a pair)."""


def reading_pairs(data: EngineInput) -> ReadingPairs:
    """The :class:`ReadingPairs` of ``data``'s readings within the grid window."""
    return cached(data, ("pairs",), lambda: _reading_pairs(data))


def _reading_pairs(data: EngineInput) -> ReadingPairs:
    g = data.grid
    end_us = g.start_us + g.n_hours * HOUR_US
    r = data.readings
    mid = r["meter_id"].to_numpy()
    t = r["observed_at"].cast(pl.Int64).to_numpy()
    if not (r["meter_id"].is_sorted() and ascending(t, mid)):
        r = r.sort("meter_id", "observed_at")  # the store's order needs no sort
        mid, t = r["meter_id"].to_numpy(), r["observed_at"].cast(pl.Int64).to_numpy()
    idx = r["index_l"].to_numpy()
    restart = r["restart"]
    if t.size and (int(t.min()) < g.start_us or int(t.max()) > end_us):
        inside = (t >= g.start_us) & (t <= end_us)
        mid, t, idx = mid[inside], t[inside], idx[inside]
        restart = restart.filter(pl.Series(inside))
    row = _rows_of(g.meter_ids, mid)
    if row.size and int(row.min()) < 0:  # readings of meters not on the grid
        known = row >= 0
        row, t, idx = row[known], t[known], idx[known]
        restart = restart.filter(pl.Series(known))
    valid = row[1:] == row[:-1]
    valid &= t[1:] > t[:-1]
    if restart.null_count() < restart.len():
        valid &= ~restart.fill_null(False).to_numpy()[1:]
    bad = np.flatnonzero(~valid)  # few: one per meter, and restarts
    delta = np.subtract(idx[1:], idx[:-1], dtype=np.float64)
    delta[bad] = np.nan
    hours = np.subtract(t[1:], t[:-1], dtype=np.float64)
    hours /= HOUR_US
    hours[bad] = np.nan
    return ReadingPairs(row[1:], t[:-1], t[1:], idx[:-1], idx[1:], valid, delta, hours)


def _rows_of(meter_ids: I64, mid: I64) -> NDArray[np.int32]:
    """Grid row of each meter id (``-1``: not on the grid); ``mid`` sorted: one search per meter, not per reading."""
    if mid.size == 0 or meter_ids.size == 0:
        return np.full(mid.size, -1, dtype=np.int32)
    heads = np.flatnonzero(np.r_[True, mid[1:] != mid[:-1]])
    ids = mid[heads]
    pos = np.minimum(np.searchsorted(meter_ids, ids), meter_ids.size - 1)
    rows = np.where(meter_ids[pos] == ids, pos, -1).astype(np.int32)
    return np.repeat(rows, np.diff(np.r_[heads, mid.size]))


def meter_cadence_h(data: EngineInput) -> F64:
    """``(n_meters,)`` each grid meter's median interval between consecutive readings, hours (NaN: under two).

    A meter with more than ``CADENCE_SAMPLE`` intervals is judged by that many spread evenly over its window (a
    cadence is a property of the meter, and a median of 86 M intervals costs seconds).
    """
    return cached(data, ("cadence",), lambda: _cadence(data))


CADENCE_SAMPLE = 256


def _cadence(data: EngineInput) -> F64:
    pr = reading_pairs(data)
    out = np.full(data.grid.meter_ids.size, np.nan)
    if pr.row.size == 0:
        return out
    rows = np.arange(out.size, dtype=pr.row.dtype)
    lo = np.searchsorted(pr.row, rows, side="left")
    n = np.searchsorted(pr.row, rows, side="right") - lo
    k = np.minimum(n, CADENCE_SAMPLE)
    j = np.arange(CADENCE_SAMPLE)[None, :]
    at = lo[:, None] + (j * n[:, None]) // np.maximum(k, 1)[:, None]
    sample = np.where(j < k[:, None], pr.hours[np.minimum(at, pr.row.size - 1)], np.nan)
    return padded_median(sample)


@dataclass(frozen=True, eq=False)
class DailyVolumes:
    """Litres per local day, ``(n_meters, n_days)``: NaN where any hour is unknown; ``interpolated`` the share of the
    day's hours known only as part of a longer interval."""

    volume_l: F64
    interpolated: F64


def daily_volumes(data: EngineInput) -> DailyVolumes:
    """The :class:`DailyVolumes` of ``data`` (local days of the grid, the first and last possibly partial)."""
    return cached(data, ("daily",), lambda: _daily_volumes(data))


def _daily_volumes(data: EngineInput) -> DailyVolumes:
    g = data.grid
    m = g.volume_l.shape[0]
    n_days = int(g.local_day.max()) + 1 if g.n_hours else 0
    volume = np.full((m, n_days), np.nan)
    interp = np.zeros((m, n_days))
    if n_days == 0:
        return DailyVolumes(volume, interp)
    # local days are runs of consecutive grid columns: sums over each run, a block of meters at a time
    first = np.flatnonzero(np.r_[True, g.local_day[1:] != g.local_day[:-1]])
    days = g.local_day[first]
    hours = np.diff(np.r_[first, g.n_hours]).astype(np.float64)
    for lo in range(0, m, DAILY_ROWS):
        x = g.volume_l[lo : lo + DAILY_ROWS]
        shared = np.add.reduceat(g.interpolated[lo : lo + DAILY_ROWS] & ~np.isnan(x), first, axis=1, dtype=np.int64)
        volume[lo : lo + DAILY_ROWS, days] = np.add.reduceat(x, first, axis=1)  # NaN where an hour is unknown
        interp[lo : lo + DAILY_ROWS, days] = shared / hours
    return DailyVolumes(volume, interp)


DAILY_ROWS = 4096
"""Meters summed into days together (bounds the copies of their hours)."""


def rest_days(data: EngineInput) -> B:
    """``(n_days,)`` each local day of the grid is a Saturday, a Sunday or a Polish public holiday."""
    g = data.grid
    out = np.zeros(int(g.local_day.max()) + 1 if g.n_hours else 0, dtype=np.bool_)
    out[g.local_day] = g.rest_day
    return out


def day_kind_factors(volume: F64, rest: B, min_days: int) -> F64:
    """``(n_meters, n_days)`` each meter's rest-day level over its working-day level on its rest days, 1 elsewhere:
    an office or a shop that closes at weekends and on holidays (1 where fewer than ``min_days`` of either kind are
    known, or a level is not positive).

    >>> vol = np.array([[10.0, 10.0, 2.0, 10.0, 2.0], [5.0, 5.0, 5.0, 5.0, 5.0]])
    >>> day_kind_factors(vol, np.array([False, False, True, False, True]), 2).tolist()
    [[1.0, 1.0, 0.2, 1.0, 0.2], [1.0, 1.0, 1.0, 1.0, 1.0]]
    """
    out = np.ones(volume.shape)
    if not rest.any() or rest.all():
        return out
    work_level = nanmedian(volume[:, ~rest], axis=1)
    rest_level = nanmedian(volume[:, rest], axis=1)
    enough = (np.count_nonzero(~np.isnan(volume[:, ~rest]), axis=1) >= min_days) & (
        np.count_nonzero(~np.isnan(volume[:, rest]), axis=1) >= min_days
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(enough & (work_level > 0) & (rest_level > 0), rest_level / work_level, 1.0)
    out[:, rest] = ratio[:, None]
    return out


def zone_day_factors(volume: F64, usual: F64, usable: B, zone: I64, min_peers: int) -> F64:
    """``volume``'s shape: each zone's day factor, the median over its ``usable`` meters of the day's volume over each
    one's ``usual`` day (1 where a zone has fewer than ``min_peers`` of them): a heat wave or a holiday moves every
    premise of a zone at once.

    >>> vol = np.array([[2.0, 4.0], [3.0, 6.0], [1.0, 2.0]])
    >>> zone_day_factors(vol, np.array([2.0, 3.0, 1.0]), np.ones(3, dtype=bool), np.zeros(3, dtype=np.int64), 2)
    array([[1., 2.],
           [1., 2.],
           [1., 2.]])
    """
    out = np.ones(volume.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = volume / usual[:, None]
    for z in np.unique(zone[zone >= 0]).tolist():
        rows = usable & (zone == z)
        if rows.sum() >= min_peers:
            f = nanmedian(ratio[rows], axis=0)
            out[zone == z] = np.where(np.isnan(f) | (f <= 0), 1.0, f)
    return out
