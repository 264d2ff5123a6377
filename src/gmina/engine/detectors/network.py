"""Network leaks and bursts in a zone, from its unexplained flow (inflow less the shaped customer consumption).

The series is :func:`gmina.engine.balance.shaped_balance`'s ``unexplained_l``: what flowed into the zone and no
customer meter accounts for, hour by hour, with coarse meters spread by the zone's demand shape.

* **burst** (abrupt): each hour's unexplained flow against its expected value — the median of the same hour on the
  days of the same kind (working day; or Saturday, Sunday, public holiday) among the ``days`` before, given
  ``min_same_days`` of them — gives an excess ``e`` (from the ``min_history_days``-th day of the window on); its scale
  ``σ`` is the robust spread of ``e`` over the window (night, morning, day and evening hours apart, the latest
  ``fresh_h`` hours left out; none before ``min_sigma_days`` days are judged), and never below the spread of the days
  the expectation comes from. A burst *steps*: an hour whose excess is ``max(min_burst_lph, run_sigmas·σ)`` above the
  median excess of the ``step_window_h`` hours before it (half of them known) starts a run (a leak growing for days
  never steps), which lasts while the excess stays half a step above that level (dips of up to ``max_dip_h`` hours
  bridged). A run whose mean step is ``burst_sigmas`` standard errors above zero is a burst; a single hour
  ``one_hour_sigmas`` above raises on its own (confidence 0.6); a longer run is surer. A run that a customer meter's
  unusual days explain (``lump_explains`` of its excess volume; the whole of each touched day's lump counts, its hours
  within the day being unknown) is left out: water a daily meter counted on that day is not lost. A run that some
  lump touches but does not yet explain is only evidence (``pending_confidence``) until ``lump_pending_h`` after it
  ended: the daily meter's next readings may count the rest of it (a burst behind a daily meter).
* **leak** (incipient, growing): the mean unexplained flow of each night (local ``night_hours``); the night at which
  the nights after it are highest above the ``reference_nights`` before it (a change point, in standard errors of
  the reference nights' spread) starts a leak when the score reaches ``leak_score`` and the excess ``min_leak_lph``,
  and the last ``confirm_nights`` nights are all above the reference. The reference stays before the onset, so a
  leak stays reported while it runs. A leak that a burst explains (it began within a day of a burst's start) is the
  burst, unless that step has run for more than ``max_burst_h``: nobody repaired it, it leaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gmina.engine.balance import ShapedBalance, shaped_balance
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
from gmina.engine.grid import HOUR_US, HourlyGrid
from gmina.engine.series import level_shift, mad_sigma, nanmedian

SIGMA_BLOCKS = (6, 10, 18)
"""Local hours at which the noise scale changes: night (0–5), morning peak (6–9), day (10–17), evening (18–23)."""


@dataclass(frozen=True)
class NetworkParams(BaseParams):
    days: int = param(14, "d", "the same hours on the days of the same kind among this many before: expected flow")
    min_history_days: int = param(7, "d", "days of the window with no burst judgement (the expectation forms)")
    min_same_days: int = param(3, "d", "days of the same kind needed before an hour to expect its flow")
    fresh_h: int = param(48, "h", "latest hours left out of the noise estimate (an event may be under way)")
    min_sigma_lph: float = param(30.0, "L/h", "floor of the hourly noise scale")
    min_sigma_days: int = param(3, "d", "judged days needed to estimate the noise scale (no burst judgement before)")
    min_burst_lph: float = param(300.0, "L/h", "smallest step in unexplained flow called a burst")
    run_sigmas: float = param(1.5, "σ", "an hour belongs to a burst run when its excess is at least this")
    burst_sigmas: float = param(10.0, "σ", "a run's mean excess must be this many standard errors above zero")
    one_hour_sigmas: float = param(7.0, "σ", "a single hour's excess that raises on its own")
    max_dip_h: int = param(2, "h", "hours below half a step bridged within a burst")
    step_window_h: int = param(24, "h", "hours before an hour whose median excess is the level a burst steps from")
    lump_explains: float = param(0.5, "", "share of a run's excess volume a customer meter's unusual day may explain")
    lump_pending_h: int = param(48, "h", "a run with customer lumps that ended less than this ago may be explained yet")
    pending_confidence: float = param(0.45, "", "confidence of such a run until then (evidence, not raised)")
    night_hours: tuple[int, ...] = param((1, 2, 3, 4), "h (local)", "local hours of day (start) of the night")
    reference_nights: int = param(14, "night", "nights before a change point forming its reference")
    min_reference_nights: int = param(14, "night", "reference nights needed (two weeks: both weekends)")
    min_night_sigma_lph: float = param(10.0, "L/h", "floor of the night-flow noise scale")
    leak_score: float = param(5.0, "σ", "change-point score (standard errors) that starts a leak")
    min_leak_lph: float = param(50.0, "L/h", "smallest night-flow excess called a leak")
    confirm_nights: int = param(2, "night", "latest nights that must all be above the reference")
    max_burst_h: int = param(72, "h", "a step still running after this long is a leak too (it is not repaired)")


@register
class NetworkLeaksAndBursts(DetectorBase[NetworkParams]):
    name = "network"
    alert_classes = frozenset({AlertClass.NETWORK_LEAK, AlertClass.NETWORK_BURST})
    params_type = NetworkParams

    def run(self, data: EngineInput, params: NetworkParams, rng: np.random.Generator) -> Sequence[Candidate]:
        sb = shaped_balance(data)
        out: list[Candidate] = []
        for z in range(sb.zone_ids.size):
            bursts = _bursts(data, sb, z, params)
            out += bursts
            leak = _leak(data, sb, z, bursts, params)
            if leak is not None:
                out.append(leak)
        return out


def expected_flow(u: np.ndarray, rest: np.ndarray, days: int, min_days: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Each hour's expected value: the median of the same hour on the ``days`` days before it that are of the same
    kind (working day, or Saturday/Sunday/holiday: a shop is shut, a household at home), and the robust spread of
    those days' values (MAD σ); both NaN with fewer than ``min_days`` such days.

    >>> u = np.tile(np.arange(24.0), 10)
    >>> expected, spread = expected_flow(u, np.zeros(u.size, dtype=bool), 7)
    >>> bool(np.allclose(expected[24:], u[24:])), float(np.nanmax(spread))
    (True, 0.0)
    """
    h = u.size
    stack = np.full((days, h), np.nan)
    for k in range(1, days + 1):
        if h > 24 * k:
            same = rest[24 * k :] == rest[: h - 24 * k]
            stack[k - 1, 24 * k :] = np.where(same, u[: h - 24 * k], np.nan)
    few = np.count_nonzero(~np.isnan(stack), axis=0) < min_days
    expected = np.where(few, np.nan, nanmedian(stack, axis=0))
    spread = np.where(few, np.nan, mad_sigma(stack, axis=0))
    return expected, spread


