"""Index spike and rollback: register values the physics of a meter cannot explain, judged reading by reading.

Works on consecutive readings of each meter (not on the hourly grid, which spreads a daily meter's jump over a day):

* **spike** — a reading whose rise from the one before is impossible (more than ``spike_factor`` × Q4 × the hours
  between them: confidence 0.8 at once), or a rise of at least ``glitch_min_l`` that the next reading undoes (it
  falls back by at least half of it: a misread, 0.9);
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
        g = data.grid
        delta, hours = pr.delta, pr.hours
        cap = data.meter_attr("register_capacity_l", np.nan)[pr.row]
        with np.errstate(invalid="ignore"):
            wrapped = (delta < 0) & (pr.index0 > 0.5 * cap) & (pr.index1 < 0.5 * cap)
        delta = np.where(wrapped, delta + cap, delta)
        same_next = np.r_[pr.row[1:] == pr.row[:-1], False]
        nxt = np.where(same_next, np.r_[delta[1:], 0.0], np.nan)
        after = _next_moving(pr.row, delta, params.tolerance_l)  # the next change of the register, NaN: none yet
        q4 = overload_lph(data)[pr.row]
        rate = _usual_rate(pr.row, delta, hours, g.meter_ids.size)[pr.row]
        impossible = delta > params.spike_factor * q4 * np.maximum(hours, 1.0)
        with np.errstate(invalid="ignore"):
            undone = (delta >= params.glitch_min_l) & (nxt <= -0.5 * delta)
        spike = impossible | undone
        after_spike = np.r_[False, spike[:-1] & (pr.row[1:] == pr.row[:-1])]
        fall = (delta < -params.tolerance_l) & ~after_spike
        with np.errstate(invalid="ignore"):
            continued = after < -params.tolerance_l  # counting down: reverse flow
            confirmed = fall & (after > params.tolerance_l)
            big = -delta >= np.maximum(params.rollback_min_l, params.immediate_factor * rate * hours)
            pending = fall & np.isnan(after) & big
        out: list[Candidate] = []
        for i in np.flatnonzero(spike).tolist():
            out.append(self._spike(data, pr, i, float(delta[i]), bool(undone[i]), float(q4[i])))
        for i in np.flatnonzero((confirmed | pending) & ~continued).tolist():
            out.append(self._rollback(data, pr, i, float(-delta[i]), bool(confirmed[i]), float(rate[i])))
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


def _next_moving(row: np.ndarray, delta: np.ndarray, tolerance: float) -> np.ndarray:
    """For each pair, the delta of the next pair of the same meter that moved by more than ``tolerance`` (NaN: none).

    >>> _next_moving(np.array([1, 1, 1, 1, 2]), np.array([-50.0, 0.0, 7.0, 0.0, 3.0]), 1.0).tolist()
    [7.0, 7.0, nan, nan, nan]
    """
    n = delta.size
    idx = np.arange(n)
    moving = np.abs(delta) > tolerance
    head = np.r_[True, row[1:] != row[:-1]]
    # scanning from the right: the nearest moving pair at or after i + 1, not crossing into the next meter
    nearest = np.where(moving, idx, n)
    nearest = np.minimum.accumulate(nearest[::-1])[::-1]
    nxt = np.r_[nearest[1:], n]
    meter_end = np.r_[np.flatnonzero(head)[1:], n][np.cumsum(head) - 1]
    found = nxt < meter_end
    return np.where(found, delta[np.minimum(nxt, n - 1)], np.nan)


def _usual_rate(row: np.ndarray, delta: np.ndarray, hours: np.ndarray, n_rows: int) -> np.ndarray:
    """``(n_rows,)`` each meter's median rise per hour over its non-negative pairs (L/h; 0 without any)."""
    ok = delta >= 0
    rates = pl.DataFrame({"row": row[ok], "rate": delta[ok] / np.maximum(hours[ok], 1e-9)})
    med = rates.group_by("row").agg(pl.col("rate").median())
    out = np.zeros(n_rows)
    out[med["row"].to_numpy()] = med["rate"].to_numpy()
    return out
