"""Index rollback and spike: register values the physics of a meter cannot explain."""

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
from gmina.engine.zone import overload_lph


@dataclass(frozen=True)
class RegisterParams(BaseParams):
    q4_factor: float = param(1.25, "", "overload flow Q4 = this × Q3; an hour above Q4 × spike_factor is impossible")
    spike_factor: float = param(1.5, "", "multiple of Q4 (per hour) above which a positive jump is a spike")
    glitch_min_l: float = param(300.0, "L", "a rise at least this large that is undone within glitch_h is a spike")
    glitch_h: int = param(3, "h", "hours within which a spike's compensating fall must come")
    rollback_min_l: float = param(50.0, "L", "a fall at least this large is a rollback candidate")
    neighbour_h: int = param(24, "h", "window either side in which other negative hours mean reverse flow instead")
    max_negative_nearby: int = param(2, "", "more negative hours than this nearby: not an isolated rollback")


@register
class RegisterAnomalies(DetectorBase[RegisterParams]):
    """Spike: an hour registering more than ``spike_factor`` × Q4, or a rise of at least ``glitch_min_l`` undone by
    a fall of at least half of it within ``glitch_h`` hours (a misread). Rollback: an isolated fall of at least
    ``rollback_min_l`` that is not a spike's compensation nor part of reverse flow; volume = the fall (unbilled).
    Register rollovers (capacity) are not anomalies and are excluded."""

    name = "register"
    alert_classes = frozenset({AlertClass.SPIKE, AlertClass.ROLLBACK})
    params_type = RegisterParams

    def run(self, data: EngineInput, params: RegisterParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        v = np.where(g.interpolated | g.rollover, np.nan, g.volume_l)
        h = g.n_hours
        q4 = overload_lph(data, params.q4_factor)[:, None]
        with np.errstate(invalid="ignore"):
            neg = v < -0.5
            fall = np.full_like(v, np.inf)  # most negative volume in the next glitch_h hours
            for k in range(1, params.glitch_h + 1):
                shifted = np.full_like(v, np.inf)
                shifted[:, :-k] = np.where(np.isnan(v[:, k:]), np.inf, v[:, k:])
                fall = np.minimum(fall, shifted)
            glitch = (v >= params.glitch_min_l) & (fall <= -0.5 * v)
            impossible = v > params.spike_factor * q4
            spike = glitch | impossible
            compensating = np.zeros_like(spike)
            for k in range(1, params.glitch_h + 1):
                compensating[:, k:] |= glitch[:, :-k]
            cneg = np.cumsum(np.pad(neg, ((0, 0), (1, 0))), axis=1, dtype=np.int32)
            w = params.neighbour_h
            lo = np.clip(np.arange(h) - w, 0, h)
            hi = np.clip(np.arange(h) + w + 1, 0, h)
            nearby = cneg[:, hi] - cneg[:, lo] - 1
            rollback = (v <= -params.rollback_min_l) & ~compensating & (nearby <= params.max_negative_nearby)
        out: list[Candidate] = []
        for row, col in zip(*np.nonzero(spike), strict=True):
            jump = float(v[row, col])
            out.append(
                Candidate(
                    AlertClass.SPIKE,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    g.start_us + int(col) * HOUR_US,
                    g.start_us + (int(col) + 1) * HOUR_US,
                    0.9 if glitch[row, col] else 0.8,
                    0.0,
                    {
                        "jump_l": jump,
                        "q4_lph": float(q4[row, 0]),
                        "undone": bool(glitch[row, col]),
                        "series_l": v[row, max(0, col - 6) : col + params.glitch_h + 1],
                    },
                )
            )
        for row, col in zip(*np.nonzero(rollback), strict=True):
            drop = -float(v[row, col])
            out.append(
                Candidate(
                    AlertClass.ROLLBACK,
                    LocationKind.METER,
                    int(g.meter_ids[row]),
                    g.start_us + int(col) * HOUR_US,
                    g.start_us + (int(col) + 1) * HOUR_US,
                    0.85 if drop >= 10 * params.rollback_min_l else 0.6,
                    drop,
                    {
                        "fall_l": drop,
                        "negative_hours_nearby": int(nearby[row, col]),
                        "series_l": v[row, max(0, col - 6) : col + 7],
                    },
                )
            )
        return out
