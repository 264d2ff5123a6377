"""Planning injected events: where, when and how big; their effects on consumers, meters and the network.

Each service point carries at most one planned event (garden watering labels aside). Events start after a
warm-up (the first 20 % of the scenario, at most 14 days) so that detectors have a baseline. Magnitudes
are drawn log-uniformly (or uniformly for fractions) from :data:`gmina.sim.events.RANGES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gmina.sim.calendar import Calendar
from gmina.sim.consumers import HOUSEHOLD, ExtraFlow, ServicePoints, add_unmetered
from gmina.sim.events import DURATION_DAYS, RANGES, EventClass, Label
from gmina.sim.meters import TECHNOLOGY, Effect, Meters
from gmina.sim.zones import Zone

E = EventClass
INF = math.inf
RADIO = ("15min", "hourly", "daily")


@dataclass
class NetworkLeak:
    """A leak node to add by splitting ``pipe``; its area is set once the zone's inflow is known."""

    label: Label
    pipe: str
    node: str
    fraction: float  # of the zone's mean inflow at full size
    start_min: float
    full_min: float  # when it reaches full size (== start for a burst)
    end_min: float  # INF: runs to the end


@dataclass
class Plan:
    labels: list[Label] = field(default_factory=list)
    leaks: list[NetworkLeak] = field(default_factory=list)
    illegal: dict[str, int] = field(default_factory=dict)  # event id → unmetered point
    unregistered: dict[int, list[tuple[float, float, float]]] = field(default_factory=dict)
    windows: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # event id → point, start, end


def _uniform_log(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high)))) if low > 0 else float(rng.uniform(low, high))


