"""Stopped / stuck meter: zero registration while the premise's usual use and the zone balance say water flows."""

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
from gmina.engine.series import nanmedian, runs


@dataclass(frozen=True)
class StuckParams(BaseParams):
    min_zero_h: int = param(48, "h", "hours of zero registration before a meter is called stuck")
    zero_tol_l: float = param(0.5, "L", "an hour registering at most this is a zero hour")
    baseline_days: int = param(14, "d", "days before the zero run that define the premise's usual use")
    min_usual_lpd: float = param(60.0, "L/d", "usual daily use (median) below which zero is not surprising")
    zone_check: bool = param(True, "", "require the zone's unexplained flow to rise with the meter's usual use")
    zone_window_h: int = param(72, "h", "hours before / after the run start compared in the zone balance")
    zone_support_ratio: float = param(0.5, "", "zone rise ≥ this × usual use (L/h) corroborates; below half: vacation")


@register
class Stuck(DetectorBase[StuckParams]):
    """A run of at least ``min_zero_h`` zero hours on a customer meter whose median daily use before the run was at
    least ``min_usual_lpd``. With ``zone_check`` the zone's unexplained flow (median over ``zone_window_h``) must rise
    by ``zone_support_ratio`` × the usual use: a stuck meter lets the water through unregistered, a vacation does
    not use it. Runs the zone contradicts are dropped; meters in zones without a balance get confidence 0.4.
    Volume: usual use × run length (unbilled)."""

    name = "stuck"
    alert_classes = frozenset({AlertClass.STUCK})
    params_type = StuckParams

    def run(self, data: EngineInput, params: StuckParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        v = g.volume_l
        zero = ~np.isnan(v) & (np.abs(v) <= params.zero_tol_l) & data.customer_rows[:, None]
        r, s, e = runs(zero, params.min_zero_h)
        zb = data.zone_balance if params.zone_check else None
        out: list[Candidate] = []
        for row, start, end in zip(r.tolist(), s.tolist(), e.tolist(), strict=True):
            b0 = max(0, start - params.baseline_days * 24)
            before = v[row, b0:start]
            n_days = before.size // 24
            if n_days < 3:
                continue
            daily = before[before.size - n_days * 24 :].reshape(n_days, 24)
            usual_lpd = float(nanmedian(daily.sum(axis=1)))
            if not usual_lpd >= params.min_usual_lpd:
                continue
            usual_lph = usual_lpd / 24.0
            evidence: dict[str, object] = {
                "zero_hours": end - start,
                "usual_lpd": usual_lpd,
                "baseline_daily_l": daily.sum(axis=1)[-7:],
            }
            confidence = 0.4
            zone = int(zb.meter_zone[row]) if zb is not None else -1
            if zb is not None and zone >= 0:
                w = params.zone_window_h
                res = zb.unexplained_l[zone]
                pre = float(nanmedian(res[max(0, start - w) : start]))
                post = float(nanmedian(res[start : min(end, start + w)]))
                rise = post - pre
                evidence |= {"zone_id": int(zb.zone_ids[zone]), "zone_rise_lph": rise, "usual_lph": usual_lph}
                if not rise >= params.zone_support_ratio * usual_lph:
                    continue
                confidence = min(0.95, 0.6 + 0.35 * min(1.0, rise / usual_lph))
            ongoing = end >= g.n_hours
            out.append(
                Candidate(
                    AlertClass.STUCK,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    g.start_us + start * HOUR_US,
                    None if ongoing else g.start_us + end * HOUR_US,
                    confidence,
                    usual_lph * (end - start),
                    evidence,
                )
            )
        return out
