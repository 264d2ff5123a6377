"""Reverse flow: a meter installed backwards (its index counts down with use) or a growing reverse register.

Judged reading by reading: a run of consecutive readings that never rise (by more than ``tolerance_l``) with at
least ``min_negative`` falls, the falls making up at least ``min_negative_share`` of the readings that moved, is a
meter counting backwards (a single fall followed by rises is a rollback: the register detector's case). Confidence
0.7 at two falls, rising with each. A meter with a reverse register (``backflow_l``) whose reverse register grows by
``min_backflow_l`` within ``window_h`` also has reverse flow (a customer meter: on a zone boundary pipe water may
flow either way). An electronic meter that detects reverse flow usually
freezes its forward register and raises a backflow alarm instead: that case is the device-alarm detector's.
Volume: the water registered backwards.
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
from gmina.engine.views import reading_pairs


@dataclass(frozen=True)
class ReverseFlowParams(BaseParams):
    tolerance_l: float = param(1.0, "L", "a reading this far below the one before is a fall; this far above a rise")
    min_negative: int = param(2, "", "falls needed in a run of readings that never rise")
    min_negative_share: float = param(0.7, "", "share of the run's moving readings that must be falls")
    window_h: int = param(48, "h", "window in which a reverse register must grow")
    min_backflow_l: float = param(50.0, "L", "reverse-register growth in the window that counts as reverse flow")


@register
class ReverseFlow(DetectorBase[ReverseFlowParams]):
    name = "reverse_flow"
    alert_classes = frozenset({AlertClass.REVERSE_FLOW})
    params_type = ReverseFlowParams

    def run(self, data: EngineInput, params: ReverseFlowParams, rng: np.random.Generator) -> Sequence[Candidate]:
        out = self._counting_down(data, params)
        if data.grid.backflow_l is not None:
            out += self._reverse_register(data, params)
        return out

    def _counting_down(self, data: EngineInput, p: ReverseFlowParams) -> list[Candidate]:
        pr = reading_pairs(data)
        g = data.grid
        d = pr.delta
        rise = d > p.tolerance_l
        fall = d < -p.tolerance_l
        # runs of pairs without a rise, within one meter: only the runs that hold a fall are looked at
        fall_at = np.flatnonzero(fall)
        if fall_at.size < p.min_negative:
            return []
        head = rise | ~pr.valid
        head[0] = True
        head[1:] |= pr.row[1:] != pr.row[:-1]
        heads = np.flatnonzero(head)
        runs, n_falls = np.unique(np.searchsorted(heads, fall_at, side="right") - 1, return_counts=True)
        out: list[Candidate] = []
        customer = data.customer_rows
        for run in runs[n_falls >= p.min_negative].tolist():
            h = int(heads[run])
            lo = h + int(rise[h])  # a run starts after its rise
            hi = int(heads[run + 1]) if run + 1 < heads.size else d.size
            n_moving = int(np.count_nonzero(np.abs(d[lo:hi]) > p.tolerance_l))
            f = fall[lo:hi]
            n_f = int(f.sum())
            row = int(pr.row[lo])
            if not customer[row] or n_f < p.min_negative_share * max(n_moving, 1):
                continue
            first = lo + int(np.argmax(f))
            ongoing = hi == d.size or pr.row[hi] != row
            backwards = -float(d[lo:hi][f].sum())
            out.append(
                Candidate(
                    AlertClass.REVERSE_FLOW,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    int(pr.t0_us[first]),
                    None if ongoing else int(pr.t1_us[hi - 1]),
                    min(0.95, 0.7 + 0.05 * (n_f - p.min_negative)),
                    backwards,
                    {
                        "falls": n_f,
                        "readings": hi - lo,
                        "registered_backwards_l": backwards,
                        "deltas_l": d[lo:hi][-12:],
                    },
                )
            )
        return out

    def _reverse_register(self, data: EngineInput, p: ReverseFlowParams) -> list[Candidate]:
        g = data.grid
        assert g.backflow_l is not None
        bf = np.nan_to_num(g.backflow_l, nan=0.0)
        w = min(p.window_h, g.n_hours)
        cb = np.cumsum(np.pad(bf, ((0, 0), (1, 0))), axis=1)
        hit = (cb[:, w:] - cb[:, :-w]) >= p.min_backflow_l
        out: list[Candidate] = []
        for row in np.flatnonzero(hit.any(axis=1) & data.customer_rows).tolist():
            first = int(np.argmax(hit[row]))
            grew = np.flatnonzero(bf[row, first : first + w] > 0)
            start = first + (int(grew[0]) if grew.size else 0)
            volume = float(bf[row, start:].sum())
            out.append(
                Candidate(
                    AlertClass.REVERSE_FLOW,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    g.start_us + start * HOUR_US,
                    None if bool(hit[row, -1]) else g.start_us + (int(np.flatnonzero(hit[row])[-1]) + w) * HOUR_US,
                    0.8,
                    volume,
                    {"reverse_register_growth_l": volume, "series_l": bf[row, start : start + 24]},
                )
            )
        return out
