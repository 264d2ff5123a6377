"""Index spike and rollback: register values the physics of a meter cannot explain, judged reading by reading.

Works on consecutive readings of each meter (not on the hourly grid, which spreads a daily meter's jump over a day):

* **spike** — a reading whose rise from the one before is impossible (more than ``spike_factor`` × Q4 × the hours
  between them: confidence 0.8 at once), or a rise of at least ``glitch_min_l`` that the next reading undoes (it
  falls back by at least half of it, but not below the reading before the rise: a misread, 0.9);
* **rollback** — a fall of more than ``tolerance_l`` that is not a spike's undoing and after which the register next
  moves up (a reversed meter keeps counting down: the reverse-flow detector's case). Until it moves again, a
  fall larger than ``immediate_factor`` × the meter's usual use over the interval (and at least
  ``rollback_min_l``) is raised at once (0.6); confirmed by the next rise it is 0.85. Volume: the fall (litres
  that would go unbilled).

A reading marked ``restart`` (a recorded meter exchange) starts a new register: no pair crosses it. A register
rollover (capacity) is not a fall.
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
from gmina.engine.views import ReadingPairs, reading_pairs
from gmina.engine.zone import overload_lph


@dataclass(frozen=True)
class RegisterParams(BaseParams):
    spike_factor: float = param(1.5, "", "a rise above this × Q4 × hours between the readings is impossible")
    glitch_min_l: float = param(300.0, "L", "a rise at least this large that the next reading undoes is a spike")
    tolerance_l: float = param(10.0, "L", "falls up to this are register noise")
    rollback_min_l: float = param(50.0, "L", "smallest fall raised before the next reading confirms it")
    immediate_factor: float = param(3.0, "", "… and it must exceed this × the meter's usual use over the interval")


@register
class RegisterAnomalies(DetectorBase[RegisterParams]):
    name = "register"
    alert_classes = frozenset({AlertClass.SPIKE, AlertClass.ROLLBACK})
    params_type = RegisterParams

    def run(self, data: EngineInput, params: RegisterParams, rng: np.random.Generator) -> Sequence[Candidate]:
        pr = reading_pairs(data)
        if pr.row.size == 0:
            return []
        delta = pr.delta
        # only the few pairs that rose a lot or fell are looked at closely (an impossible rise exceeds 1.5 × Q4)
        rows_cap = data.meter_attr("register_capacity_l", np.nan)
        q4_rows = overload_lph(data)
        n = delta.size
        rose = np.flatnonzero(delta >= min(params.glitch_min_l, params.spike_factor * float(np.nanmin(q4_rows))))
        fell = np.flatnonzero(delta < -params.tolerance_l)
        # a register rollover (capacity) is no fall
        c = rows_cap[pr.row[fell]]
        with np.errstate(invalid="ignore"):
            wrapped = (pr.index0[fell] > 0.5 * c) & (pr.index1[fell] < 0.5 * c)
        fell = fell[~wrapped]
        hours = pr.hours
        spikes: set[int] = set()
        out: list[Candidate] = []
        for i in rose.tolist():
            d = float(delta[i])
            q4 = float(q4_rows[pr.row[i]])
            impossible = d > params.spike_factor * q4 * max(float(hours[i]), 1.0)
            nxt = float(delta[i + 1]) if i + 1 < n and pr.row[i + 1] == pr.row[i] else float("nan")
            # undone: the next reading falls back by half the jump or more, to no lower than before the jump (a
            # lower one is a rollback or a reversed meter after ordinary use)
            undone = d >= params.glitch_min_l and nxt <= -0.5 * d and d + nxt >= -params.tolerance_l
            if impossible or undone:
                spikes.add(i)
                out.append(self._spike(data, pr, i, d, undone, q4))
        for i in fell.tolist():
            if i - 1 in spikes and pr.row[i - 1] == pr.row[i]:
                continue  # the spike's undoing
            after = _next_move(pr.row, delta, params.tolerance_l, i)
            if after is not None and after < -params.tolerance_l:
                continue  # counting down: reverse flow
            drop = -float(delta[i])
            if after is None:
                rate = _usual_rate(pr, int(pr.row[i]), i)
                if drop < max(params.rollback_min_l, params.immediate_factor * rate * float(hours[i])):
                    continue  # small: wait for the register to move again
            else:
                rate = float("nan")
            out.append(self._rollback(data, pr, i, drop, after is not None, rate))
        return out

    def _spike(self, data: EngineInput, pr: ReadingPairs, i: int, jump: float, undone: bool, q4: float) -> Candidate:
        g = data.grid
        return Candidate(
            AlertClass.SPIKE,
            LocationKind.METER,
            int(g.meter_ids[pr.row[i]]),
            int(pr.t1_us[i]),
            int(pr.t1_us[i]) + 1,
            0.9 if undone else 0.8,
            0.0,
            {"jump_l": jump, "hours": float(pr.hours[i]), "q4_lph": q4, "undone": undone, "index_l": pr.index1[i]},
        )

    def _rollback(
        self, data: EngineInput, pr: ReadingPairs, i: int, drop: float, confirmed: bool, rate: float
    ) -> Candidate:
        g = data.grid
        return Candidate(
            AlertClass.ROLLBACK,
            LocationKind.METER,
            int(g.meter_ids[pr.row[i]]),
            int(pr.t1_us[i]),
            int(pr.t1_us[i]) + 1,
            0.85 if confirmed else 0.6,
            drop,
            {
                "fall_l": drop,
                "index_before_l": pr.index0[i],
                "index_after_l": pr.index1[i],
                "hours": float(pr.hours[i]),
                "usual_lph": rate,
                "confirmed_by_next_reading": confirmed,
            },
        )


def _next_move(row: np.ndarray, delta: np.ndarray, tolerance: float, i: int) -> float | None:
    """The delta of the first pair after ``i`` of the same meter (``row`` sorted) that moved by more than
    ``tolerance``; ``None`` when it has not moved since.

    >>> _next_move(np.array([1, 1, 1, 1, 2]), np.array([-50.0, 0.0, 7.0, 0.0, 3.0]), 1.0, 0)
    7.0
    """
    end = int(np.searchsorted(row, row[i], side="right"))
    lo, step = i + 1, 64
    while lo < end:  # a few pairs first: the register usually moves again soon
        hit = np.flatnonzero(np.abs(delta[lo : min(end, lo + step)]) > tolerance)
        if hit.size:
            return float(delta[lo + int(hit[0])])
        lo, step = lo + step, step * 4
    return None


def _usual_rate(pr: ReadingPairs, row: int, before: int) -> float:
    """The meter's median rise per hour over its non-negative pairs before pair ``before`` (L/h; 0 without any)."""
    lo = int(np.searchsorted(pr.row, row))
    d, h = pr.delta[lo:before], pr.hours[lo:before]
    ok = d >= 0
    return float(np.median(d[ok] / np.maximum(h[ok], 1e-9))) if ok.any() else 0.0
