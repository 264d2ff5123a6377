"""Water registries in the competence centre's admin (centre staff only; every change audited)."""

from __future__ import annotations

from django.contrib import admin

from gmina.consortium.admin import AuditedAdmin, ReadOnlyAdmin
from gmina.water.models import (
    Alert,
    DetectionRun,
    DeviceAssignment,
    DeviceEvent,
    ImportBatch,
    Meter,
    MqttSubscription,
    QuarantinedRecord,
    ServicePoint,
    Zone,
    ZoneBoundaryMeter,
)


@admin.register(Zone)
class ZoneAdmin(AuditedAdmin):
    list_display = ["code", "name", "member", "parent"]
    list_filter = ["member"]
    search_fields = ["code", "name"]


@admin.register(ServicePoint)
class ServicePointAdmin(AuditedAdmin):
    list_display = ["code", "member", "zone", "category"]
    list_filter = ["member", "category"]
    search_fields = ["code", "address"]


@admin.register(Meter)
class MeterAdmin(AuditedAdmin):
    list_display = ["serial", "member", "kind", "status", "zone", "service_point"]
    list_filter = ["member", "kind", "status"]
    search_fields = ["serial"]


@admin.register(DeviceAssignment)
class DeviceAssignmentAdmin(AuditedAdmin):
    list_display = ["device_key", "meter", "valid_from", "valid_to"]
    search_fields = ["device_key"]


@admin.register(ZoneBoundaryMeter)
class ZoneBoundaryMeterAdmin(AuditedAdmin):
    list_display = ["zone", "meter", "direction"]


@admin.register(MqttSubscription)
class MqttSubscriptionAdmin(AuditedAdmin):
    list_display = ["topic", "member", "payload_format", "active"]
    list_filter = ["member", "payload_format", "active"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "member",
        "source",
        "label",
        "status",
        "received",
        "accepted",
        "duplicates",
        "quarantined",
    ]
    list_filter = ["member", "source", "status"]


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "member", "batch", "line", "reason", "status"]
    list_filter = ["member", "reason", "status"]


@admin.register(DeviceEvent)
class DeviceEventAdmin(ReadOnlyAdmin):
    list_display = ["meter", "code", "state", "raw_code", "first_seen", "last_seen", "ended_at"]
    list_filter = ["member", "code", "state"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Read-only: the lifecycle goes through the audited actions of the alert pages."""

    list_display = ["id", "member", "alert_class", "status", "severity", "cost_pln", "meter", "zone", "start"]
    list_filter = ["member", "alert_class", "status", "severity", "resolution"]


@admin.register(DetectionRun)
class DetectionRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "member", "as_of", "readings", "cases", "opened", "updated", "cleared"]
    list_filter = ["member"]
