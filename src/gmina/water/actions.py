"""Every state change of the water app, as verb-named, audited, transactional actions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pyarrow as pa
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gmina import ingest
from gmina.consortium.actors import Actor
from gmina.consortium.audit import record_audit, snapshot
from gmina.consortium.models import Member, Membership, Role, User
from gmina.ingest import READINGS_SCHEMA, REJECTIONS_SCHEMA, ParsedBatch
from gmina.water.models import (
    Alert,
    DeviceAssignment,
    Meter,
    MeterInstallation,
    MqttSubscription,
    QuarantinedRecord,
    ServicePoint,
    Zone,
    ZoneBoundaryMeter,
)
from gmina.water.models.alerts import AlertStatus, Resolution
from gmina.water.models.choices import MeterStatus, QuarantineStatus, Source
from gmina.water.store import ImportResult, ingest_batches

if TYPE_CHECKING:
    from gmina.ingest.csv_profiles import CsvProfile


_WRITERS = (Role.OPERATOR, Role.MANAGER)


@transaction.atomic
def create_zone(
    actor: Actor, *, member: Member, code: str, name: str, parent: Zone | None = None, description: str = ""
) -> Zone:
    actor.require_role(member.pk, *_WRITERS)
    zone = Zone(member=member, code=code.strip(), name=name.strip(), parent=parent, description=description)
    zone.full_clean()
    zone.save()
    record_audit(actor, "create_zone", zone, member=member, after=snapshot(zone))
    return zone


@transaction.atomic
def create_service_point(
    actor: Actor, *, member: Member, code: str, zone: Zone, address: str = "", category: str = "household"
) -> ServicePoint:
    actor.require_role(member.pk, *_WRITERS)
    point = ServicePoint(member=member, code=code.strip(), zone=zone, address=address, category=category)
    point.full_clean()
    point.save()
    record_audit(actor, "create_service_point", point, member=member, after=snapshot(point))
    return point


@transaction.atomic
def register_meter(
    actor: Actor,
    *,
    member: Member,
    serial: str,
    kind: str = "customer",
    zone: Zone | None = None,
    service_point: ServicePoint | None = None,
    installed_at: datetime | None = None,
    initial_index_l: int = 0,
    device_key: str = "",
    **details: Any,
) -> Meter:
    """Register a meter; with a service point it is installed there, with a device key that radio is attached."""
    actor.require_role(member.pk, *_WRITERS)
    if service_point is not None and zone is None:
        zone = service_point.zone
    installed_at = installed_at or timezone.now()
    meter = Meter(
        member=member,
        serial=serial.strip(),
        kind=kind,
        zone=zone,
        service_point=service_point,
        installed_on=installed_at.date(),
        **details,
    )
    meter.full_clean()
    meter.save()
    if service_point is not None:
        MeterInstallation(
            member=member,
            service_point=service_point,
            meter=meter,
            installed_at=installed_at,
            initial_index_l=initial_index_l,
        ).save()
    if device_key:
        DeviceAssignment(
            member=member, device_key=device_key.strip().lower(), meter=meter, valid_from=installed_at
        ).save()
    record_audit(actor, "register_meter", meter, member=member, after={**snapshot(meter), "device_key": device_key})
    return meter


@transaction.atomic
def attach_device(actor: Actor, *, meter: Meter, device_key: str, at: datetime | None = None) -> DeviceAssignment:
    """Put a radio on a meter from ``at``; the radio's previous assignment ends then."""
    actor.require_role(meter.member_id, *_WRITERS)
    at = at or timezone.now()
    key = device_key.strip().lower()
    current = DeviceAssignment.all_tenants.select_for_update().filter(
        member_id=meter.member_id, device_key=key, valid_to__isnull=True
    )
    before = [snapshot(a) for a in current]
    for assignment in current:
        assignment.valid_to = at
        assignment.save(update_fields=["valid_to"])
    assignment = DeviceAssignment(member_id=meter.member_id, device_key=key, meter=meter, valid_from=at)
    assignment.save()
    record_audit(
        actor,
        "attach_device",
        assignment,
        member=meter.member_id,
        before={"open": before},
        after=snapshot(assignment),
    )
    return assignment


