"""``simulate(config) -> Scenario``: network, zones, consumers, events, meters and hydraulics in one run.

Seeded and deterministic: every random draw comes from ``numpy.random.Generator`` streams spawned from
``config.seed`` (layout, events, each consumer chunk, meters), never from global state; the same config
gives byte-identical outputs.

Order: zones → service points → meters → planned events (their effects on consumers and meters) →
per chunk of service points: 1-minute true consumption, meter readings, junction demand per hydraulic
step → network leaks sized on the zone's realised mean inflow → EPANET (PDA) → inlet series, pressures
and labels completed with realised volumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from gmina.sim.calendar import Calendar, build_calendar
from gmina.sim.consumers import ServicePoints, allocate_points, chunk_consumption, dry_days, garden_season
from gmina.sim.events import DEFAULT_COUNTS, EventClass, Label
from gmina.sim.hydraulics import EpanetRun, add_leak_node, emitter_coefficient_lps, leak_area_m2, mean_pressures
from gmina.sim.meters import Meters, assign_meters, chunk_readings
from gmina.sim.networks import WaterNetworkModel, load_network
from gmina.sim.plan import Plan, plan_events
from gmina.sim.profiles import litres_per_person_day
from gmina.sim.results import Scenario, ZoneTruth, inlet_tables, readings_table
from gmina.sim.zones import Zone, build_zones, junction_weights, partition

DEFAULT_CADENCES: Mapping[str, float] = {"15min": 0.15, "hourly": 0.25, "daily": 0.35, "monthly": 0.25}


@dataclass(frozen=True)
class ScenarioConfig:
    """Everything that defines a scenario (with the seed, it fixes every output)."""

    network: str = "Net3"  # a library name (see ``available_networks``) or a path to an .inp file
    days: int = 90
    seed: int = 1
    start: str = "2025-03-01"  # UTC date of the first midnight
    zones: int = 3  # automatic partition into this many zones (ignored when ``zone_map`` is given)
    zone_map: Mapping[str, Sequence[str]] | None = None  # user zones: name → junctions
    points_per_zone: tuple[int, int] = (300, 600)  # service points per zone, drawn uniformly
    commercial_share: float = 0.06
    vacancy_share: float = 0.02  # service points vacant for the whole scenario (zero use)
    cadence_mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CADENCES))
    gap_rate: float = 0.02  # share of radio readings lost at random
    hydraulic_step_s: int = 900
    required_pressure_m: float = 5.0  # PDA: full demand above this pressure
    events_per_zone: Mapping[str, int] | None = None  # event class → count per zone (default DEFAULT_COUNTS)
    pressure_sensors: bool = True  # one sensor per zone at its lowest-pressure junction
    chunk_rows: int = 128  # service points simulated together (memory ≈ chunk × minutes × 16 bytes)

    def as_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["zone_map"] = {k: list(v) for k, v in self.zone_map.items()} if self.zone_map else None
        data["cadence_mix"] = dict(self.cadence_mix)
        data["events_per_zone"] = dict(self.events_per_zone) if self.events_per_zone is not None else None
        data["points_per_zone"] = list(self.points_per_zone)
        return data


def event_counts(config: ScenarioConfig) -> dict[EventClass, int]:
    if config.events_per_zone is None:
        return dict(DEFAULT_COUNTS)
    return {EventClass(k): int(v) for k, v in config.events_per_zone.items()}


def simulate(config: ScenarioConfig) -> Scenario:
    """Run one scenario; see the module docstring."""
    if 86_400 % config.hydraulic_step_s or config.hydraulic_step_s % 60:
        raise ValueError("hydraulic_step_s must be whole minutes and divide a day")
    streams = np.random.SeedSequence(config.seed).spawn(5)
    layout, events_rng, meter_rng = (np.random.default_rng(s) for s in streams[:3])
    start = datetime.fromisoformat(config.start).replace(tzinfo=UTC)
    cal = build_calendar(start, config.days)
    wn = load_network(config.network)
    assignment = (
        {k: list(v) for k, v in config.zone_map.items()} if config.zone_map else partition(wn, config.zones, layout)
    )
    zones = build_zones(wn, assignment)
    low, high = config.points_per_zone
    per_zone = {z.name: int(layout.integers(low, high + 1)) for z in zones}
    points = allocate_points(assignment, junction_weights(wn), per_zone, config.commercial_share, cal, layout)
    vacant = layout.random(len(points)) < config.vacancy_share
    points.day_scale[vacant] = 0.0
    expected = np.where(points.kind == 0, points.occupants * litres_per_person_day(), points.commercial_lpd)
    meters = assign_meters(points.metered, dict(config.cadence_mix), expected, meter_rng)
    plan = plan_events(event_counts(config), zones, internal_pipes(wn, zones), points, meters, cal, events_rng)
    meters.cadence.extend([""] * (len(points) - len(meters.cadence)))
    dry = dry_days(cal, layout)
    sim = _simulate_points(config, cal, points, meters, plan, dry, streams[3])
    truth = _hydraulics(config, cal, wn, zones, points, plan, sim, layout)
    labels = _finish_labels(plan, points, cal, dry, sim["windows"], sim["true_l"])
    readings = readings_table(points, sim["readings"], start)
    return Scenario(
        config=config.as_dict(),
        start=start,
        days=config.days,
        network=config.network,
        zones=zones,
        points=points,
        meters=meters,
        labels=labels,
        readings=readings,
        inlet_readings=truth.pop("inlet_readings"),
        zone_truth=truth.pop("zone_truth"),
        pressures=truth.pop("pressures"),
        summary=truth,
    )


def internal_pipes(wn: WaterNetworkModel, zones: list[Zone]) -> dict[str, list[str]]:
    """Pipes with both ends in the same zone (where a network leak may be placed), per zone, sorted."""
    owner = {j: z.name for z in zones for j in z.junctions}
    out: dict[str, list[str]] = {z.name: [] for z in zones}
    for name in sorted(wn.pipe_name_list):
        pipe = wn.get_link(name)
        a, b = owner.get(pipe.start_node_name), owner.get(pipe.end_node_name)
        if a is not None and a == b:
            out[a].append(name)
    return out


def _simulate_points(
    config: ScenarioConfig,
    cal: Calendar,
    points: ServicePoints,
    meters: Meters,
    plan: Plan,
    dry: np.ndarray[Any, np.dtype[np.bool_]],
    seed: np.random.SeedSequence,
) -> dict[str, Any]:
    n = len(points)
    step_min = config.hydraulic_step_s // 60
    n_steps = cal.minutes // step_min
    edges = np.arange(0, cal.minutes, step_min)
    junctions = sorted(set(points.junction))
    j_of = {j: i for i, j in enumerate(junctions)}
    point_j = np.asarray([j_of[j] for j in points.junction], dtype=np.int64)
    demand_l = np.zeros((len(junctions), n_steps))
    true_total = np.zeros(n)
    registered = np.zeros(n)
    windows_by_point: dict[int, list[tuple[float, float]]] = {}
    for _, (p, s, e) in plan.windows.items():
        windows_by_point.setdefault(p, []).append((s, e))
    parts = []
    window_l: dict[tuple[int, float, float], tuple[float, float]] = {}
    children = seed.spawn(-(-n // config.chunk_rows))
    for c, first in enumerate(range(0, n, config.chunk_rows)):
        rows = np.arange(first, min(first + config.chunk_rows, n), dtype=np.int64)
        rng = np.random.default_rng(children[c])
        litres = chunk_consumption(points, rows, cal, dry, rng)
        steps = np.add.reduceat(litres, edges, axis=1)
        np.add.at(demand_l, point_j[rows], steps)
        true_total[rows] = steps.sum(axis=1)
        chunk = chunk_readings(rows, litres, meters, cal, config.gap_rate, plan.unregistered, windows_by_point, rng)
        registered[rows] = chunk.registered_l
        window_l.update(chunk.window_l)
        parts.append(chunk)
    return {
        "readings": parts,
        "junctions": junctions,
        "demand_l": demand_l,
        "true_l": true_total,
        "registered_l": registered,
        "windows": window_l,
    }


def _hydraulics(
    config: ScenarioConfig,
    cal: Calendar,
    wn: WaterNetworkModel,
    zones: list[Zone],
    points: ServicePoints,
    plan: Plan,
    sim: dict[str, Any],
    rng: np.random.Generator,
) -> dict[str, Any]:
    step_s = config.hydraulic_step_s
    junctions: list[str] = sim["junctions"]
    demand_lps = sim["demand_l"] / step_s
    zone_of = {j: z.name for z in zones for j in z.junctions}
    zoned = sorted(zone_of)
    for name in zoned:
        wn.get_node(name).demand_timeseries_list.clear()
    for leak in plan.leaks:
        add_leak_node(wn, leak.pipe, leak.node)
    all_j = zoned + [leak.node for leak in plan.leaks]
    full = np.zeros((len(all_j), demand_lps.shape[1]))
    index = {j: i for i, j in enumerate(all_j)}
    for row, j in enumerate(junctions):
        full[index[j]] = demand_lps[row]
    pressure = mean_pressures(wn, all_j, full.mean(axis=1), config.required_pressure_m)
    zone_mean_lps = {z.name: float(sum(full[index[j]].mean() for j in z.junctions)) for z in zones}
    n_steps = full.shape[1]
    step_start = np.arange(n_steps) * step_s / 60.0
    emitters = np.zeros((len(plan.leaks), n_steps))
    for i, leak in enumerate(plan.leaks):
        target = leak.fraction * zone_mean_lps[leak.label.zone]
        area = leak_area_m2(target, pressure[leak.node])
        growth = np.clip((step_start - leak.start_min) / max(leak.full_min - leak.start_min, 1.0), 0.05, 1.0)
        active = (step_start >= leak.start_min) & (step_start < leak.end_min)
        emitters[i] = np.where(active, emitter_coefficient_lps(area * growth), 0.0)
        leak.label.params.update({"area_m2": area, "target_lps": target, "pressure_m": pressure[leak.node]})
    sensors = []
    if config.pressure_sensors:
        for z in zones:
            sensors.append(min(z.junctions, key=lambda j: (pressure[j], j)))
    links = sorted({m.link for z in zones for m in z.inlets})
    run = EpanetRun(wn, cal.minutes * 60, step_s, config.required_pressure_m)
    try:
        result = run.run(all_j, full, links, sensors, [leak.node for leak in plan.leaks], emitters)
    finally:
        run.close()
    return _assemble_truth(cal, zones, points, plan, sim, result, links, sensors, rng, full, all_j)


def _assemble_truth(
    cal: Calendar,
    zones: list[Zone],
    points: ServicePoints,
    plan: Plan,
    sim: dict[str, Any],
    result: Any,
    links: list[str],
    sensors: list[str],
    rng: np.random.Generator,
    demand_lps: np.ndarray[Any, np.dtype[np.float64]],
    nodes: list[str],
) -> dict[str, Any]:
    step_s = result.step_s
    leak_l = result.leak_lps * step_s
    illegal_points = set(plan.illegal.values())
    truth: dict[str, ZoneTruth] = {}
    node_index = {n: i for i, n in enumerate(nodes)}
    link_index = {k: i for i, k in enumerate(links)}
    for z in zones:
        members = [i for i, zz in enumerate(points.zone) if zz == z.name]
        metered = [i for i in members if points.metered[i]]
        inflow = sum(m.sign * result.link_flow_lps[link_index[m.link]] for m in z.inlets)
        demand = sum(demand_lps[node_index[j]] for j in z.junctions)
        leaks = [i for i, leak in enumerate(plan.leaks) if leak.label.zone == z.name]
        truth[z.name] = ZoneTruth(
            zone=z.name,
            inflow_m3=float(np.sum(inflow) * step_s / 1000.0),
            consumption_m3=float(sim["true_l"][metered].sum() / 1000.0),
            registered_m3=float(sim["registered_l"][metered].sum() / 1000.0),
            illegal_m3=float(sum(sim["true_l"][i] for i in members if i in illegal_points) / 1000.0),
            network_leak_m3=float(leak_l[leaks].sum() / 1000.0) if leaks else 0.0,
            demand_m3=float(np.sum(demand) * step_s / 1000.0),
            inflow_lps=np.asarray(inflow, dtype=np.float64),
            points=len(metered),
        )
    for i, leak in enumerate(plan.leaks):
        active = leak_l[i] > 0
        leak.label.loss_m3 = float(leak_l[i].sum() / 1000.0)
        hours = active.sum() * step_s / 3600.0
        leak.label.loss_lph = float(leak_l[i].sum() / hours) if hours else 0.0
        inflow = truth[leak.label.zone].inflow_m3 / (cal.minutes / 60.0) * 1000.0
        leak.label.params["share_of_zone_inflow"] = leak.label.loss_lph / inflow if inflow else 0.0
        leak.label.params["final_lph"] = float(result.leak_lps[i, -1] * 3600.0) if leak.end_min > cal.minutes else 0.0
    inlet_readings, zone_truth = inlet_tables(cal, zones, links, result, truth, rng)
    pressures = pa.table(
        {
            "node": pa.array([s for s in sensors for _ in range(result.pressure_m.shape[1])], pa.string()),
            "zone": pa.array(
                [z.name for z, s in zip(zones, sensors, strict=False) for _ in range(result.pressure_m.shape[1])],
                pa.string(),
            ),
            "observed_at": pa.array(
                np.tile(_step_ends(cal, step_s, result.pressure_m.shape[1]), len(sensors)), pa.timestamp("us", "UTC")
            ),
            "pressure_m": pa.array(result.pressure_m.ravel(), pa.float64()),
        }
    )
    return {
        "inlet_readings": inlet_readings,
        "zone_truth": zone_truth,
        "pressures": pressures,
        "zones": {k: v.as_dict() for k, v in truth.items()},
        "solver_steps": result.solver_steps,
    }


def _step_ends(cal: Calendar, step_s: int, n: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    base = int(cal.start.timestamp() * 1_000_000)
    return base + (np.arange(1, n + 1, dtype=np.int64) * step_s * 1_000_000)


def _finish_labels(
    plan: Plan,
    points: ServicePoints,
    cal: Calendar,
    dry: np.ndarray[Any, np.dtype[np.bool_]],
    window_l: dict[tuple[int, float, float], tuple[float, float]],
    true_totals: np.ndarray[Any, np.dtype[np.float64]],
) -> list[Label]:
    labels = list(plan.labels)
    for label in labels:
        key = plan.windows.get(label.event_id)
        if key is None:
            continue
        point, start, end = key
        true_l, registered_l = window_l.get((point, start, end), (0.0, 0.0))
        hours = max((end - start) / 60.0, 1e-9)
        if label.event_class in (EventClass.CUSTOMER_LEAK, EventClass.CUSTOMER_BURST):
            lost = label.magnitude * hours
        elif label.event_class is EventClass.ILLEGAL_CONNECTION:
            lost = float(true_totals[point])
        else:
            lost = max(true_l - registered_l, 0.0) if label.anomaly else 0.0
        label.loss_m3 = float(lost / 1000.0)
        label.loss_lph = float(lost / hours)
        label.params["true_m3"] = float(true_l / 1000.0)
        label.params["registered_m3"] = float(registered_l / 1000.0)
    season = [d for d, is_dry in zip(cal.dates, dry, strict=True) if garden_season(d) and is_dry]
    if season:
        first = max(cal.day_start_minute()[cal.dates.index(season[0])], 0)
        last = cal.day_start_minute()[cal.dates.index(season[-1])] + 1440
        for i in np.flatnonzero(points.garden & points.metered):
            if not points.day_scale[i].any():
                continue
            labels.append(
                Label(
                    f"GW{i + 1:06d}",
                    EventClass.GARDEN_WATERING,
                    cal.utc(float(first)),
                    None if last >= cal.minutes else cal.utc(float(last)),
                    points.zone[i],
                    "meter",
                    meter=points.meters[i],
                    service_point=points.ids[i],
                    junction=points.junction[i],
                    unit="season",
                )  # fmt: skip
            )
    return labels
