"""Unauthorized draw: leak-vs-unmetered decomposition of a zone's unexplained flow, and theft localisation.

Decomposition: each local day, the zone's unexplained hourly flow (less its reference shape by hour of day, from the
first ``reference_days``) is regressed on the zone's registered hourly consumption ``c``: ``e = a + b · c``. The
constant ``a`` is the pressure-driven, near-constant part (leakage); ``b · Σc`` is the consumption-shaped part
(litres per day drawn in step with the customers: unmetered use). A rise of the consumption-shaped part by at least
``max(min_draw_lpd, draw_sigmas × robust sd)`` for ``min_days`` days in a row is an unauthorized draw.

Localisation: the zone's customer meters are ranked by how well a drop in their registered daily use matches the
rise in timing (best split within ``timing_days`` of the onset) and in size (``min/max`` of drop and draw). A meter
scoring ``min_score`` or more is a meter bypass; otherwise the draw is an illegal connection in the zone. If the
best match registers nothing at all since (a stopped meter), the stuck detector owns it and nothing is emitted:
meters that stopped registering and whose usual use covers ``stopped_explains`` of the draw suppress the candidate.
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
from gmina.engine.series import daily_sums, mad_sigma, nanmedian


@dataclass(frozen=True)
class UnauthorizedParams(BaseParams):
    reference_days: int = param(7, "d", "first days of the window forming the reference")
    min_draw_lpd: float = param(150.0, "L/d", "smallest consumption-shaped rise called an unauthorized draw")
    draw_sigmas: float = param(4.0, "", "rise threshold in robust standard deviations of the reference days")
    min_days: int = param(3, "d", "consecutive days above the threshold needed")
    timing_days: int = param(3, "d", "meters' drop is searched within this many days of the onset")
    before_days: int = param(7, "d", "days before a split that define a meter's usual use")
    min_score: float = param(0.3, "", "localisation score (timing × size, in [0, 1]) needed to name a meter")
    min_relative_drop: float = param(0.6, "", "a meter's drop must be at least this share of its usual use")
    stopped_explains: float = param(0.3, "", "stopped meters' usual use covering this share of the draw: stuck")
    min_usual_lpd: float = param(60.0, "L/d", "usual use above which a meter registering nothing counts as stopped")


@register
class UnauthorizedDraw(DetectorBase[UnauthorizedParams]):
    name = "unauthorized"
    alert_classes = frozenset({AlertClass.ILLEGAL_CONNECTION, AlertClass.METER_BYPASS})
    params_type = UnauthorizedParams

    def run(self, data: EngineInput, params: UnauthorizedParams, rng: np.random.Generator) -> Sequence[Candidate]:
        out: list[Candidate] = []
        for z in range(data.zone_balance.zone_ids.size):
            cand = self._zone(data, z, params)
            if cand is not None:
                out.append(cand)
        return out

    def _zone(self, data: EngineInput, z: int, p: UnauthorizedParams) -> Candidate | None:
        g, zb = data.grid, data.zone_balance
        r, c, lh, day = zb.unexplained_l[z], zb.consumption_l[z], g.local_hour, g.local_day
        n_days = int(day.max()) + 1
        ref = day < p.reference_days
        ref_hod = np.array([nanmedian(r[ref & (lh == k)]) for k in range(24)])
        e = r - np.nan_to_num(ref_hod)[lh]
        draw, const = _decompose(e, c, g.hours_us // HOUR_US, day, n_days)
        u_ref = draw[: p.reference_days]
        if np.isnan(u_ref).all():
            return None
        base, sigma = float(nanmedian(u_ref)), float(np.nan_to_num(mad_sigma(u_ref), nan=0.0))
        thr = max(p.min_draw_lpd, p.draw_sigmas * sigma)
        above = np.nan_to_num(draw - base, nan=-np.inf) >= thr
        above[: p.reference_days] = False
        run = np.convolve(above.astype(int), np.ones(p.min_days, dtype=int), mode="valid") == p.min_days
        if not run.any():
            return None
        alarm = int(np.argmax(run)) + p.min_days - 1
        onset = _change_point(draw, p.reference_days, alarm)
        size = float(np.nanmean(draw[onset:] - base))
        evidence: dict[str, object] = {
            "zone_id": int(zb.zone_ids[z]),
            "draw_lpd": size,
            "reference_draw_lpd": base,
            "daily_draw_lpd": draw[max(0, onset - 3) : onset + 14] - base,
            "daily_constant_lpd": const[max(0, onset - 3) : onset + 14],
        }
        days_since = n_days - onset
        onset_us = g.start_us + int(np.flatnonzero(day == onset)[0]) * HOUR_US
        rows = np.flatnonzero(zb.meter_zone == z)
        daily = daily_sums(g.volume_l[rows], day)
        usual = nanmedian(daily[:, :onset], axis=1)
        since = daily[:, onset : alarm + 1]
        peak = np.where(np.isnan(since), -np.inf, np.abs(since)).max(axis=1, initial=-np.inf)
        peak[np.isnan(since).all(axis=1)] = np.nan  # no known day since the onset: not known to have stopped
        with np.errstate(invalid="ignore"):
            stopped = (peak <= 0.5) & (usual >= p.min_usual_lpd)
        if float(usual[stopped].sum()) >= p.stopped_explains * size:
            return None  # meters that stopped registering explain the draw: the stuck detector's case
        ranking = _rank(np.where(stopped[:, None], np.nan, daily), onset, alarm, size, p)
        if ranking:
            best_row, score, drop, split = ranking[0]
            evidence["ranking"] = [
                {"meter_id": int(g.meter_ids[rows[i]]), "score": s, "drop_lpd": d, "split_day": sp}
                for i, s, d, sp in ranking[:3]
            ]
            if score >= p.min_score:
                split_us = g.start_us + int(np.flatnonzero(day == split)[0]) * HOUR_US
                return Candidate(
                    AlertClass.METER_BYPASS,
                    LocationKind.METER,
                    int(g.meter_ids[rows[best_row]]),
                    split_us,
                    None,
                    min(0.95, 0.5 + 0.5 * score),
                    drop * (n_days - split),
                    evidence,
                )
        return Candidate(
            AlertClass.ILLEGAL_CONNECTION, LocationKind.ZONE, int(zb.zone_ids[z]), onset_us, None, 0.6,
            size * days_since, evidence,
        )  # fmt: skip


def _decompose(
    e: np.ndarray, c: np.ndarray, t: np.ndarray, day: np.ndarray, n_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per local day, least squares ``e = a + a1·t + b·c``: ``(b · mean(c) · 24, a · 24)`` in litres per day.

    The time term absorbs a leak growing within the day, so a ramp is not mistaken for consumption shape."""
    ok = ~np.isnan(e) & ~np.isnan(c)
    cnt = np.bincount(day, ok.astype(float), n_days)
    tc = (t - t.min()).astype(np.float64)
    x = np.stack([np.ones_like(tc), tc, np.nan_to_num(c)])  # (3, H)
    y = np.nan_to_num(e)
    w = ok.astype(float)
    xtx = np.stack([[np.bincount(day, w * x[i] * x[j], n_days) for j in range(3)] for i in range(3)]).transpose(2, 0, 1)
    xty = np.stack([np.bincount(day, w * x[i] * y, n_days) for i in range(3)]).T
    good = cnt >= 20
    good[good] = np.abs(np.linalg.det(xtx[good])) > 1e-9
    coef = np.full((n_days, 3), np.nan)
    if good.any():
        coef[good] = np.linalg.solve(xtx[good], xty[good][:, :, None])[:, :, 0]
    mean_c = np.bincount(day, w * x[2], n_days) / np.maximum(cnt, 1)
    mean_t = np.bincount(day, w * tc, n_days) / np.maximum(cnt, 1)
    return coef[:, 2] * mean_c * 24.0, (coef[:, 0] + coef[:, 1] * mean_t) * 24.0


