"""The engine's input frames: their columns, dtypes, units, and a validator that names the offending column.

Units are fixed here (WNTR habit: one unit inside, conversion at the edges):

* times are UTC, ``Datetime[us, UTC]``; local time (Europe/Warsaw) appears only where night hours are defined;
* volumes are litres (``index_l``, ``backflow_l``, ``register_capacity_l``), flows are litres per hour;
* meter size is ``dn_mm`` (nominal diameter, mm) and ``q3_m3h`` (permanent flow Q3, m³/h, as printed).

Frames
------
``READINGS``      one register value of one meter at one instant (``gmina.ingest`` output, resolved to meter ids)
``METERS``        the meters: which zone, what kind (``customer`` | ``zone`` | ``bulk``), size, register capacity
``BOUNDARY``      zone boundary meters: ``direction`` ``in`` adds to the zone's inflow, ``out`` subtracts
``EVENTS``        device alarms as intervals (``gmina.water.DeviceEvent``): normalised ``code`` and ``state``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

__all__ = [
    "ALARM_CODES",
    "BOUNDARY",
    "EVENTS",
    "METERS",
    "READINGS",
    "UTC_US",
    "Column",
    "FrameSchema",
    "SchemaError",
    "empty",
    "validate",
]

UTC_US = pl.Datetime("us", "UTC")
"""The one timestamp dtype of the engine: microseconds, UTC."""

ALARM_CODES = (
    "leak",
    "burst",
    "backflow",
    "tamper_magnet",
    "tamper_other",
    "removal",
    "dry",
    "battery_low",
    "sensor_error",
    "no_usage",
    "other",
)
"""Normalised device alarm codes (``gmina.water.models.choices.AlarmCode`` values)."""


class SchemaError(ValueError):
    """A frame does not have the columns or dtypes its schema declares. The message names the column."""


@dataclass(frozen=True)
class Column:
    """One documented column: dtype, unit (``""`` when unitless), whether nulls and absence are allowed."""

    dtype: pl.DataType
    unit: str
    doc: str
    nullable: bool = False
    required: bool = True


@dataclass(frozen=True)
class FrameSchema:
    """A named frame layout. ``validate`` checks a frame against it."""

    name: str
    columns: Mapping[str, Column]

    @property
    def dtypes(self) -> dict[str, pl.DataType]:
        """``{column: dtype}`` in declared order (a polars schema)."""
        return {name: col.dtype for name, col in self.columns.items()}


READINGS = FrameSchema(
    "readings",
    {
        "meter_id": Column(pl.Int64(), "", "meter id"),
        "observed_at": Column(UTC_US, "UTC", "instant of the register value"),
        "index_l": Column(pl.Int64(), "L", "cumulative forward register"),
        "flow_lph": Column(pl.Float64(), "L/h", "instantaneous flow, if the source gives it", True, False),
        "backflow_l": Column(pl.Int64(), "L", "cumulative reverse register, if the meter has one", True, False),
        "restart": Column(pl.Boolean(), "", "the register restarted here (new meter, reset)", True, False),
    },
)

METERS = FrameSchema(
    "meters",
    {
        "meter_id": Column(pl.Int64(), "", "meter id"),
        "zone_id": Column(pl.Int64(), "", "zone the meter's premise belongs to (null: none)", True),
        "kind": Column(pl.String(), "", "customer | zone | bulk"),
        "dn_mm": Column(pl.Int64(), "mm", "nominal diameter", True),
        "q3_m3h": Column(pl.Float64(), "m³/h", "permanent flow Q3", True),
        "register_capacity_l": Column(pl.Int64(), "L", "the index wraps to zero after this", True),
    },
)

BOUNDARY = FrameSchema(
    "boundary",
    {
        "zone_id": Column(pl.Int64(), "", "zone"),
        "meter_id": Column(pl.Int64(), "", "meter on a pipe crossing the zone's boundary"),
        "direction": Column(pl.String(), "", "in (adds to inflow) | out (subtracts)"),
    },
)

EVENTS = FrameSchema(
    "events",
    {
        "meter_id": Column(pl.Int64(), "", "meter that raised the alarm"),
        "code": Column(pl.String(), "", "normalised alarm code, one of ALARM_CODES"),
        "state": Column(pl.String(), "", "active | historic (latched)"),
        "first_seen": Column(UTC_US, "UTC", "first reading carrying the flag"),
        "last_seen": Column(UTC_US, "UTC", "last reading carrying the flag"),
        "ended_at": Column(UTC_US, "UTC", "first reading without the flag (null: still open)", True),
    },
)


def empty(schema: FrameSchema) -> pl.DataFrame:
    """An empty frame with every declared column.

    >>> empty(BOUNDARY).columns
    ['zone_id', 'meter_id', 'direction']
    """
    return pl.DataFrame(schema=schema.dtypes)


def validate(frame: pl.DataFrame, schema: FrameSchema) -> pl.DataFrame:
    """Check ``frame`` against ``schema``; return it with absent optional columns added as nulls.

    Extra columns are dropped from the returned frame (the caller's frame is not touched); the order is the
    declared one. Raises :class:`SchemaError` naming the first offending column.

    >>> from datetime import datetime, UTC
    >>> ok = pl.DataFrame({"meter_id": [1], "observed_at": [datetime(2025, 1, 1, tzinfo=UTC)], "index_l": [10]})
    >>> validate(ok, READINGS).columns
    ['meter_id', 'observed_at', 'index_l', 'flow_lph', 'backflow_l', 'restart']
    >>> validate(ok.with_columns(pl.col("index_l").cast(pl.Float64)), READINGS)
    Traceback (most recent call last):
    ...
    gmina.engine.frames.SchemaError: readings.index_l: expected Int64 (L), got Float64
    >>> validate(ok.drop("index_l"), READINGS)
    Traceback (most recent call last):
    ...
    gmina.engine.frames.SchemaError: readings.index_l: required column is missing
    """
    exprs: list[pl.Expr] = []
    for name, col in schema.columns.items():
        if name not in frame.columns:
            if col.required:
                raise SchemaError(f"{schema.name}.{name}: required column is missing")
            exprs.append(pl.lit(None, dtype=col.dtype).alias(name))
            continue
        got = frame.schema[name]
        if got != col.dtype and not (got == pl.Null() and col.nullable):
            unit = f" ({col.unit})" if col.unit else ""
            raise SchemaError(f"{schema.name}.{name}: expected {col.dtype}{unit}, got {got}")
        if not col.nullable and frame[name].null_count():
            raise SchemaError(f"{schema.name}.{name}: {frame[name].null_count()} null value(s) in a non-null column")
        exprs.append(pl.col(name).cast(col.dtype))
    return frame.select(exprs)
