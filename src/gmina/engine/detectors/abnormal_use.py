"""Abnormal consumption: a day far above what the premise and its peers make expected.

For each of the latest ``recent_days`` complete local days, a meter's expected volume is its *usual high day* (the
``usual_quantile`` of its ``baseline_days`` before: a garden watered every other day is its usual) times the zone's
*day factor* (the median, over the zone's meters, of that day's volume over each one's usual day: a heat wave or a
holiday moves every premise at once). A day of at least ``factor`` × expected and ``min_excess_l`` above it is
abnormal. Every one of the ``recent_days`` abnormal raises a case (confidence 0.6, 0.7 at ``sure_factor`` × or
more): use that stays far above the usual for days (a leak behind a daily meter, a new heavy user). A single
abnormal day — a pool filled, a hose left on — is evidence only (0.3): such days must not alarm. Where a more
specific class (a customer leak or burst) is found at the same meter, fusion keeps that one.
Volume: the excess over the expected volume (a cost only if it is a loss; the operator decides).
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
from gmina.engine.series import row_quantile
from gmina.engine.views import daily_volumes, zone_day_factors


@dataclass(frozen=True)
class AbnormalUseParams(BaseParams):
    recent_days: int = param(3, "d", "latest complete days judged: all abnormal raises a case")
    usual_quantile: float = param(0.9, "", "quantile of the baseline days taken as the usual high day")
    baseline_days: int = param(28, "d", "days before them that define the usual day")
    min_baseline_days: int = param(10, "d", "known days needed in the baseline")
    factor: float = param(3.0, "", "a day at least this multiple of the expected one is abnormal")
    sure_factor: float = param(6.0, "", "… and at this multiple it is sure")
    min_excess_l: float = param(500.0, "L", "and at least this much above it")
    max_interpolated: float = param(0.5, "", "days known mostly from a longer interval than this share are skipped")
    min_peers: int = param(10, "", "meters in the zone needed for a day factor (else 1)")


@register
class AbnormalUse(DetectorBase[AbnormalUseParams]):
    name = "abnormal_use"
    alert_classes = frozenset({AlertClass.ABNORMAL_USE})
    params_type = AbnormalUseParams

    def run(self, data: EngineInput, params: AbnormalUseParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        dv = daily_volumes(data)
        v = np.where(dv.interpolated <= params.max_interpolated, dv.volume_l, np.nan)
        complete = int(g.local_day[-1]) + (1 if g.local_hour[-1] == 23 else 0) if g.n_hours else 0
        k = params.recent_days
        if complete < k + params.min_baseline_days:
            return []
        base = v[:, max(0, complete - k - params.baseline_days) : complete - k]
        recent = v[:, complete - k : complete]
        usual = row_quantile(base, params.usual_quantile)
        enough = (~np.isnan(base)).sum(axis=1) >= params.min_baseline_days
        usable = enough & data.customer_rows & (usual > 0)
        factor = zone_day_factors(recent, usual, usable, data.zone_balance.meter_zone, params.min_peers)
        expected = usual[:, None] * factor
        with np.errstate(invalid="ignore"):
            high = usable[:, None] & (recent >= params.factor * expected) & (recent - expected >= params.min_excess_l)
        out: list[Candidate] = []
        for row in np.flatnonzero(high.any(axis=1)).tolist():
            days = np.flatnonzero(high[row])
            j = int(days[0])
            first_day = complete - k + j
            cols = np.flatnonzero(g.local_day == first_day)
            ratio = float(np.nanmin(recent[row, j:] / expected[row, j:]))
            sustained = bool(high[row].all())
            confidence = (0.7 if ratio >= params.sure_factor else 0.6) if sustained else 0.3
            excess = float(np.nansum(recent[row, j:] - expected[row, j:]))
            out.append(
                Candidate(
                    AlertClass.ABNORMAL_USE,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    g.start_us + int(cols[0]) * HOUR_US,
                    None if sustained else g.start_us + g.n_hours * HOUR_US,
                    confidence,
                    max(0.0, excess),
                    {
                        "days_l": recent[row, j:],
                        "expected_l": expected[row, j:],
                        "usual_day_l": float(usual[row]),
                        "zone_day_factor": factor[row, j:],
                        "lowest_ratio": ratio,
                        "abnormal_days": int(days.size),
                    },
                )
            )
        return out
