"""PostgreSQL: readings of new keys copied straight into ``water_reading``, no staging, no second write.

Most sources hold only new keys in order (a meter's export of the last days, a head-end's batch, a
gateway's telegrams). For those, ``ingest_batches`` tries this path first: each parsed batch is
checked cheaply (``IncreasingEvidence`` within the file, one index probe per meter the file has not
shown before against what is stored) and written with a binary ``COPY`` into ``water_reading``, all
inside one savepoint. Anything that would need the full classification (a key stored already or
repeated in the file, which makes the ``COPY`` fail on the primary key; a drop in an index; a
meter's readings out of order or stored readings among them) rolls the savepoint back, and the
source goes through the staging path from its start: read again if it can be iterated again (a
list, a CSV file source), else replayed from a spool of the batches seen so far, the rest of the
source following them there. So the stored result is the full classification's, only reached faster.

The spool (one-shot streams only) keeps the parsed batches in memory up to ``SPOOL_MEMORY`` bytes and
then in an Arrow IPC temporary file, so memory stays flat whatever the source's size.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import errors as pg_errors

from gmina.ingest import READINGS_SCHEMA, REJECTIONS_SCHEMA, ParsedBatch
from gmina.water.store.increasing import IncreasingEvidence, Segment

SPOOL_MEMORY = 32 * 1024 * 1024  # bytes of parsed batches kept in memory before the spool goes to disk

_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in µs since 1970-01-01: PostgreSQL's binary timestamp origin
_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)


class NeedsClassification(Exception):
    """This source cannot take the direct path: replay it through staging."""


class Spool:
    """The parsed batches of a source, to replay them once if the direct path is abandoned."""

    def __init__(self) -> None:
        self._memory: list[ParsedBatch] = []
        self._bytes = 0
        self._file: IO[bytes] | None = None
        self._writers: tuple[Any, Any] | None = None

    def add(self, parsed: ParsedBatch) -> None:
        if self._writers is None:
            self._memory.append(parsed)
            self._bytes += parsed.readings.nbytes + parsed.rejections.nbytes
            if self._bytes <= SPOOL_MEMORY:
                return
            self._file = tempfile.TemporaryFile(prefix="gmina-spool-")  # noqa: SIM115 (closed in close())
            self._readings_file = tempfile.TemporaryFile(prefix="gmina-spool-")  # noqa: SIM115
            self._writers = (
                pa.ipc.new_stream(self._readings_file, READINGS_SCHEMA),
                pa.ipc.new_stream(self._file, REJECTIONS_SCHEMA),
            )
            pending, self._memory = self._memory, []
        else:
            pending = [parsed]
        for p in pending:
            self._writers[0].write_batch(p.readings)
            self._writers[1].write_batch(p.rejections)

    def replay(self) -> Iterator[ParsedBatch]:
        """Every batch added, in order (once)."""
        yield from self._memory
        if self._writers is None or self._file is None:
            return
        for writer in self._writers:
            writer.close()
        self._readings_file.seek(0)
        self._file.seek(0)
        with pa.ipc.open_stream(self._readings_file) as readings, pa.ipc.open_stream(self._file) as rejections:
            for r, j in zip(readings, rejections, strict=True):
                yield ParsedBatch(r, j)

    def close(self) -> None:
        self._memory = []
        if self._file is not None:
            self._file.close()
            self._readings_file.close()
            self._file = None


class DirectCopy:
    """The readings of one import written straight into ``water_reading`` under one savepoint."""

    def __init__(self, connection: BaseDatabaseWrapper, *, member_id: int, batch_id: int, source: str) -> None:
        self.connection = connection
        self.member_id = member_id
        self.batch_id = batch_id
        self.source = source
        self.stored = 0
        self.spool = Spool()
        self.savepoint = transaction.savepoint()

    def write(self, table: pa.Table, evidence: IncreasingEvidence) -> None:
        """Check a staged-to-be batch (columns as ``STAGE_COLUMNS``, no unknown meter) and copy it in.

        Raises ``NeedsClassification`` if the batch, or the source so far, needs the full path.
        """
        segments = evidence.add(table.column("meter_id"), table.column("observed_at"), table.column("index_l"))
        if evidence.doubt or (segments and not self._clear_of_stored(segments, evidence.tolerance_l)):
            raise NeedsClassification
        try:
            self._copy(table)
        except pg_errors.IntegrityError as exc:  # a key stored already or repeated in the source
            raise NeedsClassification from exc
        self.stored += table.num_rows

    def abandon(self) -> None:
        """Undo everything since the savepoint (then replay the source, or the spool, through staging)."""
        transaction.savepoint_rollback(self.savepoint)

    def finish(self) -> None:
        transaction.savepoint_commit(self.savepoint)
        self.spool.close()

    def _clear_of_stored(self, segments: list[Segment], tolerance_l: int) -> bool:
        """No stored reading inside any segment's range, and none before it higher beyond the tolerance.

        A segment is a meter's readings that this source adds below every reading of that meter it
        has written so far (or the meter's first): the stored readings in its range and the last one
        before it are all someone else's (earlier imports').
        """
        # Per segment one descent of the key index: the last stored reading before the segment's upper
        # bound (the meter's earliest reading of this source, or none) must lie before the segment
        # and not be above its first index beyond the tolerance.
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])"
                " AS s(meter_id, t0, index0, t1),"
                " LATERAL (SELECT r.observed_at, r.index_l FROM water_reading r WHERE r.meter_id = s.meter_id"
                " AND (s.t1 IS NULL OR r.observed_at < timestamptz 'epoch' + s.t1 * interval '1 microsecond')"
                " ORDER BY r.observed_at DESC LIMIT 1) last"
                " WHERE last.observed_at >= timestamptz 'epoch' + s.t0 * interval '1 microsecond'"
                " OR s.index0 < last.index_l - %s)",
                [
                    _bigint_array([s.meter_id for s in segments]),
                    _bigint_array([s.first_at for s in segments]),
                    _bigint_array([s.first_index for s in segments]),
                    _bigint_array([s.below for s in segments]),
                    tolerance_l,
                ],
            )
            return not cursor.fetchone()[0]

    def _copy(self, table: pa.Table) -> None:
        with self.connection.cursor() as cursor:
            for part in _uniform_parts(table):
                columns, rows = _binary_rows(part, self.member_id, self.batch_id, self.source)
                statement = f"COPY water_reading ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)"
                with cursor.cursor.copy(statement) as copy:
                    copy.write(_HEADER)
                    copy.write(rows.view(np.uint8).data)  # the record array's own buffer, not a copy
                    copy.write(_TRAILER)


def _bigint_array(values: list[int | None]) -> str:
    """A bigint[] literal (psycopg would adapt a Python list element by element, in Python)."""
    if None in values:
        return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
    return "{" + ",".join(map(str, map(int, values))) + "}"  # type: ignore[arg-type]


_TEXT_COLUMNS = ("time_basis", "read_type")
_NULLABLE = (("flow_lph", ">f8"), ("backflow_l", ">i8"))


def _uniform_parts(table: pa.Table) -> Iterator[pa.Table]:
    """The batch split so that each part has one value in each text column and each nullable column
    null in all rows or in none (nearly always: one part, the batch itself)."""
    nullables = [name for name, _ in _NULLABLE]
    if all(pc.count_distinct(table.column(name)).as_py() <= 1 for name in _TEXT_COLUMNS) and all(
        table.column(name).null_count in (0, table.num_rows) for name in nullables
    ):
        yield table
        return
    keyed = table
    for name in nullables:
        keyed = keyed.append_column(f"{name}_null", pc.is_null(table.column(name)))
    keys = [*_TEXT_COLUMNS, *(f"{name}_null" for name in nullables)]
    for key in keyed.group_by(keys).aggregate([]).to_pylist():
        mask = pc.and_(
            pc.and_(*(pc.equal(keyed.column(name), key[name]) for name in _TEXT_COLUMNS)),
            pc.and_(*(pc.equal(keyed.column(name), key[name]) for name in keys[len(_TEXT_COLUMNS) :])),
        )
        yield table.filter(mask)


def _binary_rows(table: pa.Table, member_id: int, batch_id: int, source: str) -> tuple[list[str], np.ndarray]:
    """PostgreSQL's binary ``COPY`` rows (without header and trailer) for a uniform part of a batch
    (see ``_uniform_parts``).

    Built as one numpy record array, no Python object per row: each row is its field count, then
    per column a big-endian length and value. A column null in every row is left out (NULL by
    default); constants (member, batch, source, the text columns) are the same bytes in
    every row.
    """
    n = table.num_rows
    fields: list[tuple[str, str]] = [("ncols", ">i2")]
    values: dict[str, Any] = {}
    names: list[str] = []

    def add(name: str, dtype: str | None, value: Any, length: Any) -> None:
        k = len(names)
        names.append(name)
        fields.append((f"l{k}", ">i4"))
        values[f"l{k}"] = length
        if dtype is not None:  # an empty text has a length and no bytes
            fields.append((f"v{k}", dtype))
            values[f"v{k}"] = value

    def fixed(name: str, dtype: str, value: Any) -> None:
        add(name, dtype, value, np.dtype(dtype).itemsize)

    def text(name: str, value: str) -> None:
        raw = value.encode()
        add(name, f"S{len(raw)}" if raw else None, raw, len(raw))

    fixed("member_id", ">i8", member_id)
    fixed("meter_id", ">i8", table.column("meter_id").to_numpy())
    micros = pc.cast(table.column("observed_at"), pa.int64()).to_numpy()
    fixed("observed_at", ">i8", micros - _PG_EPOCH_US)
    fixed("index_l", ">i8", table.column("index_l").to_numpy())
    for name, dtype in _NULLABLE:
        if table.column(name).null_count == 0:  # else null in every row: left out, NULL by default
            fixed(name, dtype, table.column(name).to_numpy())
    text("source", source)
    for name in _TEXT_COLUMNS:
        text(name, table.column(name)[0].as_py())
    fixed("time_ambiguous", "?", table.column("time_ambiguous").to_numpy(zero_copy_only=False))
    fixed("batch_id", ">i8", batch_id)
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["ncols"] = len(names)
    for key, value in values.items():
        rows[key] = value
    return names, rows
