"""Zone water balance on the hourly grid: inflow minus registered customer consumption, with an uncertainty band.

For zone ``z`` and hour ``j`` (litres):

* ``inflow_l`` = Σ ``in`` boundary meters − Σ ``out`` boundary meters (``NaN`` if any of them is unknown);
* ``consumption_l`` = Σ customer meters of the zone. A customer hour that is unknown or implausible (negative, or
  above the meter's overload flow Q4 = 1.25 · Q3) is *imputed* with the meter's mean for that local hour of day
  (over hours read at both ends; a meter without any, such as a daily or monthly one, gets its mean rate over its
  plausible hours, gaps included);
* ``unexplained_l`` = inflow − consumption: network leakage, unmetered use, and metering error;
* ``uncertainty_l``: half-width of a band around ``unexplained_l``: Σ imputed values + half of Σ interpolated
  volumes (their total is known, not their timing), on the customer and on the boundary side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gmina.engine.frames import UTC_US

if TYPE_CHECKING:
    from gmina.engine.base import EngineInput

__all__ = ["DN_Q3_M3H", "ZoneBalance", "overload_lph", "zone_balance"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

DN_Q3_M3H: dict[int, float] = {15: 2.5, 20: 4.0, 25: 6.3, 32: 10.0, 40: 16.0, 50: 25.0, 65: 40.0, 80: 63.0, 100: 100.0}
"""Usual Q3 (m³/h) by nominal diameter (EN ISO 4064 series), used when a meter has no Q3."""


def overload_lph(data: EngineInput, factor: float = 1.25, default_q3_m3h: float = 2.5) -> F64:
    """``(n_meters,)`` ``factor`` × Q3 in L/h per grid row; Q3 from the meter, else from DN, else the default.

    With ``factor`` 1.25 this is Q4, the highest flow the meter is built for.
    """
    q3 = data.meter_attr("q3_m3h", np.nan)
    dn = data.meter_attr("dn_mm", np.nan)
    from_dn = np.array([DN_Q3_M3H.get(int(d), np.nan) if np.isfinite(d) else np.nan for d in dn])
    q3 = np.where(np.isfinite(q3) & (q3 > 0), q3, np.where(np.isfinite(from_dn), from_dn, default_q3_m3h))
    return q3 * 1000.0 * factor


@dataclass(frozen=True, eq=False)
class ZoneBalance:
    """Arrays ``(n_zones, n_hours)`` in litres per hour unless noted; rows follow ``zone_ids``."""

    zone_ids: I64
    inflow_l: F64
    consumption_l: F64
    unexplained_l: F64
    uncertainty_l: F64
    n_imputed: I64
    """Customer meter-hours imputed in the zone's hour."""
    meter_zone: I64
    """``(n_meters,)`` zone row of each grid row (``-1``: not a customer meter of a balanced zone)."""
    expected_hod_l: F64
    """``(n_meters, 24)`` each meter's mean litres per local hour of day over plausible observed hours (its mean rate
    where it has none in that hour of day)."""
    plausible: NDArray[np.bool_]
    """``(n_meters, n_hours)`` the hour's volume is known, not interpolated, and within [0, Q4]."""

    def frame(self, hours_us: I64) -> pl.DataFrame:
        """Long frame: ``zone_id``, ``hour`` (UTC start), ``inflow_l``, ``consumption_l``, ``unexplained_l``,
        ``uncertainty_l`` (litres in the hour), ``n_imputed``."""
        z, h = self.inflow_l.shape
        return pl.DataFrame(
            {
                "zone_id": np.repeat(self.zone_ids, h),
                "hour": np.tile(hours_us, z),
                "inflow_l": self.inflow_l.ravel(),
                "consumption_l": self.consumption_l.ravel(),
                "unexplained_l": self.unexplained_l.ravel(),
                "uncertainty_l": self.uncertainty_l.ravel(),
                "n_imputed": self.n_imputed.ravel(),
            }
        ).with_columns(pl.col("hour").cast(UTC_US))


def _group_sum(x: NDArray[np.generic], group: I64, n_groups: int) -> F64:
    """Row sums of ``x`` per group (rows with group ``-1`` ignored), as ``(n_groups, n_cols)``."""
    out = np.zeros((n_groups, x.shape[1]))
    sel = group >= 0
    if not sel.any():
        return out
    order = np.argsort(group[sel], kind="stable")
    g = group[sel][order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    out[g[starts]] = np.add.reduceat(x[sel][order], starts, axis=0)
    return out


def zone_balance(data: EngineInput) -> ZoneBalance:
    """Compute the balance of every zone that has boundary meters (see the module docstring)."""
    grid = data.grid
    v = grid.volume_l
    m, h = v.shape
    bnd = data.boundary
    zone_ids = np.unique(bnd["zone_id"].to_numpy()).astype(np.int64)
    nz = zone_ids.size
    # customer side
    meters = data.meters.group_by("meter_id").agg(pl.col("zone_id").first(), pl.col("kind").first()).sort("meter_id")
    mz = meters["zone_id"].fill_null(-1).to_numpy()
    zpos = np.searchsorted(zone_ids, mz)
    in_zone = (zpos < nz) & (meters["kind"].to_numpy() == "customer")
    in_zone[in_zone] = zone_ids[zpos[in_zone]] == mz[in_zone]
    meter_zone = np.where(in_zone, zpos, -1).astype(np.int64)
    q4 = overload_lph(data)[:, None]
    known = ~np.isnan(v)
    plausible = known & ~grid.interpolated & (v >= -0.5) & (v <= q4)
    onehot = np.zeros((h, 24))
    onehot[np.arange(h), grid.local_hour] = 1.0
    sums = np.where(plausible, v, 0.0) @ onehot
    counts = plausible.astype(np.float64) @ onehot
    usable = known & (v >= -0.5) & (v <= q4)  # interpolated but plausible hours count with half-width uncertainty
    # a meter never read at both ends of an hour (daily, monthly) has no hour-of-day profile: its mean rate instead
    rate = np.where(usable, v, 0.0).sum(axis=1) / np.maximum(usable.sum(axis=1), 1)
    expected = np.where(counts > 0, sums / np.maximum(counts, 1.0), rate[:, None])
    filled = np.where(usable, v, expected[:, grid.local_hour])
    band = np.where(usable, np.where(grid.interpolated, 0.5 * np.abs(v), 0.0), expected[:, grid.local_hour])
    consumption = _group_sum(filled, meter_zone, nz)
    uncertainty = _group_sum(band, meter_zone, nz)
    n_imputed = _group_sum((~usable).astype(np.float64), meter_zone, nz).astype(np.int64)
    del filled, band
    # boundary side
    inflow = np.zeros((nz, h))
    reverse = grid.backflow_l
    for zi, mid, direction in bnd.select("zone_id", "meter_id", "direction").iter_rows():
        r = grid.row(mid)
        z = int(np.searchsorted(zone_ids, zi))
        sign = 1.0 if direction == "in" else -1.0
        series = v[r] if r >= 0 else np.full(h, np.nan)
        if r >= 0 and reverse is not None and not np.isnan(reverse[r]).all():
            series = series - reverse[r]  # net flow in the meter's direction: water also flows back through it
        inflow[z] += sign * series
        uncertainty[z] += np.where(grid.interpolated[r], 0.5 * np.abs(series), 0.0) if r >= 0 else 0.0
    return ZoneBalance(
        zone_ids, inflow, consumption, inflow - consumption, uncertainty, n_imputed, meter_zone, expected, plausible
    )
