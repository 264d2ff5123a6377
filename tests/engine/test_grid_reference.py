"""The hourly grid and the zone balance against straightforward reference implementations, on random inputs.

``reference_grid`` follows the rules of ``gmina.engine.grid``'s docstring one meter and one hour at a time, in plain
Python; ``reference_zone_balance`` is the zone balance computed over whole dense arrays at once. The engine's
chunked versions must agree with them to the last bit: every order of readings, chunk and block size, gaps,
duplicates, readings around the 5-minute alignment edge, rollovers, reverse registers, unknown meters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from unittest import mock

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmina.engine import grid as grid_module
from gmina.engine import zone as zone_module
from gmina.engine.base import EngineInput
from gmina.engine.frames import METERS, UTC_US
from gmina.engine.grid import ALIGN_US, HOUR_US, build_grid
from gmina.engine.zone import ZoneBalance, overload_lph, zone_balance

T0 = datetime(2025, 3, 29, 20, tzinfo=UTC)  # the spring DST change (Europe/Warsaw) falls inside the windows
T0_US = int(T0.timestamp()) * 1_000_000
MINUTE_US = 60_000_000


@dataclass(frozen=True)
class Reading:
    meter_id: int
    t_us: int
    index_l: int
    backflow_l: int | None


@dataclass(frozen=True)
class ReferenceGrid:
    start_us: int
    volume: np.ndarray
    interpolated: np.ndarray
    rollover: np.ndarray
    last_seen: np.ndarray
    backflow: np.ndarray | None


def reference_grid(
    readings: list[Reading], capacity: dict[int, int | None], as_of_us: int, start_us: int | None
) -> ReferenceGrid:
    """The grid's arrays, one meter and one hour at a time (see the ``gmina.engine.grid`` docstring)."""
    upto = [r for r in readings if r.t_us <= as_of_us]
    if start_us is None:
        start_us = min((r.t_us for r in upto), default=as_of_us)
    start_us = start_us // HOUR_US * HOUR_US
    n_hours = max(0, (as_of_us - start_us) // HOUR_US)
    meter_ids = sorted(capacity)
    shape = (len(meter_ids), n_hours)
    volume, reverse = np.full(shape, np.nan), np.full(shape, np.nan)
    interpolated, rollover = np.zeros(shape, dtype=np.bool_), np.zeros(shape, dtype=np.bool_)
    last_seen = np.full(len(meter_ids), -1, dtype=np.int64)
    for i, mid in enumerate(meter_ids):
        index_at: dict[int, float] = {}
        backflow_at: dict[int, float | None] = {}
        for r in sorted((r for r in upto if r.meter_id == mid), key=lambda r: r.t_us):  # stable: ties keep order
            b = math.ceil((r.t_us - start_us - ALIGN_US) / HOUR_US)
            if 0 <= b <= n_hours:
                index_at[b] = float(r.index_l)  # the last reading at a boundary wins
                backflow_at[b] = None if r.backflow_l is None else float(r.backflow_l)
                last_seen[i] = r.t_us
        cap = capacity[mid]
        bounds = sorted(index_at)
        for b1, b2 in zip(bounds, bounds[1:], strict=False):
            lo, hi = index_at[b1], index_at[b2]
            delta = hi - lo
            wrapped = cap is not None and delta < 0 and lo > 0.5 * cap and hi < 0.5 * cap
            if cap is not None and wrapped:
                delta = delta + float(cap)
            for j in range(b1, b2):
                volume[i, j], interpolated[i, j], rollover[i, j] = delta / (b2 - b1), b2 - b1 > 1, wrapped
        known = [(b, x) for b, x in sorted(backflow_at.items()) if x is not None]
        for (b1, x1), (b2, x2) in zip(known, known[1:], strict=False):
            reverse[i, b1:b2] = (x2 - x1) / (b2 - b1)
    with_backflow = any(r.backflow_l is not None for r in upto)
    return ReferenceGrid(start_us, volume, interpolated, rollover, last_seen, reverse if with_backflow else None)


def reference_zone_balance(data: EngineInput) -> ZoneBalance:
    """The zone balance (see the ``gmina.engine.zone`` docstring) over whole dense arrays at once."""
    grid, v = data.grid, data.grid.volume_l
    h = v.shape[1]
    zone_ids = np.unique(data.boundary["zone_id"].to_numpy()).astype(np.int64)
    meters = data.meters.group_by("meter_id").agg(pl.col("zone_id").first(), pl.col("kind").first()).sort("meter_id")
    mz = meters["zone_id"].fill_null(-1).to_numpy()
    zpos = np.minimum(np.searchsorted(zone_ids, mz), zone_ids.size - 1)
    in_zone = (meters["kind"].to_numpy() == "customer") & (zone_ids[zpos] == mz)
    meter_zone = np.where(in_zone, zpos, -1).astype(np.int64)
    q4 = overload_lph(data)[:, None]
    known = ~np.isnan(v)
    with np.errstate(invalid="ignore"):
        plausible = known & ~grid.interpolated & (v >= -0.5) & (v <= q4)
        usable = known & (v >= -0.5) & (v <= q4)
    onehot = np.zeros((h, 24))
    onehot[np.arange(h), grid.local_hour] = 1.0
    sums, counts = np.where(plausible, v, 0.0) @ onehot, plausible.astype(np.float64) @ onehot
    rate = np.where(usable, v, 0.0).sum(axis=1) / np.maximum(usable.sum(axis=1), 1)
    expected = np.where(counts > 0, sums / np.maximum(counts, 1.0), rate[:, None])
    filled = np.where(usable, v, expected[:, grid.local_hour])
    band = np.where(usable, np.where(grid.interpolated, 0.5 * np.abs(v), 0.0), expected[:, grid.local_hour])

    def group_sum(x: np.ndarray) -> np.ndarray:
        out = np.zeros((zone_ids.size, h))
        sel = meter_zone >= 0
        if sel.any():
            order = np.argsort(meter_zone[sel], kind="stable")
            g = meter_zone[sel][order]
            starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
            out[g[starts]] = np.add.reduceat(x[sel][order], starts, axis=0)
        return out

    consumption, uncertainty = group_sum(filled), group_sum(band)
    inflow = np.zeros((zone_ids.size, h))
    for zi, mid, direction in data.boundary.select("zone_id", "meter_id", "direction").iter_rows():
        r, z = grid.row(mid), int(np.searchsorted(zone_ids, zi))
        series = v[r] if r >= 0 else np.full(h, np.nan)
        if r >= 0 and grid.backflow_l is not None and not np.isnan(grid.backflow_l[r]).all():
            series = series - grid.backflow_l[r]
        inflow[z] += (1.0 if direction == "in" else -1.0) * series
        uncertainty[z] += np.where(grid.interpolated[r], 0.5 * np.abs(series), 0.0) if r >= 0 else 0.0
    imputed = group_sum((~usable).astype(np.float64)).astype(np.int64)
    return ZoneBalance(
        zone_ids, inflow, consumption, inflow - consumption, uncertainty, imputed, meter_zone, expected, plausible
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Reading], dict[int, int | None], int, int | None]:
    n_meters = draw(st.integers(1, 5))
    capacity: dict[int, int | None] = {10 + i: draw(st.sampled_from([None, None, 1000, 5000])) for i in range(n_meters)}
    cadences = [15, 60, 60, 24 * 60, 7 * 60]  # minutes: 15-min, hourly, daily and irregular meters
    readings: list[Reading] = []
    for mid in [*capacity, 99]:  # meter 99 is not on the grid
        cadence = draw(st.sampled_from(cadences))
        n = draw(st.integers(0, 40))
        t = T0_US + draw(st.integers(-3 * 60, 6 * 60)) * MINUTE_US
        index = draw(st.integers(0, 6000))
        backflow = draw(st.sampled_from([None, 0]))
        for _ in range(n):
            jitter = draw(st.sampled_from([0, 0, 0, ALIGN_US, ALIGN_US + 1, -10_000_000, 40_000_000]))
            step = draw(st.sampled_from([0, 1, 1, 1, 2, 5]))  # 0: a duplicate time
            t += step * cadence * MINUTE_US
            index = (index + draw(st.integers(-30, 400))) % (capacity.get(mid) or 10**9)
            if backflow is not None:
                backflow += draw(st.integers(0, 20))
            nulled = backflow is not None and draw(st.booleans()) and draw(st.booleans())
            readings.append(Reading(mid, t + jitter, index, None if nulled else backflow))
    as_of_us = T0_US + draw(st.integers(0, 30 * 60)) * MINUTE_US + draw(st.sampled_from([0, 1, ALIGN_US]))
    start_us = None if draw(st.booleans()) else T0_US + draw(st.integers(-2 * 60, 4 * 60)) * MINUTE_US
    order = draw(st.sampled_from(["as drawn", "by time", "by meter and time", "shuffled"]))
    if order == "by time":
        readings.sort(key=lambda r: r.t_us)
    elif order == "by meter and time":
        readings.sort(key=lambda r: (r.meter_id, r.t_us))
    elif order == "shuffled":
        readings = draw(st.permutations(readings))
    return readings, capacity, as_of_us, start_us


