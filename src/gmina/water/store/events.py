"""Device events from the flags carried by accepted readings (edge detection, not one per telegram)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.dateparse import parse_datetime

from gmina.water.models import DeviceEvent
from gmina.water.store.classify import CAND
from gmina.water.store.staging import BAD, FLAGGED, STAGE, STAGE_FLAG, on_commit


def _dt(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(value.replace(" ", "T") + "+00:00")
    assert parsed is not None
    return parsed


def apply_device_flags(
    connection: BaseDatabaseWrapper,
    member_id: int,
    batch_id: int,
    *,
    every_staged_row: bool = False,
    staged: bool = True,
) -> tuple[int, int]:
    """Open or extend events for flags seen; close open events the newer readings no longer carry.

    Within one import a flag's readings form one episode (first to last time seen). Runs after the
    import's readings are stored (as ``batch_id``): the candidates of the classification, or, with
    ``every_staged_row``, the whole staged file. ``staged`` False: no staging tables were needed (the
    direct path without a flagged reading). Returns (events opened, events closed).
    """
    has_flags = False
    if staged:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {STAGE_FLAG})")
            has_flags = bool(cursor.fetchone()[0])
    opened = _open_or_extend(connection, member_id, every_staged_row) if has_flags else 0
    closed = 0
    for event_id, ended in _endings(connection, member_id, batch_id, has_flags):
        DeviceEvent.all_tenants.filter(pk=event_id).update(ended_at=_dt(ended))
        closed += 1
    return opened, closed


def _open_or_extend(connection: BaseDatabaseWrapper, member_id: int, every_staged_row: bool) -> int:
    """One episode per (meter, flag) of the import: a new event, or the open one extended; returns opened."""
    opened = 0
    candidates = "" if every_staged_row else f" JOIN {CAND} c ON c.seq = f.seq"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.meter_id, f.code, f.state, f.raw, MIN(s.observed_at), MAX(s.observed_at), COUNT(*)"
            f" FROM {STAGE_FLAG} f JOIN {STAGE} s ON s.seq = f.seq{candidates}"
            f" WHERE NOT EXISTS (SELECT 1 FROM {BAD} b WHERE b.seq = f.seq)"
            f" GROUP BY s.meter_id, f.code, f.state, f.raw"
        )
        episodes = cursor.fetchall()
    for meter_id, code, state, raw, first, last, count in episodes:
        first_at, last_at = _dt(first), _dt(last)
        event = DeviceEvent.all_tenants.filter(
            meter_id=meter_id, code=code, state=state, raw_code=raw, ended_at__isnull=True
        ).first()
        if event is None:
            DeviceEvent.all_tenants.create(
                member_id=member_id,
                meter_id=meter_id,
                code=code,
                state=state,
                raw_code=raw,
                first_seen=first_at,
                last_seen=last_at,
                occurrences=count,
            )
            opened += 1
            continue
        event.occurrences += count
        event.first_seen = min(event.first_seen, first_at)
        event.last_seen = max(event.last_seen, last_at)
        event.save(update_fields=["occurrences", "first_seen", "last_seen"])
    return opened


def _endings(connection: BaseDatabaseWrapper, member_id: int, batch_id: int, has_flags: bool) -> list[tuple[int, Any]]:
    """(event id, end) for open events that a newer reading of this import no longer flags.

    Per open event, one range probe of the reading key index (meter, time). The import's flagged
    keys go to a small indexed table first, so the check per reading is a lookup, not a scan of
    the staged file; an import without flags needs neither.
    """
    still_flagged = ""
    with connection.cursor() as cursor:
        if has_flags:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {FLAGGED}{on_commit(connection)} AS"
                f" SELECT s.meter_id, s.observed_at, f.code, f.state, f.raw"
                f" FROM {STAGE_FLAG} f JOIN {STAGE} s ON s.seq = f.seq"
            )
            cursor.execute(f"CREATE INDEX {FLAGGED}_key ON {FLAGGED} (meter_id, observed_at)")
            still_flagged = (
                f" AND NOT EXISTS (SELECT 1 FROM {FLAGGED} f WHERE f.meter_id = r.meter_id"
                f" AND f.observed_at = r.observed_at AND f.code = e.code AND f.state = e.state AND f.raw = e.raw_code)"
            )
        cursor.execute(
            f"SELECT id, ended FROM (SELECT e.id, (SELECT MIN(r.observed_at) FROM water_reading r"
            f" WHERE r.meter_id = e.meter_id AND r.observed_at > e.last_seen AND r.batch_id = %s{still_flagged}"
            f") AS ended FROM water_deviceevent e WHERE e.ended_at IS NULL AND e.member_id = %s) x"
            f" WHERE ended IS NOT NULL",
            [batch_id, member_id],
        )
        return list(cursor.fetchall())
