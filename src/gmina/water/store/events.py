"""Device events from the flags carried by accepted readings (edge detection, not one per telegram)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.dateparse import parse_datetime

from gmina.water.models import DeviceEvent
from gmina.water.store.classify import CAND
from gmina.water.store.staging import BAD, STAGE, STAGE_FLAG

_ACCEPTED = f"{CAND} c JOIN {STAGE} s ON s.seq = c.seq WHERE NOT EXISTS (SELECT 1 FROM {BAD} b WHERE b.seq = c.seq)"


def _dt(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(value.replace(" ", "T") + "+00:00")
    assert parsed is not None
    return parsed


def apply_device_flags(connection: BaseDatabaseWrapper, member_id: int) -> tuple[int, int]:
    """Open or extend events for flags seen; close open events the newer readings no longer carry.

    Returns (events opened, events closed).
    """
    opened = closed = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.meter_id, s.observed_at, f.code, f.state, f.raw"
            f" FROM {CAND} c JOIN {STAGE} s ON s.seq = c.seq JOIN {STAGE_FLAG} f ON f.seq = c.seq"
            f" WHERE NOT EXISTS (SELECT 1 FROM {BAD} b WHERE b.seq = c.seq) ORDER BY s.meter_id, s.observed_at"
        )
        flagged = cursor.fetchall()
        cursor.execute(f"SELECT DISTINCT s.meter_id FROM {_ACCEPTED}")
        meters = [row[0] for row in cursor.fetchall()]
    for meter_id, observed_at, code, state, raw in flagged:
        at = _dt(observed_at)
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
                first_seen=at,
                last_seen=at,
            )
            opened += 1
            continue
        event.occurrences += 1
        event.first_seen = min(event.first_seen, at)
        event.last_seen = max(event.last_seen, at)
        event.save(update_fields=["occurrences", "first_seen", "last_seen"])
    open_events = DeviceEvent.all_tenants.filter(meter_id__in=meters, ended_at__isnull=True)
    with connection.cursor() as cursor:
        for event in open_events:
            cursor.execute(
                f"SELECT MIN(s.observed_at) FROM {_ACCEPTED} AND s.meter_id = %s AND s.observed_at > %s"
                f" AND NOT EXISTS (SELECT 1 FROM {STAGE_FLAG} f WHERE f.seq = c.seq AND f.code = %s"
                f" AND f.state = %s AND f.raw = %s)",
                [
                    event.meter_id,
                    _param(connection, event.last_seen),
                    event.code,
                    event.state,
                    event.raw_code,
                ],
            )
            ended = cursor.fetchone()[0]
            if ended is not None:  # a newer reading without the flag: the condition cleared then
                event.ended_at = _dt(ended)
                event.save(update_fields=["ended_at"])
                closed += 1
    return opened, closed


def _param(connection: BaseDatabaseWrapper, value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)
