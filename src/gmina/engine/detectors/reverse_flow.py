"""Reverse flow: a meter installed backwards (the index falls with use) or a growing reverse register."""

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


@dataclass(frozen=True)
class ReverseFlowParams(BaseParams):
    window_h: int = param(48, "h", "rolling window over which negative hours are counted")
    min_negative_hours: int = param(6, "h", "negative hours in the window needed")
    min_negative_share: float = param(0.7, "", "share of the window's non-zero hours that must be negative")
    tol_l: float = param(0.5, "L", "an hour registering less than -tol_l is negative")
    min_backflow_l: float = param(50.0, "L", "reverse-register growth in the window that counts as reverse flow")


@register
class ReverseFlow(DetectorBase[ReverseFlowParams]):
    """Within a rolling ``window_h``, at least ``min_negative_hours`` negative hours making up at least
    ``min_negative_share`` of the non-zero hours (a reversed meter counts use backwards), or the reverse register
    grows by ``min_backflow_l``. One candidate per meter, from the first negative hour of the first qualifying
    window; ongoing while the last window still qualifies. Volume: the water registered backwards."""

    name = "reverse_flow"
    alert_classes = frozenset({AlertClass.REVERSE_FLOW})
    params_type = ReverseFlowParams

    def run(self, data: EngineInput, params: ReverseFlowParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        v = np.where(g.interpolated | g.rollover, np.nan, g.volume_l)
        with np.errstate(invalid="ignore"):
            neg = (v < -params.tol_l) & data.customer_rows[:, None]
            nonzero = np.abs(v) > params.tol_l
        w = min(params.window_h, g.n_hours)
        cn = _rolling_count(neg, w)
        cz = _rolling_count(nonzero, w)
        hit = (cn >= params.min_negative_hours) & (cn >= params.min_negative_share * np.maximum(cz, 1))
        if g.backflow_l is not None:
            bf = np.nan_to_num(g.backflow_l, nan=0.0)
            cb = np.cumsum(np.pad(bf, ((0, 0), (1, 0))), axis=1)
            hit |= (cb[:, w:] - cb[:, :-w]) >= params.min_backflow_l
        out: list[Candidate] = []
        for row in np.flatnonzero(hit.any(axis=1)).tolist():
            first = int(np.argmax(hit[row]))  # window ending at column first + w - 1
            cols = np.flatnonzero(neg[row, first : first + w])
            start = first + (int(cols[0]) if cols.size else 0)
            ongoing = bool(hit[row, -1])
            last = int(np.flatnonzero(hit[row])[-1]) + w
            backwards = -float(np.nansum(np.where(neg[row, start:], v[row, start:], 0.0)))
            out.append(
                Candidate(
                    AlertClass.REVERSE_FLOW,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    g.start_us + start * HOUR_US,
                    None if ongoing else g.start_us + last * HOUR_US,
                    min(0.95, 0.6 + 0.05 * float(cn[row].max() - params.min_negative_hours)),
                    backwards,
                    {
                        "negative_hours_in_window": int(cn[row, first]),
                        "nonzero_hours_in_window": int(cz[row, first]),
                        "registered_backwards_l": backwards,
                        "series_l": v[row, start : start + 24],
                    },
                )
            )
        return out


def _rolling_count(cond: np.ndarray, w: int) -> np.ndarray:
    """``(rows, n - w + 1)`` count of True in each window of ``w`` columns."""
    c = np.cumsum(np.pad(cond, ((0, 0), (1, 0))), axis=1, dtype=np.int32)
    return c[:, w:] - c[:, :-w]
