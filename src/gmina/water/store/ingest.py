"""The one validated, idempotent path from parsed batches to stored readings.

``ingest_batches`` runs a whole source (a file, an API request, a group of MQTT messages) in one
transaction: the readings, the quarantine, device events, the batch's counts and its audit row
commit together or not at all, so a caller acknowledges only what is committed. A file refused
whole (``FileRejected``) leaves nothing behind but a rejected batch record with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gmina.consortium.actors import Actor
from gmina.consortium.audit import record_audit
from gmina.consortium.models import Member
from gmina.ingest import READINGS_SCHEMA, FileRejected, ParsedBatch, RejectReason
from gmina.water.models import ImportBatch
from gmina.water.models.choices import BatchStatus
from gmina.water.store.classify import CAND, classify, refuse_decreasing
from gmina.water.store.direct import DirectCopy, NeedsClassification
from gmina.water.store.events import apply_device_flags
from gmina.water.store.increasing import IncreasingEvidence
from gmina.water.store.quarantine import raw_line, write_quarantine
from gmina.water.store.resolve import MeterResolver
from gmina.water.store.staging import (
    BAD,
    STAGE,
    STAGE_FLAG,
    copy_rows,
    create_staging,
    drop_staging,
    write_stage,
)

# Clocks disagree a little; a reading further ahead of the server's clock than this is refused.
FUTURE_SKEW = timedelta(minutes=5)
# An index may dip this much (L) below its predecessors without being called decreasing.
DEFAULT_TOLERANCE_L = 10
# PostgreSQL: try the direct path first (new keys copied straight into water_reading, see direct.py).
DIRECT_COPY = True


@dataclass(frozen=True)
class RecordIssue:
    line: int
    reason: str
    message: str
    field: str = ""


@dataclass
class ImportResult:
    batch: ImportBatch
    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    issues: list[RecordIssue] = field(default_factory=list)
    events_opened: int = 0
    events_closed: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
        }


@dataclass
class _Run:
    member_id: int
    batch_id: int
    resolver: MeterResolver
    now: datetime
    increasing: IncreasingEvidence
    direct: DirectCopy | None = None
    staging: bool = False  # the staging tables exist (the direct path creates them only if it needs them)
    seq: int = 0
    received: int = 0
    meters: set[int] = field(default_factory=set)  # every meter the import resolved (for the zones it touched)
    quarantined: int = 0
    issues: list[RecordIssue] = field(default_factory=list)
    max_issues: int = 10_000

    def note(self, lines: list[int], reasons: list[str], messages: list[str], fields: list[str] | None = None) -> None:
        room = self.max_issues - len(self.issues)
        for i in range(min(room, len(lines))):
            self.issues.append(RecordIssue(lines[i], reasons[i], messages[i], (fields[i] if fields else "") or ""))


def ingest_batches(
    actor: Actor,
    member: Member,
    batches: Iterable[ParsedBatch],
    *,
    source: str,
    label: str = "",
    profile: str = "",
    sha256: str = "",
    tolerance_l: int = DEFAULT_TOLERANCE_L,
    now: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store every reading that passes, quarantine every one that does not, count duplicates."""
    actor.require_role(member.pk, "operator", "manager")
    now = now or datetime.now(UTC)
    origin = {
        "member": member,
        "source": source,
        "label": label[:300],
        "profile": profile,
        "sha256": sha256,
        "created_by": actor.user,
        "actor_label": actor.label[:200],
    }
    try:
        with transaction.atomic():
            batch = ImportBatch.all_tenants.create(**origin)
            resolver = MeterResolver(member.pk)
            run = _Run(member.pk, batch.pk, resolver, now, IncreasingEvidence(tolerance_l))
            if DIRECT_COPY and connection.vendor == "postgresql":
                run = _ingest_direct(run, batches, tolerance_l, source, on_batch)
            else:
                create_staging(connection)
                run.staging = True
                for parsed in batches:
                    _stage(run, parsed)
                    if on_batch is not None:
                        on_batch(parsed.readings.num_rows + parsed.rejections.num_rows)
            result = _finish(run, batch, tolerance_l)
            record_audit(actor, "import_readings", batch, member=member, after=result.summary())
            if run.staging:
                drop_staging(connection)
            return result
    except FileRejected as exc:
        with transaction.atomic():
            rejected = ImportBatch.all_tenants.create(
                **origin, status=BatchStatus.REJECTED, error=str(exc), finished_at=timezone.now()
            )
            record_audit(actor, "reject_import", rejected, member=member, after={"error": str(exc)})
        raise


