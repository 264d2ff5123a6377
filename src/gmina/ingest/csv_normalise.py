"""Vectorised normalisation of one parsed CSV chunk into readings and rejections.

Each record is checked in a fixed order and rejected for the **first** problem found: id in scientific
notation, missing id, missing/bad/nonexistent timestamp, missing index, bad unit, bad number, negative
index, bad flow, unknown read type. Python runs only per rejected record and per distinct alarm or
read-type text, never per accepted record.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from gmina.ingest.alarms import map_alarm_tokens
from gmina.ingest.batches import (
    FLAGS_TYPE,
    RejectionColumns,
    constant,
    flags_from_texts,
    line_numbers,
    map_unique,
)
from gmina.ingest.csv_chunks import Chunk
from gmina.ingest.csv_profiles import CsvProfile, VolumeUnitName, match_read_type
from gmina.ingest.numbers import floats_from_strings, litres_from_strings, scientific_mask
from gmina.ingest.schema import READINGS_SCHEMA, REJECTIONS_SCHEMA, ParsedBatch, RejectReason
from gmina.ingest.time_arrays import times_from_strings
from gmina.ingest.times import RepeatedHourResolver

_UNITS = {"m3": "m3", "m³": "m3", "m^3": "m3", "m 3": "m3", "l": "l", "litr": "l", "litry": "l", "dm3": "l"}
_UNITS.update({"dm³": "l", "litrow": "l", "litrów": "l"})
_STRING_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Layout:
    """Where the canonical fields are in this file."""

    delimiter: str
    names: list[str]  # column names as written in the header (or "column N" / field names)
    index: dict[str, int]  # canonical field → 0-based column
    volume_unit: VolumeUnitName
    null_values: tuple[str, ...] = ("",)


class RecordText:
    """First physical line of every record in a chunk, and how to get a record's exact text."""

    def __init__(self, chunk: Chunk, starts: list[int], ends: list[int], field_counts: list[int]) -> None:
        self.chunk = chunk
        self.starts = starts  # empty for the identity mapping (record i is line first_line + i)
        self.field_counts = field_counts
        self._ends = dict(zip(starts, ends, strict=True))
        self._physical: list[str] | None = None

    @classmethod
    def identity(cls, chunk: Chunk) -> RecordText:
        """One record per physical line (no blank lines, no newline inside quotes)."""
        return cls(chunk, [], [], [])

    @classmethod
    def scan(cls, chunk: Chunk, delimiter: str) -> RecordText:
        """Slow path: Python's csv module finds record boundaries (blank lines, quoted newlines)."""
        text = chunk.data.decode("utf-8", "replace")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
        starts: list[int] = []
        ends: list[int] = []
        counts: list[int] = []
        previous = 0
        try:
            for row in reader:
                if row:
                    starts.append(chunk.first_line + previous)
                    ends.append(chunk.first_line + reader.line_num - 1)
                    counts.append(len(row))
                previous = reader.line_num
        except csv.Error:
            pass
        return cls(chunk, starts, ends, counts)

    def lines(self, rows: pa.Array) -> pa.Array:
        """Line numbers of the given row positions (int64)."""
        if not self.starts:
            return pc.add(pc.cast(rows, pa.int64()), self.chunk.first_line)
        return pc.take(pa.array(self.starts, pa.int64()), rows)

    def all_lines(self, count: int) -> pa.Array:
        """Line numbers of all ``count`` records."""
        if not self.starts:
            return line_numbers(self.chunk.first_line, count)
        return pa.array(self.starts, pa.int64())

    def raw(self, line: int) -> str:
        """The exact text of the record starting at ``line`` (all its lines, without line endings)."""
        if self._physical is None:
            self._physical = self.chunk.data.decode("utf-8", "replace").split("\n")
        first, end = self.chunk.first_line, self._ends.get(line, line)
        picked = self._physical[line - first : end - first + 1]
        return "\n".join(text.rstrip("\r") for text in picked)


@dataclass
class _Checks:
    """Rejections in check order; ``remaining`` marks the rows not rejected yet."""

    remaining: pa.Array
    found: list[tuple[pa.Array, str | None, RejectReason, pa.Array | None, Callable[[str | None], str]]]

    def add(
        self,
        mask: pa.Array,
        column: str | None,
        reason: RejectReason,
        values: pa.Array | None,
        describe: Callable[[str | None], str],
    ) -> None:
        mask = pc.and_(pc.fill_null(mask, False), self.remaining)
        if pc.any(mask).as_py():
            self.found.append((pc.indices_nonzero(mask), column, reason, values, describe))
            self.remaining = pc.and_(self.remaining, pc.invert(mask))


