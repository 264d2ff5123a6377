"""Device alarms, normalised to alert classes and trusted only as far as the registered data agree.

Each device event becomes a candidate of the class its code claims (``ALARM_CLASS``), with a verdict from the data
over the event's interval (``first_seen`` to ``ended_at`` or ``as_of``) that sets its confidence:

* ``confirmed`` (0.9) — the data show what the alarm claims;
* ``unconfirmed`` (0.45) — the data cannot say (no readings, or a code such as ``battery_low``);
* ``unsupported`` (0.25) — the data could show it and do not clearly (kept as a weak witness for fusion);
* ``contradicted`` (0.15) — the data show otherwise (downgraded, kept for the record).

Rules per code:

* ``leak`` — a meter that resolves hours: two nights running (local 00:00–05:00) since the alarm with a minimum of
  at least ``still_l`` and steady (``steady_hours`` within ``steady_tol_l``/``steady_rel`` of it: a leak's
  signature; heavy use through a day also trips the device's "flow in each of 24 hours" rule); two or more still
  nights contradict it, and before its first night the alarm is only ``unsupported``; a daily meter: the alarm
  held ``min_leak_days`` and the daily use since rose over the two weeks before by ``leak_rise_lpd`` and by
  ``leak_rise_sigmas`` standard errors of those days' spread (a large or irregular user's days vary by more than
  a leak adds); a meter
  already alarming before the window is not judged new;
* ``burst`` — an hour at ``burst_q3_fraction`` × Q3 or more (a hose filling a pool trips a device's burst rule
  too: below that the customer-burst detector decides);
* a leak or burst alarm that the premise tripped ``routine_episodes`` times before in the window and that the data do
  not confirm is its routine (a shop's busy hours): contradicted;
* ``backflow`` — water registered backwards, a growing reverse register, or a forward register that stood still
  while the premise used to draw (an electronic meter counts reverse flow apart and freezes its forward register);
  standing is judged from the hour after the alarm came in, whose own hour holds the use before it;
* ``tamper_*``, ``removal`` — use fell below ``tamper_drop_ratio`` of the week before;
* ``no_usage``, ``sensor_error`` — the register stood still from the hour after the alarm came in (a
  ``sensor_error`` with movement is unconfirmed).
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
from gmina.engine.grid import HOUR_US
from gmina.engine.series import mad_sigma
from gmina.engine.views import night_matrix
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
    steady_hours: int = param(4, "h", "night hours near the night's minimum that make a leak's steady night")
    steady_tol_l: float = param(1.5, "L", "absolute tolerance around the night minimum")
    steady_rel: float = param(0.2, "", "relative tolerance around the night minimum")
    min_leak_days: float = param(1.0, "d", "a daily meter's leak alarm must hold this long")
    leak_rise_lpd: float = param(48.0, "L/d", "a daily meter's use must rise this much with a leak alarm")
    leak_rise_sigmas: float = param(3.0, "σ", "… and this many standard errors of its days' spread before")
    burst_q3_fraction: float = param(0.7, "", "a burst flag is confirmed by an hour at or above this × Q3")
    tamper_drop_ratio: float = param(0.5, "", "a tamper flag is confirmed when use falls below this × the week before")
    min_usual_lpd: float = param(60.0, "L/d", "a standing register is only telling where the premise drew this much")
    confirmed: float = param(0.9, "", "confidence of an active flag the data confirm")
    unconfirmed: float = param(0.45, "", "confidence of an active flag the data cannot judge")
    unsupported: float = param(0.25, "", "confidence of a flag the data could confirm and do not")
    contradicted: float = param(0.15, "", "confidence of a flag the data contradict (downgraded)")
    historic_factor: float = param(0.85, "", "multiplier for latched (historic) flags")
    routine_episodes: int = param(2, "", "earlier episodes of a leak or burst alarm that make it the premise's routine")


@dataclass(frozen=True)
class _Window:
    """One event's view of its meter: hourly volumes over the event and the week before (NaN unknown)."""

    row: int
    c0: int
    c1: int
    volume: np.ndarray
    exact: np.ndarray
    before: np.ndarray


