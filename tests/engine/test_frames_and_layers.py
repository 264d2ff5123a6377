"""Frames, the hourly grid's gap/rollover/negative rules, and the engine's independence from Django."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from gmina.engine.frames import METERS, READINGS, UTC_US, SchemaError, validate
from gmina.engine.grid import build_grid, hourly_consumption

T = datetime(2025, 3, 1, tzinfo=UTC)


def _frames(index: list[int], hours: list[int], capacity: int | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    r = pl.DataFrame(
        {"meter_id": [1] * len(index), "observed_at": [T + timedelta(hours=h) for h in hours], "index_l": index}
    ).with_columns(pl.col("observed_at").cast(UTC_US))
    m = pl.DataFrame(
        {"meter_id": [1], "zone_id": [None], "kind": ["customer"], "dn_mm": [15], "q3_m3h": [2.5],
         "register_capacity_l": [capacity]},
        schema=METERS.dtypes,
    )  # fmt: skip
    return r, m


def test_validate_names_the_column() -> None:
    r, _ = _frames([1], [0])
    with pytest.raises(SchemaError, match=r"readings\.observed_at"):
        validate(r.with_columns(pl.col("observed_at").dt.replace_time_zone(None)), READINGS)
    with pytest.raises(SchemaError, match=r"readings\.meter_id: 1 null"):
        validate(r.with_columns(pl.lit(None, pl.Int64).alias("meter_id")), READINGS)


def test_gap_is_spread_and_flagged_not_invented() -> None:
    r, m = _frames([0, 10, 70], [0, 1, 7])
    g = build_grid(r, m, T + timedelta(hours=9))
    assert g.volume_l[0, :7].tolist() == [10.0] + [10.0] * 6
    assert g.interpolated[0].tolist() == [False] + [True] * 6 + [False, False]
    assert np.isnan(g.volume_l[0, 7:]).all()  # after the last reading: unknown
    assert hourly_consumption(g)["volume_l"].sum() == 70.0


def test_rollover_uses_capacity_and_negative_delta_is_kept() -> None:
    r, m = _frames([99_990, 5, 3], [0, 1, 2], capacity=100_000)
    g = build_grid(r, m, T + timedelta(hours=2))
    assert g.volume_l[0].tolist() == [15.0, -2.0]
    assert g.rollover[0].tolist() == [True, False]


def test_sub_hourly_readings_align_to_the_next_hour() -> None:
    r, m = _frames([0, 3, 6, 9, 12], [0, 0, 0, 1, 1])
    r = r.with_columns(pl.Series("observed_at", [T + timedelta(minutes=x) for x in (0, 20, 40, 60, 80)]).cast(UTC_US))
    g = build_grid(r, m, T + timedelta(hours=2))
    assert g.volume_l[0].tolist() == [9.0, 3.0]


def test_engine_imports_without_django() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "pkg = importlib.import_module('gmina.engine')\n"
        "for info in pkgutil.walk_packages(pkg.__path__, 'gmina.engine.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(len(bad)); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "0", result.stdout + result.stderr