def _ingest_direct(
    run: _Run,
    batches: Iterable[ParsedBatch],
    tolerance_l: int,
    source: str,
    on_batch: Callable[[int], None] | None,
) -> _Run:
    """Stage the source on the direct path (PostgreSQL); if it needs the full path, start it over there.

    A source that can be iterated again (a list, a file source) is read again from its start; a
    one-shot stream is spooled as it goes and replayed from the spool. Returns the run to finish.
    """
    stream = iter(batches)
    replayable = stream is not batches
    direct = run.direct = DirectCopy(connection, member_id=run.member_id, batch_id=run.batch_id, source=source)
    for seen, parsed in enumerate(stream, start=1):
        if run.direct is None:
            _stage(run, parsed)
        else:
            if not replayable:
                direct.spool.add(parsed)
            try:
                _stage(run, parsed)
            except NeedsClassification:
                direct.abandon()
                # The savepoint undid the rows, quarantined records and staged flags: count again from zero.
                run = _Run(run.member_id, run.batch_id, run.resolver, run.now, IncreasingEvidence(tolerance_l))
                create_staging(connection)
                run.staging = True
                if replayable:
                    close = getattr(stream, "close", None)
                    if close is not None:
                        close()
                    for i, earlier in enumerate(batches):  # the whole source again, progress from where it was
                        _stage(run, earlier)
                        if on_batch is not None and i >= seen - 1:
                            on_batch(earlier.readings.num_rows + earlier.rejections.num_rows)
                    return run
                for earlier in direct.spool.replay():
                    _stage(run, earlier)
                direct.spool.close()
        if on_batch is not None:
            on_batch(parsed.readings.num_rows + parsed.rejections.num_rows)
    return run


def _stage(run: _Run, parsed: ParsedBatch) -> None:
    readings, rejections = parsed.readings, parsed.rejections
    run.received += readings.num_rows + rejections.num_rows
    if rejections.num_rows:
        lines = rejections.column("line").to_pylist()
        reasons = rejections.column("reason").to_pylist()
        messages = rejections.column("message").to_pylist()
        fields = rejections.column("column").to_pylist()
        run.note(lines, reasons, messages, fields)
        run.quarantined += write_quarantine(
            connection,
            member_id=run.member_id,
            batch_id=run.batch_id,
            lines=lines,
            reasons=reasons,
            messages=messages,
            raws=rejections.column("raw").to_pylist(),
            fields=fields,
        )
    if readings.num_rows == 0:
        return
    meter_ids = run.resolver.resolve(readings)
    run.meters.update(pc.unique(meter_ids.drop_null()).to_pylist())
    unknown = pc.is_null(meter_ids)
    future = pc.greater(readings.column("observed_at"), pa.scalar(run.now + FUTURE_SKEW, pa.timestamp("us", "UTC")))
    bad = pc.or_(unknown, future)
    if pc.any(bad).as_py():
        _quarantine_rows(run, readings.filter(unknown), RejectReason.UNKNOWN_METER, "no meter {ref} in this member")
        _quarantine_rows(
            run,
            readings.filter(pc.and_(future, pc.invert(unknown))),
            RejectReason.FUTURE_TIMESTAMP,
            "the time is in the future",
        )
        keep = pc.invert(bad)
        readings, meter_ids = readings.filter(keep), pc.filter(meter_ids, keep)
    n = readings.num_rows
    if n == 0:
        return
    seqs = pa.array(range(run.seq, run.seq + n), pa.int64())
    run.seq += n
    table = pa.Table.from_batches([readings]).append_column("seq", seqs).append_column("meter_id", meter_ids)
    flag_counts = pc.list_value_length(readings.column("flags"))
    has_flags = bool(pc.max(flag_counts).as_py())
    if has_flags:
        flagged = table.filter(pc.greater(pc.fill_null(flag_counts, 0), 0))
    if run.direct is not None:
        run.direct.write(table, run.increasing)
        if has_flags:
            if not run.staging:
                create_staging(connection)
                run.staging = True
            write_stage(connection, flagged)  # device events are derived from the staged flagged rows
    else:
        write_stage(connection, table)
        run.increasing.add(meter_ids, readings.column("observed_at"), readings.column("index_l"))
    if has_flags:
        flat = pc.list_flatten(flagged.column("flags"))
        parents = pc.list_parent_indices(flagged.column("flags"))
        copy_rows(
            connection,
            STAGE_FLAG,
            pa.table(
                {
                    "seq": pc.take(flagged.column("seq"), parents),
                    "code": pc.struct_field(flat, "code"),
                    "state": pc.struct_field(flat, "state"),
                    "raw": pc.utf8_slice_codeunits(pc.struct_field(flat, "raw"), 0, 100),
                }
            ),
        )


