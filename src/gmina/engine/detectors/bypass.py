"""Meter bypass or tampering: the registered use of a premise collapses to a small fraction and stays there.

A pipe around the meter or a magnet on it lets most of the water through unregistered; what the meter still counts
keeps the premise's rhythm at a fraction of its level. On the logarithm of the daily volumes (local days) a bypass is
a level shift: the change point of :func:`gmina.engine.series.level_shift` against the ``baseline_days`` before it
(a reference that stays before the onset however long the bypass runs) must score ``min_score`` standard errors,
bring use down to at most ``max_ratio`` of the usual day (``min_usual_lpd`` or more), keep every one of the latest
``recent_days`` at most ``max_day_ratio`` of it, and leave the meter still moving (a median of ``min_recent_lpd``
or more: a register that stands still is a stopped meter or an absence, the stuck detector's case). A new household
with a third of the old use stays above ``max_ratio``; the end of a garden-watering season is no level shift of the
premise's ordinary days (their spread is wide); a fall that many premises share within a day (``max_shared`` of the
meters, at least ``min_shared``: a holiday shuts the shops) is a calendar effect; a fall whose low days hold fewer
than ``min_working_days`` working days is not judged yet (a household away over a long weekend or the Easter holidays
reads the same as a bypass). Confidence 0.6, 0.75 from ``sure_days`` low days on.

Needs daily resolution: monthly walk-by meters are not judged. Volume: the usual use less the registered one since
the onset (unbilled). A tamper alarm on the meter is the device-alarm detector's candidate; fusion combines both.
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
from gmina.engine.series import level_shift, nanmedian, row_quantile
from gmina.engine.views import daily_volumes, rest_days


@dataclass(frozen=True)
class BypassParams(BaseParams):
    recent_days: int = param(4, "d", "latest complete days judged")
    baseline_days: int = param(21, "d", "days before them that define the usual use")
    min_baseline_days: int = param(7, "d", "known days needed in the baseline")
    min_usual_lpd: float = param(60.0, "L/d", "usual use below which a fall is not judged")
    max_ratio: float = param(0.25, "", "median of the recent days at most this share of the usual")
    max_day_ratio: float = param(0.4, "", "and every recent day at most this share")
    min_recent_lpd: float = param(2.0, "L/d", "the meter still counts at least this much a day (median)")
    max_interpolated: float = param(0.5, "", "days known mostly from a longer interval than this share are skipped")
    sure_days: int = param(7, "d", "low days after which the case is sure")
    min_working_days: int = param(2, "d", "working days (not a weekend or a public holiday) among the low days")
    min_log_sigma: float = param(0.15, "", "floor of the day-to-day spread of log use")
    min_score: float = param(4.0, "σ", "change-point score (standard errors of log use) needed")
    max_shared: float = param(0.01, "", "share of the meters falling within a day of each other: a calendar effect")
    min_shared: int = param(3, "", "… but never fewer meters than this")


@register
class Bypass(DetectorBase[BypassParams]):
    name = "bypass"
    alert_classes = frozenset({AlertClass.METER_BYPASS})
    params_type = BypassParams

    def run(self, data: EngineInput, params: BypassParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        dv = daily_volumes(data)
        v = np.where(dv.interpolated <= params.max_interpolated, dv.volume_l, np.nan)
        # complete days only: the last local day of the grid is partial unless the grid ends at local midnight
        complete = int(g.local_day[-1]) + (1 if g.local_hour[-1] == 23 else 0) if g.n_hours else 0
        k = params.recent_days
        if complete < k + params.min_baseline_days:
            return []
        v = v[:, :complete]
        recent = v[:, complete - k :]
        with np.errstate(invalid="ignore"):
            now = nanmedian(recent, axis=1)
            earlier = row_quantile(v[:, : complete - k], 0.75)
            # cheap screen: recent use far below the premise's ordinary earlier days, and still moving
            maybe = (
                data.customer_rows
                & ((~np.isnan(recent)).sum(axis=1) >= k - 1)
                & (now >= params.min_recent_lpd)
                & (now <= params.max_ratio * earlier)
            )
        rest = rest_days(data)[:complete]
        found = [
            c for c in (self._meter(data, int(r), v[r], rest, params) for r in np.flatnonzero(maybe)) if c is not None
        ]
        return _without_calendar_effects(found, int(maybe.size), params)

    def _meter(
        self, data: EngineInput, row: int, days: np.ndarray, rest: np.ndarray, p: BypassParams
    ) -> Candidate | None:
        g = data.grid
        y = -np.log(np.maximum(days, 1.0))  # a fall of use is a rise of y; a factor is a shift
        shift = level_shift(
            y,
            reference_len=p.baseline_days,
            min_reference=p.min_baseline_days,
            min_after=p.recent_days,
            min_sigma=p.min_log_sigma,
        )
        if shift is None or shift.score < p.min_score:
            return None
        usual = float(np.exp(-shift.reference))
        ratio = float(np.exp(-shift.excess))
        since = days[shift.start :]
        recent = since[-p.recent_days :]
        if (
            usual < p.min_usual_lpd
            or ratio > p.max_ratio
            or float(np.nanmax(recent)) > p.max_day_ratio * usual
            or float(nanmedian(recent)) < p.min_recent_lpd
            or int(np.count_nonzero(~rest[shift.start :])) < p.min_working_days
        ):
            return None
        n_low = int(since.size)
        first_col = int(np.flatnonzero(g.local_day == shift.start)[0])
        registered = float(np.nansum(since))
        return Candidate(
            AlertClass.METER_BYPASS,
            LocationKind.METER,
            int(g.meter_ids[row]),
            g.start_us + first_col * HOUR_US,
            None,
            0.75 if n_low >= p.sure_days else 0.6,
            max(0.0, usual * n_low - registered),
            {
                "usual_lpd": usual,
                "recent_lpd": float(nanmedian(recent)),
                "ratio": ratio,
                "low_days": n_low,
                "score": shift.score,
                "daily_l": days[max(0, shift.start - 7) :][-21:],
            },
        )


def _without_calendar_effects(found: list[Candidate], n_meters: int, p: BypassParams) -> list[Candidate]:
    """Drop falls shared by many premises within a day of each other: a holiday shuts the shops, a theft is one.

    >>> c = [Candidate(AlertClass.METER_BYPASS, LocationKind.METER, i, t * HOUR_US * 24, None, 0.6, 1.0, {})
    ...      for i, t in enumerate([10, 10, 11, 10, 30])]
    >>> [x.location_id for x in _without_calendar_effects(c, 100, BypassParams())]
    [4]
    """
    limit = max(p.min_shared, p.max_shared * n_meters)
    starts = np.array([c.start_us for c in found], dtype=np.int64)
    day = 24 * HOUR_US
    return [c for c in found if int((np.abs(starts - c.start_us) <= day).sum()) < limit]
