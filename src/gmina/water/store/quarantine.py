"""Writing quarantined records: fast for whole columns, with the normalised record kept to re-process."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db.backends.base.base import BaseDatabaseWrapper

from gmina.water.store.staging import copy_rows, sqlite_datetimes

TABLE = "water_quarantinedrecord"


def reading_payloads(readings: pa.Table | pa.RecordBatch) -> list[str]:
    """The normalised reading of each row as JSON (what re-processing feeds back to the store)."""
    payloads = []
    for row in readings.to_pylist():
        observed = row.get("observed_at")
        payloads.append(
            json.dumps(
                {
                    "meter_ref": row["meter_ref"],
                    "ref_kind": row["ref_kind"],
                    "observed_at": observed.astimezone(UTC).isoformat() if observed else None,
                    "index_l": row["index_l"],
                    "flow_lph": row.get("flow_lph"),
                    "backflow_l": row.get("backflow_l"),
                    "time_basis": row["time_basis"],
                    "read_type": row["read_type"],
                    "time_ambiguous": bool(row.get("time_ambiguous")),
                    "flags": row.get("flags") or [],
                },
                ensure_ascii=False,
            )
        )
    return payloads


def raw_line(payload: dict[str, Any]) -> str:
    return f"{payload['meter_ref']},{payload['observed_at']},{payload['index_l']}"


def write_quarantine(
    connection: BaseDatabaseWrapper,
    *,
    member_id: int,
    batch_id: int,
    lines: list[int],
    reasons: list[str],
    messages: list[str],
    raws: list[str],
    fields: list[str | None] | None = None,
    readings: pa.Table | pa.RecordBatch | None = None,
) -> int:
    """Append quarantine rows; ``readings`` (READINGS_SCHEMA rows) gives the normalised values."""
    n = len(lines)
    if n == 0:
        return 0
    if readings is not None:
        payloads: list[str | None] = list(reading_payloads(readings))
        meter_refs = readings.column("meter_ref")
        ref_kinds = readings.column("ref_kind")
        observed = readings.column("observed_at")
        indexes = readings.column("index_l")
    else:
        payloads = [None] * n
        meter_refs = pa.nulls(n, pa.string())
        ref_kinds = pa.nulls(n, pa.string())
        observed = pa.nulls(n, pa.timestamp("us", tz="UTC"))
        indexes = pa.nulls(n, pa.int64())
    table = pa.table(
        {
            "member_id": pa.array([member_id] * n, pa.int64()),
            "batch_id": pa.array([batch_id] * n, pa.int64()),
            "line": pa.array(lines, pa.int64()),
            "source_field": pa.array([f or "" for f in (fields or [None] * n)], pa.string()),
            "reason": pa.array(reasons, pa.string()),
            "message": pa.array(messages, pa.string()),
            "raw": pa.array(raws, pa.string()),
            "meter_ref": pc.fill_null(meter_refs, ""),
            "ref_kind": pc.fill_null(ref_kinds, ""),
            "observed_at": observed,
            "index_l": indexes,
            "payload": pa.array(payloads, pa.string()),
            "status": pa.array(["open"] * n, pa.string()),
            "resolution_note": pa.array([""] * n, pa.string()),
        }
    )
    if connection.vendor != "postgresql":
        table = table.set_column(
            table.schema.get_field_index("observed_at"),
            "observed_at",
            pa.array(sqlite_datetimes(table.column("observed_at")), pa.string()),
        )
    copy_rows(connection, TABLE, table)
    return n
