"""Service points and their true consumption: a Poisson rectangular-pulse end-use model at 1-second timing.

Every junction's share of the zone's demand is split into service points (households and some commercial
ones). Each use is a rectangular pulse (Buchberger & Wu 1995; SIMDEUM, Blokker et al. 2010): the number
of uses of every end use per local day is Poisson with rate ``persons × rate × week × season × day_scale``,
the start time follows the end use's diurnal profile (see :mod:`gmina.sim.profiles`) to the second, the
duration and the flow are log-normal. Pulses are integrated exactly into 1-minute volumes.

``day_scale`` carries the calendar of each service point: 0 on vacation or while vacant, the ratio of
occupants after a new tenant moves in. Extra flows (customer leaks and bursts, filling a pool) are
constant-rate pulses added on top. Garden watering is drawn here for households with a garden.

Illegal connections are service points with ``metered = False``: consumption-shaped, never read.

Matrices returned here are litres per UTC minute of the scenario: shape ``(rows, days × 1440)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

from gmina.sim.calendar import Calendar
from gmina.sim.profiles import (
    COMMERCIAL_DAILY_L,
    COMMERCIAL_DAY_FACTOR,
    COMMERCIAL_USE_L,
    DRY_DAY_P,
    END_USES,
    GARDEN_DURATION_MIN,
    GARDEN_FLOW_LPM,
    GARDEN_PER_WEEK,
    GARDEN_SEASON,
    GARDEN_SHARE,
    OCCUPANT_P,
    OCCUPANTS,
    PROFILE_NAMES,
    USAGE_SIGMA,
    WEEK_FACTOR,
    litres_per_person_day,
    minute_cdf,
    season_factor,
)

HOUSEHOLD, COMMERCIAL = 0, 1

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass
class ServicePoints:
    """All service points of a scenario as parallel arrays (index = service point number)."""

    ids: list[str]  # ``SP000001``
    meters: list[str]  # printed meter serial; "" for unmetered (illegal) points
    junction: list[str]
    zone: list[str]
    kind: I64  # HOUSEHOLD or COMMERCIAL
    occupants: F64  # persons (households); 0 for commercial
    usage: F64  # household-to-household rate factor
    commercial_lpd: F64  # open-day litres (commercial); 0 for households
    garden: NDArray[np.bool_]
    metered: NDArray[np.bool_]
    day_scale: F64  # (points, local days): 1 normally, 0 on vacation or vacancy, ratio after a new tenant
    extra: list[ExtraFlow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class ExtraFlow:
    """A constant flow at a service point over ``[start_min, end_min)`` (UTC minutes from the start)."""

    point: int
    start_min: float
    end_min: float
    lpm: float  # litres per minute
    registrable: bool = True  # False: below the meter's starting flow, the meter does not see it


def allocate_points(
    zone_junctions: dict[str, list[str]],
    weights: dict[str, float],
    per_zone: dict[str, int],
    commercial_share: float,
    cal: Calendar,
    rng: np.random.Generator,
) -> ServicePoints:
    """Service points per junction ∝ its base demand (uniform when a zone has none), with attributes."""
    ids: list[str] = []
    junction: list[str] = []
    zone: list[str] = []
    for zone_name, members in zone_junctions.items():
        w = np.asarray([max(weights.get(j, 0.0), 0.0) for j in members])
        p = w / w.sum() if w.sum() > 0 else np.full(len(members), 1.0 / len(members))
        counts = rng.multinomial(per_zone[zone_name], p)
        for j, count in zip(members, counts, strict=True):
            junction.extend([j] * int(count))
            zone.extend([zone_name] * int(count))
    n = len(junction)
    ids = [f"SP{i + 1:06d}" for i in range(n)]
    meters = [f"{25_000_000 + 37 * i + 11:08d}" for i in range(n)]
    kind = np.where(rng.random(n) < commercial_share, COMMERCIAL, HOUSEHOLD).astype(np.int64)
    occupants = rng.choice(OCCUPANTS, size=n, p=OCCUPANT_P).astype(np.float64)
    occupants[kind == COMMERCIAL] = 0.0
    median, sigma, low, high = COMMERCIAL_DAILY_L
    commercial = np.clip(median * rng.lognormal(0.0, sigma, n), low, high)
    commercial[kind == HOUSEHOLD] = 0.0
    return ServicePoints(
        ids=ids,
        meters=meters,
        junction=junction,
        zone=zone,
        kind=kind,
        occupants=occupants,
        usage=rng.lognormal(0.0, USAGE_SIGMA, n),
        commercial_lpd=commercial,
        garden=(rng.random(n) < GARDEN_SHARE) & (kind == HOUSEHOLD),
        metered=np.ones(n, dtype=np.bool_),
        day_scale=np.ones((n, len(cal.dates))),
    )


def add_unmetered(points: ServicePoints, junction: str, zone: str, litres_per_day: float, days: int) -> int:
    """Append an unmetered, consumption-shaped draw (an illegal connection); returns its index."""
    index = len(points)
    points.ids.append(f"IL{index + 1:06d}")
    points.meters.append("")
    points.junction.append(junction)
    points.zone.append(zone)
    points.kind = np.append(points.kind, HOUSEHOLD)
    points.occupants = np.append(points.occupants, litres_per_day / litres_per_person_day())
    points.usage = np.append(points.usage, 1.0)
    points.commercial_lpd = np.append(points.commercial_lpd, 0.0)
    points.garden = np.append(points.garden, False)
    points.metered = np.append(points.metered, False)
    points.day_scale = np.vstack([points.day_scale, np.ones((1, days))])
    return index


def dry_days(cal: Calendar, rng: np.random.Generator) -> NDArray[np.bool_]:
    """Which local days are dry (gardens are watered only then); shared by the whole network."""
    return np.asarray(rng.random(len(cal.dates)) < DRY_DAY_P)


def garden_season(day: date) -> bool:
    (m0, d0), (m1, d1) = GARDEN_SEASON
    return (m0, d0) <= (day.month, day.day) <= (m1, d1)


def chunk_consumption(
    points: ServicePoints, rows: I64, cal: Calendar, dry: NDArray[np.bool_], rng: np.random.Generator
) -> F64:
    """True litres per UTC minute for service points ``rows``: shape ``(len(rows), days × 1440)``."""
    n_days = len(cal.dates)
    season = season_factor(cal.day_of_year)
    week_h = np.asarray([WEEK_FACTOR[int(t)] for t in cal.day_type])
    week_c = np.asarray([COMMERCIAL_DAY_FACTOR[int(t)] for t in cal.day_type])
    scale = points.day_scale[rows]
    household = (points.kind[rows] == HOUSEHOLD)[:, None]
    persons = np.where(household, (points.occupants[rows] * points.usage[rows])[:, None] * scale, 0.0)
    persons = persons * (season * week_h)[None, :]
    pulses: list[tuple[I64, F64, F64, F64]] = []
    day_start = cal.day_start_minute().astype(np.float64)
    cdfs = {name: minute_cdf(name) for name in PROFILE_NAMES}
    for use in END_USES:
        counts = rng.poisson(persons * use.per_person_day)
        row, day = _expand(counts)
        start = day_start[day] + _start_minutes(cdfs[use.profile], cal.day_type[day], rng)
        duration = use.duration_s / 60.0 * rng.lognormal(0.0, use.duration_sigma, len(row))
        flow = use.flow_lpm * rng.lognormal(0.0, 0.2, len(row))
        pulses.append((row, start, start + duration, flow))
    median_l, sigma_l, flow_c = COMMERCIAL_USE_L
    mean_use = median_l * np.exp(sigma_l**2 / 2)
    daily_c = np.where(~household, points.commercial_lpd[rows][:, None] * scale, 0.0) * week_c[None, :]
    counts = rng.poisson(daily_c / mean_use)
    row, day = _expand(counts)
    start = day_start[day] + _start_minutes(cdfs["commercial"], cal.day_type[day], rng)
    volume = median_l * rng.lognormal(0.0, sigma_l, len(row))
    pulses.append((row, start, start + volume / flow_c, np.full(len(row), flow_c)))
    in_season = np.asarray([garden_season(d) for d in cal.dates]) & dry
    if in_season.any():
        p_day = min(GARDEN_PER_WEEK / 7.0 / DRY_DAY_P, 1.0)
        water = (rng.random((len(rows), n_days)) < p_day) & points.garden[rows][:, None] & in_season[None, :]
        water &= scale > 0
        row, day = _expand(water.astype(np.int64))
        start = day_start[day] + _start_minutes(cdfs["garden"], cal.day_type[day], rng)
        duration = rng.uniform(*GARDEN_DURATION_MIN, len(row))
        pulses.append((row, start, start + duration, rng.uniform(*GARDEN_FLOW_LPM, len(row))))
    local = {int(r): i for i, r in enumerate(rows)}
    extra = [e for e in points.extra if e.point in local]
    if extra:
        pulses.append(
            (
                np.asarray([local[e.point] for e in extra], dtype=np.int64),
                np.asarray([e.start_min for e in extra]),
                np.asarray([e.end_min for e in extra]),
                np.asarray([e.lpm for e in extra]),
            )
        )
    return integrate_pulses(
        len(rows),
        cal.minutes,
        np.concatenate([p[0] for p in pulses]),
        np.concatenate([p[1] for p in pulses]),
        np.concatenate([p[2] for p in pulses]),
        np.concatenate([p[3] for p in pulses]),
    )


def _expand(counts: I64) -> tuple[I64, I64]:
    """Row and day index of every use from a (rows, days) count matrix."""
    flat = counts.ravel()
    index = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    return index // counts.shape[1], index % counts.shape[1]


def _start_minutes(cdf: F64, day_type: I64, rng: np.random.Generator) -> F64:
    """Start minute within the local day (fractional: second resolution) from the day type's CDF."""
    u = rng.random(len(day_type))
    stacked = (cdf + np.arange(3)[:, None]).ravel()
    index = np.searchsorted(stacked, u + day_type, side="right")
    minute = np.minimum(index - day_type * 1440, 1439)
    return np.asarray(minute + rng.random(len(day_type)), dtype=np.float64)