def _quarantine_rows(run: _Run, rows: pa.RecordBatch, reason: str, template: str) -> None:
    if rows.num_rows == 0:
        return
    refs = rows.column("meter_ref").to_pylist()
    lines = rows.column("line").to_pylist()
    reasons = [str(reason)] * rows.num_rows
    messages = [template.format(ref=ref) for ref in refs]
    run.note(lines, reasons, messages)
    run.quarantined += write_quarantine(
        connection,
        member_id=run.member_id,
        batch_id=run.batch_id,
        lines=lines,
        reasons=reasons,
        messages=messages,
        raws=[
            f"{r},{t.isoformat()},{i}"
            for r, t, i in zip(
                refs, rows.column("observed_at").to_pylist(), rows.column("index_l").to_pylist(), strict=True
            )
        ],
        readings=rows,
    )


_INSERT = (
    "INSERT INTO water_reading (member_id, meter_id, observed_at, index_l, flow_lph, backflow_l,"
    " source, time_basis, read_type, time_ambiguous, batch_id)"
    " SELECT %s, s.meter_id, s.observed_at, s.index_l, s.flow_lph, s.backflow_l, %s, s.time_basis,"
    " s.read_type, s.time_ambiguous, %s FROM {rows}"
)
_INSERT_CANDIDATES = _INSERT.format(
    rows=f"{CAND} c JOIN {STAGE} s ON s.seq = c.seq WHERE NOT EXISTS (SELECT 1 FROM {BAD} b WHERE b.seq = c.seq)"
)
# Every staged row. A key stored already or repeated in the file makes the plain INSERT fail at that
# row (PostgreSQL logs the error); with ON CONFLICT DO NOTHING the count falls short instead, but
# PostgreSQL then writes each row speculatively (an extra index probe and WAL record per row, about
# half as slow again). So large files, whose keys are rarely not new, take the plain INSERT; small
# batches (API requests, MQTT groups, where a redelivered message is common) the quiet one.
_INSERT_STAGED = _INSERT.format(rows=f"{STAGE} s")
_INSERT_STAGED_QUIETLY = _INSERT.format(rows=f"{STAGE} s WHERE true ON CONFLICT DO NOTHING")
PLAIN_INSERT_FROM = 50_000  # staged rows


class _NotClean(Exception):
    """The staged file needs the full classification."""


def _finish(run: _Run, batch: ImportBatch, tolerance_l: int) -> ImportResult:
    params: list[int | str] = [run.member_id, batch.source, batch.pk]
    if run.direct is not None:
        run.direct.finish()
        accepted: int | None = run.direct.stored
    else:
        accepted = _store_clean(params, run.seq, tolerance_l, run.increasing)
    clean, duplicates = accepted is not None, 0
    if accepted is None:
        classification = classify(connection, tolerance_l=tolerance_l, staged=run.seq)
        _quarantine_classified(run)
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_CANDIDATES, params)
            accepted = cursor.rowcount
        duplicates = classification.in_file_duplicates + classification.stored_duplicates
    opened, closed = apply_device_flags(connection, run.member_id, batch.pk, every_staged_row=clean, staged=run.staging)
    batch.received = run.received
    batch.accepted = accepted
    batch.duplicates = duplicates
    batch.quarantined = run.quarantined
    batch.zones = run.resolver.zones(run.meters) if accepted else []
    batch.status = BatchStatus.DONE
    batch.finished_at = timezone.now()
    batch.save(update_fields=["received", "accepted", "duplicates", "quarantined", "status", "finished_at", "zones"])
    return ImportResult(batch, run.received, accepted, duplicates, run.quarantined, run.issues, opened, closed)


