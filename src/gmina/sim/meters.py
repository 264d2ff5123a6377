"""Customer meters: registers in whole litres, reporting cadences, jitter, gaps, faults and device flags.

A meter integrates the true 1-minute volumes of its service point times a registration factor (1 when
healthy; ramping down for under-registration; 0 stuck; the bypass fraction; -1 for a mechanical meter
installed backwards, which counts down). Leak flows below the meter's starting flow (1–4 L/h) are not
registered at all. The register shows ``floor(initial + registered volume)`` litres.

Cadences and technologies (a reading is taken at the capture time, stamped with the meter's clock):

* ``15min`` and ``hourly``: electronic (ultrasonic) meters on a fixed network; capture 0–90 s after the
  slot; flags leak, burst, backflow (a reversed electronic meter freezes its forward index and raises
  backflow), sensor_error;
* ``daily``: mechanical meter with a radio module; capture within 5 min after local midnight; flags leak,
  burst, backflow, tamper_magnet;
* ``monthly``: walk-by reading of a mechanical meter every 28–33 days in working hours; no flags.

Every meter's clock is off by a constant N(0, 20 s). Radio readings are lost at random with the
scenario's ``gap_rate``. Device flag rules (as vendors document them, e.g. Kamstrup multical21):
leak = registered flow in every one of the last 24 hours; burst = at least 800 L registered in the
last full hour; backflow = reverse flow while reversed; tamper_magnet / sensor_error while a tampering
or stuck event that the device detects is active.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from gmina.sim.calendar import Calendar

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

CADENCES = ("15min", "hourly", "daily", "monthly")
TECHNOLOGY = {"15min": "electronic", "hourly": "electronic", "daily": "mechanical_radio", "monthly": "mechanical"}
FLAG_BITS = {"leak": 1, "burst": 2, "backflow": 4, "tamper_magnet": 8, "sensor_error": 16}
ACTUAL, FINAL, INITIAL = 0, 1, 2
READ_TYPES = ("actual", "final", "initial")
BURST_LITRES_PER_HOUR = 800.0
LEAK_HOURS = 24
LEAK_MIN_LITRES_PER_HOUR = 0.2


@dataclass(frozen=True)
class Effect:
    """A fault or intervention at one meter over UTC minutes ``[start, end)``.

    kinds: ``factor`` (registration × value), ``ramp`` (registration falls linearly to 1 - value by
    ``ramp_end``, then stays), ``offset`` (index + value from start on), ``reset`` (index becomes value at
    start: meter replacement), ``spike`` (value added to the first reading at or after start), ``drop``
    (no readings), ``flag`` (the device raises ``flag`` while active), ``freeze`` (index constant).
    """

    kind: str
    start: float
    end: float
    value: float = 0.0
    ramp_end: float = 0.0
    flag: str = ""


@dataclass
class Meters:
    """Per service point meter parameters (parallel to :class:`~gmina.sim.consumers.ServicePoints`)."""

    cadence: list[str]
    start_flow_lph: F64
    initial_l: I64
    clock_offset_s: F64
    phase_min: F64  # first walk-by day offset (minutes) for monthly meters
    effects: dict[int, list[Effect]] = field(default_factory=dict)

    def technology(self, point: int) -> str:
        return TECHNOLOGY.get(self.cadence[point], "none")


def assign_meters(
    metered: NDArray[np.bool_], cadence_mix: dict[str, float], expected_lpd: F64, rng: np.random.Generator
) -> Meters:
    names = [c for c in CADENCES if cadence_mix.get(c, 0.0) > 0]
    p = np.asarray([cadence_mix[c] for c in names])
    picks = rng.choice(len(names), size=len(metered), p=p / p.sum())
    cadence = [names[i] if m else "" for i, m in zip(picks, metered, strict=True)]
    # start at 20–900 m³, and far above anything a reversed meter can subtract in a year
    initial = (rng.uniform(20_000, 900_000, len(metered)) + 2 * 365 * expected_lpd).astype(np.int64)
    return Meters(
        cadence=cadence,
        start_flow_lph=np.where(rng.random(len(metered)) < 0.6, 1.0, rng.uniform(2.0, 4.0, len(metered))),
        initial_l=initial,
        clock_offset_s=rng.normal(0.0, 20.0, len(metered)),
        phase_min=rng.uniform(0.0, 30 * 1440, len(metered)),
    )


def schedule(point: int, meters: Meters, cal: Calendar, rng: np.random.Generator) -> F64:
    """Capture times (UTC minutes from the start, fractional) of one meter's readings."""
    cadence = meters.cadence[point]
    n_min = cal.minutes
    if cadence in ("15min", "hourly"):
        step = 15 if cadence == "15min" else 60
        nominal = np.arange(step, n_min + 1, step, dtype=np.float64)
        capture = nominal + rng.uniform(0.0, 1.5, len(nominal))
    elif cadence == "daily":
        nominal = cal.day_start_minute()[1:].astype(np.float64)
        capture = nominal + rng.uniform(0.0, 5.0, len(nominal))
    else:
        count = int(n_min / (28 * 1440)) + 2
        gaps = rng.uniform(28 * 1440, 33 * 1440, count)
        days = meters.phase_min[point] + np.concatenate([[0.0], np.cumsum(gaps)[:-1]])
        local_day = np.floor(days / 1440)
        work_minute = rng.uniform(8 * 60, 16 * 60, count)
        offset = np.interp(local_day, np.arange(len(cal.offset_min)), cal.offset_min.astype(np.float64))
        capture = local_day * 1440 + work_minute - offset
    return np.asarray(capture[(capture > 0) & (capture < n_min)], dtype=np.float64)