def _frames(readings: list[Reading], capacity: dict[int, int | None]) -> tuple[pl.DataFrame, pl.DataFrame]:
    r = pl.DataFrame(
        {
            "meter_id": [x.meter_id for x in readings],
            "observed_at": [x.t_us for x in readings],
            "index_l": [x.index_l for x in readings],
            "backflow_l": [x.backflow_l for x in readings],
        },
        schema={"meter_id": pl.Int64, "observed_at": pl.Int64, "index_l": pl.Int64, "backflow_l": pl.Int64},
    ).with_columns(pl.col("observed_at").cast(UTC_US))
    ids = list(capacity)
    zone_of = [1 + i % 2 for i in range(len(ids))]
    m = pl.DataFrame(
        {
            "meter_id": [*ids, 500, 501],
            "zone_id": [*zone_of, 1, 2],
            "kind": ["customer"] * len(ids) + ["zone", "zone"],
            "dn_mm": [15] * len(ids) + [100, 100],
            "q3_m3h": [0.2] * len(ids) + [100.0, 100.0],  # a low Q4 (250 L/h): some hours are implausible
            "register_capacity_l": [*capacity.values(), None, None],
        },
        schema=METERS.dtypes,
    )
    return r, m


def _datetime(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def _assert_same(got: np.ndarray | None, want: np.ndarray | None, what: str) -> None:
    assert (got is None) == (want is None), what
    if got is not None and want is not None:
        assert got.dtype == want.dtype and got.shape == want.shape, what
        assert np.array_equal(got, want, equal_nan=got.dtype.kind == "f"), what


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from([1, 2, 3, 7, 1 << 20]))
def test_grid_matches_the_reference(
    case: tuple[list[Reading], dict[int, int | None], int, int | None], chunk: int
) -> None:
    readings, capacity, as_of_us, start_us = case
    r, m = _frames(readings, capacity)
    want = reference_grid(readings, {**capacity, 500: None, 501: None}, as_of_us, start_us)
    start = None if start_us is None else _datetime(start_us)
    with mock.patch.object(grid_module, "CHUNK", chunk):
        got = build_grid(r, m, _datetime(as_of_us), start)
    assert got.start_us == want.start_us
    _assert_same(got.meter_ids, np.array(sorted([*capacity, 500, 501]), dtype=np.int64), "meter_ids")
    _assert_same(got.volume_l, want.volume, "volume_l")
    _assert_same(got.interpolated, want.interpolated, "interpolated")
    _assert_same(got.rollover, want.rollover, "rollover")
    _assert_same(got.last_seen_us, want.last_seen, "last_seen_us")
    _assert_same(got.backflow_l, want.backflow, "backflow_l")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from([1, 30, 1 << 20]))
