"""Declarations for the tenant-isolation harness.

Every URL route and every tenant-owned model must be declared here; ``test_meta.py`` fails
when one is not. A later feature plugs in by adding its factories and route cases.

Kinds of route case (checked as member A's manager, and as A's API token for API routes):

* ``list``   GET lists or searches: answers 200, shows A's marker, never B's; API counts match
  A's scoped count.
* ``read``   GET one of B's objects: 404 (or 403), B's marker absent.
* ``write``  POST/DELETE on one of B's objects: refused (403/404/405), nothing of B's changed.
* ``attach`` POST creating an A-side object that points at B's objects: refused, nothing created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from gmina.consortium.models import ApiToken, AuditEntry, Member, Membership, Role
from gmina.water.models import (
    Alert,
    CustomerContact,
    DetectionRun,
    DeviceAssignment,
    DeviceEvent,
    ImportBatch,
    Meter,
    MeterInstallation,
    MqttSubscription,
    QuarantinedRecord,
    Reading,
    ServicePoint,
    Zone,
    ZoneBoundaryMeter,
)
from tests.factories import Tenant


def _first(model: type[models.Model]) -> Callable[[Tenant], models.Model]:
    return lambda t: model.all_tenants.filter(member=t.member).order_by("pk").first()  # type: ignore[attr-defined]


# One object of each tenant-owned model, owned by the given tenant.
MODEL_FACTORIES: dict[type[models.Model], Callable[[Tenant], models.Model]] = {
    Member: lambda t: t.member,
    Membership: lambda t: Membership.all_tenants.get(member=t.member, role=Role.MANAGER),
    ApiToken: lambda t: t.token,
    AuditEntry: lambda t: AuditEntry.all_tenants.filter(member=t.member).order_by("-id").first(),
    Zone: _first(Zone),
    ServicePoint: _first(ServicePoint),
    CustomerContact: _first(CustomerContact),
    Meter: _first(Meter),
    ZoneBoundaryMeter: _first(ZoneBoundaryMeter),
    MeterInstallation: _first(MeterInstallation),
    DeviceAssignment: _first(DeviceAssignment),
    Reading: lambda t: Reading.all_tenants.filter(member=t.member).order_by("observed_at").first(),
    DeviceEvent: _first(DeviceEvent),
    ImportBatch: _first(ImportBatch),
    QuarantinedRecord: _first(QuarantinedRecord),
    MqttSubscription: _first(MqttSubscription),
    Alert: _first(Alert),
    DetectionRun: _first(DetectionRun),
}

# Tenant-owned models that no route shows (yet), with the reason; the model-level checks still run.
NOT_EXPOSED: dict[type[models.Model], str] = {
    CustomerContact: "personal data: no page or endpoint shows it yet",
    MqttSubscription: "managed by centre staff in the admin",
}

Kwargs = Callable[[Tenant], dict[str, Any]]


def pk_of(model: type[models.Model]) -> Kwargs:
    return lambda t: {"pk": MODEL_FACTORIES[model](t).pk}


@dataclass(frozen=True)
class RouteCase:
    name: str
    kind: str  # list | read | write | attach
    kwargs: Kwargs = field(default=lambda t: {})
    method: str = "get"
    query: Callable[[Tenant], dict[str, Any]] = field(default=lambda t: {})
    data: Callable[[Tenant, Tenant], dict[str, Any]] = field(default=lambda a, b: {})
    api: bool = False
    multipart: bool = False
    models: tuple[type[models.Model], ...] = ()  # tenant models whose rows this route lists


ROUTE_CASES: list[RouteCase] = [
    # --- UI --------------------------------------------------------------------------------
    RouteCase("home", "list", models=(Member, AuditEntry)),
    RouteCase("member_list", "list", models=(Member,)),
    RouteCase("member_detail", "read", pk_of(Member)),
    RouteCase("member_detail", "list", lambda a: {"pk": a.member.pk}, models=(Membership, ApiToken)),
    RouteCase("token_issue", "write", pk_of(Member), method="post", data=lambda a, b: {"name": "x"}),
    RouteCase(
        "role_grant",
        "write",
        pk_of(Member),
        method="post",
        data=lambda a, b: {"username": "u", "role": "viewer"},
    ),
    RouteCase("token_revoke", "write", pk_of(ApiToken), method="post"),
    RouteCase("role_revoke", "write", pk_of(Membership), method="post"),
    RouteCase("audit_list", "list", models=(AuditEntry,)),
    RouteCase("audit_list", "list", query=lambda b: {"actor": "etamark"}, models=(AuditEntry,)),
    RouteCase("audit_list", "list", query=lambda b: {"member": b.member.pk}),
    RouteCase("audit_export", "list", models=(AuditEntry,)),
    RouteCase("audit_export", "list", query=lambda b: {"member": b.member.pk}),
    # --- API -------------------------------------------------------------------------------
    RouteCase("api-root", "list", api=True),
    RouteCase("whoami", "list", api=True, models=(Member,)),
    RouteCase("member-list", "list", api=True, models=(Member,)),
    RouteCase("member-detail", "read", pk_of(Member), api=True),
    RouteCase("membership-list", "list", api=True, models=(Membership,)),
    RouteCase("membership-detail", "read", pk_of(Membership), api=True),
    RouteCase("membership-detail", "write", pk_of(Membership), method="delete", api=True),
    RouteCase(
        "membership-list",
        "attach",
        method="post",
        api=True,
        data=lambda a, b: {"member": b.member.pk, "username": a.manager.username, "role": "manager"},
    ),
    RouteCase("apitoken-list", "list", api=True, models=(ApiToken,)),
    RouteCase("apitoken-detail", "read", pk_of(ApiToken), api=True),
    RouteCase("apitoken-revoke", "write", pk_of(ApiToken), method="post", api=True),
    RouteCase(
        "apitoken-list",
        "attach",
        method="post",
        api=True,
        data=lambda a, b: {"member": b.member.pk, "name": "x"},
    ),
    RouteCase("auditentry-list", "list", api=True, models=(AuditEntry,)),
    RouteCase("auditentry-list", "list", api=True, query=lambda b: {"member": b.member.pk}),
    RouteCase("auditentry-detail", "read", pk_of(AuditEntry), api=True),
    # --- water UI ----------------------------------------------------------------------------
    RouteCase("water:overview", "list", models=(ImportBatch,)),
    RouteCase("water:zone_list", "list", models=(Zone,)),
    RouteCase("water:zone_detail", "read", pk_of(Zone)),
    RouteCase(
        "water:zone_detail",
        "list",
        lambda a: {"pk": MODEL_FACTORIES[Zone](a).pk},
        models=(ZoneBoundaryMeter,),
    ),
    RouteCase("water:meter_list", "list", models=(Meter,)),
    RouteCase("water:meter_list", "list", query=lambda b: {"q": "etamark"}),
    RouteCase("water:meter_detail", "read", pk_of(Meter)),
    RouteCase(
        "water:meter_detail",
        "list",
        lambda a: {"pk": MODEL_FACTORIES[Meter](a).pk},
        models=(Reading, DeviceAssignment, MeterInstallation, ServicePoint, DeviceEvent),
    ),
    RouteCase("water:event_list", "list", models=(DeviceEvent,)),
    RouteCase("water:batch_list", "list", models=(ImportBatch,)),
    RouteCase("water:batch_detail", "read", pk_of(ImportBatch)),
    RouteCase("water:upload", "list"),
    RouteCase(
        "water:upload",
        "attach",
        method="post",
        data=lambda a, b: {"member": b.member.pk, "profile": "gmina", "file": _csv_upload()},
    ),
    RouteCase("water:quarantine_list", "list", query=lambda b: {"status": "open"}, models=(QuarantinedRecord,)),
    RouteCase("water:quarantine_list", "list", query=lambda b: {"batch": MODEL_FACTORIES[ImportBatch](b).pk}),
    RouteCase("water:quarantine_detail", "read", pk_of(QuarantinedRecord)),
    RouteCase(
        "water:quarantine_fix",
        "write",
        pk_of(QuarantinedRecord),
        method="post",
        data=lambda a, b: {
            "meter_ref": "x",
            "ref_kind": "serial",
            "observed_at": "2025-03-01T10:00",
            "index_l": 1,
        },
    ),
    RouteCase(
        "water:quarantine_bulk",
        "attach",
        method="post",
        data=lambda a, b: {"ids": [MODEL_FACTORIES[QuarantinedRecord](b).pk], "do": "discard", "reason": "x"},
    ),
    RouteCase("water:alert_list", "list", models=(Alert,)),
    RouteCase("water:alert_list", "list", query=lambda b: {"status": "new", "alert_class": "customer_leak"}),
    RouteCase("water:alert_detail", "read", pk_of(Alert)),
    RouteCase("water:alert_acknowledge", "write", pk_of(Alert), method="post"),
    RouteCase("water:alert_assign", "write", pk_of(Alert), method="post", data=lambda a, b: {"user": b.manager.pk}),
    RouteCase(
        "water:alert_resolve",
        "write",
        pk_of(Alert),
        method="post",
        data=lambda a, b: {"outcome": "false_alarm", "reason": "x"},
    ),
    # --- water API ---------------------------------------------------------------------------
    RouteCase("zone-list", "list", api=True, models=(Zone,)),
    RouteCase("zone-detail", "read", pk_of(Zone), api=True),
    RouteCase("servicepoint-list", "list", api=True, models=(ServicePoint,)),
    RouteCase("servicepoint-detail", "read", pk_of(ServicePoint), api=True),
    RouteCase("meter-list", "list", api=True, models=(Meter,)),
    RouteCase("meter-detail", "read", pk_of(Meter), api=True),
    RouteCase("reading-list", "list", api=True),
    RouteCase("reading-list", "list", api=True, query=lambda b: {"meter": MODEL_FACTORIES[Meter](b).pk}),
    RouteCase("deviceevent-list", "list", api=True),
    RouteCase("deviceevent-detail", "read", pk_of(DeviceEvent), api=True),
    RouteCase("importbatch-list", "list", api=True, models=(ImportBatch,)),
    RouteCase("importbatch-detail", "read", pk_of(ImportBatch), api=True),
    RouteCase("quarantinedrecord-list", "list", api=True, models=(QuarantinedRecord,)),
    RouteCase("alert-list", "list", api=True, models=(Alert,)),
    RouteCase("alert-list", "list", api=True, query=lambda b: {"meter": MODEL_FACTORIES[Meter](b).pk}),
    RouteCase("alert-detail", "read", pk_of(Alert), api=True),
    RouteCase("alert-acknowledge", "write", pk_of(Alert), method="post", api=True),
    RouteCase("alert-assign", "write", pk_of(Alert), method="post", api=True, data=lambda a, b: {"user": a.manager.pk}),
    RouteCase(
        "alert-resolve",
        "write",
        pk_of(Alert),
        method="post",
        api=True,
        data=lambda a, b: {"outcome": "confirmed", "reason": "x"},
    ),
    RouteCase("detectionrun-list", "list", api=True, models=(DetectionRun,)),
    RouteCase("detectionrun-detail", "read", pk_of(DetectionRun), api=True),
    RouteCase("quarantinedrecord-detail", "read", pk_of(QuarantinedRecord), api=True),
    RouteCase(
        "quarantinedrecord-fix",
        "write",
        pk_of(QuarantinedRecord),
        method="post",
        api=True,
        data=lambda a, b: {"meter_ref": "x", "observed_at": "2025-03-01T10:00:00Z", "index_l": 1},
    ),
    RouteCase(
        "quarantinedrecord-reprocess",
        "attach",
        method="post",
        api=True,
        data=lambda a, b: {"ids": [MODEL_FACTORIES[QuarantinedRecord](b).pk]},
    ),
    RouteCase(
        "quarantinedrecord-discard",
        "attach",
        method="post",
        api=True,
        data=lambda a, b: {"ids": [MODEL_FACTORIES[QuarantinedRecord](b).pk], "reason": "x"},
    ),
    RouteCase(
        "reading-batch",
        "attach",
        method="post",
        api=True,
        data=lambda a, b: {
            "readings": [
                {
                    "meter": MODEL_FACTORIES[Meter](b).serial,
                    "observed_at": "2025-03-01T05:00:00Z",
                    "index_l": 99,
                }
            ]
        },
        query=lambda b: {"member": b.member.pk},
    ),
    RouteCase(
        "reading-upload",
        "attach",
        method="post",
        api=True,
        multipart=True,
        data=lambda a, b: {"member": b.member.pk, "profile": "gmina", "file": _csv_upload()},
    ),
    RouteCase("api-schema", "list", api=True),
]


def _csv_upload() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = b"meter,observed_at,index_l\nBETAMARK-M1,2025-03-01T06:00:00Z,5000\n"
    return SimpleUploadedFile("readings.csv", body, content_type="text/csv")


# Routes that show no member's data, each with the reason.
PUBLIC_ROUTES: dict[str, str] = {
    "login": "sign-in form; shows no member data",
    "logout": "ends the session; shows no member data",
    "set_language": "stores the language choice in a cookie",
    "healthz": "liveness probe answering a constant",
}

# Django's admin: only competence-centre staff may enter; every admin route is checked
# generically (member users are sent to the admin login, whatever the object).
ADMIN_NAMESPACE = "admin"

# API counts: list routes whose JSON carries a paginated ``count`` of this model.
API_LIST_MODELS: dict[str, type[models.Model]] = {
    "member-list": Member,
    "membership-list": Membership,
    "apitoken-list": ApiToken,
    "auditentry-list": AuditEntry,
    "zone-list": Zone,
    "servicepoint-list": ServicePoint,
    "meter-list": Meter,
    "reading-list": Reading,
    "deviceevent-list": DeviceEvent,
    "importbatch-list": ImportBatch,
    "quarantinedrecord-list": QuarantinedRecord,
    "alert-list": Alert,
    "detectionrun-list": DetectionRun,
}
