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
from gmina.engine.series import runs


@dataclass(frozen=True)
class CommLossParams(BaseParams):
    max_silence_h: float = param(25.0, "h", "a silence longer than this (and than the cadence allows) is a loss")
    cadence_factor: float = param(3.0, "", "allowed silence as a multiple of the meter's usual reading interval")


@register
class CommLoss(DetectorBase[CommLossParams]):
    """Gaps between readings (closed: readings resumed) and the silence since the last reading (ongoing).

    The usual reading interval is the meter's known hours per reading interval in the window, so a daily or
    monthly meter is not called silent after a day. Estimated volume is zero: nothing is known to be lost.
    """

    name = "comm_loss"
    alert_classes = frozenset({AlertClass.COMM_LOSS})
    params_type = CommLossParams

    def run(self, data: EngineInput, params: CommLossParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        known = ~np.isnan(g.volume_l)
        r, s, e = runs(g.interpolated)
        n_intervals = (known & ~g.interpolated).sum(axis=1) + np.bincount(r, minlength=g.meter_ids.size)
        cadence_h = known.sum(axis=1) / np.maximum(n_intervals, 1)
        limit = np.maximum(params.max_silence_h, params.cadence_factor * cadence_h)
        out: list[Candidate] = []
        for row, start, end in zip(r.tolist(), s.tolist(), e.tolist(), strict=True):
            if end - start > limit[row]:
                out.append(self._candidate(data, row, g.start_us + start * HOUR_US, g.start_us + end * HOUR_US, limit))
        as_of_us = g.start_us + g.n_hours * HOUR_US
        silent = (g.last_seen_us >= 0) & ((as_of_us - g.last_seen_us) / HOUR_US > limit)
        for row in np.flatnonzero(silent).tolist():
            out.append(self._candidate(data, row, int(g.last_seen_us[row]), None, limit))
        return out

    def _candidate(self, data: EngineInput, row: int, start: int, end: int | None, limit: np.ndarray) -> Candidate:
        g = data.grid
        stop = end if end is not None else g.start_us + g.n_hours * HOUR_US
        silence_h = (stop - start) / HOUR_US
        return Candidate(
            AlertClass.COMM_LOSS,
            LocationKind.METER,
            int(g.meter_ids[row]),
            start,
            end,
            min(1.0, 0.5 + 0.5 * silence_h / (4.0 * float(limit[row]))),
            0.0,
            {"silence_h": silence_h, "allowed_h": float(limit[row]), "resumed": end is not None},
        )
