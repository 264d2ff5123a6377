"""Customer-side burst: a sudden, sustained, steady high flow behind the meter, far above what the premise draws.

Works on meters that resolve hours. The meter's own exact hours over the ``baseline_days`` before a run give its
*sustained levels* ``S_n``: the highest level it held for ``n`` consecutive hours (the maximum over the baseline of
the ``n``-hour moving minimum) — one tap's peak for ``n`` = 1, a busy shop's opening hours for ``n`` = 6. A run of
consecutive hours is a burst when it holds a level no earlier stretch of the same length did:

* one hour of at least ``max(one_hour_lph, margin × S_1)`` (confidence 0.6: raised after one hour of data);
* two hours of at least ``max(two_hour_lph, margin × S_2)`` each (0.7);
* three or more hours of at least ``max(three_hour_lph, margin × S_n)`` each, or ``long_run_h`` hours or more of at
  least ``max(min_burst_lph, margin × S_n)`` (``n`` capped at ``max_sustain_h``), steady (the run's lowest inner
  hour at least ``steady_share`` of its median and ``steady_hours_share`` of its inner hours within ``steady_band`` of
  the median — the first and last hours are partly before and after: a burst runs at a constant rate, use comes
  and goes) (0.8, rising with length, from four hours; three hours hold a single inner hour, so they cannot show
  steadiness: evidence only, 0.45 — an afternoon's watering at 200 L/h looks the same).

Hours above ``spike_q4`` × Q4 are misreads (the register detector's spikes), never a burst. A gap in the readings
does not break a run: its hours carry the gap's mean rate.

**Filling, not bursting.** A steady flow at hose rate (``hose_lph``) that began in the daytime (``day_hours``,
local) is what filling a pool or a tank looks like; it is kept as evidence (confidence 0.3) until it has run longer
than ``max_fill_h`` or drawn more than ``max_fill_m3`` — past that no pool explains it and it is raised as a burst.

The burst rate is the run's median hour less the meter's median hour; the volume is that rate × the run's
hours. A run that has stopped is closed (``end``); a run at the latest hour is ongoing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
from gmina.engine.series import runs
from gmina.engine.views import night_matrix
from gmina.engine.zone import overload_lph

CHUNK_ROWS = 4096
"""Meters looked at together (bounds the copy of their hours)."""


@dataclass(frozen=True)
class CustomerBurstParams(BaseParams):
    baseline_days: int = param(21, "d", "days before the run that define the meter's sustained levels")
    min_baseline_hours: int = param(168, "h", "exact hours needed in the baseline before a meter is judged")
    margin: float = param(1.5, "", "a burst holds this multiple of the level sustained as long before")
    max_sustain_h: int = param(6, "h", "runs longer than this are compared with the 6-hour sustained level")
    one_hour_lph: float = param(500.0, "L/h", "smallest flow that raises after a single hour")
    two_hour_lph: float = param(300.0, "L/h", "smallest flow that raises after two hours")
    three_hour_lph: float = param(200.0, "L/h", "smallest flow that raises after three steady hours")
    min_burst_lph: float = param(140.0, "L/h", "smallest burst flow (``long_run_h`` steady hours)")
    long_run_h: int = param(5, "h", "steady hours after which the smallest burst flow raises")
    steady_share: float = param(0.7, "", "a run is steady when its lowest hour is at least this share of its median")
    steady_band: float = param(0.15, "", "… and most of its hours lie within this share of its median")
    steady_hours_share: float = param(0.75, "", "… that is, at least this share of them")
    spike_q4: float = param(1.5, "", "an hour above this multiple of Q4 is a misread, not flow")
    hose_lph: tuple[float, float] = param((700.0, 1900.0), "L/h", "flow range of a garden hose filling a pool")
    day_hours: tuple[int, int] = param((7, 20), "h (local)", "a filling starts between these local hours")
    max_fill_h: float = param(36.0, "h", "a steady hose-rate flow longer than this is not a filling")
    max_fill_m3: float = param(35.0, "m³", "a steady hose-rate flow drawing more than this is not a filling")


@register
class CustomerBurst(DetectorBase[CustomerBurstParams]):
    name = "customer_burst"
    alert_classes = frozenset({AlertClass.CUSTOMER_BURST})
    params_type = CustomerBurstParams

    def run(self, data: EngineInput, params: CustomerBurstParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        resolved = night_matrix(data, (0, 1, 2, 3, 4), 4).resolved
        q4 = overload_lph(data)
        out: list[Candidate] = []
        # only meters with an hour at burst rate are looked at (one pass, no copy)
        peak = np.fmax.reduce(g.volume_l, axis=1) if g.n_hours else np.full(g.meter_ids.size, np.nan)
        rows = np.flatnonzero(data.customer_rows & resolved & (peak >= params.min_burst_lph))
        for chunk in np.array_split(rows, max(1, -(-rows.size // CHUNK_ROWS))):
            v = g.volume_l[chunk]
            plausible = np.where(v > params.spike_q4 * q4[chunk][:, None], np.nan, v)
            at, starts, ends = runs(plausible >= params.min_burst_lph)  # an unknown hour breaks a run
            # most runs are a tap's hour or two: below the one- and two-hour floors they cannot be a burst
            first, last = plausible[at, starts], plausible[at, ends - 1]
            n = ends - starts
            keep = (n >= 3) | (np.fmax(first, last) >= params.one_hour_lph)
            keep |= (n == 2) & (np.fmin(first, last) >= params.two_hour_lph)
            at, starts, ends = at[keep], starts[keep], ends[keep]
            for i, start, end in zip(at.tolist(), starts.tolist(), ends.tolist(), strict=True):
                cand = self._run(data, int(chunk[i]), plausible[i], start, end, params)
                if cand is not None:
                    out.append(cand)
        return out

    def _run(
        self, data: EngineInput, row: int, v: np.ndarray, start: int, end: int, p: CustomerBurstParams
    ) -> Candidate | None:
        g = data.grid
        run = v[start:end]
        n = end - start
        level = float(np.median(run))
        ongoing = end >= g.n_hours
        # the first hour is partly before the onset, the last partly after the end or not complete yet (a sub-hourly
        # meter's reading for the hour's end may not be in)
        inner = run[1:-1] if n >= 3 else run
        low = float(inner.min())
        near = np.abs(inner - level) <= max(p.steady_band * level, 20.0)
        steady = low >= p.steady_share * level and float(near.mean()) >= p.steady_hours_share
        top2 = float(np.sort(run)[-2]) if n >= 2 else -np.inf
        floor = p.three_hour_lph if n < p.long_run_h else p.min_burst_lph
        if not ((n >= 3 and steady and low >= floor) or top2 >= p.two_hour_lph or float(run.max()) >= p.one_hour_lph):
            return None  # below every absolute floor: no baseline can make it a burst (most runs: a tap's hour)
        lo = max(0, start - p.baseline_days * 24)
        base = np.where(g.interpolated[row, lo:start], np.nan, v[lo:start])
        if int((~np.isnan(base)).sum()) < p.min_baseline_hours:
            return None
        held = n >= 3 and steady and low >= max(floor, p.margin * _sustained(base, min(n, p.max_sustain_h)))
        if held and n > 3:
            confidence = min(0.9, 0.8 + 0.02 * (n - 3))
        elif n >= 2 and top2 >= max(p.two_hour_lph, p.margin * _sustained(base, 2)):
            confidence = 0.7
        elif float(run.max()) >= max(p.one_hour_lph, p.margin * _sustained(base, 1)):
            confidence = 0.6
        elif held:
            confidence = 0.45  # three hours hold one inner hour: steadiness is untested until a fourth
        else:
            return None
        usual = float(np.nanmedian(base))
        rate = level - usual
        volume = rate * n
        filling = _filling(g.local_hour, v, start, end, volume, p)
        if filling:
            confidence = 0.3
        return Candidate(
            AlertClass.CUSTOMER_BURST,
            LocationKind.METER,
            int(g.meter_ids[row]),
            g.start_us + start * HOUR_US,
            None if ongoing else g.start_us + end * HOUR_US,
            confidence,
            volume,
            {
                "burst_rate_lph": rate,
                "burst_hours": n,
                "steady": steady,
                "sustained_before_lph": _sustained(base, min(n, p.max_sustain_h)),
                "usual_median_lph": usual,
                "possible_filling": filling,
                "series_l": v[max(0, start - 3) : end + 3],
            },
        )


def _filling(
    local_hour: np.ndarray, v: np.ndarray, start: int, end: int, volume: float, p: CustomerBurstParams
) -> bool:
    """The run's core (its hours at half its peak or more, less the first and the last, partial ones) is a steady
    hose-rate flow that began in the daytime and has not yet outlasted or outdrawn a pool."""
    run = v[start : end - 1] if end - start >= 2 else v[start:end]  # the last hour is partial
    core = np.flatnonzero(run >= 0.5 * float(run.max()))
    first = start + int(core[0])
    hours = run[core[1:]] if core.size >= 2 else run[core]
    level = float(np.median(hours))
    steady = bool(np.all(np.abs(hours - level) <= max(p.steady_band * level, 20.0)))
    return (
        steady
        and p.hose_lph[0] <= level <= p.hose_lph[1]
        and p.day_hours[0] <= int(local_hour[first]) < p.day_hours[1]
        and end - first <= p.max_fill_h
        and volume <= p.max_fill_m3 * 1000.0
    )


def _sustained(x: np.ndarray, n: int) -> float:
    """The highest level ``x`` held for ``n`` consecutive known hours (max of the ``n``-hour moving minimum).

    >>> _sustained(np.array([1.0, 9.0, 8.0, 2.0, np.nan, 7.0]), 2)
    8.0
    """
    if x.size < n:
        return 0.0
    w = np.lib.stride_tricks.sliding_window_view(np.nan_to_num(x, nan=-np.inf), n).min(axis=1)
    return float(max(0.0, w.max()))
