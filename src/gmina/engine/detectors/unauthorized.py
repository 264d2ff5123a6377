"""Unauthorized draw in a zone: an unmetered, consumption-shaped part of the unexplained flow rose and stayed up.

Each local day, the zone's unexplained flow (:func:`gmina.engine.balance.shaped_balance`) is regressed on the zone's
demand shape ``s`` (mean 1): ``u(t) = a + b · s(t)``. The constant ``a`` is the pressure-driven, near-constant part
(leakage); ``b`` is the part drawn in step with the customers (litres per hour on average): unmetered use. A level
shift of ``b`` (the change-point of :func:`gmina.engine.series.level_shift` over the daily values, against the
``reference_days`` before it) of at least ``min_draw_lph`` scoring ``draw_score`` standard errors, that the
constant part did not make as well (its shift at the same day is under ``leak_share`` of it: a leak raises both),
and that the last ``confirm_days`` all show, is an illegal connection in the zone.

The zone's customer meters whose registered use fell from that day by at least half (a bypass elsewhere would make
the same shape) are listed, ranked by how well their fall matches the draw in size, as evidence. The per-meter
bypass detector judges them.
Volume: the draw × hours since the onset.
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
from gmina.engine.grid import HOUR_US
from gmina.engine.series import level_shift, nanmedian
from gmina.engine.views import daily_volumes


@dataclass(frozen=True)
class UnauthorizedParams(BaseParams):
    reference_days: int = param(21, "d", "days before a change point forming its reference")
    min_reference_days: int = param(7, "d", "reference days needed")
    confirm_days: int = param(3, "d", "latest days that must all be above the reference")
    min_draw_lph: float = param(40.0, "L/h", "smallest consumption-shaped rise called an unauthorized draw")
    min_sigma_lph: float = param(20.0, "L/h", "floor of the daily noise scale of the shaped part")
    draw_score: float = param(5.0, "σ", "change-point score (standard errors) that starts a draw")
    leak_share: float = param(0.5, "", "a constant part rising by this share of the draw or more makes it a leak")
    min_hours: int = param(20, "h", "known hours a day needs")


@register
class UnauthorizedDraw(DetectorBase[UnauthorizedParams]):
    name = "unauthorized"
    alert_classes = frozenset({AlertClass.ILLEGAL_CONNECTION})
    params_type = UnauthorizedParams

    def run(self, data: EngineInput, params: UnauthorizedParams, rng: np.random.Generator) -> Sequence[Candidate]:
        sb = shaped_balance(data)
        out: list[Candidate] = []
        for z in range(sb.zone_ids.size):
            cand = _zone(data, sb, z, params)
            if cand is not None:
                out.append(cand)
        return out


def daily_parts(u: np.ndarray, s: np.ndarray, day: np.ndarray, min_hours: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` per local day: least squares of ``u = a + b · s`` over the day's known hours (NaN: too few).

    >>> day = np.repeat([0, 1], 24)
    >>> s = np.tile(np.linspace(0.2, 1.8, 24), 2)
    >>> a, b = daily_parts(5.0 + 30.0 * s, s, day, 20)
    >>> np.round(a, 6).tolist(), np.round(b, 6).tolist()
    ([5.0, 5.0], [30.0, 30.0])
    """
    n_days = int(day.max()) + 1 if day.size else 0
    ok = ~np.isnan(u) & ~np.isnan(s)
    w = ok.astype(np.float64)
    uu, ss = np.where(ok, u, 0.0), np.where(ok, s, 0.0)
    n = np.bincount(day, w, n_days)
    sx = np.bincount(day, ss, n_days)
    sy = np.bincount(day, uu, n_days)
    sxx = np.bincount(day, ss * ss, n_days)
    sxy = np.bincount(day, ss * uu, n_days)
    det = n * sxx - sx * sx
    good = (n >= min_hours) & (np.abs(det) > 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(good, (n * sxy - sx * sy) / det, np.nan)
        a = np.where(good, (sy - b * sx) / np.maximum(n, 1), np.nan)
    return a, b


def _zone(data: EngineInput, sb: ShapedBalance, z: int, p: UnauthorizedParams) -> Candidate | None:
    g = data.grid
    a, b = daily_parts(sb.unexplained_l[z], sb.shape[z], g.local_day, p.min_hours)
    shift = level_shift(
        b,
        reference_len=p.reference_days,
        min_reference=p.min_reference_days,
        min_after=p.confirm_days,
        min_sigma=p.min_sigma_lph,
    )
    if shift is None or shift.score < p.draw_score or shift.excess < p.min_draw_lph:
        return None
    latest = b[~np.isnan(b)][-p.confirm_days :]
    if not bool(np.all(latest >= shift.reference + shift.sigma)):
        return None
    a_ref = a[max(0, shift.start - p.reference_days) : shift.start]
    a_rise = float(nanmedian(a[shift.start :]) - nanmedian(a_ref))
    if a_rise >= p.leak_share * shift.excess:
        return None  # the constant part rose with it: a leak (the network detector's case)
    onset_col = int(np.flatnonzero(g.local_day == shift.start)[0])
    return Candidate(
        AlertClass.ILLEGAL_CONNECTION,
        LocationKind.ZONE,
        int(sb.zone_ids[z]),
        g.start_us + onset_col * HOUR_US,
        None,
        min(0.9, 0.6 + 0.04 * (shift.score - p.draw_score)),
        shift.excess * (g.n_hours - onset_col),
        {
            "zone_id": int(sb.zone_ids[z]),
            "draw_lph": shift.excess,
            "draw_lpd": shift.excess * 24.0,
            "reference_lph": shift.reference,
            "sigma_lph": shift.sigma,
            "score": shift.score,
            "constant_part_rise_lph": a_rise,
            "daily_shaped_lph": b[max(0, shift.start - 3) : shift.start + 14],
            "ranking": _suspects(data, sb, z, shift.start, shift.excess * 24.0),
        },
    )


def _suspects(data: EngineInput, sb: ShapedBalance, z: int, day: int, draw_lpd: float) -> list[dict[str, float]]:
    """Customer meters of the zone whose daily use fell by half or more from ``day``, best size match first."""
    g = data.grid
    zb = data.zone_balance
    rows = np.flatnonzero(zb.meter_zone == z)
    dv = daily_volumes(data).volume_l[rows]
    before = nanmedian(dv[:, max(0, day - 14) : day], axis=1)
    after = nanmedian(dv[:, day:], axis=1)
    with np.errstate(invalid="ignore"):
        drop = before - after
        fell = (drop >= 0.5 * before) & (before > 0)
    out = []
    for i in np.flatnonzero(fell).tolist():
        size = min(float(drop[i]), draw_lpd) / max(float(drop[i]), draw_lpd, 1e-9)
        out.append({"meter_id": int(g.meter_ids[rows[i]]), "score": size, "drop_lpd": float(drop[i])})
    return sorted(out, key=lambda r: -r["score"])[:3]
