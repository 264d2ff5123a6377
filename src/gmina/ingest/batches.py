"""Building :class:`~gmina.ingest.schema.ParsedBatch` objects: row by row (JSON) or from arrays (CSV)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from gmina.ingest.alarms import Flag
from gmina.ingest.schema import (
    FLAG_TYPE,
    READINGS_SCHEMA,
    REJECTIONS_SCHEMA,
    ParsedBatch,
    ReadType,
    RefKind,
    RejectReason,
    TimeBasis,
)

FLAGS_TYPE = pa.list_(FLAG_TYPE)


@dataclass
class BatchBuilder:
    """Collects readings and rejections one record at a time (for the JSON parsers).

    >>> from datetime import UTC
    >>> b = BatchBuilder()
    >>> when = datetime(2025, 1, 1, tzinfo=UTC)
    >>> b.add(line=0, meter_ref="61234567", ref_kind=RefKind.DEVICE, observed_at=when,
    ...       index_l=412083, time_basis=TimeBasis.RECEPTION)
    >>> b.reject(line=1, column="total_m3", reason=RejectReason.MISSING_VALUE, message="none", raw="{}")
    >>> batch = b.build()
    >>> batch.readings.num_rows, batch.rejections.num_rows
    (1, 1)
    """

    readings: list[dict[str, object]] = field(default_factory=list)
    rejections: list[dict[str, object]] = field(default_factory=list)
    chunks: list[pa.RecordBatch] = field(default_factory=list)  # readings added whole, in order with the rows

    def extend(self, readings: pa.RecordBatch) -> None:
        """Add readings built already (``READINGS_SCHEMA``), after those added so far."""
        self._flush()
        self.chunks.append(readings)

    def _flush(self) -> None:
        if self.readings:
            self.chunks.append(pa.RecordBatch.from_pylist(self.readings, schema=READINGS_SCHEMA))
            self.readings = []

    def add(
        self,
        *,
        line: int,
        meter_ref: str,
        ref_kind: RefKind,
        observed_at: datetime,
        index_l: int,
        time_basis: TimeBasis,
        flow_lph: float | None = None,
        backflow_l: int | None = None,
        time_ambiguous: bool = False,
        read_type: ReadType = ReadType.ACTUAL,
        flags: Sequence[Flag] | None = None,
    ) -> None:
        """Add one normalised reading (``observed_at`` must be timezone-aware)."""
        if observed_at.tzinfo is None:
            raise ValueError("observed_at must be timezone-aware")
        self.readings.append(
            {
                "line": line,
                "meter_ref": clean_text(meter_ref),
                "ref_kind": ref_kind.value,
                "observed_at": observed_at,
                "index_l": index_l,
                "flow_lph": flow_lph,
                "backflow_l": backflow_l,
                "time_basis": time_basis.value,
                "time_ambiguous": time_ambiguous,
                "read_type": read_type.value,
                "flags": None if flags is None else [{**f.as_dict(), "raw": clean_text(f.raw)} for f in flags],
            }
        )

    def reject(self, *, line: int, column: str | None, reason: RejectReason, message: str, raw: str) -> None:
        """Add one rejected record."""
        self.rejections.append(
            {
                "line": line,
                "column": None if column is None else clean_text(column),
                "reason": reason.value,
                "message": clean_text(message),
                "raw": clean_text(raw),
            }
        )

    def build(self) -> ParsedBatch:
        """The collected rows as a :class:`ParsedBatch`."""
        if self.chunks:
            self._flush()
            readings = (
                self.chunks[0]
                if len(self.chunks) == 1
                else pa.Table.from_batches(self.chunks, READINGS_SCHEMA).combine_chunks().to_batches()[0]
            )
        else:
            readings = pa.RecordBatch.from_pylist(self.readings, schema=READINGS_SCHEMA)
        rejections = pa.RecordBatch.from_pylist(self.rejections, schema=REJECTIONS_SCHEMA)
        return ParsedBatch(readings, rejections)


def clean_text(value: str) -> str:
    """Replace lone surrogates (JSON ``\\ud800`` escapes) so that the text can go into Arrow.

    >>> clean_text("a\\ud800b")
    'a?b'
    """
    return value.encode("utf-8", "replace").decode("utf-8")


_COUNTING = pa.array([], pa.int64())  # 1, 2, 3, … grown on demand


def line_numbers(first: int, count: int) -> pa.Array:
    """``first, first + 1, …`` as int64.

    >>> line_numbers(2, 3).to_pylist()
    [2, 3, 4]
    """
    global _COUNTING
    if len(_COUNTING) < count:
        _COUNTING = pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), max(count, 1 << 16)))
    return pc.add(_COUNTING.slice(0, count), first - 1)


_CONSTANTS: dict[tuple[object, str], pa.Array] = {}


def constant(value: object, count: int, type_: pa.DataType) -> pa.Array:
    """An array of ``count`` copies of ``value`` (a zero-copy slice of a cached array).

    >>> constant("serial", 2, pa.string()).to_pylist()
    ['serial', 'serial']
    """
    key = (value, str(type_))
    cached = _CONSTANTS.get(key)
    if cached is None or len(cached) < count:
        if len(_CONSTANTS) > 64:
            _CONSTANTS.clear()
        cached = _CONSTANTS[key] = pa.repeat(pa.scalar(value, type_), max(count, 1 << 16))
    return cached.slice(0, count)


def map_unique(texts: pa.Array, mapper: Callable[[str | None], object], type_: pa.DataType) -> pa.Array:
    """Apply a Python ``mapper`` once per distinct value (including null) and spread the results.

    >>> map_unique(pa.array(["a", "b", "a", None]), lambda v: v and v.upper(), pa.string()).to_pylist()
    ['A', 'B', 'A', None]
    """
    encoded = pc.dictionary_encode(texts, null_encoding="encode")
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    mapped = pa.array([mapper(v) for v in encoded.dictionary.to_pylist()], type_)
    return pc.take(mapped, encoded.indices)


def flags_from_texts(texts: pa.Array, mapper: Callable[[str], list[Flag]]) -> pa.Array:
    """list<FLAG_TYPE> per row: ``mapper`` runs once per distinct alarm text; a null text → an empty list."""
    return map_unique(texts, lambda text: [f.as_dict() for f in mapper(text or "")], FLAGS_TYPE)


@dataclass
class RejectionColumns:
    """Column-wise rejections gathered while normalising one CSV chunk."""

    lines: list[int] = field(default_factory=list)
    columns: list[str | None] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)

    def add(self, line: int, column: str | None, reason: RejectReason, message: str, raw: str) -> None:
        """Append one rejection."""
        self.lines.append(line)
        self.columns.append(column)
        self.reasons.append(reason.value)
        self.messages.append(message)
        self.raws.append(raw)

    def to_batch(self) -> pa.RecordBatch:
        """The rejections sorted by line."""
        order = sorted(range(len(self.lines)), key=self.lines.__getitem__)
        return pa.RecordBatch.from_arrays(
            [
                pa.array([self.lines[i] for i in order], pa.int64()),
                pa.array([self.columns[i] for i in order], pa.string()),
                pa.array([self.reasons[i] for i in order], pa.string()),
                pa.array([self.messages[i] for i in order], pa.string()),
                pa.array([self.raws[i] for i in order], pa.string()),
            ],
            schema=REJECTIONS_SCHEMA,
        )