def _excess(data: EngineInput, sb: ShapedBalance, z: int, p: NetworkParams) -> tuple[np.ndarray, np.ndarray]:
    """``(e, σ)`` per hour: the excess over the expected flow and its noise scale (night and day hours apart, and
    never below the spread of the days the expectation comes from); the first ``min_history_days`` of the window,
    and hours with fewer than ``min_same_days`` days of their kind before them, are NaN."""
    u = sb.unexplained_l[z]
    expected, spread = expected_flow(u, data.grid.rest_day, p.days, p.min_same_days)
    e = u - expected
    e[: 24 * p.min_history_days] = np.nan
    past = np.arange(e.size) < e.size - p.fresh_h
    sigma = np.empty(e.size)
    block = np.searchsorted(np.array(SIGMA_BLOCKS), data.grid.local_hour, side="right")
    for b in np.unique(block).tolist():
        part = block == b
        known = e[part & past]
        known = known[~np.isnan(known)]
        hours_a_day = np.unique(data.grid.local_hour[part]).size
        if known.size < p.min_sigma_days * hours_a_day:
            sigma[part] = np.inf  # too few judged hours to know the noise: no burst judgement yet
        else:
            sigma[part] = max(p.min_sigma_lph, float(mad_sigma(known)))
    return e, np.fmax(sigma, spread)