@dataclass
class ChunkReadings:
    point: I64
    stamp_s: F64  # meter clock, seconds from the scenario start
    index_l: I64
    flags: I64  # FLAG_BITS mask
    read_type: NDArray[np.int8]
    registered_l: F64  # per row of the chunk: registered volume over the scenario (truth)
    window_l: dict[tuple[int, float, float], tuple[float, float]]  # (point, start, end) → (true, registered)


def chunk_readings(
    rows: I64,
    true_lpm: F64,
    meters: Meters,
    cal: Calendar,
    gap_rate: float,
    unregistered: dict[int, list[tuple[float, float, float]]],
    windows: dict[int, list[tuple[float, float]]],
    rng: np.random.Generator,
) -> ChunkReadings:
    """Readings of the meters of ``rows`` given their true litres per minute (shape ``(rows, minutes)``).

    ``unregistered``: per point, ``(start, end, L/min)`` flows the meter does not see. ``windows``: per
    point, event windows whose true and registered volumes are reported in ``window_l``.
    """
    n_min = true_lpm.shape[1]
    minute = np.arange(n_min, dtype=np.float64)
    points: list[I64] = []
    stamps: list[F64] = []
    indices: list[I64] = []
    flag_masks: list[I64] = []
    types: list[NDArray[np.int8]] = []
    registered_total = np.zeros(len(rows))
    window_l: dict[tuple[int, float, float], tuple[float, float]] = {}
    for i, point in enumerate(rows.tolist()):
        if not meters.cadence[point]:
            continue
        seen = np.array(true_lpm[i], dtype=np.float64)
        for start, end, lpm in unregistered.get(point, ()):
            lo, hi = int(max(start, 0)), int(min(np.ceil(end), n_min))
            seen[lo:hi] = np.maximum(seen[lo:hi] - lpm, 0.0)
        effects = meters.effects.get(point, [])
        factor = np.ones(n_min)
        for eff in effects:
            inside = (minute >= eff.start) & (minute < eff.end)
            if eff.kind in ("factor", "freeze"):
                factor[inside] = eff.value if eff.kind == "factor" else 0.0
            elif eff.kind == "ramp":
                progress = np.clip((minute - eff.start) / max(eff.ramp_end - eff.start, 1.0), 0.0, 1.0)
                factor[inside] *= 1.0 - eff.value * progress[inside]
        registered = seen * factor
        cumulative = np.concatenate([[0.0], np.cumsum(registered)])
        registered_total[i] = cumulative[-1]
        true_cum = None
        for start, end in windows.get(point, ()):
            true_cum = np.concatenate([[0.0], np.cumsum(true_lpm[i])]) if true_cum is None else true_cum
            lo, hi = int(np.clip(start, 0, n_min)), int(np.clip(end, 0, n_min))
            window_l[(point, start, end)] = (true_cum[hi] - true_cum[lo], cumulative[hi] - cumulative[lo])
        capture = schedule(point, meters, cal, rng)
        m = np.floor(capture).astype(np.int64)
        volume = cumulative[m] + (capture - m) * registered[np.minimum(m, n_min - 1)]
        index = meters.initial_l[point] + np.floor(volume)
        read_type = np.zeros(len(capture), dtype=np.int8)
        keep = np.ones(len(capture), dtype=np.bool_)
        for eff in effects:
            after = capture >= eff.start
            inside = after & (capture < eff.end)
            if eff.kind == "offset":
                index[after] += eff.value
            elif eff.kind == "reset":
                at = cumulative[int(np.clip(eff.start, 0, n_min))]
                index[after] = eff.value + np.floor(volume[after] - at)
                if after.any():
                    first = int(np.argmax(after))
                    read_type[first] = INITIAL
                    if first > 0:
                        read_type[first - 1] = FINAL
            elif eff.kind == "spike" and after.any():
                index[int(np.argmax(after))] += eff.value
            elif eff.kind == "drop":
                keep &= ~inside
        flags = _flags(registered, capture, m, effects, meters.technology(point))
        if meters.cadence[point] != "monthly":
            keep &= rng.random(len(capture)) >= gap_rate
        points.append(np.full(int(keep.sum()), point, dtype=np.int64))
        stamps.append(capture[keep] * 60.0 + meters.clock_offset_s[point])
        indices.append(np.maximum(index[keep], 0).astype(np.int64))
        flag_masks.append(flags[keep])
        types.append(read_type[keep])
    return ChunkReadings(
        point=_cat_i(points),
        stamp_s=_cat_f(stamps),
        index_l=_cat_i(indices),
        flags=_cat_i(flag_masks),
        read_type=np.concatenate(types) if types else np.zeros(0, dtype=np.int8),
        registered_l=registered_total,
        window_l=window_l,
    )