@transaction.atomic
def replace_meter(
    actor: Actor,
    *,
    old: Meter,
    new_serial: str,
    at: datetime,
    final_index_l: int,
    initial_index_l: int = 0,
    keep_device: bool = False,
    **details: Any,
) -> Meter:
    """Replace a customer meter (wymiana wodomierza): the old one's series ends, the new one starts.

    Consumption is computed per meter, so the restarted index never shows as a negative or a
    huge jump. With ``keep_device`` the radio overlay moves to the new meter at ``at``.
    """
    actor.require_role(old.member_id, *_WRITERS)
    old = Meter.all_tenants.select_for_update().get(pk=old.pk)
    if old.status == MeterStatus.REMOVED:
        raise ValidationError(_("This meter has already been removed."))
    before = snapshot(old)
    installation = MeterInstallation.all_tenants.filter(meter=old, removed_at__isnull=True).first()
    if installation is not None:
        installation.removed_at = at
        installation.final_index_l = final_index_l
        installation.save(update_fields=["removed_at", "final_index_l"])
    old.status = MeterStatus.REMOVED
    old.save(update_fields=["status"])
    new = Meter(
        member_id=old.member_id,
        serial=new_serial.strip(),
        kind=old.kind,
        zone=old.zone,
        service_point=old.service_point,
        installed_on=at.date(),
        **details,
    )
    new.full_clean()
    new.save()
    if old.service_point is not None:
        MeterInstallation(
            member_id=old.member_id,
            service_point=old.service_point,
            meter=new,
            installed_at=at,
            initial_index_l=initial_index_l,
        ).save()
    devices = DeviceAssignment.all_tenants.filter(meter=old, valid_to__isnull=True)
    for assignment in devices:
        assignment.valid_to = at
        assignment.save(update_fields=["valid_to"])
        if keep_device:
            DeviceAssignment(member_id=old.member_id, device_key=assignment.device_key, meter=new, valid_from=at).save()
    record_audit(
        actor,
        "replace_meter",
        old,
        member=old.member_id,
        before=before,
        after={
            "new_meter": new.pk,
            "new_serial": new.serial,
            "at": at,
            "final_index_l": final_index_l,
            "initial_index_l": initial_index_l,
            "device_moved": keep_device,
        },
    )
    return new


@transaction.atomic
def add_boundary_meter(actor: Actor, *, zone: Zone, meter: Meter, direction: str) -> ZoneBoundaryMeter:
    actor.require_role(zone.member_id, *_WRITERS)
    boundary = ZoneBoundaryMeter(member_id=zone.member_id, zone=zone, meter=meter, direction=direction)
    boundary.full_clean()
    boundary.save()
    record_audit(actor, "add_boundary_meter", boundary, member=zone.member_id, after=snapshot(boundary))
    return boundary


@transaction.atomic
def add_mqtt_subscription(actor: Actor, *, member: Member, topic: str, payload_format: str) -> MqttSubscription:
    actor.require_role(member.pk, Role.MANAGER)
    subscription = MqttSubscription(member=member, topic=topic.strip(), payload_format=payload_format)
    subscription.full_clean()
    subscription.save()
    record_audit(actor, "add_mqtt_subscription", subscription, member=member, after=snapshot(subscription))
    return subscription


# --- ingestion ------------------------------------------------------------------------------


