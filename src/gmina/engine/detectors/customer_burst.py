"""Customer-side burst: high sustained flow relative to the meter's size."""

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
from gmina.engine.zone import overload_lph


@dataclass(frozen=True)
class CustomerBurstParams(BaseParams):
    q3_fraction: float = param(0.7, "", "an hour registering at least this × Q3 is burst-level flow")
    max_q4_multiple: float = param(1.5, "", "above this × Q4 an hour is a spike (misread), not flow")
    min_hours: int = param(1, "h", "consecutive burst-level hours needed (1: alarm after one hour of data)")
    default_q3_m3h: float = param(2.5, "m³/h", "Q3 when neither Q3 nor a known DN is given")


@register
class CustomerBurst(DetectorBase[CustomerBurstParams]):
    """Runs of hours at or above ``q3_fraction`` × Q3 (Q3 from the meter, its DN, or ``default_q3_m3h``) on a
    customer meter. Confidence rises with the run length (0.6 after one hour, 0.9 from three). Volume: the run's
    registered volume."""

    name = "customer_burst"
    alert_classes = frozenset({AlertClass.CUSTOMER_BURST})
    params_type = CustomerBurstParams

    def run(self, data: EngineInput, params: CustomerBurstParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        q3 = overload_lph(data, 1.0, params.default_q3_m3h)[:, None]
        v = g.volume_l
        with np.errstate(invalid="ignore"):
            high = (v >= params.q3_fraction * q3) & (v <= params.max_q4_multiple * 1.25 * q3) & ~g.interpolated
        high &= data.customer_rows[:, None]
        r, s, e = runs(high, params.min_hours)
        out: list[Candidate] = []
        for row, start, end in zip(r.tolist(), s.tolist(), e.tolist(), strict=True):
            hours = end - start
            run_v = v[row, start:end]
            out.append(
                Candidate(
                    AlertClass.CUSTOMER_BURST,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    g.start_us + start * HOUR_US,
                    None if end >= g.n_hours else g.start_us + end * HOUR_US,
                    0.6 if hours == 1 else (0.75 if hours == 2 else 0.9),
                    float(run_v.sum()),
                    {
                        "burst_hours": hours,
                        "mean_flow_lph": float(run_v.mean()),
                        "q3_lph": float(q3[row, 0]),
                        "series_l": v[row, max(0, start - 3) : end + 3],
                    },
                )
            )
        return out
