"""Customer-side leak: water flowing behind the meter through the night, at a premise whose nights used to be still.

A household's night (local 00:00–05:00) normally has at least one hour in which nothing is drawn; a leak behind the
meter (a running toilet, a dripping valve, a burst pipe in the garden) adds its rate to every hour, so each night's
*minimum* hour rises to the leak rate and the night hours become nearly equal. The detector works on meters that
resolve hours (their hour is read at both ends):

* a **flow night**: the minimum of the night's exact hours is at least ``min_rate_lph`` above what the meter's
  nights usually show (the upper quartile of its previous ``baseline_nights`` minima; zero for a household);
* a **steady** flow night: at least ``steady_hours`` of the night hours lie within ``steady_tol_l`` (or
  ``steady_rel`` of the level) of that minimum — a leak's signature; occasional night use breaks it, a leak
  does not;
* the latest usable night and the run of nights before it at about its level (a leak keeps its rate) are judged
  against the meter's nights before the run: three flow nights raise a case (0.75, rising), two 0.75 (for a leak
  rate of at least ``low_rate_lph``: below it, register noise, three are needed), one night 0.6 if every night hour
  sits at the minimum or it is steady at ``steady_rate_lph`` or more. A single unsteady flow night is evidence only
  (0.3): someone was up at night. A premise whose earlier nights flowed more often than ``max_busy_share`` (half of
  it for two nights) is not raised on so little.

The meter must have had at least ``min_baseline_nights`` usable nights before the run (a premise that has flowed at
night since the window began has nothing to be compared with). A rate of ``burst_rate_lph`` or more is a burst, left
to :mod:`customer_burst`. The onset is the hour after the last hour below half the leak rate in the two days before
the first flow night. A leak whose latest night is still again is no longer reported (its alert clears).
Volume: rate × hours since the onset.
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
from gmina.engine.views import NightMatrix, night_matrix


@dataclass(frozen=True)
class CustomerLeakParams(BaseParams):
    night_hours: tuple[int, ...] = param((0, 1, 2, 3, 4), "h (local)", "local hours (start) that form the night")
    min_night_hours: int = param(4, "h", "exact night hours needed to judge a night")
    min_rate_lph: float = param(2.0, "L/h", "smallest leak rate: a night minimum this far above usual is a flow night")
    steady_hours: int = param(4, "h", "night hours within the tolerance of the minimum that make a steady night")
    steady_tol_l: float = param(1.5, "L", "absolute tolerance around the night minimum")
    steady_rel: float = param(0.2, "", "relative tolerance around the night minimum")
    baseline_nights: int = param(14, "night", "previous nights that define the meter's usual night minimum")
    min_baseline_nights: int = param(3, "night", "usable previous nights needed before a meter is judged")
    burst_rate_lph: float = param(100.0, "L/h", "a night flow at or above this is a burst, not a leak")
    low_rate_lph: float = param(4.0, "L/h", "below this rate (register noise level) three flow nights are needed")
    steady_rate_lph: float = param(8.0, "L/h", "a steady night at this rate or more raises on its own")
    max_busy_share: float = param(0.2, "", "share of earlier nights that flowed above which a premise is not judged")


@register
class CustomerLeak(DetectorBase[CustomerLeakParams]):
    name = "customer_leak"
    alert_classes = frozenset({AlertClass.CUSTOMER_LEAK})
    params_type = CustomerLeakParams

    def run(self, data: EngineInput, params: CustomerLeakParams, rng: np.random.Generator) -> Sequence[Candidate]:
        nm = night_matrix(data, params.night_hours, params.min_night_hours)
        if nm.minimum.size == 0:
            return []
        # screen: enough usable nights, the latest of them flowing
        known = ~np.isnan(nm.minimum)
        latest = nm.minimum.shape[1] - 1 - np.argmax(known[:, ::-1], axis=1)
        flowing = nm.minimum[np.arange(latest.size), latest] >= params.min_rate_lph
        enough = known.sum(axis=1) > params.min_baseline_nights
        rows = np.flatnonzero(data.customer_rows & nm.resolved & enough & flowing)
        out: list[Candidate] = []
        for row in rows.tolist():
            cand = self._meter(data, row, nm, params)
            if cand is not None:
                out.append(cand)
        return out

    def _meter(self, data: EngineInput, row: int, nm: NightMatrix, p: CustomerLeakParams) -> Candidate | None:
        g = data.grid
        mins, nm_values, night_end_col = nm.minimum[row], nm.values[row], nm.night_end_col
        valid = np.flatnonzero(~np.isnan(mins))
        if valid.size <= p.min_baseline_nights:
            return None
        last = int(valid[-1])
        if mins[last] < p.min_rate_lph:
            return None  # the latest night was still
        # the run: consecutive usable nights at about the latest night's level (a leak keeps its rate)
        floor = max(p.min_rate_lph, 0.5 * float(mins[last]))
        i = valid.size - 1
        while i > 0 and mins[valid[i - 1]] >= floor:
            i -= 1
        run = valid[i:]
        history = valid[:i][-p.baseline_nights :]
        if history.size < p.min_baseline_nights:
            return None  # flowing since the window began: nothing to compare with
        usual = float(np.quantile(mins[history], 0.75))
        rate = float(np.median(mins[run])) - usual
        if rate < p.min_rate_lph or rate >= p.burst_rate_lph:
            return None  # no rise, or a burst (customer_burst's case)
        # how often this premise's nights flowed before: a busy premise needs a longer run
        busy = float(np.mean(mins[history] >= float(np.quantile(mins[history], 0.25)) + p.min_rate_lph))
        n = int(run.size)
        steady = nm.steady(row, p)
        steady_all = bool(steady[last]) and _all_steady(nm_values, last, p)
        if n >= 3 and busy <= p.max_busy_share:
            confidence = min(0.9, 0.75 + 0.05 * (n - 2))
        elif n == 2 and busy <= 0.5 * p.max_busy_share and rate >= p.low_rate_lph:
            confidence = 0.75
        elif steady_all or (steady[last] and rate >= p.steady_rate_lph):
            confidence = 0.6  # one night, but a leak's signature
        else:
            confidence = 0.3  # someone was up at night: evidence only
        first_col = int(night_end_col[run[0]]) - len(p.night_hours)
        onset = _onset(g.volume_l[row], g.interpolated[row], first_col, usual + 0.5 * rate)
        return Candidate(
            AlertClass.CUSTOMER_LEAK,
            LocationKind.METER,
            int(g.meter_ids[row]),
            g.start_us + onset * HOUR_US,
            None,
            confidence,
            rate * (g.n_hours - onset),
            {
                "leak_rate_lph": rate,
                "flow_nights": n,
                "steady_last_night": bool(steady[last]),
                "busy_night_share": busy,
                "night_min_l": mins[run[-7:]],
                "usual_night_min_l": usual,
                "baseline_nights": int(history.size),
            },
        )


def _all_steady(values: np.ndarray, night: int, p: CustomerLeakParams) -> bool:
    """Every exact hour of the night lies within the tolerance of its minimum."""
    x = values[night][~np.isnan(values[night])]
    if x.size < p.min_night_hours:
        return False
    return bool(np.all(x - x.min() <= max(p.steady_tol_l, p.steady_rel * x.min())))


def _onset(v: np.ndarray, interp: np.ndarray, first_col: int, level: float) -> int:
    """The hour after the last exact hour below ``level`` in the two days before ``first_col`` (the first flow
    night's first hour); ``first_col`` itself if there is none."""
    lo = max(0, first_col - 48)
    below = np.flatnonzero(~interp[lo:first_col] & (v[lo:first_col] < level))
    return lo + int(below[-1]) + 1 if below.size else first_col