def test_zone_balance_matches_the_dense_reference(
    case: tuple[list[Reading], dict[int, int | None], int, int | None], block: int
) -> None:
    readings, capacity, as_of_us, start_us = case
    r, m = _frames(readings, capacity)
    inlets = [Reading(mid, T0_US + h * HOUR_US, 1000 * h, None) for mid in (500, 501) for h in range(-3, 40)]
    r = pl.concat([r, _frames(inlets, {})[0]])
    boundary = pl.DataFrame({"zone_id": [1, 2], "meter_id": [500, 501], "direction": ["in", "in"]})
    start = None if start_us is None else _datetime(start_us)
    data = EngineInput(r, m, _datetime(as_of_us), boundary, start=start)
    want = reference_zone_balance(data)
    with mock.patch.object(zone_module, "BLOCK_CELLS", block):
        got = zone_balance(data)
    for name in ZoneBalance.__dataclass_fields__:
        _assert_same(getattr(got, name), getattr(want, name), name)


def test_the_reference_grid_follows_the_documented_rules() -> None:
    """The reference itself, on a hand-made case: a gap, a duplicate boundary, a rollover, the alignment edge."""
    hour = HOUR_US
    readings = [
        Reading(1, T0_US, 990, None),
        Reading(1, T0_US + hour + ALIGN_US, 995, None),  # 5 min after the hour: still that hour's value
        Reading(1, T0_US + hour, 993, None),  # earlier in time at the same boundary: loses
        Reading(1, T0_US + 2 * hour + ALIGN_US + 1, 5, None),  # just past the edge: the next boundary (3)
        Reading(1, T0_US + 5 * hour, 35, None),
    ]
    got = reference_grid(readings, {1: 1000}, T0_US + 6 * hour, None)
    assert got.volume[0, :5].tolist() == [5.0, 5.0, 5.0, 15.0, 15.0] and np.isnan(got.volume[0, 5])
    assert got.interpolated.tolist() == [[False, True, True, True, True, False]]
    assert got.rollover.tolist() == [[False, True, True, False, False, False]]
    assert got.last_seen.tolist() == [T0_US + 5 * hour]


