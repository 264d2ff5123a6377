"""Device alarms, normalised to alert classes and trusted only as far as the registered data agree."""

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
from gmina.engine.zone import overload_lph

ALARM_CLASS: dict[str, AlertClass] = {
    "leak": AlertClass.CUSTOMER_LEAK,
    "burst": AlertClass.CUSTOMER_BURST,
    "backflow": AlertClass.REVERSE_FLOW,
    "tamper_magnet": AlertClass.METER_BYPASS,
    "tamper_other": AlertClass.METER_BYPASS,
    "removal": AlertClass.METER_BYPASS,
    "no_usage": AlertClass.STUCK,
    "sensor_error": AlertClass.STUCK,
    "battery_low": AlertClass.COMM_LOSS,
}
"""Which alert class a device alarm code claims. ``dry`` and ``other`` claim none and are ignored."""


@dataclass(frozen=True)
class DeviceAlarmParams(BaseParams):
    still_l: float = param(2.0, "L", "an hour registering less than this is still")
    burst_q3_fraction: float = param(0.7, "", "a burst flag is confirmed by an hour at or above this × Q3")
    tamper_drop_ratio: float = param(0.5, "", "a tamper flag is confirmed when use falls below this × the week before")
    confirmed: float = param(0.9, "", "confidence of an active flag the data confirm")
    unconfirmed: float = param(0.45, "", "confidence of an active flag the data neither confirm nor contradict")
    contradicted: float = param(0.15, "", "confidence of a flag the data contradict (downgraded)")
    historic_factor: float = param(0.85, "", "multiplier for latched (historic) flags")


@register
class DeviceAlarms(DetectorBase[DeviceAlarmParams]):
    """Each device event becomes a candidate of the class its code claims, with a verdict from the hourly data over
    the event's interval (``first_seen`` to ``ended_at`` or ``as_of``): leak needs a day without a still hour, burst
    an hour at burst level, backflow a negative hour or reverse-register growth, tamper a fall of use against the
    week before, no_usage/sensor_error zero use. The verdict sets the confidence: confirmed, unconfirmed (no data),
    or contradicted (downgraded, kept for the record)."""

    name = "device_alarms"
    alert_classes = frozenset(set(ALARM_CLASS.values()))
    params_type = DeviceAlarmParams

    def run(self, data: EngineInput, params: DeviceAlarmParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        ev = data.events.filter(pl.col("code").is_in(list(ALARM_CLASS))).with_columns(
            pl.col("first_seen", "ended_at").cast(pl.Int64)
        )
        if ev.is_empty():
            return []
        q3 = overload_lph(data, 1.0)
        end_us = g.start_us + g.n_hours * HOUR_US
        out: list[Candidate] = []
        for mid, code, state, first, ended in ev.select("meter_id", "code", "state", "first_seen", "ended_at").rows():
            row = g.row(mid)
            c0 = max(0, (first - g.start_us) // HOUR_US)
            c1 = min(g.n_hours, -((g.start_us - (ended if ended is not None else end_us)) // HOUR_US))
            window = g.volume_l[row, c0:c1] if row >= 0 else np.empty(0)
            read_at_end = ~g.interpolated[row, c0:c1] if row >= 0 else np.empty(0, dtype=np.bool_)
            before = g.volume_l[row, max(0, c0 - 168) : c0] if row >= 0 else np.empty(0)
            q3_lph = float(q3[row]) if row >= 0 else np.nan
            verdict, numbers = _verdict(code, window, read_at_end, before, q3_lph, params, data, row)
            conf = {"confirmed": params.confirmed, "unconfirmed": params.unconfirmed}.get(verdict, params.contradicted)
            if state == "historic":
                conf *= params.historic_factor
            lost = numbers.pop("lost_l", 0.0)
            out.append(
                Candidate(
                    ALARM_CLASS[code],
                    LocationKind.METER,
                    int(mid),
                    int(first),
                    None if ended is None else int(ended),
                    conf,
                    lost,
                    {"code": code, "state": state, "verdict": verdict, **numbers},
                )
            )
        return out


def _verdict(
    code: str,
    w: np.ndarray,
    read_at_end: np.ndarray,
    before: np.ndarray,
    q3_lph: float,
    p: DeviceAlarmParams,
    data: EngineInput,
    row: int,
) -> tuple[str, dict[str, float]]:
    known = w[~np.isnan(w)]
    if known.size == 0:
        return "unconfirmed", {}
    if code == "leak":
        # only hours read at their own ends can show a still hour; a gap's evenly spread volume never does
        exact = w[~np.isnan(w) & read_at_end]
        if exact.size == 0:
            return "unconfirmed", {}
        tail = exact[-24:]
        rate = float(tail.min())
        verdict = "confirmed" if tail.size >= 12 and rate >= p.still_l else "contradicted"
        return verdict, {"min_hourly_l": rate, "lost_l": rate * known.size if verdict == "confirmed" else 0.0}
    if code == "burst":
        peak = float(known.max())
        return ("confirmed" if peak >= p.burst_q3_fraction * q3_lph else "contradicted"), {"max_hourly_l": peak}
    if code == "backflow":
        neg = float(-known[known < -0.5].sum())
        bf = data.grid.backflow_l
        growth = float(np.nansum(bf[row])) if bf is not None else 0.0
        return ("confirmed" if neg > 0 or growth > 0 else "contradicted"), {"negative_l": neg, "backflow_l": growth}
    if code in ("no_usage", "sensor_error"):
        total = float(np.abs(known).sum())
        if code == "sensor_error" and total > 0:
            return "unconfirmed", {"registered_l": total}
        return ("confirmed" if total <= 0.5 else "contradicted"), {"registered_l": total}
    if code in ("tamper_magnet", "tamper_other", "removal"):
        b = before[~np.isnan(before)]
        if b.size < 24:
            return "unconfirmed", {}
        rate_before, rate_now = float(b.mean()), float(known.mean())
        drop = rate_now < p.tamper_drop_ratio * rate_before
        lost = (rate_before - rate_now) * known.size if drop else 0.0
        return ("confirmed" if drop else "unconfirmed"), {
            "mean_lph_before": rate_before,
            "mean_lph_since": rate_now,
            "lost_l": lost,
        }
    return "unconfirmed", {}  # battery_low: the data cannot say
