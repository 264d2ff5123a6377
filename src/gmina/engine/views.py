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

from gmina.engine.grid import HOUR_US

if TYPE_CHECKING:
    from gmina.engine.base import EngineInput

__all__ = ["DailyVolumes", "NightMatrix", "ReadingPairs", "daily_volumes", "night_matrix", "reading_pairs"]

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
    exact = np.where(g.interpolated, np.nan, g.volume_l)
    known = ~np.isnan(g.volume_l)
    resolved = (~np.isnan(exact)).sum(axis=1) >= 0.5 * np.maximum(known.sum(axis=1), 1)
    values = np.where(cols[None, :, :] >= 0, exact[:, np.maximum(cols, 0)], np.nan)
    enough = (~np.isnan(values)).sum(axis=2) >= min_hours
    with np.errstate(invalid="ignore"):
        minimum = np.where(enough, np.nanmin(np.where(np.isnan(values), np.inf, values), axis=2), np.nan)
    end_col = np.where(cols >= 0, cols + 1, -1).max(axis=1) if n_days else np.zeros(0, dtype=np.int64)
    return NightMatrix(values, minimum, end_col.astype(np.int64), resolved)


@dataclass(frozen=True, eq=False)
class ReadingPairs:
    """Consecutive readings of each grid meter, sorted by meter and time (arrays of one length, one per pair; none
    across a register restart)."""

    row: I64
    """Grid row of the meter."""
    t0_us: I64
    t1_us: I64
    index0: F64
    index1: F64

    @property
    def delta(self) -> F64:
        return self.index1 - self.index0

    @property
    def hours(self) -> F64:
        return (self.t1_us - self.t0_us) / HOUR_US


def reading_pairs(data: EngineInput) -> ReadingPairs:
    """The :class:`ReadingPairs` of ``data``'s readings within the grid window."""
    return cached(data, ("pairs",), lambda: _reading_pairs(data))


def _reading_pairs(data: EngineInput) -> ReadingPairs:
    g = data.grid
    end_us = g.start_us + g.n_hours * HOUR_US
    r = data.readings.select(
        "meter_id",
        pl.col("observed_at").cast(pl.Int64).alias("t"),
        pl.col("index_l").cast(pl.Float64),
        pl.col("restart").fill_null(False),
    ).filter((pl.col("t") >= g.start_us) & (pl.col("t") <= end_us))
    r = r.filter(pl.col("meter_id").is_in(g.meter_ids.tolist())).sort("meter_id", "t")
    mid = r["meter_id"].to_numpy()
    t = r["t"].to_numpy()
    idx = r["index_l"].to_numpy()
    same = (mid[1:] == mid[:-1]) & (t[1:] > t[:-1]) & ~r["restart"].to_numpy()[1:]
    row = np.searchsorted(g.meter_ids, mid[1:][same]).astype(np.int64)
    return ReadingPairs(row, t[:-1][same], t[1:][same], idx[:-1][same], idx[1:][same])


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
    n_days = int(g.local_day.max()) + 1 if g.n_hours else 0
    onehot = np.zeros((g.n_hours, n_days))
    onehot[np.arange(g.n_hours), g.local_day] = 1.0
    known = ~np.isnan(g.volume_l)
    sums = np.where(known, g.volume_l, 0.0) @ onehot
    missing = (~known).astype(np.float64) @ onehot
    interp = (g.interpolated & known).astype(np.float64) @ onehot
    hours = onehot.sum(axis=0)
    return DailyVolumes(np.where(missing > 0, np.nan, sums), interp / np.maximum(hours, 1.0))
