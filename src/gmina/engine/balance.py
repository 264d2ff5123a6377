"""The zone water balance with the consumption of coarse meters spread by the zone's own demand shape.

:func:`gmina.engine.zone.zone_balance` imputes each customer hour it does not know from that meter alone: a daily
meter's day is spread evenly over its hours, a monthly meter runs at its mean rate. Summed over a zone, that leaves
the zone's diurnal and weekly rhythm in the unexplained flow (a flat estimate is too low in the morning peak and too
high at night and on quiet days) — hundreds of litres an hour, more than the leaks the network detectors look for.

Here the meters of each zone are split by how finely they resolve time (their median interval between readings):

* **hourly** meters (``≤ hourly_max_h``): the zone balance's values, gaps imputed as there;
* **daily** meters (``≤ daily_max_h``): each local day's volume (known exactly where one reading pair spans it) is
  spread over the day's hours in proportion to the zone's demand shape;
* **sparse** meters (walk-by, monthly): their mean rate over the window, shaped by the demand shape, day by day.

The *demand shape* ``s(t)`` of a zone is the consumption of its hourly meters per meter (pooled over all zones when a
zone has fewer than ``MIN_SHAPE_METERS`` of them), relative to its mean. A sparse meter without a known rate yet is
given the median rate of the zone's others. The unexplained flow is then inflow minus this consumption;
:func:`shaped_balance` returns it per zone and hour with the parts, cached on the input.

A daily meter's unusual day (more than ``LUMP_FACTOR`` × its median day and ``LUMP_MIN_L`` above it: a filled pool,
a burst behind the meter) is a *lump*: its timing within the day is unknown, so the shape puts it in the wrong hours.
Its excess is reported per hour (``lump_l``, spread over the day) and the hours of a day with ``UNCERTAIN_LPH`` or
more of lumps are marked ``uncertain``: the network detectors do not judge them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gmina.engine.series import nanmedian
from gmina.engine.views import cached, meter_cadence_h
from gmina.engine.zone import overload_lph

if TYPE_CHECKING:
    from gmina.engine.base import EngineInput

__all__ = ["ShapedBalance", "shaped_balance"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

HOURLY_MAX_H = 1.5
DAILY_MAX_H = 30.0
MIN_SHAPE_METERS = 20
LUMP_FACTOR = 3.0
LUMP_MIN_L = 500.0
UNCERTAIN_LPH = 50.0


@dataclass(frozen=True, eq=False)
class ShapedBalance:
    """Arrays ``(n_zones, n_hours)`` in litres; rows follow ``zone_ids`` (as in the zone balance)."""

    zone_ids: I64
    inflow_l: F64
    consumption_l: F64
    unexplained_l: F64
    shape: F64
    """Each zone's demand shape (mean 1 over the known hours)."""
    coarse_l: F64
    """The part of ``consumption_l`` that was spread or shaped (daily and sparse meters): its error is the noise."""
    resolution: I64
    """``(n_meters,)`` 0 hourly, 1 daily, 2 sparse, -1 never read twice (per grid row)."""
    lump_l: F64
    """Daily meters' unusual excess, spread over its day."""
    uncertain: NDArray[np.bool_]
    """Hours of a day whose lumps reach ``UNCERTAIN_LPH``."""


def shaped_balance(data: EngineInput) -> ShapedBalance:
    """The shape-corrected balance of ``data`` (see the module docstring)."""
    return cached(data, ("shaped_balance",), lambda: _shaped(data))


def _resolution(data: EngineInput) -> I64:
    median = meter_cadence_h(data)
    res = np.where(median <= HOURLY_MAX_H, 0, np.where(median <= DAILY_MAX_H, 1, 2))
    return np.where(np.isnan(median), -1, res).astype(np.int64)


