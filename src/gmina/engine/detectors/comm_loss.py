"""Communication loss: a meter silent for longer than its usual cadence allows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

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
        mid, t, dt, ok = _intervals(data, g.start_us, end_us)
        cadence = (
            pl.DataFrame({"meter_id": mid[1:][ok], "dt": dt[ok]})
            .group_by("meter_id")
            .agg((pl.col("dt").median() / HOUR_US).alias("h"))
        )
        limit_of = {int(m): max(params.max_silence_h, params.cadence_factor * float(h)) for m, h in cadence.iter_rows()}
        # silences are counted in whole reading intervals: capture jitter of seconds past an allowed silence is none
        slack_of = {int(m): 0.5 * float(h) for m, h in cadence.iter_rows()}
        limit = np.array([limit_of.get(int(m), np.inf) + slack_of.get(int(m), 0.0) for m in g.meter_ids])
        row = np.searchsorted(g.meter_ids, mid[1:])
        gap = ok & (dt / HOUR_US > limit[np.minimum(row, g.meter_ids.size - 1)])
        out: list[Candidate] = []
        for i in np.flatnonzero(gap).tolist():
            m = int(mid[i + 1])
            out.append(self._candidate(m, int(t[i]), int(t[i + 1]), end_us, limit_of[m]))
        for r in np.flatnonzero(g.last_seen_us >= 0).tolist():
            m, last = int(g.meter_ids[r]), int(g.last_seen_us[r])
            if (end_us - last) / HOUR_US > limit[r]:
                out.append(self._candidate(m, last, None, end_us, limit_of[m]))
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


def _intervals(data: EngineInput, start_us: int, end_us: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Readings of grid meters in ``[start_us, end_us]`` sorted by meter and time: ``(meter_id, t_us, dt_us, ok)``,
    where ``dt_us[i] = t[i + 1] − t[i]`` and ``ok[i]`` says both readings are of one meter (and not simultaneous)."""
    t = data.readings["observed_at"].cast(pl.Int64).to_numpy()
    mid = data.readings["meter_id"].to_numpy()
    keep = (t >= start_us) & (t <= end_us) & np.isin(mid, data.grid.meter_ids)
    t, mid = t[keep], mid[keep]
    order = np.argsort(mid, kind="stable") if bool(np.all(t[1:] >= t[:-1])) else np.lexsort((t, mid))
    t, mid = t[order], mid[order]
    dt = np.diff(t)
    return mid, t, dt, (mid[1:] == mid[:-1]) & (dt > 0)
