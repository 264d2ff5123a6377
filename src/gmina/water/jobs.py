"""Detection as background jobs: what ``gmina worker`` runs (django-q2, its ORM broker).

Two schedules, kept by :func:`ensure_schedules` (the worker calls it on start):

* ``gmina: detection on new data`` every ``GMINA_DETECT_NEW_DATA_MINUTES`` minutes —
  :func:`detect_new_data`: for each member, the zones touched by the imports committed since the
  last such run are analysed (one run per member, however many imports came in; MQTT's many small
  batches coalesce here);
* ``gmina: full detection`` every ``GMINA_DETECT_EVERY_MINUTES`` minutes — :func:`detect_everyone`:
  every zone of every active member, so that silence (communication loss) and conditions that
  cleared are noticed even when no data arrive.

The queue lives in the project's database (SQLite or PostgreSQL): no extra server. Every job acts
as the system actor ``worker`` through :func:`gmina.water.detection.run_detection`, which audits.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Max
from django_q.models import Schedule

from gmina.consortium.actors import Actor
from gmina.consortium.models import Member
from gmina.water.detection import run_detection
from gmina.water.models import DetectionRun, ImportBatch, Zone
from gmina.water.models.choices import BatchStatus

NEW_DATA_SCHEDULE = "gmina: detection on new data"
FULL_SCHEDULE = "gmina: full detection"

__all__ = ["detect_everyone", "detect_member", "detect_new_data", "ensure_schedules", "pending_zones"]


def _actor() -> Actor:
    return Actor.system("worker")


def _members() -> list[Member]:
    members = Member.all_tenants.filter(active=True).order_by("pk")
    with_zones = set(Zone.all_tenants.values_list("member_id", flat=True).distinct())
    return [m for m in members if m.pk in with_zones]


def pending_zones(member_id: int) -> tuple[list[int], int | None]:
    """Zones touched by the member's imports newer than its last run that saw imports, and the newest id."""
    seen = DetectionRun.all_tenants.filter(member_id=member_id).aggregate(last=Max("through_batch"))["last"] or 0
    batches = ImportBatch.all_tenants.filter(
        member_id=member_id, pk__gt=seen, status=BatchStatus.DONE, accepted__gt=0
    ).values_list("pk", "zones")
    zones: set[int] = set()
    newest: int | None = None
    for pk, touched in batches:
        zones.update(touched or [])
        newest = max(newest or 0, pk)
    return sorted(zones), newest


def detect_new_data(as_of: datetime | None = None) -> int:
    """The incremental pass over every member with new data; returns the number of runs made."""
    runs = 0
    for member in _members():
        zones, newest = pending_zones(member.pk)
        if newest is None:
            continue
        run_detection(_actor(), member, as_of=as_of, zones=zones, through_batch=newest)
        runs += 1
    return runs


def detect_member(member_id: int, as_of: datetime | None = None) -> int:
    """A full pass over one member (every zone); returns the DetectionRun id."""
    member = Member.all_tenants.get(pk=member_id)
    newest = ImportBatch.all_tenants.filter(member_id=member_id).aggregate(last=Max("pk"))["last"]
    return run_detection(_actor(), member, as_of=as_of, through_batch=newest).pk


def detect_everyone(as_of: datetime | None = None) -> int:
    """A full pass over every active member with zones; returns the number of runs made."""
    members = _members()
    for member in members:
        detect_member(member.pk, as_of)
    return len(members)


def ensure_schedules() -> list[Schedule]:
    """Create or update the two schedules from the settings (idempotent)."""
    wanted = (
        (NEW_DATA_SCHEDULE, "gmina.water.jobs.detect_new_data", settings.GMINA_DETECT_NEW_DATA_MINUTES),
        (FULL_SCHEDULE, "gmina.water.jobs.detect_everyone", settings.GMINA_DETECT_EVERY_MINUTES),
    )
    out = []
    for name, func, minutes in wanted:
        schedule, _ = Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
        out.append(schedule)
    return out