def _bursts(data: EngineInput, sb: ShapedBalance, z: int, p: NetworkParams) -> list[Candidate]:
    g = data.grid
    e, sigma = _excess(data, sb, z, p)
    if np.isnan(e).all():
        return []
    # the level just before each hour: a burst is a step from it (a leak growing for days is not)
    pre = _trailing_median(e, p.step_window_h)
    d = e - pre
    step = np.maximum(p.min_burst_lph, p.run_sigmas * sigma)
    high = np.nan_to_num(d, nan=-np.inf) >= step
    out: list[Candidate] = []
    t = 0
    while t < e.size:
        hits = np.flatnonzero(high[t:])
        if hits.size == 0:
            break
        start = t + int(hits[0])
        level = float(pre[start])
        # the run lasts while the excess stays at least half a step above the level before it
        above = np.nan_to_num(e[start:] - level, nan=np.inf) >= 0.5 * step[start:]
        below = _first_run(~above, p.max_dip_h + 1)
        end = start + (below if below >= 0 else above.size)
        cand = _burst(g, sb, z, e, sigma, level, start, end, p)
        if cand is not None:
            out.append(cand)
        t = max(end, start + 1)
    return out


def _burst(
    g: HourlyGrid, sb: ShapedBalance, z: int, e: np.ndarray, sigma: np.ndarray, level: float, start: int, end: int,
    p: NetworkParams,
) -> Candidate | None:  # fmt: skip
    ex, sg = e[start:end] - level, sigma[start:end]
    n = int((~np.isnan(ex)).sum())
    if n == 0:
        return None
    mean = float(np.nanmean(ex))
    score = mean / float(np.sqrt(np.nanmean(sg**2) / n))
    if mean < p.min_burst_lph or (score < p.burst_sigmas and not (n == 1 and score >= p.one_hour_sigmas)):
        return None
    volume = float(np.nansum(np.clip(ex, 0.0, None)))
    # a lump's hours within its day are unknown: the whole of each touched day's lumps may be in the run
    lump = float(sb.lump_l[z, np.isin(g.local_day, g.local_day[start:end])].sum())
    if lump >= p.lump_explains * volume:
        return None
    ongoing = end >= g.n_hours
    confidence = min(0.95, 0.6 + 0.05 * (n - 1) + 0.02 * (score - p.burst_sigmas))
    # a daily meter that showed a lump in the run's days may count the rest of the run at its next readings
    pending = lump > 0 and g.n_hours - end < p.lump_pending_h
    return Candidate(
        AlertClass.NETWORK_BURST,
        LocationKind.ZONE,
        int(sb.zone_ids[z]),
        g.start_us + start * HOUR_US,
        None if ongoing else g.start_us + end * HOUR_US,
        min(confidence, p.pending_confidence) if pending else confidence,
        volume,
        {
            "step_lph": mean,
            "pending_customer_lumps": pending,
            "level_before_lph": level,
            "sigma_lph": float(np.nanmean(sg)),
            "score": score,
            "hours": n,
            "customer_lumps_l": lump,
            "excess_l": ex[:24],
        },
    )