def _shaped(data: EngineInput) -> ShapedBalance:
    g = data.grid
    zb = data.zone_balance
    nz, h = zb.inflow_l.shape
    res = _resolution(data)
    mz = zb.meter_zone
    day = g.local_day
    n_days = int(day.max()) + 1 if h else 0
    # the zone-balance consumption of each customer row (registered where usable, imputed elsewhere), taken a few
    # rows at a time: full-size copies of the grid cost more than the sums made of them
    v = g.volume_l
    overload = overload_lph(data)
    hod = g.local_hour

    def usable_volume(rows: NDArray[np.bool_]) -> F64:
        """``v`` of ``rows`` where known and in range (as the zone balance), else NaN."""
        x = v[rows]
        with np.errstate(invalid="ignore"):
            ok = (x >= -0.5) & (x <= overload[rows][:, None])
        return np.where(ok, x, np.nan)

    def filled(rows: NDArray[np.bool_]) -> F64:
        x = usable_volume(rows)
        return np.where(np.isnan(x), zb.expected_hod_l[rows][:, hod], x)

    hourly = (res == 0) & (mz >= 0)
    # demand shape: hourly meters' consumption per meter, per zone (pooled where too few)
    pooled: F64 | None = None
    shape = np.empty((nz, h))
    exact_part = np.zeros((nz, h))
    for z in range(nz):
        rows = hourly & (mz == z)
        f = filled(rows)
        exact_part[z] = f.sum(axis=0)
        if rows.sum() >= MIN_SHAPE_METERS:
            base = _mean_rows(f)
        else:
            if pooled is None:
                pooled = _mean_rows(filled(hourly))
            base = pooled
        shape[z] = _normalise(base if base.size else np.ones(h))
    # daily meters: each day's known volume spread by the shape within the day
    coarse = np.zeros((nz, h))
    lump = np.zeros((nz, h))
    onehot_day = np.zeros((h, n_days))
    onehot_day[np.arange(h), day] = 1.0
    hours_per_day = onehot_day.sum(axis=0)
    sparse_all = (res == 2) & (mz >= 0)
    all_rates = _rates(usable_volume(sparse_all)) if sparse_all.any() else None
    for z in range(nz):
        d_rows = (res == 1) & (mz == z)
        if d_rows.any():
            days = filled(d_rows) @ onehot_day
            weight = shape[z] / np.maximum((shape[z] @ onehot_day)[day], 1e-9)
            coarse[z] += days.sum(axis=0)[day] * weight
            usual = np.median(days, axis=1, keepdims=True)
            excess = np.clip(days - np.maximum(LUMP_FACTOR * usual, usual + LUMP_MIN_L), 0.0, None).sum(axis=0)
            lump[z] = (excess / np.maximum(hours_per_day, 1.0))[day]
        s_rows = ((res == 2) | (res == -1)) & (mz == z)
        if s_rows.any():
            rate = _rates(usable_volume(s_rows))
            has = ~np.isnan(rate)
            fallback = nanmedian(rate) if has.any() else (nanmedian(all_rates) if all_rates is not None else np.nan)
            rate = np.where(np.isnan(rate), fallback, rate)
            coarse[z] += float(np.nansum(rate)) * shape[z]
    consumption = exact_part + coarse
    unexplained = zb.inflow_l - consumption
    uncertain = lump >= UNCERTAIN_LPH
    return ShapedBalance(zb.zone_ids, zb.inflow_l, consumption, unexplained, shape, coarse, res, lump, uncertain)


def _rates(known: F64) -> F64:
    """Each row's mean over its known (non-NaN) hours; NaN for a row with none."""
    n = (~np.isnan(known)).sum(axis=1)
    total = np.where(np.isnan(known), 0.0, known).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _mean_rows(x: F64) -> F64:
    return x.mean(axis=0) if x.shape[0] else np.zeros(0)


def _normalise(x: F64) -> F64:
    m = float(np.nanmean(x)) if x.size else 0.0
    return x / m if m > 0 else np.ones_like(x)
