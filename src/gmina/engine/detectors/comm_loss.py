"""Communication loss: a meter silent for longer than its usual cadence allows."""

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
from gmina.engine.views import meter_cadence_h, reading_pairs


@dataclass(frozen=True)
class CommLossParams(BaseParams):
    max_silence_h: float = param(25.0, "h", "a silence longer than this (and than the cadence allows) is a loss")
    cadence_factor: float = param(3.0, "", "allowed silence as a multiple of the meter's usual reading interval")


@register
class CommLoss(DetectorBase[CommLossParams]):
    """Gaps between consecutive readings (closed: readings resumed) and the silence since the last reading (ongoing).

    The usual reading interval is the meter's median interval between consecutive readings in the window (from the
    readings themselves: on the hourly grid a daily meter's gaps merge into one interpolated run), so a daily or
    monthly meter is not called silent after a day. A silence must exceed the allowed one by more than half an
    interval (it is counted in whole intervals: a daily meter missing two readings is silent 72 h and a few seconds,
    which the default allows). A meter read only once in the window has no known interval and is not judged.
    Estimated volume is zero: nothing is known to be lost.
    """

    name = "comm_loss"
    alert_classes = frozenset({AlertClass.COMM_LOSS})
    params_type = CommLossParams

    def run(self, data: EngineInput, params: CommLossParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        end_us = g.start_us + g.n_hours * HOUR_US
        pr = reading_pairs(data)
        cadence = meter_cadence_h(data)
        limit_of = np.maximum(params.max_silence_h, params.cadence_factor * cadence)
        # silences are counted in whole reading intervals: capture jitter of seconds past an allowed silence is none
        limit = np.where(np.isnan(cadence), np.inf, limit_of + 0.5 * cadence)
        # every limit is at least max_silence_h: only the pairs longer than that are compared with their meter's
        longer = np.flatnonzero(pr.hours > params.max_silence_h)
        gap = longer[pr.hours[longer] > limit[pr.row[longer]]]
        out: list[Candidate] = []
        for i in gap.tolist():
            row = int(pr.row[i])
            mid = int(g.meter_ids[row])
            out.append(self._candidate(mid, int(pr.t0_us[i]), int(pr.t1_us[i]), end_us, float(limit_of[row])))
        for r in np.flatnonzero(g.last_seen_us >= 0).tolist():
            last = int(g.last_seen_us[r])
            if (end_us - last) / HOUR_US > limit[r]:
                out.append(self._candidate(int(g.meter_ids[r]), last, None, end_us, float(limit_of[r])))
        return out

    def _candidate(self, mid: int, start: int, end: int | None, end_us: int, limit: float) -> Candidate:
        silence_h = ((end if end is not None else end_us) - start) / HOUR_US
        return Candidate(
            AlertClass.COMM_LOSS,
            LocationKind.METER,
            mid,
            start,
            end,
            min(1.0, 0.5 + 0.5 * silence_h / (4.0 * limit)),
            0.0,
            {"silence_h": silence_h, "allowed_h": limit, "resumed": end is not None},
        )
