"""Under-registration drift: an ageing meter counting a growing share of the water less, gradually.

On each meter's daily volumes divided by its zone's day factor (:func:`gmina.engine.views.zone_day_factors`: what
moves every premise at once is no drift), in logarithms, the change point of
:func:`gmina.engine.series.level_shift` against the ``reference_days`` before it must show a fall to between
``min_ratio`` and ``max_ratio`` of the usual level (a deeper fall is a bypass or an absence, a shallower one noise),
scoring ``min_score`` standard errors, over at least ``min_days``. What tells a drift from a new, thriftier household
is its *gradualness*: the fall keeps deepening — the last ``tail_days`` sit at least ``min_deepening`` (a share of
the whole fall) lower than the first ``tail_days`` after the change point; a tenant's step is flat after it.

The score is the best over every split, so noise alone reaches 4 to 7 across thousands of meters: ``min_score`` is 8.
A premise's day-to-day spread (about 0.35 in log use) hides a drift of a few per cent, and a 30 % drift needs weeks of
data after it to reach that score: most drifts cannot be told from one premise's noise within a 60-day window; they
show only in the zone balance over months. On the benchmark's scenarios (60 days, drifts of 5-25 %) no drift reached
the score while households' noise did (up to 15 on a premise of 13-270 L a day), so a case is evidence for meter
replacement planning, not an alert: confidence 0.4, 0.45 from a fall of a fifth on (below fusion's raise threshold
of 0.5). A premise that closes at weekends and on holidays is judged against its own rest days
(:func:`gmina.engine.views.day_kind_factors`). Volume: the
unregistered share of the usual use since the change point (apparent loss).
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
from gmina.engine.series import level_shift, mad_sigma, nanmedian
from gmina.engine.views import daily_volumes, day_kind_factors, rest_days, zone_day_factors


@dataclass(frozen=True)
class UnderRegistrationParams(BaseParams):
    reference_days: int = param(21, "d", "days before the change point forming the usual level")
    min_reference_days: int = param(10, "d", "known days needed in the reference")
    min_days: int = param(10, "d", "days after the change point needed")
    min_ratio: float = param(0.55, "", "a fall to below this share of the usual is not a drift (a bypass, an absence)")
    max_ratio: float = param(0.9, "", "a fall to above this share is within the premise's noise")
    screen_score: float = param(4.0, "σ", "the latest days' fall (standard errors) that earns a full search")
    min_score: float = param(8.0, "σ", "change-point score (standard errors of log use; the best of many splits)")
    tail_days: int = param(4, "d", "days at each end of the fall compared for gradualness")
    min_deepening: float = param(0.5, "", "the fall's end must be this share of the whole fall below its beginning")
    min_usual_lpd: float = param(60.0, "L/d", "usual daily use below which a meter is not judged")
    min_log_sigma: float = param(0.1, "", "floor of the day-to-day spread of log use")
    max_interpolated: float = param(0.5, "", "days known mostly from a longer interval than this share are skipped")
    min_peers: int = param(10, "", "meters in the zone needed for a day factor")
    min_kind_days: int = param(6, "d", "known rest and working days needed to judge a premise against its own weekends")


@register
class UnderRegistration(DetectorBase[UnderRegistrationParams]):
    name = "under_registration"
    alert_classes = frozenset({AlertClass.UNDER_REGISTRATION})
    params_type = UnderRegistrationParams

    def run(self, data: EngineInput, params: UnderRegistrationParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        dv = daily_volumes(data)
        complete = int(g.local_day[-1]) + (1 if g.local_hour[-1] == 23 else 0) if g.n_hours else 0
        if complete < params.min_reference_days + params.min_days:
            return []
        v = np.where(dv.interpolated[:, :complete] <= params.max_interpolated, dv.volume_l[:, :complete], np.nan)
        usual = nanmedian(v, axis=1)
        usable = data.customer_rows & (usual >= params.min_usual_lpd)
        factor = zone_day_factors(v, usual, usable, data.zone_balance.meter_zone, params.min_peers)
        # a premise that closes at weekends is judged against its own weekends
        with np.errstate(invalid="ignore", divide="ignore"):
            kind = day_kind_factors(v / factor, rest_days(data)[:complete], params.min_kind_days)
            x = np.log(np.maximum(v, 1.0) / (factor * kind))
        # cheap screen: the latest days below the earlier ones by more than a drift's least fall and the premise's noise
        split = complete - params.min_days
        with np.errstate(invalid="ignore"):
            drop = nanmedian(x[:, :split], axis=1) - nanmedian(x[:, split:], axis=1)
            sigma = np.maximum(params.min_log_sigma, mad_sigma(x[:, :split], axis=1))
            se = sigma * np.sqrt(1.0 / params.min_days + 1.0 / max(split, 1))
            maybe = usable & (drop >= -np.log(params.max_ratio)) & (drop >= params.screen_score * se)
        out: list[Candidate] = []
        for row in np.flatnonzero(maybe).tolist():
            cand = self._meter(data, row, x[row], v[row], params)
            if cand is not None:
                out.append(cand)
        return out

    def _meter(
        self, data: EngineInput, row: int, x: np.ndarray, v: np.ndarray, p: UnderRegistrationParams
    ) -> Candidate | None:
        g = data.grid
        shift = level_shift(
            -x,
            reference_len=p.reference_days,
            min_reference=p.min_reference_days,
            min_after=p.min_days,
            min_sigma=p.min_log_sigma,
        )
        if shift is None or shift.score < p.min_score:
            return None
        ratio = float(np.exp(-shift.excess))
        if not p.min_ratio <= ratio <= p.max_ratio:
            return None
        after = -x[shift.start :]
        after = after[~np.isnan(after)]
        if after.size < max(p.min_days, 2 * p.tail_days):
            return None
        deepening = float(np.median(after[-p.tail_days :]) - np.median(after[: p.tail_days]))
        if deepening < p.min_deepening * shift.excess:
            return None  # a step that stays flat: a new household, not an ageing meter
        usual_lpd = float(np.exp(-shift.reference))
        first_col = int(np.flatnonzero(g.local_day == shift.start)[0])
        days = after.size
        return Candidate(
            AlertClass.UNDER_REGISTRATION,
            LocationKind.METER,
            int(g.meter_ids[row]),
            g.start_us + first_col * HOUR_US,
            None,
            0.45 if ratio <= 0.8 else 0.4,
            usual_lpd * (1.0 - ratio) * days,
            {
                "usual_lpd": usual_lpd,
                "registered_share": ratio,
                "score": shift.score,
                "deepening_log": deepening,
                "daily_l": v[max(0, shift.start - 7) :][-28:],
            },
        )