class ChunkNormaliser:
    """Turns pyarrow-parsed chunks into :class:`ParsedBatch` objects (keeps cross-chunk DST state)."""

    def __init__(self, layout: Layout, profile: CsvProfile) -> None:
        self.layout = layout
        self.profile = profile
        self.resolver = RepeatedHourResolver()

    def _column(self, table: pa.Table, name: str) -> pa.Array | None:
        position = self.layout.index.get(name)
        if position is None:
            return None
        return table.column(f"c{position}").combine_chunks()

    def _header(self, name: str) -> str:
        return self.layout.names[self.layout.index[name]]

    def normalise(self, chunk: Chunk, parsed: tuple[pa.Table, RecordText]) -> ParsedBatch:
        """Readings and rejections of one chunk."""
        table, records = parsed
        count = table.num_rows
        if count == 0:
            return ParsedBatch.empty()
        checks = _Checks(pa.repeat(True, count), [])
        meter_ref, ref_kind = self._refs(table, checks)
        times = self._times(table, checks)
        index_l = self._index(table, checks)
        flow = self._flow(table, checks)
        read_type = self._read_type(table, checks)
        flags = self._flags(table)
        observed = self._resolve_repeated_hour(times, meter_ref, checks.remaining)
        columns = {
            "line": records.all_lines(count),
            "meter_ref": meter_ref,
            "ref_kind": ref_kind,
            "observed_at": observed,
            "index_l": index_l,
            "flow_lph": flow,
            "backflow_l": pa.nulls(count, pa.int64()),
            "time_basis": constant(self.profile.time_basis.value, count, pa.string()),
            "time_ambiguous": times.ambiguous,
            "read_type": read_type,
            "flags": flags,
        }
        arrays = [columns[f.name] for f in READINGS_SCHEMA]
        readings = pa.RecordBatch.from_arrays(arrays, schema=READINGS_SCHEMA)
        if checks.found:
            readings = readings.filter(checks.remaining)
        return ParsedBatch(readings, self._rejections(checks, records))

    def _refs(self, table: pa.Table, checks: _Checks) -> tuple[pa.Array, pa.Array]:
        serial = _blank_to_null(self._column(table, "meter_serial"))
        device = _blank_to_null(self._column(table, "device_key"))
        if device is not None:
            device = pc.utf8_lower(device)
        if serial is not None and self.profile.id_width:
            digits = pc.fill_null(pc.match_substring_regex(serial, "^[0-9]+$"), False)
            serial = pc.if_else(digits, pc.utf8_lpad(serial, self.profile.id_width, "0"), serial)
        for name, ids in (("meter_serial", serial), ("device_key", device)):
            if ids is not None:
                header = self._header(name)
                checks.add(scientific_mask(ids), header, RejectReason.SCIENTIFIC_ID, ids, _sci_message(header))
        order = [(serial, "serial"), (device, "device")]
        if self.profile.prefer == "device":
            order.reverse()
        present = [(ids, kind) for ids, kind in order if ids is not None]
        meter_ref = pc.coalesce(*[ids for ids, _ in present]) if len(present) > 1 else present[0][0]
        ref_kind = constant(present[-1][1], len(meter_ref), pa.string())
        for ids, kind in reversed(present[:-1]):
            ref_kind = pc.if_else(ids.is_valid(), kind, ref_kind)
        header = self._header("meter_serial" if "meter_serial" in self.layout.index else "device_key")
        checks.add(meter_ref.is_null(), header, RejectReason.MISSING_VALUE, None, lambda _: f"{header}: no meter id")
        return pc.fill_null(meter_ref, ""), ref_kind

    def _times(self, table: pa.Table, checks: _Checks) -> _Times:
        texts = self._column(table, "observed_at")
        assert texts is not None
        header = self._header("observed_at")
        parsed = times_from_strings(
            texts, self.profile.date_formats, tz=self.profile.timezone, default_time=self.profile.default_time
        )
        checks.add(texts.is_null(), header, RejectReason.MISSING_VALUE, None, lambda _: f"{header}: no timestamp")
        formats = ", ".join(self.profile.date_formats)
        checks.add(
            parsed.invalid,
            header,
            RejectReason.BAD_TIMESTAMP,
            texts,
            lambda v: f"{header}: {v!r} is not a valid date/time (expected {formats})",
        )
        zone = self.profile.timezone
        checks.add(
            parsed.nonexistent,
            header,
            RejectReason.NONEXISTENT_LOCAL_TIME,
            texts,
            lambda v: f"{header}: local time {v!r} does not exist in {zone} (DST gap)",
        )
        return _Times(parsed.utc, parsed.utc_later, parsed.local_us, parsed.ambiguous)

    def _index(self, table: pa.Table, checks: _Checks) -> pa.Array:
        texts = self._column(table, "index")
        assert texts is not None
        header = self._header("index")
        checks.add(texts.is_null(), header, RejectReason.MISSING_VALUE, None, lambda _: f"{header}: no index value")
        units = self._column(table, "unit")
        unit = self.layout.volume_unit
        whole = self.profile.whole_litres
        if units is None:
            parsed = litres_from_strings(texts, unit, whole=whole)
            values, invalid = parsed.values, parsed.invalid
        else:
            kinds = map_unique(units, _unit_kind, pa.string())
            kinds = pc.fill_null(kinds, unit)
            unit_header = self._header("unit")
            checks.add(
                pc.equal(kinds, "?"),
                unit_header,
                RejectReason.BAD_UNIT,
                units,
                lambda v: f"{unit_header}: unknown unit {v!r} (expected m3 or l)",
            )
            m3, litres = litres_from_strings(texts, "m3"), litres_from_strings(texts, "l", whole=whole)
            is_l = pc.equal(kinds, "l")
            values = pc.if_else(is_l, litres.values, m3.values)
            invalid = pc.if_else(is_l, litres.invalid, m3.invalid)
        checks.add(invalid, header, RejectReason.BAD_NUMBER, texts, lambda v: f"{header}: {v!r} is not a number")
        negative = pc.less(values, 0)
        checks.add(negative, header, RejectReason.NEGATIVE_INDEX, texts, lambda v: f"{header}: negative index {v!r}")
        return pc.fill_null(values, 0)

    def _flow(self, table: pa.Table, checks: _Checks) -> pa.Array:
        texts = self._column(table, "flow")
        if texts is None:
            return pa.nulls(table.num_rows, pa.float64())
        header = self._header("flow")
        parsed = floats_from_strings(texts)
        checks.add(
            parsed.invalid,
            header,
            RejectReason.BAD_NUMBER,
            texts,
            lambda v: f"{header}: {v!r} is not a number",
        )
        return pc.multiply(parsed.values, 1000.0) if self.profile.flow_unit == "m3h" else parsed.values

    def _read_type(self, table: pa.Table, checks: _Checks) -> pa.Array:
        default = self.profile.default_read_type.value
        texts = self._column(table, "read_type")
        if texts is None:
            return constant(default, table.num_rows, pa.string())
        profile = self.profile

        def lookup(text: str | None) -> str:
            found = match_read_type(text or "", profile)
            return found.value if found else "?"

        types = pc.fill_null(map_unique(texts, lookup, pa.string()), default)
        header = self._header("read_type")
        checks.add(
            pc.equal(types, "?"),
            header,
            RejectReason.MALFORMED,
            texts,
            lambda v: f"{header}: unknown read type {v!r}",
        )
        return types

    def _flags(self, table: pa.Table) -> pa.Array:
        texts = self._column(table, "alarms")
        if texts is None:
            return pa.nulls(table.num_rows, FLAGS_TYPE)
        vendor = self.profile.alarm_vendor
        return flags_from_texts(texts, lambda text: map_alarm_tokens(text, vendor=vendor))

    def _resolve_repeated_hour(self, times: _Times, meter_ref: pa.Array, valid: pa.Array) -> pa.Array:
        candidates = pc.and_(times.ambiguous, valid)
        if not pc.any(candidates).as_py():
            return times.utc
        rows = pc.indices_nonzero(candidates)
        meters = pc.take(meter_ref, rows).to_pylist()
        locals_ = pc.take(times.local_us, rows).to_pylist()
        later = [self.resolver.take_later(m, t) for m, t in zip(meters, locals_, strict=True)]
        mask = pc.replace_with_mask(pa.repeat(False, len(meter_ref)), candidates, pa.array(later, pa.bool_()))
        return pc.if_else(mask, times.utc_later, times.utc)

    def _rejections(self, checks: _Checks, records: RecordText) -> pa.RecordBatch:
        if not checks.found:
            return pa.RecordBatch.from_pylist([], schema=REJECTIONS_SCHEMA)
        out = RejectionColumns()
        for rows, column, reason, values, describe in checks.found:
            texts = pc.take(values, rows).to_pylist() if values is not None else [None] * len(rows)
            for line, value in zip(records.lines(rows).to_pylist(), texts, strict=True):
                out.add(line, column, reason, describe(value), records.raw(line))
        return out.to_batch()


@dataclass(frozen=True)
class _Times:
    utc: pa.Array
    utc_later: pa.Array
    local_us: pa.Array
    ambiguous: pa.Array


def _blank_to_null(texts: pa.Array | None) -> pa.Array | None:
    if texts is None:
        return None
    trimmed = pc.utf8_trim_whitespace(texts)
    return pc.if_else(pc.equal(trimmed, ""), _STRING_NULL, trimmed)


def _unit_kind(text: str | None) -> str | None:
    folded = (text or "").replace(".", "").strip().lower()
    return _UNITS.get(folded, "?") if folded else None


def _sci_message(header: str) -> Callable[[str | None], str]:
    return lambda v: f"{header}: id {v!r} is in scientific notation (mangled by a spreadsheet)"
