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
    from gmina.engine.grid import HourlyGrid

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
    sizes = np.array(sorted(DN_Q3_M3H), dtype=np.float64)
    flows = np.array([DN_Q3_M3H[int(d)] for d in sizes] + [np.nan])
    whole = np.trunc(dn)  # as int(): toward zero
    pos = np.searchsorted(sizes, whole)
    from_dn = np.where(np.isfinite(dn) & (sizes[np.minimum(pos, sizes.size - 1)] == whole), flows[pos], np.nan)
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


BLOCK_CELLS = 1 << 20
"""Grid cells handled per step of the customer side: working arrays stay small and cache-friendly."""


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
    side = _CustomerSide(grid, overload_lph(data), meter_zone, nz)
    side.run()
    consumption, uncertainty = side.consumption, side.uncertainty
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
        zone_ids,
        inflow,
        consumption,
        inflow - consumption,
        uncertainty,
        side.n_imputed.astype(np.int64),
        meter_zone,
        side.expected,
        side.plausible,
    )


@dataclass(frozen=True)
class _Rows:
    """A block of grid rows on the customer side."""

    volume: F64
    interpolated: NDArray[np.bool_] | None
    """``None`` when no hour of the block is interpolated."""
    usable: NDArray[np.bool_]
    used: F64
    """The usable volumes, 0 elsewhere."""
    expected: F64
    complete: bool
    """Every hour usable and none interpolated: nothing to impute, no band."""


class _CustomerSide:
    """Imputed customer consumption per zone, computed a few whole zones at a time.

    The working arrays of a block are small, and each zone's sums are taken over its rows in grid-row order with
    ``np.add.reduceat``, exactly as over the whole grid at once.
    """

    def __init__(self, grid: HourlyGrid, q4: F64, meter_zone: I64, n_zones: int) -> None:
        m, h = grid.volume_l.shape
        self.grid, self.q4, self.meter_zone = grid, q4, meter_zone
        self.hod_order = np.argsort(grid.local_hour, kind="stable")  # the hours grouped by local hour of day
        hod = grid.local_hour[self.hod_order]
        self.hod_starts = np.flatnonzero(np.r_[True, hod[1:] != hod[:-1]]) if h else self.hod_order
        self.hods = hod[self.hod_starts]
        self.hod_hours = np.bincount(grid.local_hour, minlength=24).astype(np.float64)
        self.expected = np.empty((m, 24))
        self.plausible = np.empty((m, h), dtype=np.bool_)
        self.consumption = np.zeros((n_zones, h))
        self.uncertainty = np.zeros((n_zones, h))
        self.n_imputed = np.zeros((n_zones, h))
        self.block_rows = max(1, BLOCK_CELLS // max(h, 1))

    def run(self) -> None:
        rows = np.flatnonzero(self.meter_zone >= 0)
        rows = rows[np.argsort(self.meter_zone[rows], kind="stable")]
        zone = self.meter_zone[rows]
        bounds = np.r_[np.flatnonzero(np.r_[rows.size > 0, zone[1:] != zone[:-1]]), rows.size]  # each zone's rows
        i = 0
        while i < bounds.size - 1:
            j = i + 1  # whole zones, about block_rows rows
            while j < bounds.size - 1 and bounds[j + 1] - bounds[i] <= self.block_rows:
                j += 1
            lo, hi = int(bounds[i]), int(bounds[j])
            block = self._profile(_as_slice(rows[lo:hi]))
            at, starts = zone[bounds[i:j]], bounds[i:j] - lo
            if block.complete:  # nothing imputed nor spread: the sums of the registered volumes, no band
                self.consumption[at] = np.add.reduceat(block.volume, starts, axis=0)
            else:
                filled, band, imputed = self._imputed(block)
                self.consumption[at] = np.add.reduceat(filled, starts, axis=0)
                self.uncertainty[at] = np.add.reduceat(band, starts, axis=0)
                self.n_imputed[at] = np.add.reduceat(imputed, starts, axis=0)
            i = j
        rest = np.flatnonzero(self.meter_zone < 0)
        for lo in range(0, rest.size, self.block_rows):
            self._profile(_as_slice(rest[lo : lo + self.block_rows]))

    def _profile(self, at: slice | I64) -> _Rows:
        """The rows' plausible hours and expected hour-of-day profile (stored), and what imputing needs."""
        v = self.grid.volume_l[at]
        interpolated = self.grid.interpolated[at]
        with np.errstate(invalid="ignore"):
            usable = (v >= -0.5) & (v <= self.q4[at][:, None])  # known (not NaN) and in range
        spread = bool(interpolated.any())
        complete = not spread and bool(usable.all())  # every hour registered, plausible (the usual hourly case)
        if complete:
            self.plausible[at] = True
            used, sums, counts = v, self._by_hour_of_day(v), np.broadcast_to(self.hod_hours, (v.shape[0], 24))
            usable_hours = np.full(v.shape[0], v.shape[1])
        else:
            plausible = usable & ~interpolated  # interpolated but usable hours count with half-width uncertainty
            self.plausible[at] = plausible
            used = np.where(usable, v, 0.0)
            sums = self._by_hour_of_day(np.where(interpolated, 0.0, used) if spread else used)
            counts = self._by_hour_of_day(plausible)
            usable_hours = usable.sum(axis=1)
        # a meter never read at both ends of an hour (daily, monthly) has no hour-of-day profile: its mean rate instead
        rate = used.sum(axis=1) / np.maximum(usable_hours, 1)
        expected = np.where(counts > 0, sums / np.maximum(counts, 1.0), rate[:, None])
        self.expected[at] = expected
        return _Rows(v, interpolated if spread else None, usable, used, expected, complete)

    def _imputed(self, rows: _Rows) -> tuple[F64, F64, F64]:
        """Per row and hour: the volume with unusable hours imputed, the uncertainty half-width, 1 where imputed."""
        r, c = np.nonzero(~rows.usable)
        imputed = rows.expected[r, self.grid.local_hour[c]]
        filled = rows.used  # usable hours as registered, the others imputed
        filled[r, c] = imputed
        band = np.zeros(filled.shape)
        band[r, c] = imputed
        if rows.interpolated is not None:
            half = rows.usable & rows.interpolated
            band[half] = 0.5 * np.abs(rows.volume[half])
        return filled, band, (~rows.usable).astype(np.float64)

    def _by_hour_of_day(self, x: NDArray[np.float64] | NDArray[np.bool_]) -> F64:
        """``(rows, 24)`` sums of ``x`` over the hours of each local hour of day (exact: whole litres or counts)."""
        out = np.zeros((x.shape[0], 24))
        if self.hod_order.size:
            out[:, self.hods] = np.add.reduceat(x[:, self.hod_order], self.hod_starts, axis=1, dtype=np.float64)
        return out


def _as_slice(index: I64) -> slice | I64:
    """``index`` as a slice when it is a run of consecutive integers (a view instead of a copy)."""
    if index.size and bool(np.all(index[1:] - index[:-1] == 1)):
        return slice(int(index[0]), int(index[-1]) + 1)
    return index