def import_readings_file(
    actor: Actor,
    member: Member,
    path: Path | str,
    profile: CsvProfile,
    *,
    on_progress: Any = None,
) -> ImportResult:
    """Import a CSV export, streamed; the whole file commits or (if refused) nothing does."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return ingest_batches(
        actor,
        member,
        _CsvFile(path, profile, on_progress),
        source=Source.CSV,
        label=path.name,
        profile=profile.name,
        sha256=digest.hexdigest(),
    )


class _CsvFile:
    """A CSV file's parsed batches, read again from the start each time it is iterated (the store
    then needs no spool of its own to go back); the progress is reported on the first reading only."""

    def __init__(self, path: Path, profile: CsvProfile, on_progress: Any) -> None:
        self.path, self.profile, self.on_progress = path, profile, on_progress

    def __iter__(self) -> Iterator[ParsedBatch]:
        on_progress, self.on_progress = self.on_progress, None
        with self.path.open("rb") as handle:
            yield from ingest.read_csv(handle, self.profile, on_progress=on_progress)


def import_readings_stream(
    actor: Actor, member: Member, stream: BinaryIO, profile: CsvProfile, *, label: str
) -> ImportResult:
    """Import an uploaded CSV (the UI and API upload)."""
    return ingest_batches(
        actor, member, ingest.read_csv(stream, profile), source=Source.CSV, label=label, profile=profile.name
    )


def ingest_api_payload(actor: Actor, member: Member, body: bytes, *, label: str = "") -> ImportResult:
    """The REST batch endpoint: the project's JSON, one transaction, counts and reasons per record."""
    return ingest_batches(actor, member, [ingest.parse_api_json(body)], source=Source.API, label=label)


# --- the quarantine -------------------------------------------------------------------------


@transaction.atomic
def fix_quarantined(
    actor: Actor,
    record: QuarantinedRecord,
    *,
    meter_ref: str,
    observed_at: datetime,
    index_l: int,
    ref_kind: str = "serial",
) -> QuarantinedRecord:
    """Correct a quarantined record's values; it is then ready to re-process."""
    actor.require_role(record.member_id, *_WRITERS)
    before = {"payload": record.payload}
    base = dict(record.payload or {})
    base.update(
        {
            "meter_ref": meter_ref.strip(),
            "ref_kind": ref_kind,
            "observed_at": observed_at.astimezone(UTC).isoformat(),
            "index_l": int(index_l),
        }
    )
    for key, default in (("time_basis", "manual_entry"), ("read_type", "actual"), ("time_ambiguous", False)):
        base.setdefault(key, default)
    record.payload = base
    record.meter_ref, record.observed_at, record.index_l = base["meter_ref"], observed_at, int(index_l)
    record.save(update_fields=["payload", "meter_ref", "observed_at", "index_l"])
    record_audit(actor, "fix_quarantined", record, member=record.member_id, before=before, after={"payload": base})
    return record


def _payload_batch(records: Iterable[QuarantinedRecord]) -> ParsedBatch:
    rows = []
    for record in records:
        payload = dict(record.payload or {})
        payload["line"] = record.line
        payload["observed_at"] = datetime.fromisoformat(payload["observed_at"])
        payload.setdefault("flags", [])
        rows.append({name: payload.get(name) for name in READINGS_SCHEMA.names})
    readings = pa.RecordBatch.from_pylist(rows, schema=READINGS_SCHEMA)
    return ParsedBatch(readings, pa.RecordBatch.from_pylist([], schema=REJECTIONS_SCHEMA))


def reprocess_quarantined(actor: Actor, records: list[QuarantinedRecord]) -> ImportResult:
    """Send open, re-processable records through the store again, as one new batch.

    Records that pass are stored; records that fail again are quarantined anew with today's
    reason. Either way the original records are closed with a pointer to the new batch.
    """
    if not records:
        raise ValidationError(_("Nothing to re-process."))
    member_ids = {r.member_id for r in records}
    if len(member_ids) != 1:
        raise ValidationError(_("Re-process the records of one member at a time."))
    member = Member.all_tenants.get(pk=member_ids.pop())
    actor.require_role(member.pk, *_WRITERS)
    ready = [r for r in records if r.status == QuarantineStatus.OPEN and r.payload]
    if not ready:
        raise ValidationError(_("None of these records can be re-processed: correct them first."))
    with transaction.atomic():
        result = ingest_batches(
            actor,
            member,
            [_payload_batch(ready)],
            source=Source.MANUAL,
            label=f"quarantine re-processing ({len(ready)} records)",
        )
        note = f"re-processed in batch {result.batch.pk}"
        QuarantinedRecord.all_tenants.filter(pk__in=[r.pk for r in ready]).update(
            status=QuarantineStatus.REPROCESSED, resolved_at=timezone.now(), resolution_note=note
        )
        record_audit(
            actor,
            "reprocess_quarantined",
            result.batch,
            member=member,
            after={"records": [r.pk for r in ready], **result.summary()},
        )
    return result