def integrate_pulses(n_rows: int, n_min: int, row: I64, start: F64, end: F64, rate: F64) -> F64:
    """Exact litres per minute bin of rectangular pulses ``rate`` L/min over ``[start, end)`` minutes.

    Pulses are clipped to ``[0, n_min)``. Returns shape ``(n_rows, n_min)`` (a view; rows are contiguous).
    Every pulse becomes a few +/- entries of one difference array (a partial volume ``v`` in bin ``b`` is
    ``+v`` at ``b`` and ``-v`` at ``b + 1``), so the whole chunk costs one scatter and one cumulative sum.
    Bins where nothing runs may hold round-off of the order of 1e-12 L.

    >>> integrate_pulses(1, 6, np.array([0, 0]), np.array([0.5, 2.25]), np.array([0.75, 5.5]), np.ones(2) * 2)
    array([[0.5, 0. , 1.5, 2. , 2. , 1. ]])
    """
    s = np.clip(start, 0.0, float(n_min))
    e = np.clip(end, 0.0, float(n_min))
    keep = e > s
    row, s, e, rate = row[keep], s[keep], e[keep], rate[keep]
    width = n_min + 2
    b0 = np.floor(s).astype(np.int64)
    b1 = np.minimum(np.floor(e).astype(np.int64), n_min)
    base = row * width
    same = b0 == b1
    v_same = rate * (e - s)
    v_head = rate * (b0 + 1 - s)
    v_tail = rate * (e - b1)
    split = ~same
    index = np.concatenate(
        [
            (base + b0)[same], (base + b0 + 1)[same],  # whole pulse inside one bin
            (base + b0)[split], (base + b0 + 1)[split],  # head partial
            (base + b0 + 1)[split], (base + b1)[split],  # full bins at the rate
            (base + b1)[split], (base + b1 + 1)[split],  # tail partial
        ]
    )  # fmt: skip
    weight = np.concatenate(
        [
            v_same[same], -v_same[same],
            v_head[split], -v_head[split],
            rate[split], -rate[split],
            v_tail[split], -v_tail[split],
        ]
    )  # fmt: skip
    out: F64 = np.bincount(index, weights=weight, minlength=n_rows * width).astype(np.float64, copy=False)
    out = out.reshape(n_rows, width)
    np.cumsum(out, axis=1, out=out)
    return out[:, :n_min]
