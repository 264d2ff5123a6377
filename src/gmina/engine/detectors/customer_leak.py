"""Customer-side leak: continuous flow, no still hour within a day, at a meter that used to have still hours."""

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


@dataclass(frozen=True)
class CustomerLeakParams(BaseParams):
    still_l: float = param(2.0, "L", "an hour registering less than this is still (no flow)")
    min_hours: int = param(24, "h", "consecutive flowing hours that make continuous flow")
    baseline_days: int = param(7, "d", "days before the run in which the meter must have had still hours")
    min_still_before: int = param(3, "h", "still hours needed in the baseline (else the premise always flows)")
    min_rate_lph: float = param(4.0, "L/h", "smallest leak rate reported (minimum hourly volume of the last day)")


@register
class CustomerLeak(DetectorBase[CustomerLeakParams]):
    """A run of at least ``min_hours`` hours each registering ``still_l`` or more, at a customer meter with at least
    ``min_still_before`` still hours in the ``baseline_days`` before (premises that always flow, like blocks of
    flats, are left out). Leak rate = the minimum hourly volume of the run's last ``min_hours`` (at least
    ``min_rate_lph``); volume = rate × run length."""

    name = "customer_leak"
    alert_classes = frozenset({AlertClass.CUSTOMER_LEAK})
    params_type = CustomerLeakParams

    def run(self, data: EngineInput, params: CustomerLeakParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        v = g.volume_l
        with np.errstate(invalid="ignore"):
            flowing = (v >= params.still_l) & ~g.interpolated & data.customer_rows[:, None]
            still = (v < params.still_l) & (v > -0.5) & ~g.interpolated
        r, s, e = runs(flowing, params.min_hours)
        out: list[Candidate] = []
        for row, start, end in zip(r.tolist(), s.tolist(), e.tolist(), strict=True):
            b0 = max(0, start - params.baseline_days * 24)
            still_before = int(still[row, b0:start].sum())
            if still_before < params.min_still_before:
                continue
            run_v = v[row, start:end]
            rate = float(run_v[-params.min_hours :].min())
            if rate < params.min_rate_lph:
                continue
            hours = end - start
            out.append(
                Candidate(
                    AlertClass.CUSTOMER_LEAK,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    g.start_us + start * HOUR_US,
                    None if end >= g.n_hours else g.start_us + end * HOUR_US,
                    min(0.95, 0.6 + 0.35 * min(1.0, (hours - params.min_hours) / 48.0 + rate / 50.0)),
                    rate * hours,
                    {
                        "leak_rate_lph": rate,
                        "flowing_hours": hours,
                        "still_hours_before": still_before,
                        "min_hourly_l_last_24": run_v[-24:],
                    },
                )
            )
        return out
