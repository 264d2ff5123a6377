from __future__ import annotations

from rest_framework import serializers

from gmina.consortium.api.serializers import ScopedMemberMixin
from gmina.water.models import (
    Alert,
    DetectionRun,
    DeviceEvent,
    ImportBatch,
    Meter,
    QuarantinedRecord,
    Reading,
    ServicePoint,
    Zone,
)


class ZoneSerializer(ScopedMemberMixin, serializers.ModelSerializer[Zone]):
    class Meta:
        model = Zone
        fields = ["id", "member", "code", "name", "parent", "description"]


class ServicePointSerializer(serializers.ModelSerializer[ServicePoint]):
    class Meta:
        model = ServicePoint
        fields = ["id", "member", "code", "zone", "address", "category"]


class MeterSerializer(serializers.ModelSerializer[Meter]):
    device_keys = serializers.SerializerMethodField()

    class Meta:
        model = Meter
        fields = [
            "id",
            "member",
            "serial",
            "kind",
            "manufacturer",
            "model",
            "dn_mm",
            "q3_m3h",
            "register_capacity_l",
            "installed_on",
            "status",
            "zone",
            "service_point",
            "device_keys",
        ]

    def get_device_keys(self, meter: Meter) -> list[str]:
        return [d.device_key for d in meter.devices.all() if d.valid_to is None]


class ReadingSerializer(serializers.ModelSerializer[Reading]):
    class Meta:
        model = Reading
        fields = [
            "meter",
            "observed_at",
            "index_l",
            "flow_lph",
            "backflow_l",
            "source",
            "time_basis",
            "read_type",
            "time_ambiguous",
            "batch",
        ]


class DeviceEventSerializer(serializers.ModelSerializer[DeviceEvent]):
    class Meta:
        model = DeviceEvent
        fields = [
            "id",
            "meter",
            "code",
            "state",
            "raw_code",
            "first_seen",
            "last_seen",
            "ended_at",
            "occurrences",
        ]


class ImportBatchSerializer(serializers.ModelSerializer[ImportBatch]):
    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "member",
            "source",
            "label",
            "profile",
            "sha256",
            "status",
            "started_at",
            "finished_at",
            "received",
            "accepted",
            "duplicates",
            "quarantined",
            "error",
            "actor_label",
        ]


class QuarantinedRecordSerializer(serializers.ModelSerializer[QuarantinedRecord]):
    class Meta:
        model = QuarantinedRecord
        fields = [
            "id",
            "member",
            "batch",
            "line",
            "source_field",
            "reason",
            "message",
            "raw",
            "meter_ref",
            "observed_at",
            "index_l",
            "payload",
            "status",
            "resolved_at",
            "resolution_note",
        ]


class FixSerializer(serializers.Serializer[None]):
    meter_ref = serializers.CharField(max_length=64)
    ref_kind = serializers.ChoiceField(choices=["serial", "device"], default="serial")
    observed_at = serializers.DateTimeField()
    index_l = serializers.IntegerField(min_value=0)


class SelectionSerializer(serializers.Serializer[None]):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=10_000)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ImportSummarySerializer(serializers.Serializer[None]):
    """The answer to an ingestion request: what was stored, what was not and why, per record."""

    batch = serializers.IntegerField()
    received = serializers.IntegerField()
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    quarantined = serializers.IntegerField()
    issues = serializers.ListField(child=serializers.DictField())


class AlertSerializer(serializers.ModelSerializer[Alert]):
    class Meta:
        model = Alert
        fields = [
            "id",
            "member",
            "alert_class",
            "family",
            "location_kind",
            "meter",
            "zone",
            "status",
            "severity",
            "confidence",
            "volume_m3",
            "cost_pln",
            "start",
            "end",
            "first_detected_at",
            "last_detected_at",
            "detectors",
            "evidence",
            "assigned_to",
            "resolution",
            "resolution_reason",
            "resolved_at",
        ]


class DetectionRunSerializer(serializers.ModelSerializer[DetectionRun]):
    member_name = serializers.CharField(source="member.name", read_only=True)

    class Meta:
        model = DetectionRun
        fields = [
            "id",
            "member",
            "member_name",
            "as_of",
            "window_start",
            "started_at",
            "finished_at",
            "readings",
            "cases",
            "opened",
            "updated",
            "cleared",
        ]


class AssignSerializer(serializers.Serializer[None]):
    user = serializers.IntegerField(help_text="id of an operator or manager of the alert's member")


class ResolveSerializer(serializers.Serializer[None]):
    outcome = serializers.ChoiceField(choices=["confirmed", "false_alarm"])
    reason = serializers.CharField()
