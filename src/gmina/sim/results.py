"""What a simulation returns: the :class:`Scenario` and its Arrow tables.

Tables (all times UTC, ``timestamp[us, UTC]``):

* ``readings`` — customer meters, one row per reading: ``meter`` (serial), ``observed_at`` (meter clock,
  whole seconds), ``index_l`` (int64 litres), ``flags`` (list of canonical alarm codes), ``read_type``
  (``actual``/``final``/``initial``). Sorted by ``observed_at`` then ``meter``.
* ``inlet_readings`` — zone inlet flow meters at the hydraulic step: ``meter``, ``link``, ``observed_at``
  (end of the step), ``index_l`` (forward register, litres), ``reverse_l`` (reverse register, litres),
  ``flow_lph`` (mean flow over the step in the link's direction, L/h).
* ``zone_truth`` — ground truth per zone and step: ``zone``, ``observed_at`` (end of the step),
  ``inflow_lph`` (net into the zone), ``demand_lph`` (consumers + illegal draws), ``leak_lph``.
* ``pressures`` — pressure sensors: ``node``, ``zone``, ``observed_at``, ``pressure_m`` (step mean).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from gmina.sim.calendar import Calendar
from gmina.sim.consumers import ServicePoints
from gmina.sim.events import Label
from gmina.sim.meters import FLAG_BITS, READ_TYPES, ChunkReadings, Meters
from gmina.sim.zones import Zone


@dataclass
class ZoneTruth:
    """Volumes of one zone over the whole scenario (m³)."""

    zone: str
    inflow_m3: float  # net through the inlet meters (hydraulics)
    consumption_m3: float  # true use at the metered service points (incl. customer-side leaks)
    registered_m3: float  # what those meters registered
    illegal_m3: float  # unmetered draws
    network_leak_m3: float
    demand_m3: float  # demand given to the hydraulics (consumption + illegal)
    points: int
    inflow_lps: NDArray[np.float64] = field(repr=False, default_factory=lambda: np.zeros(0))

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "inflow_lps"}


@dataclass
class Scenario:
    config: dict[str, Any]
    start: datetime
    days: int
    network: str
    zones: list[Zone]
    points: ServicePoints
    meters: Meters
    labels: list[Label]
    readings: pa.Table
    inlet_readings: pa.Table
    zone_truth: pa.Table
    pressures: pa.Table
    summary: dict[str, Any]

    def meter_table(self) -> pa.Table:
        """Customer meters: meter, service_point, junction, zone, kind, cadence, technology."""
        rows = [i for i in range(len(self.points)) if self.points.metered[i]]
        return pa.table(
            {
                "meter": [self.points.meters[i] for i in rows],
                "service_point": [self.points.ids[i] for i in rows],
                "junction": [self.points.junction[i] for i in rows],
                "zone": [self.points.zone[i] for i in rows],
                "kind": ["household" if self.points.kind[i] == 0 else "commercial" for i in rows],
                "cadence": [self.meters.cadence[i] for i in rows],
                "technology": [self.meters.technology(i) for i in rows],
            }
        )

    def network_meta(self) -> dict[str, Any]:
        """Zones, their inlet meters (with the sign that turns a meter's flow into inflow) and sensors."""
        sensors = sorted(set(self.pressures.column("node").to_pylist())) if self.pressures.num_rows else []
        return {
            "network": self.network,
            "start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days": self.days,
            "zones": [
                {
                    "zone": z.name,
                    "junctions": list(z.junctions),
                    "inlets": [{"meter": m.meter, "link": m.link, "sign": m.sign} for m in z.inlets],
                }
                for z in self.zones
            ],
            "pressure_sensors": sensors,
        }


def readings_table(points: ServicePoints, parts: list[ChunkReadings], start: datetime) -> pa.Table:
    point = np.concatenate([p.point for p in parts]) if parts else np.zeros(0, np.int64)
    stamp = np.concatenate([p.stamp_s for p in parts]) if parts else np.zeros(0)
    index = np.concatenate([p.index_l for p in parts]) if parts else np.zeros(0, np.int64)
    flags = np.concatenate([p.flags for p in parts]) if parts else np.zeros(0, np.int64)
    types = np.concatenate([p.read_type for p in parts]) if parts else np.zeros(0, np.int8)
    micros = int(start.timestamp()) * 1_000_000 + np.round(stamp).astype(np.int64) * 1_000_000
    serials = np.asarray(points.meters, dtype=object)
    order = np.lexsort((serials[point].astype(str), micros))
    point, micros, index, flags, types = point[order], micros[order], index[order], flags[order], types[order]
    return pa.table(
        {
            "meter": pa.array(serials[point], pa.string()),
            "observed_at": pa.array(micros, pa.timestamp("us", "UTC")),
            "index_l": pa.array(index, pa.int64()),
            "flags": flag_lists(flags),
            "read_type": pa.DictionaryArray.from_arrays(pa.array(types.astype(np.int32)), pa.array(READ_TYPES)).cast(
                pa.string()
            ),
        }
    )


def flag_lists(masks: NDArray[np.int64]) -> pa.Array:
    """``FLAG_BITS`` masks → ``list<string>`` of codes, in FLAG_BITS order."""
    rows, codes = [], []
    names = list(FLAG_BITS)
    for position, name in enumerate(names):
        hit = np.flatnonzero(masks & FLAG_BITS[name])
        rows.append(hit)
        codes.append(np.full(len(hit), position, dtype=np.int32))
    row = np.concatenate(rows)
    code = np.concatenate(codes)
    order = np.lexsort((code, row))
    counts = np.bincount(row, minlength=len(masks))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = pa.DictionaryArray.from_arrays(pa.array(code[order]), pa.array(names)).cast(pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def inlet_tables(
    cal: Calendar,
    zones: list[Zone],
    links: list[str],
    result: Any,
    truth: dict[str, ZoneTruth],
    rng: np.random.Generator,
) -> tuple[pa.Table, pa.Table]:
    """Inlet meter readings (one per hydraulic step) and the zones' per-step ground truth."""
    step_s = result.step_s
    n = result.link_flow_lps.shape[1]
    ends = int(cal.start.timestamp()) * 1_000_000 + np.arange(1, n + 1, dtype=np.int64) * step_s * 1_000_000
    meters, link_col, times, index, reverse, flow = [], [], [], [], [], []
    for i, link in enumerate(links):
        q = result.link_flow_lps[i]
        initial = float(rng.uniform(1e6, 1e8))
        forward = initial + np.cumsum(np.maximum(q, 0.0) * step_s)
        backward = np.cumsum(np.maximum(-q, 0.0) * step_s)
        meters.append(np.full(n, f"FM-{link}", dtype=object))
        link_col.append(np.full(n, link, dtype=object))
        times.append(ends)
        index.append(np.floor(forward).astype(np.int64))
        reverse.append(np.floor(backward).astype(np.int64))
        flow.append(np.round(q * 3600.0, 3))
    inlet = pa.table(
        {
            "meter": pa.array(np.concatenate(meters) if meters else [], pa.string()),
            "link": pa.array(np.concatenate(link_col) if link_col else [], pa.string()),
            "observed_at": pa.array(np.concatenate(times) if times else [], pa.timestamp("us", "UTC")),
            "index_l": pa.array(np.concatenate(index) if index else [], pa.int64()),
            "reverse_l": pa.array(np.concatenate(reverse) if reverse else [], pa.int64()),
            "flow_lph": pa.array(np.concatenate(flow) if flow else [], pa.float64()),
        }
    )
    zone_rows: dict[str, list[Any]] = {"zone": [], "observed_at": [], "inflow_lph": []}
    for z in zones:
        zone_rows["zone"].append(np.full(n, z.name, dtype=object))
        zone_rows["observed_at"].append(ends)
        zone_rows["inflow_lph"].append(truth[z.name].inflow_lps * 3600.0)
    zone_truth = pa.table(
        {
            "zone": pa.array(np.concatenate(zone_rows["zone"]), pa.string()),
            "observed_at": pa.array(np.concatenate(zone_rows["observed_at"]), pa.timestamp("us", "UTC")),
            "inflow_lph": pa.array(np.concatenate(zone_rows["inflow_lph"]), pa.float64()),
        }
    )
    return inlet, zone_truth
