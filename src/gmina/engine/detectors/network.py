"""Network leaks and bursts in a zone, from its unexplained flow (inlet minus registered customer use).

* **burst** (abrupt): an hour whose unexplained flow steps above the median of the previous ``baseline_h`` hours by
  ``max(min_burst_lph, burst_sigmas × robust sd)``, beyond the zone's uncertainty band. One hour of data suffices;
  confidence rises as later hours confirm the step. A step that reverts within ``transient_h`` is dropped.
* **leak** (incipient, growing): minimum night flow of the unexplained series (mean over ``night_hours``, local
  Europe/Warsaw) against the first ``reference_nights`` nights of the window; a one-sided CUSUM change point with
  drift ``cusum_k`` σ and threshold ``cusum_h`` σ over the nights after the reference (a reference night is normal
  by definition; early in a window, while the reference is still forming, nothing is scanned). A change that a
  burst step explains is left to the burst.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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
from gmina.engine.series import mad_sigma, nanmedian


@dataclass(frozen=True)
class NetworkParams(BaseParams):
    baseline_h: int = param(72, "h", "hours before an hour that define its baseline (burst step)")
    min_burst_lph: float = param(500.0, "L/h", "smallest step in unexplained flow called a burst")
    burst_sigmas: float = param(8.0, "", "step threshold in robust standard deviations of the baseline hours")
    transient_h: int = param(3, "h", "a step whose median over this many following hours falls back is dropped")
    night_hours: tuple[int, ...] = param((2, 3), "h (local)", "local hours of day (start) forming the night window")
    reference_nights: int = param(7, "night", "first nights of the window forming the reference night flow")
    min_sigma_lph: float = param(5.0, "L/h", "floor of the night-flow standard deviation")
    cusum_k: float = param(0.5, "σ", "CUSUM drift allowance")
    cusum_h: float = param(5.0, "σ", "CUSUM alarm threshold")
    min_leak_lph: float = param(30.0, "L/h", "smallest night-flow excess called a leak")
    burst_explains: float = param(0.6, "", "a leak whose excess is at least this fraction a burst step is the burst")


@register
class NetworkLeaksAndBursts(DetectorBase[NetworkParams]):
    name = "network"
    alert_classes = frozenset({AlertClass.NETWORK_LEAK, AlertClass.NETWORK_BURST})
    params_type = NetworkParams

    def run(self, data: EngineInput, params: NetworkParams, rng: np.random.Generator) -> Sequence[Candidate]:
        zb = data.zone_balance
        out: list[Candidate] = []
        for z, zone_id in enumerate(zb.zone_ids.tolist()):
            bursts = _bursts(zb.unexplained_l[z], zb.uncertainty_l[z], params)
            for col, step, end, confirmed in bursts:
                out.append(self._burst(data, zone_id, z, col, step, end, confirmed, params))
            leak = self._leak(data, zone_id, z, bursts, params)
            if leak is not None:
                out.append(leak)
        return out

    def _burst(
        self,
        data: EngineInput,
        zone_id: int,
        z: int,
        col: int,
        step: float,
        end: int | None,
        confirmed: int,
        p: NetworkParams,
    ) -> Candidate:
        g, r = data.grid, data.zone_balance.unexplained_l[z]
        stop = g.n_hours if end is None else end
        pre = float(nanmedian(r[max(0, col - p.baseline_h) : col]))
        lost = float(np.nansum(np.clip(r[col:stop] - pre, 0.0, None)))
        return Candidate(
            AlertClass.NETWORK_BURST,
            LocationKind.ZONE,
            zone_id,
            g.start_us + col * HOUR_US,
            None if end is None else g.start_us + end * HOUR_US,
            min(0.95, 0.6 + 0.12 * confirmed),
            lost,
            {
                "step_lph": step,
                "baseline_lph": pre,
                "confirming_hours": confirmed,
                "series_l": r[max(0, col - 6) : col + 18],
            },
        )

    def _leak(
        self,
        data: EngineInput,
        zone_id: int,
        z: int,
        bursts: list[tuple[int, float, int | None, int]],
        p: NetworkParams,
    ) -> Candidate | None:
        g, r = data.grid, data.zone_balance.unexplained_l[z]
        night = np.isin(g.local_hour, p.night_hours)
        days = g.local_day[night]
        if days.size == 0:
            return None
        n_days = int(g.local_day.max()) + 1
        sums = np.bincount(days, weights=np.nan_to_num(r[night]), minlength=n_days)
        counts = np.bincount(days, weights=(~np.isnan(r[night])).astype(float), minlength=n_days)
        x = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        ref = x[~np.isnan(x)][: p.reference_nights]
        if ref.size < min(3, p.reference_nights):
            return None
        base, sigma = float(np.median(ref)), max(p.min_sigma_lph, float(mad_sigma(ref)))
        first = int(np.flatnonzero(~np.isnan(x))[ref.size - 1]) + 1  # the reference nights are not scanned
        s, last_zero, alarm = 0.0, first - 1, -1
        for d in range(first, n_days):
            if np.isnan(x[d]):
                continue
            s = max(0.0, s + x[d] - base - p.cusum_k * sigma)
            if s == 0.0:
                last_zero = d
            elif s > p.cusum_h * sigma and x[d] - base >= p.min_leak_lph:
                alarm = d
                break
        if alarm < 0:
            return None
        onset_day = last_zero + 1
        onset_col = int(np.flatnonzero(g.local_day == onset_day)[0])
        alarm_col = int(np.flatnonzero(g.local_day == alarm)[-1])
        excess = float(x[alarm] - base)
        for col, step, _, _ in bursts:
            if onset_col - 24 <= col <= alarm_col and step >= p.burst_explains * excess:
                return None
        tail = x[alarm:][~np.isnan(x[alarm:])]
        ongoing = bool(tail[-1] - base >= p.min_leak_lph / 2)
        since = x[onset_day:]
        known = since[~np.isnan(since)]
        slope = float(np.polyfit(np.arange(known.size), known, 1)[0]) if known.size >= 3 else float("nan")
        return Candidate(
            AlertClass.NETWORK_LEAK,
            LocationKind.ZONE,
            zone_id,
            g.start_us + onset_col * HOUR_US,
            None if ongoing else g.start_us + g.n_hours * HOUR_US,
            min(0.95, 0.6 + 0.35 * min(1.0, excess / (4 * p.min_leak_lph))),
            float(np.nansum(np.clip(since - base, 0.0, None)) * 24.0),
            {
                "reference_night_lph": base,
                "sigma_lph": sigma,
                "night_excess_lph": excess,
                "latest_night_excess_lph": float(tail[-1] - base),
                "trend_lph_per_day": slope,
                "nightly_lph": x[max(0, onset_day - 3) : onset_day + 14],
            },
        )


def _bursts(r: np.ndarray, band: np.ndarray, p: NetworkParams) -> list[tuple[int, float, int | None, int]]:
    """Steps in one zone's unexplained series: ``(column, step L/h, end column or None, confirming hours)``."""
    h, w = r.size, p.baseline_h
    if h <= w:
        return []
    windows = sliding_window_view(r, w)[:-1]  # windows[i] = r[i : i + w], the baseline of column i + w
    base = nanmedian(windows, axis=1)
    sigma = mad_sigma(windows, axis=1)
    thr = np.maximum(p.min_burst_lph, p.burst_sigmas * np.nan_to_num(sigma, nan=np.inf))
    e = r[w:] - base
    with np.errstate(invalid="ignore"):
        hit = (e >= thr) & (band[w:] < 0.5 * e)
    out: list[tuple[int, float, int | None, int]] = []
    i = 0
    cols = np.flatnonzero(hit)
    while i < cols.size:
        col = int(cols[i]) + w
        pre, t = float(base[cols[i]]), float(thr[cols[i]])
        post = r[col : col + 24] - pre
        if post.size >= p.transient_h + 1 and float(nanmedian(post[1 : p.transient_h + 1])) < 0.5 * t:
            i += 1
            continue
        level = r[col:] - pre
        below = np.flatnonzero(np.convolve(level < 0.3 * t, np.ones(6), mode="valid") == 6)
        end = col + int(below[0]) if below.size else None
        confirmed = int((post >= 0.5 * t).sum()) - 1
        out.append((col, float(nanmedian(post[: min(post.size, 6)])), end, confirmed))
        nxt = (end if end is not None else h) + w
        i = int(np.searchsorted(cols, nxt - w))
    return out
