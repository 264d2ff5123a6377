"""Stopped / stuck meter: the register stands still at a premise that draws water.

Judged reading by reading: the meter's latest readings have not moved (by more than ``zero_tol_l``) for ``zero_h``
hours of readings, while over the ``baseline_days`` before it the premise drew at least ``min_usual_lpd``.

A premise left empty reads exactly like a stopped meter: nothing the meter sends tells a holiday from a seized
register. Only the zone can: water a stopped meter lets through still enters the zone, so its unexplained flow
(:func:`gmina.engine.balance.shaped_balance`) rises by about the premise's usual use. Where the zone's balance is
quiet enough to see that — over the ``zone_window_h`` either side of the run's start, the rise is between
``zone_support`` and ``zone_support_max`` times the usual use and ``zone_sigmas`` standard errors of the zone's
day-to-day noise — the run is raised at once (0.7). In a large zone one
household is lost in the noise: a zero run is then *evidence* (confidence 0.4, "stopped meter or nobody home")
until it outlasts an absence — ``max_absence_d`` days, the long holiday — and is raised then (0.75, 0.85 after
``sure_d`` days). A device alarm (``sensor_error``, ``no_usage``)
confirms a stopped register at once (the device-alarm detector's candidate; fusion combines both).
Volume: the usual use over the zero run (unbilled water).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gmina.engine.balance import shaped_balance
from gmina.engine.base import (
    AlertClass,
    BaseParams,
    Candidate,
    DetectorBase,
    EngineInput,
    LocationKind,
    param,
    register,
)
from gmina.engine.grid import HOUR_US
from gmina.engine.series import mad_sigma
from gmina.engine.views import ReadingPairs, reading_pairs


@dataclass(frozen=True)
class StuckParams(BaseParams):
    zero_h: float = param(48.0, "h", "hours of readings without movement before a meter is suspected")
    zero_tol_l: float = param(0.5, "L", "a change of at most this is no movement")
    baseline_days: int = param(14, "d", "days before the zero run that define the premise's usual use")
    min_usual_lpd: float = param(60.0, "L/d", "usual daily use below which standing still is not surprising")
    max_absence_d: float = param(22.0, "d", "the longest usual absence: a zero run longer than this is a stuck meter")
    sure_d: float = param(30.0, "d", "a zero run this long is raised with high confidence")
    zone_support: float = param(0.5, "", "the zone's unexplained flow must rise by this share of the usual use")
    zone_support_max: float = param(2.0, "", "… and by no more than this multiple of it (more: another cause)")
    zone_window_h: int = param(72, "h", "hours either side of the run's start compared in the zone balance")
    zone_sigmas: float = param(3.0, "σ", "and by this many standard errors of its day-to-day noise")


@register
class Stuck(DetectorBase[StuckParams]):
    name = "stuck"
    alert_classes = frozenset({AlertClass.STUCK})
    params_type = StuckParams

    def run(self, data: EngineInput, params: StuckParams, rng: np.random.Generator) -> Sequence[Candidate]:
        pr = reading_pairs(data)
        g = data.grid
        if pr.row.size == 0:
            return []
        # each customer meter's latest pair; a meter whose latest pair moved is not stuck
        rows = np.flatnonzero(data.customer_rows).astype(pr.row.dtype)
        lo = np.searchsorted(pr.row, rows, side="left")
        last = np.searchsorted(pr.row, rows, side="right") - 1
        keep = last >= lo
        lo, last = lo[keep], last[keep]
        still = pr.valid[last] & ~(np.abs(pr.delta[last]) > params.zero_tol_l)
        out: list[Candidate] = []
        for first, i in zip(lo[still].tolist(), last[still].tolist(), strict=True):
            # the latest break (a move, or the invalid pair that starts the meter's pairs) at or before ``i``
            breaks = np.flatnonzero((np.abs(pr.delta[first : i + 1]) > params.zero_tol_l) | ~pr.valid[first : i + 1])
            first_still = first + int(breaks[-1]) + 1 if breaks.size else first
            since_us = int(pr.t0_us[first_still])
            zero_h = (int(pr.t1_us[i]) - since_us) / HOUR_US
            if zero_h < params.zero_h:
                continue
            row = int(pr.row[i])
            usual = _usual_lpd(pr, row, first_still, since_us, params.baseline_days)
            if not usual >= params.min_usual_lpd:
                continue
            days = zero_h / 24.0
            confidence = 0.85 if days >= params.sure_d else 0.75 if days >= params.max_absence_d else 0.4
            rise, se = _zone_rise(data, row, (since_us - g.start_us) // HOUR_US, params.zone_window_h)
            usual_lph = usual / 24.0
            supported = (
                params.zone_support * usual_lph <= rise <= params.zone_support_max * usual_lph
                and rise >= params.zone_sigmas * se
            )
            if supported:
                confidence = max(confidence, 0.7)
            out.append(
                Candidate(
                    AlertClass.STUCK,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    since_us,
                    None,
                    confidence,
                    usual * days,
                    {
                        "zero_hours": zero_h,
                        "usual_lpd": usual,
                        "index_l": pr.index1[i],
                        "zone_rise_lph": rise,
                        "zone_rise_se_lph": se,
                        "explanation": "stopped meter"
                        if days >= params.max_absence_d or supported
                        else "stopped meter or absence",
                    },
                )
            )
        return out


def _usual_lpd(pr: ReadingPairs, row: int, first_still: int, since_us: int, days: int) -> float:
    """Litres per day the meter registered over the ``days`` before ``since_us`` (NaN: under a day of readings)."""
    lo = int(np.searchsorted(pr.row, row))
    sel = slice(lo, first_still)
    t0, t1, d = pr.t0_us[sel], pr.t1_us[sel], pr.delta[sel]
    inside = (t0 >= since_us - days * 24 * HOUR_US) & (d >= 0)
    hours = float(((t1 - t0)[inside]).sum()) / HOUR_US
    return float(d[inside].sum()) / hours * 24.0 if hours >= 24.0 else float("nan")


def _zone_rise(data: EngineInput, row: int, since_col: int, window: int) -> tuple[float, float]:
    """How much the meter's zone's unexplained flow rose at ``since_col``: the ``window`` hours after against the
    ``window`` before (L/h), and the standard error of that rise from the spread of the zone's daily means;
    ``(nan, nan)`` without a zone or enough hours."""
    z = int(data.zone_balance.meter_zone[row])
    if z < 0 or since_col < window:
        return float("nan"), float("nan")
    g = data.grid
    u = shaped_balance(data).unexplained_l[z]
    after, before = u[since_col : since_col + window], u[since_col - window : since_col]
    n_after, n_before = int((~np.isnan(after)).sum()), int((~np.isnan(before)).sum())
    if n_after < 24 or n_before < 24:
        return float("nan"), float("nan")
    days = g.local_day
    ok = ~np.isnan(u)
    counts = np.bincount(days[ok], minlength=int(days.max()) + 1)
    means = np.bincount(days[ok], u[ok], int(days.max()) + 1) / np.maximum(counts, 1)
    sigma_day = float(mad_sigma(means[counts >= 20]))
    se = sigma_day * float(np.sqrt(24.0 / n_after + 24.0 / n_before))
    return float(np.nanmean(after) - np.nanmean(before)), se