def _store_clean(params: list[int | str], staged: int, tolerance_l: int, increasing: IncreasingEvidence) -> int | None:
    """The common case in two statements: store the staged readings when all are new and in order.

    When no key repeats within the file or is stored already, the classification has nothing to
    decide but decreasing indexes: those are checked on the staged rows (unless the evidence gathered
    while staging shows there is no drop to find, see ``increasing.py``), then every row is inserted.
    If anything is refused, or fewer than all rows were inserted (a key that is not new), the
    savepoint undoes the attempt and None sends the file through ``classify``: the outcome is the
    same either way, only the time differs (the grouping of the whole file, the conflict checks and
    the join back to the staged rows are skipped).
    """
    try:
        with transaction.atomic():
            if not increasing.proven(connection) and refuse_decreasing(connection, STAGE, tolerance_l=tolerance_l):
                raise _NotClean
            with connection.cursor() as cursor:
                cursor.execute(_INSERT_STAGED if staged >= PLAIN_INSERT_FROM else _INSERT_STAGED_QUIETLY, params)
                if cursor.rowcount != staged:
                    raise _NotClean
            return staged
    except (_NotClean, IntegrityError):
        return None


def _quarantine_classified(run: _Run) -> None:
    """Move the readings the classification refused into the quarantine."""
    columns = ", ".join(
        f"s.{c}"
        for c in (
            "line",
            "meter_ref",
            "ref_kind",
            "observed_at",
            "index_l",
            "flow_lph",
            "backflow_l",
            "time_basis",
            "read_type",
            "time_ambiguous",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT b.reason, b.message, {columns}, b.seq FROM {BAD} b JOIN {STAGE} s ON s.seq = b.seq ORDER BY s.line"
        )
        rows = cursor.fetchall()
        cursor.execute(f"SELECT f.seq, f.code, f.state, f.raw FROM {STAGE_FLAG} f JOIN {BAD} b ON b.seq = f.seq")
        flags: dict[int, list[dict[str, str]]] = {}
        for seq, code, state, raw in cursor.fetchall():
            flags.setdefault(seq, []).append({"code": code, "state": state, "raw": raw})
    if not rows:
        return
    readings = pa.table(
        {
            "line": pa.array([r[2] for r in rows], pa.int64()),
            "meter_ref": pa.array([r[3] for r in rows], pa.string()),
            "ref_kind": pa.array([r[4] for r in rows], pa.string()),
            "observed_at": pa.array([_as_utc(r[5]) for r in rows], pa.timestamp("us", tz="UTC")),
            "index_l": pa.array([r[6] for r in rows], pa.int64()),
            "flow_lph": pa.array([r[7] for r in rows], pa.float64()),
            "backflow_l": pa.array([r[8] for r in rows], pa.int64()),
            "time_basis": pa.array([r[9] for r in rows], pa.string()),
            "read_type": pa.array([r[10] for r in rows], pa.string()),
            "time_ambiguous": pa.array([bool(r[11]) for r in rows], pa.bool_()),
            "flags": pa.array([flags.get(r[12]) for r in rows], READINGS_SCHEMA.field("flags").type),
        }
    )
    payload_rows = readings.to_pylist()
    run.quarantined += write_quarantine(
        connection,
        member_id=run.member_id,
        batch_id=run.batch_id,
        lines=[r[2] for r in rows],
        reasons=[r[0] for r in rows],
        messages=[r[1] for r in rows],
        raws=[raw_line({**p, "observed_at": p["observed_at"].isoformat()}) for p in payload_rows],
        readings=readings,
    )
    run.note([r[2] for r in rows], [r[0] for r in rows], [r[1] for r in rows])


def _as_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