@register
class DeviceAlarms(DetectorBase[DeviceAlarmParams]):
    name = "device_alarms"
    alert_classes = frozenset(set(ALARM_CLASS.values()))
    params_type = DeviceAlarmParams

    def run(self, data: EngineInput, params: DeviceAlarmParams, rng: np.random.Generator) -> Sequence[Candidate]:
        g = data.grid
        ev = data.events.filter(pl.col("code").is_in(list(ALARM_CLASS))).with_columns(
            pl.col("first_seen", "last_seen", "ended_at").cast(pl.Int64)
        )
        if ev.is_empty():
            return []
        end_us = g.start_us + g.n_hours * HOUR_US
        earlier = ev.group_by("meter_id", "code").agg(pl.col("first_seen").min().alias("earliest"))
        first_of = {(int(m), str(c)): int(t) for m, c, t in earlier.rows()}
        episodes = ev.select("meter_id", "code", "first_seen").rows()
        out: list[Candidate] = []
        rows = ev.select("meter_id", "code", "state", "first_seen", "last_seen", "ended_at").rows()
        for mid, code, state, first, last, ended in rows:
            row = g.row(mid)
            if row < 0:
                verdict, numbers = "unconfirmed", dict[str, float]()
            else:
                c0 = max(0, (first - g.start_us) // HOUR_US)
                c1 = min(g.n_hours, -((g.start_us - (ended if ended is not None else end_us)) // HOUR_US))
                w = _Window(
                    row,
                    c0,
                    c1,
                    g.volume_l[row, c0:c1],
                    ~g.interpolated[row, c0:c1] & ~np.isnan(g.volume_l[row, c0:c1]),
                    g.volume_l[row, max(0, c0 - 168) : c0],
                )
                verdict, numbers = _verdict(code, w, data, params, (last - first) / HOUR_US / 24.0)
                if code == "leak" and first_of[(int(mid), code)] <= g.start_us and verdict == "confirmed":
                    verdict = "unconfirmed"  # alarming since before the window: nothing to compare with
                before = sum(1 for m, c, f in episodes if m == mid and c == code and f < first)
                if code in ("leak", "burst") and before >= params.routine_episodes and verdict != "confirmed":
                    verdict = "contradicted"  # this premise trips that alarm routinely
            conf = {
                "confirmed": params.confirmed,
                "unconfirmed": params.unconfirmed,
                "unsupported": params.unsupported,
            }.get(verdict, params.contradicted)
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
    code: str, w: _Window, data: EngineInput, p: DeviceAlarmParams, days: float
) -> tuple[str, dict[str, float]]:
    if code == "leak":  # judged by nights (or days): before the first, unsupported (or unconfirmed)
        return _leak(w, data, p, days)
    known = w.volume[~np.isnan(w.volume)]
    if known.size == 0:
        # a burst shows within the hour: until it does, the flag is unsupported (a hose filling a pool trips it too)
        return ("unsupported" if code == "burst" else "unconfirmed"), {}
    if code == "burst":
        q3 = float(overload_lph(data, 1.0)[w.row])
        peak = float(known.max())
        return ("confirmed" if peak >= p.burst_q3_fraction * q3 else "contradicted"), {"max_hourly_l": peak}
    since = _since_onset_hour(w)  # the hour the alarm came in holds use from before it
    if code == "backflow":
        neg = float(-known[known < -0.5].sum())
        bf = data.grid.backflow_l
        growth = float(np.nansum(bf[w.row, w.c0 : w.c1])) if bf is not None else 0.0
        standing = _standing(since, w.before, p)
        numbers = {"negative_l": neg, "backflow_l": growth, "registered_l": float(np.abs(known).sum())}
        return ("confirmed" if neg > 0 or growth > 0 or standing else "contradicted"), numbers
    if code in ("no_usage", "sensor_error"):
        total = float(np.abs(since).sum())
        if code == "sensor_error" and total > 0.5:
            return "unconfirmed", {"registered_l": total}
        return ("confirmed" if total <= 0.5 else "contradicted"), {"registered_l": total}
    if code in ("tamper_magnet", "tamper_other", "removal"):
        b = w.before[~np.isnan(w.before)]
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


def _since_onset_hour(w: _Window) -> np.ndarray:
    """The known hourly volumes after the hour in which the alarm came in (all of them if that is the only one)."""
    v: np.ndarray = w.volume[1:] if w.volume.size > 1 else w.volume
    known: np.ndarray = v[~np.isnan(v)]
    return known


def _standing(known: np.ndarray, before: np.ndarray, p: DeviceAlarmParams) -> bool:
    """The register stood still for at least six known hours where the premise drew ``min_usual_lpd`` before."""
    b = before[~np.isnan(before)]
    return known.size >= 6 and float(np.abs(known).sum()) <= 0.5 and b.size >= 24 and b.mean() * 24 >= p.min_usual_lpd


def _leak(w: _Window, data: EngineInput, p: DeviceAlarmParams, days: float) -> tuple[str, dict[str, float]]:
    nm = night_matrix(data, (0, 1, 2, 3, 4), 4)
    g = data.grid
    if nm.resolved[w.row]:
        nights = np.flatnonzero((nm.night_end_col > w.c0 - 24) & (nm.night_end_col <= w.c1))
        judged = ~np.isnan(nm.minimum[w.row, nights])
        mins = nm.minimum[w.row, nights][judged]
        if mins.size == 0:
            return "unsupported", {}  # the data will judge it at the next night
        steady = nm.steady(w.row, p)[nights][judged]
        flowing = (mins >= p.still_l) & steady
        two = bool((flowing[1:] & flowing[:-1]).any())
        rate = float(mins[-2:].min()) if two else 0.0
        hours = int(w.exact.sum())
        verdict = "confirmed" if two else "contradicted" if mins.size >= 2 and not flowing.any() else "unsupported"
        return verdict, {
            "night_min_l": float(mins[-1]),
            "lost_l": rate * hours,
        }
    # daily resolution: the alarm must hold and the use rise against the two weeks before
    if days < p.min_leak_days:
        return "unconfirmed", {"alarm_days": days}
    before = g.volume_l[w.row, max(0, w.c0 - 24 * 15) : max(0, w.c0 - 24)]
    since = g.volume_l[w.row, max(0, w.c0 - 24) : w.c1]
    b, s = before[~np.isnan(before)], since[~np.isnan(since)]
    if b.size < 24 * 7 or s.size < 24:
        return "unconfirmed", {"alarm_days": days}
    rise = (float(s.mean()) - float(b.mean())) * 24.0
    day_sigma = float(mad_sigma(b[: b.size // 24 * 24].reshape(-1, 24).sum(axis=1)))
    needed = max(p.leak_rise_lpd, p.leak_rise_sigmas * day_sigma / np.sqrt(max(1.0, s.size / 24.0)))
    verdict = "confirmed" if rise >= needed else "unsupported"
    return verdict, {
        "alarm_days": days,
        "rise_lpd": rise,
        "needed_lpd": needed,
        "lost_l": max(0.0, rise) / 24.0 * s.size,
    }
