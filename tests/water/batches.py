"""Hand-built ParsedBatches for store tests (the parsers are tested on their own in tests/ingest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from gmina.ingest import READINGS_SCHEMA, REJECTIONS_SCHEMA, ParsedBatch

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def reading(
    meter: str, hours: float, index_l: int, *, line: int = 0, kind: str = "serial", **extra: Any
) -> dict[str, Any]:
    row = {
        "line": line,
        "meter_ref": meter,
        "ref_kind": kind,
        "observed_at": T0 + timedelta(hours=hours),
        "index_l": index_l,
        "flow_lph": None,
        "backflow_l": None,
        "time_basis": "meter_clock",
        "time_ambiguous": False,
        "read_type": "actual",
        "flags": [],
    }
    row.update(extra)
    return row


def batch(rows: list[dict[str, Any]], rejections: list[dict[str, Any]] | None = None) -> ParsedBatch:
    for number, row in enumerate(rows, start=1):
        row["line"] = row["line"] or number
    return ParsedBatch(
        pa.RecordBatch.from_pylist(rows, schema=READINGS_SCHEMA),
        pa.RecordBatch.from_pylist(rejections or [], schema=REJECTIONS_SCHEMA),
    )


def flag(code: str, state: str = "active", raw: str | None = None) -> dict[str, str]:
    return {"code": code, "state": state, "raw": raw or code.upper()}