def _cat_i(parts: list[I64]) -> I64:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _cat_f(parts: list[F64]) -> F64:
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0, dtype=np.float64)


def _flags(registered: F64, capture: F64, m: I64, effects: list[Effect], technology: str) -> I64:
    flags = np.zeros(len(capture), dtype=np.int64)
    if technology not in ("electronic", "mechanical_radio"):
        return flags
    hours = len(registered) // 60
    hourly = np.abs(registered[: hours * 60]).reshape(hours, 60).sum(axis=1)
    hour = np.minimum(m // 60, hours) - 1  # the last full hour before the capture
    valid = hour >= 0
    positive = hourly >= LEAK_MIN_LITRES_PER_HOUR
    run = _run_lengths(positive)
    flags[valid & (run[np.maximum(hour, 0)] >= LEAK_HOURS)] |= FLAG_BITS["leak"]
    flags[valid & (hourly[np.maximum(hour, 0)] >= BURST_LITRES_PER_HOUR)] |= FLAG_BITS["burst"]
    for eff in effects:
        inside = (capture >= eff.start) & (capture < eff.end)
        if eff.kind == "flag" and eff.flag in FLAG_BITS:
            flags[inside] |= FLAG_BITS[eff.flag]
    return flags


def _run_lengths(positive: NDArray[np.bool_]) -> I64:
    """Length of the run of True values ending at each position (0 where False)."""
    count = np.arange(1, len(positive) + 1, dtype=np.int64)
    last_false = np.maximum.accumulate(np.where(~positive, count, 0))
    return np.asarray(count - last_false, dtype=np.int64)