def _trailing_median(x: np.ndarray, w: int) -> np.ndarray:
    """Median of the ``w`` values before each position (NaN skipped; NaN where fewer than half of them are known: a
    level needs hours to stand on).

    >>> _trailing_median(np.array([1.0, 2.0, 3.0, 10.0]), 2).tolist()
    [nan, 1.0, 1.5, 2.5]
    """
    stack = np.full((w, x.size), np.nan)
    for k in range(1, w + 1):
        stack[k - 1, k:] = x[:-k]
    known = np.count_nonzero(~np.isnan(stack), axis=0)
    return np.where(known >= max(1, w // 2), nanmedian(stack, axis=0), np.nan)


def _first_run(cond: np.ndarray, length: int) -> int:
    """Index of the first run of ``length`` consecutive ``True`` in ``cond``; -1 when there is none.

    >>> _first_run(np.array([True, False, True, True, True]), 2)
    2
    """
    if cond.size < length:
        return -1
    hits = np.flatnonzero(np.convolve(cond.astype(np.int64), np.ones(length, dtype=np.int64), "valid") == length)
    return int(hits[0]) if hits.size else -1


def _nights(data: EngineInput, sb: ShapedBalance, z: int, p: NetworkParams) -> tuple[np.ndarray, np.ndarray]:
    """``(x, first_col)`` per local day: the mean unexplained flow of its night (NaN: fewer than three hours)."""
    g = data.grid
    u = np.where(sb.uncertain[z], np.nan, sb.unexplained_l[z])
    n_days = int(g.local_day.max()) + 1
    sel = np.isin(g.local_hour, p.night_hours)
    day = g.local_day[sel]
    ok = ~np.isnan(u[sel])
    sums = np.bincount(day[ok], u[sel][ok], n_days)
    counts = np.bincount(day[ok], minlength=n_days)
    x = np.where(counts >= 3, sums / np.maximum(counts, 1), np.nan)
    cols = np.flatnonzero(sel)
    first = np.full(n_days, -1, dtype=np.int64)
    first[day[::-1]] = cols[::-1]  # the last assignment wins: each night's first hour
    return x, first


def _leak(data: EngineInput, sb: ShapedBalance, z: int, bursts: list[Candidate], p: NetworkParams) -> Candidate | None:
    g = data.grid
    x, first_col = _nights(data, sb, z, p)
    shift = level_shift(
        x,
        reference_len=p.reference_nights,
        min_reference=p.min_reference_nights,
        min_after=p.confirm_nights,
        min_sigma=p.min_night_sigma_lph,
    )
    if shift is None:
        return None
    base, sigma, excess, score = shift.reference, shift.sigma, shift.excess, shift.score
    after = x[shift.start :][~np.isnan(x[shift.start :])]
    latest = x[~np.isnan(x)][-p.confirm_nights :]
    if score < p.leak_score or excess < p.min_leak_lph or not bool(np.all(latest >= base + sigma)):
        return None
    onset_col = int(first_col[shift.start])
    end_us = g.start_us + g.n_hours * HOUR_US
    for b in bursts:
        lasting = (b.end_us if b.end_us is not None else end_us) - b.start_us > p.max_burst_h * HOUR_US
        if abs(b.start_us - (g.start_us + onset_col * HOUR_US)) <= 24 * HOUR_US and not lasting:
            return None  # the burst's step
    slope = float(np.polyfit(np.arange(after.size), after, 1)[0]) if after.size >= 3 else float("nan")
    return Candidate(
        AlertClass.NETWORK_LEAK,
        LocationKind.ZONE,
        int(sb.zone_ids[z]),
        g.start_us + onset_col * HOUR_US,
        None,
        min(0.95, 0.6 + 0.05 * (score - p.leak_score) + 0.05 * (after.size - p.confirm_nights)),
        excess * (g.n_hours - onset_col),
        {
            "reference_night_lph": base,
            "sigma_lph": sigma,
            "night_excess_lph": excess,
            "latest_night_excess_lph": float(latest[-1] - base),
            "score": score,
            "trend_lph_per_night": slope,
            "nightly_lph": x[max(0, shift.start - 3) : shift.start + 14],
        },
    )
