"""District metered areas (zones): given by the user or derived by a graph partition; inlet flow meters.

A zone is a set of junctions. Tanks and reservoirs are never inside a zone: they are sources. Every link
with one end inside a zone and the other end outside it (another zone, a tank, a reservoir or an unzoned
junction) carries an inlet flow meter. The meter measures the link's flow in the link's own direction
(start node → end node); ``sign`` turns it into "flow into this zone" (+1 if the link ends in the zone).
A link between two zones is one physical meter that is an inlet of both, with opposite signs.

The automatic partition is a balanced region growing on the junction graph: ``k`` seeds chosen by
farthest-point sampling (hop distance, the first seed drawn with the scenario's generator), then each
step grows the lightest zone (by base demand, or by junction count when demands are zero) by one
adjacent unassigned junction. Zones are therefore connected and of similar demand. Components of the
junction graph without a seed join the lightest zone.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gmina.sim.networks import WaterNetworkModel


class ZoneError(ValueError):
    """Zones that cannot be built for this network."""


@dataclass(frozen=True)
class InletMeter:
    """A flow meter on a link that crosses a zone boundary."""

    meter: str  # meter reference, e.g. ``FM-10``
    link: str  # the link it sits on
    zone: str  # the zone this record describes
    sign: int  # +1: the link's positive direction enters ``zone``; -1: it leaves it


@dataclass(frozen=True)
class Zone:
    name: str
    junctions: tuple[str, ...]
    inlets: tuple[InletMeter, ...]


def junction_graph(wn: WaterNetworkModel) -> dict[str, list[str]]:
    """Adjacency (junction → neighbouring junctions, sorted) over all link types, sources excluded."""
    junctions = set(wn.junction_name_list)
    adjacency: dict[str, set[str]] = {name: set() for name in wn.junction_name_list}
    for _, link in wn.links():
        a, b = link.start_node_name, link.end_node_name
        if a in junctions and b in junctions and a != b:
            adjacency[a].add(b)
            adjacency[b].add(a)
    return {name: sorted(neigh) for name, neigh in adjacency.items()}


def junction_weights(wn: WaterNetworkModel) -> dict[str, float]:
    """Base demand per junction (m³/s, sum of its demand categories); negative values are kept."""
    weights: dict[str, float] = {}
    for name, junction in wn.junctions():
        weights[name] = float(sum(d.base_value for d in junction.demand_timeseries_list))
    return weights


def partition(wn: WaterNetworkModel, k: int, rng: np.random.Generator) -> dict[str, list[str]]:
    """Split the junctions into ``k`` connected zones of similar demand: ``{"Z1": [junctions], ...}``."""
    adjacency = junction_graph(wn)
    names = sorted(adjacency)
    if not 1 <= k <= len(names):
        raise ZoneError(f"cannot split {len(names)} junctions into {k} zones")
    raw = junction_weights(wn)
    positive = {n: max(w, 0.0) for n, w in raw.items()}
    total = sum(positive.values())
    weight = {n: (positive[n] / total if total > 0 else 0.0) + 1e-3 / len(names) for n in names}
    seeds = [names[int(rng.integers(len(names)))]]
    distance = _hops(adjacency, seeds[0])
    while len(seeds) < k:
        far = max(names, key=lambda n: (distance.get(n, -1) if n not in seeds else -2, n))
        if far in seeds or distance.get(far, -1) < 0:
            far = next(n for n in names if n not in seeds)
        seeds.append(far)
        other = _hops(adjacency, far)
        distance = {n: min(distance.get(n, 10**9), other.get(n, 10**9)) for n in set(distance) | set(other)}
    owner: dict[str, int] = {seed: i for i, seed in enumerate(seeds)}
    load = [weight[s] for s in seeds]
    frontier = [deque(adjacency[s]) for s in seeds]
    while True:
        open_zones = [z for z in range(k) if frontier[z]]
        if not open_zones:
            break
        zone = min(open_zones, key=lambda z: (load[z], z))
        while frontier[zone]:
            candidate = frontier[zone].popleft()
            if candidate not in owner:
                owner[candidate] = zone
                load[zone] += weight[candidate]
                frontier[zone].extend(n for n in adjacency[candidate] if n not in owner)
                break
    for name in names:  # components that no seed reached
        if name not in owner:
            lightest = min(range(k), key=lambda z: (load[z], z))
            for member in _hops(adjacency, name):
                owner[member] = lightest
                load[lightest] += weight[member]
    zones: dict[str, list[str]] = {f"Z{i + 1}": [] for i in range(k)}
    for name in names:
        zones[f"Z{owner[name] + 1}"].append(name)
    return zones


def _hops(adjacency: Mapping[str, Sequence[str]], start: str) -> dict[str, int]:
    distance = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for other in adjacency[node]:
            if other not in distance:
                distance[other] = distance[node] + 1
                queue.append(other)
    return distance


def build_zones(wn: WaterNetworkModel, assignment: Mapping[str, Sequence[str]]) -> list[Zone]:
    """Zones with their inlet meters from ``zone → junctions``; checks names and overlaps."""
    junctions = set(wn.junction_name_list)
    weights = junction_weights(wn)
    owner: dict[str, str] = {}
    for zone, members in assignment.items():
        if not members:
            raise ZoneError(f"zone {zone!r} has no junctions")
        for name in members:
            if name not in junctions:
                raise ZoneError(f"zone {zone!r}: {name!r} is not a junction of the network")
            if name in owner:
                raise ZoneError(f"junction {name!r} is in zones {owner[name]!r} and {zone!r}")
            if weights[name] < 0:
                raise ZoneError(f"junction {name!r} has a negative demand (a source); it cannot be in a zone")
            owner[name] = zone
    inlets: dict[str, list[InletMeter]] = {zone: [] for zone in assignment}
    for link_name, link in sorted(wn.links(), key=lambda item: item[0]):
        start, end = owner.get(link.start_node_name), owner.get(link.end_node_name)
        if start == end:
            continue
        meter = f"FM-{link_name}"
        if end is not None:
            inlets[end].append(InletMeter(meter, link_name, end, +1))
        if start is not None:
            inlets[start].append(InletMeter(meter, link_name, start, -1))
    zones = []
    for zone, members in assignment.items():
        if not inlets[zone]:
            raise ZoneError(f"zone {zone!r} has no link to a source or to another zone")
        zones.append(Zone(zone, tuple(members), tuple(inlets[zone])))
    return zones


def load_assignment(path: str | Path) -> dict[str, list[str]]:
    """A user's zones from JSON: ``{"zone name": ["junction", ...], ...}``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(j, str) for j in v) for v in data.values()
    ):
        raise ZoneError(f"{path}: expected a JSON object of zone name → list of junction names")
    return {str(k): list(v) for k, v in data.items()}