@transaction.atomic
def discard_quarantined(actor: Actor, records: list[QuarantinedRecord], *, reason: str) -> int:
    """Close records as not to be imported, with the operator's reason (they are kept, not deleted)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the records are discarded.")})
    member_ids = {r.member_id for r in records}
    for member_id in member_ids:
        actor.require_role(member_id, *_WRITERS)
    ids = [r.pk for r in records if r.status == QuarantineStatus.OPEN]
    count = QuarantinedRecord.all_tenants.filter(pk__in=ids).update(
        status=QuarantineStatus.DISCARDED, resolved_at=timezone.now(), resolution_note=reason.strip()[:300]
    )
    for member_id in member_ids:
        record_audit(
            actor,
            "discard_quarantined",
            None,
            member=member_id,
            after={"records": ids, "reason": reason.strip()},
        )
    return count


def payload_json(record: QuarantinedRecord) -> str:
    return json.dumps(record.payload, ensure_ascii=False, indent=1) if record.payload else ""


# --- the alert lifecycle: new → acknowledged → assigned → resolved (confirmed / false alarm) --------


def _alert_for_update(actor: Actor, alert: Alert) -> Alert:
    actor.require_role(alert.member_id, *_WRITERS)
    locked: Alert = Alert.all_tenants.select_for_update().get(pk=alert.pk)
    if locked.status == AlertStatus.RESOLVED:
        raise ValidationError(_("This alert is already resolved."))
    return locked


@transaction.atomic
def acknowledge_alert(actor: Actor, alert: Alert) -> Alert:
    alert = _alert_for_update(actor, alert)
    before = {"status": alert.status}
    if alert.status == AlertStatus.NEW:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.save(update_fields=["status"])
    record_audit(
        actor, "acknowledge_alert", alert, member=alert.member_id, before=before, after={"status": alert.status}
    )
    return alert


def alert_assignees(alert: Alert) -> list[User]:
    """The people an alert can be given to: operators and managers of its member."""
    memberships = Membership.all_tenants.filter(member_id=alert.member_id, role__in=[Role.OPERATOR, Role.MANAGER])
    return sorted({m.user for m in memberships.select_related("user")}, key=lambda u: u.username)


@transaction.atomic
def assign_alert(actor: Actor, alert: Alert, *, user: User) -> Alert:
    """Give the alert to a person of the member (an operator or manager) to act on."""
    alert = _alert_for_update(actor, alert)
    if user not in alert_assignees(alert):
        raise ValidationError({"user": _("Assign to an operator or manager of this member.")})
    before = {"status": alert.status, "assigned_to": alert.assigned_to_id}
    alert.status = AlertStatus.ASSIGNED
    alert.assigned_to = user
    alert.save(update_fields=["status", "assigned_to"])
    record_audit(
        actor,
        "assign_alert",
        alert,
        member=alert.member_id,
        before=before,
        after={"status": alert.status, "assigned_to": user.pk},
    )
    return alert


@transaction.atomic
def resolve_alert(actor: Actor, alert: Alert, *, outcome: str, reason: str) -> Alert:
    """Close an alert as confirmed or as a false alarm, with the operator's reason (kept as a label)."""
    if outcome not in (Resolution.CONFIRMED, Resolution.FALSE_ALARM):
        raise ValidationError({"outcome": _("Say whether the problem was confirmed or a false alarm.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    alert = _alert_for_update(actor, alert)
    before = {"status": alert.status}
    alert.status = AlertStatus.RESOLVED
    alert.resolution = outcome
    alert.resolution_reason = reason.strip()
    alert.resolved_at = timezone.now()
    alert.save(update_fields=["status", "resolution", "resolution_reason", "resolved_at"])
    record_audit(
        actor,
        "resolve_alert",
        alert,
        member=alert.member_id,
        before=before,
        after={"status": alert.status, "resolution": outcome, "reason": alert.resolution_reason},
    )
    return alert