def _change_point(x: np.ndarray, first: int, last: int) -> int:
    """Day in ``(first, last]`` best splitting ``x[first : last + 1]`` into a lower and a higher mean (t-like score)."""
    seg = x[first : last + 1]
    best, best_s = -np.inf, last
    for s in range(1, seg.size):
        a, b = seg[:s][~np.isnan(seg[:s])], seg[s:][~np.isnan(seg[s:])]
        if a.size and b.size:
            score = (b.mean() - a.mean()) * np.sqrt(a.size * b.size / (a.size + b.size))
            if score > best:
                best, best_s = score, s
    return first + best_s


def _rank(
    daily: np.ndarray, onset: int, alarm: int, draw: float, p: UnauthorizedParams
) -> list[tuple[int, float, float, int]]:
    """``(row, score, drop L/d, split day)`` for the meters, best first (relative drop ≥ ``min_relative_drop``)."""
    best = np.full(daily.shape[0], -np.inf)
    best_split = np.full(daily.shape[0], onset)
    best_rel = np.zeros(daily.shape[0])
    for split in range(max(1, onset - p.timing_days), min(alarm, onset + p.timing_days) + 1):
        before = nanmedian(daily[:, max(0, split - p.before_days) : split], axis=1)
        after = nanmedian(daily[:, split : alarm + 1], axis=1)
        drop = np.nan_to_num(before - after, nan=-np.inf)
        better = drop > best
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.nan_to_num(drop / np.where(before > 0, before, np.inf), nan=0.0)
        best, best_split = np.where(better, drop, best), np.where(better, split, best_split)
        best_rel = np.where(better, rel, best_rel)
    timing = np.exp(-np.abs(best_split - onset) / 2.0)
    size = np.where(best > 0, np.minimum(best, draw) / np.maximum(np.maximum(best, draw), 1e-9), 0.0)
    score = np.where(best_rel >= p.min_relative_drop, timing * size, 0.0)
    order = np.argsort(-score, kind="stable")
    out = []
    for i in order[:5].tolist():
        if score[i] <= 0:
            break
        out.append((i, float(score[i]), float(best[i]), int(best_split[i])))
    return out