def test_meters_read_every_hour_match_the_reference_with_rollovers_and_huge_registers() -> None:
    """Rows read at every boundary take a shortcut (plain differences): rollovers and registers beyond 2**53 too."""
    rng = np.random.default_rng(5)
    hours = 30
    start = {10: 900, 11: 2**60, 12: 0, 500: 0, 501: 2**62}
    capacity: dict[int, int | None] = {10: 1000, 11: None, 12: None}
    readings = [
        Reading(mid, T0_US + h * HOUR_US, int(start[mid] + int(use) * h) % (capacity.get(mid) or 2**63), None)
        for mid in start
        for h, use in zip(range(hours + 1), rng.integers(5, 40, hours + 1), strict=True)
    ]
    r, m = _frames(readings, capacity)
    got = build_grid(r, m, _datetime(T0_US + hours * HOUR_US))
    want = reference_grid(readings, {**capacity, 500: None, 501: None}, T0_US + hours * HOUR_US, None)
    assert got.rollover[0].any() and not got.interpolated.any() and not np.isnan(got.volume_l).any()
    _assert_same(got.volume_l, want.volume, "volume_l")
    _assert_same(got.rollover, want.rollover, "rollover")


def test_zone_balance_of_meters_read_every_hour_matches_the_dense_reference() -> None:
    """Zones whose meters all registered every hour plausibly skip imputing: the same sums, to the last bit."""
    rng = np.random.default_rng(11)
    hours = 60
    use = rng.integers(0, 40, (6, hours)) * rng.random((6, 1))  # fractional litres: rounding would show
    readings = [
        Reading(mid, T0_US + h * HOUR_US, int(1000 * np.sum(use[i, :h])) // 1000, None)
        for i, mid in enumerate([10, 11, 12, 13, 500, 501])
        for h in range(hours + 1)
        if not (mid == 13 and 20 <= h < 30)  # zone 2 has a gap: imputed, with a band
    ]
    r, m = _frames(readings, {10: None, 11: None, 12: None, 13: None})
    boundary = pl.DataFrame({"zone_id": [1, 2], "meter_id": [500, 501], "direction": ["in", "in"]})
    data = EngineInput(r, m, _datetime(T0_US + hours * HOUR_US), boundary)
    want = reference_zone_balance(data)
    got = zone_balance(data)
    assert got.n_imputed[0].sum() == 0 and got.uncertainty_l[1].sum() > 0
    for name in ZoneBalance.__dataclass_fields__:
        _assert_same(getattr(got, name), getattr(want, name), name)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from([0, 10, 15, 20, 25, 32, 40, 50, 65, 80, 100, 125, -15])),
            st.one_of(st.none(), st.floats(-1.0, 200.0, allow_nan=False)),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_overload_flow_takes_q3_then_the_dn_table_then_the_default(
    sizes: list[tuple[int | None, float | None]],
) -> None:
    m = pl.DataFrame(
        {
            "meter_id": list(range(1, len(sizes) + 1)),
            "zone_id": [1] * len(sizes),
            "kind": ["customer"] * len(sizes),
            "dn_mm": [dn for dn, _ in sizes],
            "q3_m3h": [q3 for _, q3 in sizes],
            "register_capacity_l": [None] * len(sizes),
        },
        schema=METERS.dtypes,
    )
    r, _ = _frames([Reading(1, T0_US, 0, None), Reading(1, T0_US + HOUR_US, 5, None)], {})
    data = EngineInput(r, m, _datetime(T0_US + HOUR_US))
    q3 = [q if q is not None and q > 0 else zone_module.DN_Q3_M3H.get(dn or 0, 2.5) for dn, q in sizes]
    want = [q * 1000.0 * 1.25 for q in q3]  # Q4 = 1.25 Q3, in L/h
    assert overload_lph(data).tolist() == want