def plan_events(
    counts: dict[EventClass, int],
    zones: list[Zone],
    pipes: dict[str, list[str]],
    points: ServicePoints,
    meters: Meters,
    cal: Calendar,
    rng: np.random.Generator,
) -> Plan:
    """Plan ``counts[class]`` events in every zone (``pipes``: zone → internal pipes that may leak)."""
    plan = Plan()
    n_min = cal.minutes
    warm = min(14 * 1440.0, 0.2 * n_min)
    used: set[int] = set()
    serial = 0

    def when(min_days: float = 0.0) -> float:
        latest = max(n_min - min_days * 1440.0, warm + 1.0)
        return float(rng.uniform(warm, latest))

    for zone in zones:
        zone_points = [i for i, z in enumerate(points.zone) if z == zone.name and points.metered[i]]
        free_pipes = list(pipes.get(zone.name, []))
        for cls in EventClass:
            for _ in range(counts.get(cls, 0)):
                serial += 1
                event_id = f"EV{serial:04d}"
                if cls in (E.NETWORK_LEAK, E.NETWORK_BURST):
                    if not free_pipes:
                        continue
                    pipe = free_pipes.pop(int(rng.integers(len(free_pipes))))
                    low, high, unit = RANGES[cls]
                    fraction = _uniform_log(rng, low, high)
                    d_low, d_high = DURATION_DAYS[cls]
                    duration = rng.uniform(d_low, d_high) * 1440.0
                    start = when(1.0 if cls is E.NETWORK_LEAK else d_low)
                    leak = cls is E.NETWORK_LEAK
                    end = INF if leak else min(start + duration, float(n_min))
                    node = f"LK{serial:04d}"
                    label = Label(event_id, cls, cal.utc(start), None if end >= n_min else cal.utc(end), zone.name,
                                  "pipe", junction=node, pipe=pipe, magnitude=fraction, unit=unit)  # fmt: skip
                    plan.labels.append(label)
                    full = start + duration if leak else start
                    plan.leaks.append(NetworkLeak(label, pipe, node, fraction, start, full, end))
                    continue
                if cls is E.ILLEGAL_CONNECTION:
                    junction = zone.junctions[int(rng.integers(len(zone.junctions)))]
                    lpd = _uniform_log(rng, *RANGES[cls][:2])
                    day = int(rng.integers(int(warm // 1440) + 1, max(cal.days - 1, int(warm // 1440) + 2)))
                    virtual = add_unmetered(points, junction, zone.name, lpd, len(cal.dates))
                    points.day_scale[virtual, :day] = 0.0
                    start = float(cal.day_start_minute()[day])
                    plan.illegal[event_id] = virtual
                    plan.labels.append(
                        Label(
                            event_id,
                            cls,
                            cal.utc(max(start, 0.0)),
                            None,
                            zone.name,
                            "junction",
                            junction=junction,
                            magnitude=lpd,
                            unit=RANGES[cls][2],
                        )  # fmt: skip
                    )
                    plan.windows[event_id] = (virtual, max(start, 0.0), float(n_min))
                    continue
                if cls is E.GARDEN_WATERING:
                    continue
                point = _pick(cls, zone_points, used, points, meters, rng)
                if point is None:
                    continue
                used.add(point)
                label = _meter_event(cls, event_id, point, zone.name, points, meters, cal, plan, when, rng)
                plan.labels.append(label)
    return plan


def _pick(
    cls: EventClass, candidates: list[int], used: set[int], points: ServicePoints, meters: Meters,
    rng: np.random.Generator,
) -> int | None:  # fmt: skip
    free = [i for i in candidates if i not in used]
    if cls in (E.COMM_LOSS, E.INDEX_SPIKE):
        free = [i for i in free if meters.cadence[i] in RADIO]
    if cls in (E.POOL_FILLING, E.NEW_TENANT, E.VACATION):
        free = [i for i in free if points.kind[i] == HOUSEHOLD and points.day_scale[i].any()]
    if cls in (E.CUSTOMER_LEAK, E.CUSTOMER_BURST, E.METER_BYPASS, E.UNDER_REGISTRATION, E.METER_STUCK):
        free = [i for i in free if points.day_scale[i].any()]
    return free[int(rng.integers(len(free)))] if free else None


def _meter_event(
    cls: EventClass, event_id: str, point: int, zone: str, points: ServicePoints, meters: Meters, cal: Calendar,
    plan: Plan, when: Callable[[float], float], rng: np.random.Generator,
) -> Label:  # fmt: skip
    n_min = float(cal.minutes)
    low, high, unit = RANGES[cls]
    tech = TECHNOLOGY[meters.cadence[point]]
    effects = meters.effects.setdefault(point, [])
    end = INF
    params: dict[str, object] = {"cadence": meters.cadence[point], "technology": tech}
    magnitude = 0.0
    if cls in (E.CUSTOMER_LEAK, E.CUSTOMER_BURST):
        magnitude = _uniform_log(rng, low, high)
        d_low, d_high = DURATION_DAYS[cls]
        start = when(d_low)
        end = min(start + rng.uniform(d_low, d_high) * 1440.0, n_min)
        registrable = magnitude >= meters.start_flow_lph[point]
        points.extra.append(ExtraFlow(point, start, end, magnitude / 60.0, registrable))
        if not registrable:
            plan.unregistered.setdefault(point, []).append((start, end, magnitude / 60.0))
        params["registered_by_meter"] = bool(registrable)
    elif cls is E.POOL_FILLING:
        magnitude = rng.uniform(low, high)
        rate = rng.uniform(15.0, 25.0)
        day = int(rng.integers(0, cal.days))
        start = float(cal.day_start_minute()[day] + rng.uniform(8 * 60, 18 * 60))
        start = min(max(start, 0.0), n_min - 1)
        end = min(start + magnitude * 1000.0 / rate, n_min)
        points.extra.append(ExtraFlow(point, start, end, rate))
        params["flow_lpm"] = rate
    elif cls in (E.VACATION, E.NEW_TENANT):
        low_day = 1 if cls is E.NEW_TENANT else 0
        day = int(rng.integers(low_day, max(cal.days - 7, low_day + 1)))
        start = max(float(cal.day_start_minute()[day]), 0.0)
        if cls is E.VACATION:
            magnitude = float(int(rng.uniform(low, high + 1)))
            last = min(day + int(magnitude), len(cal.dates))
            points.day_scale[point, day:last] = 0.0
            end = float(cal.day_start_minute()[last]) if last < len(cal.dates) else INF
        else:
            magnitude = _uniform_log(rng, low, high)
            points.day_scale[point, day:] *= magnitude
    else:
        start = when(DURATION_DAYS.get(cls, (1.0, 1.0))[0])
        if cls is E.METER_STUCK:
            effects.append(Effect("freeze", start, INF))
            if tech == "electronic" and rng.random() < 0.3:
                effects.append(Effect("flag", start, INF, flag="sensor_error"))
        elif cls is E.UNDER_REGISTRATION:
            magnitude = rng.uniform(low, high)
            ramp = rng.uniform(*DURATION_DAYS[cls]) * 1440.0
            effects.append(Effect("ramp", start, INF, value=magnitude, ramp_end=start + ramp))
            params["ramp_days"] = ramp / 1440.0
        elif cls is E.REVERSE_INSTALLATION:
            magnitude = -1.0
            effects.append(Effect("freeze" if tech == "electronic" else "factor", start, INF, value=-1.0))
            if tech != "mechanical":
                effects.append(Effect("flag", start, INF, flag="backflow"))
        elif cls is E.INDEX_SPIKE:
            magnitude = _uniform_log(rng, low, high)
            effects.append(Effect("spike", start, INF, value=round(magnitude)))
            end = start + {"15min": 16.5, "hourly": 61.5, "daily": 1445.0}.get(meters.cadence[point], 1445.0)
        elif cls is E.INDEX_ROLLBACK:
            magnitude = _uniform_log(rng, low, high)
            effects.append(Effect("offset", start, INF, value=-round(magnitude)))
            end = start
        elif cls is E.COMM_LOSS:
            magnitude = rng.uniform(low, high)
            end = min(start + magnitude * 1440.0, n_min)
            effects.append(Effect("drop", start, end))
        elif cls is E.METER_REPLACEMENT:
            magnitude = float(int(rng.uniform(low, high)))
            effects.append(Effect("reset", start, INF, value=magnitude))
            end = start
        elif cls is E.METER_BYPASS:
            magnitude = rng.uniform(low, high)
            effects.append(Effect("factor", start, INF, value=magnitude))
            magnet = tech == "mechanical_radio" and rng.random() < 0.5
            params["method"] = "magnet" if magnet else "pipe"
            if magnet and rng.random() < 0.5:
                effects.append(Effect("flag", start, INF, flag="tamper_magnet"))
    if end != INF and end > start:
        plan.windows[event_id] = (point, start, end)
    elif end == INF:
        plan.windows[event_id] = (point, start, n_min)
    label = Label(
        event_id,
        cls,
        cal.utc(start),
        None if end >= n_min else cal.utc(end),
        zone,
        "meter",
        meter=points.meters[point],
        service_point=points.ids[point],
        junction=points.junction[point],
        magnitude=float(magnitude),
        unit=unit,
        params=params,
    )
    return label
