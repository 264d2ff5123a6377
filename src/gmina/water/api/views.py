"""REST API v1 of the water app: scoped reads, ingestion and the quarantine workflow."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gmina.consortium.api.permissions import actor_of
from gmina.consortium.api.views import ScopedViewSet
from gmina.consortium.models import Member, User
from gmina.ingest import PROFILES, FileRejected
from gmina.water import actions
from gmina.water.api import serializers
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
from gmina.water.models.alerts import AlertStatus
from gmina.water.store import ImportResult


def summary(result: ImportResult) -> dict[str, Any]:
    return {
        "batch": result.batch.pk,
        **result.summary(),
        "issues": [
            {"index": i.line, "reason": i.reason, "message": i.message, "field": i.field} for i in result.issues
        ],
    }


def _member_for(request: Request, member_id: Any) -> Member:
    """The member the request writes for: the token's own, or one of the session user's."""
    actor = actor_of(request)
    if actor.token is not None:
        own: Member = actor.token.member
        return own
    members = Member.objects.scoped(actor.scope).filter(active=True)
    if member_id in (None, ""):
        if members.count() != 1:
            raise ValidationError({"member": "give the member id: you act for several members"})
        only: Member = members.get()
        return only
    member: Member | None = members.filter(pk=member_id).first() if str(member_id).isdigit() else None
    if member is None:
        raise ValidationError({"member": "no such member"})
    return member


class ReadingBatchView(APIView):
    """Ingest a batch of readings (the project's JSON). Answers only after the batch is committed."""

    @extend_schema(
        request={"application/json": {"type": "object", "properties": {"readings": {"type": "array"}}}},
        responses={200: serializers.ImportSummarySerializer},
        parameters=[OpenApiParameter("member", int, description="member id (session users of several members)")],
    )
    def post(self, request: Request) -> Response:
        member = _member_for(request, request.query_params.get("member"))
        try:
            result = actions.ingest_api_payload(actor_of(request), member, request.body, label="API")
        except FileRejected as exc:
            return Response({"detail": str(exc), "line": exc.line, "column": exc.column}, status=400)
        return Response(summary(result))

    def get_parsers(self) -> list[Any]:
        # The store reads the raw body itself (exact decimals, per-record errors); DRF must not consume it.
        return []


class ReadingUploadView(APIView):
    """Upload a CSV export with a named profile (multipart: ``file``, ``profile``, ``member``)."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "profile": {"type": "string", "default": "gmina"},
                    "member": {"type": "integer"},
                },
                "required": ["file"],
            }
        },
        responses={200: serializers.ImportSummarySerializer},
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": "attach the CSV file"})
        member = _member_for(request, request.data.get("member"))
        name = str(request.data.get("profile") or "gmina")
        profile = PROFILES.get(name)  # built-in profiles only: a request never names a server file
        if profile is None:
            raise ValidationError({"profile": f"unknown profile {name!r}; known: {', '.join(sorted(PROFILES))}"})
        try:
            result = actions.import_readings_stream(actor_of(request), member, upload, profile, label=upload.name)
        except FileRejected as exc:
            return Response({"detail": str(exc), "line": exc.line, "column": exc.column}, status=400)
        return Response(summary(result))


class ZoneViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = Zone
    serializer_class = serializers.ZoneSerializer


class ServicePointViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = ServicePoint
    serializer_class = serializers.ServicePointSerializer


class MeterViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = Meter
    serializer_class = serializers.MeterSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().prefetch_related("devices")


class ReadingViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Readings, filtered by ``meter``, ``since`` and ``until`` (ISO 8601)."""

    model = Reading
    serializer_class = serializers.ReadingSerializer

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset().order_by("meter_id", "observed_at")
        params = self.request.query_params
        if params.get("meter"):
            if not params["meter"].isdigit():
                raise ValidationError({"meter": "a meter id"})
            queryset = queryset.filter(meter_id=int(params["meter"]))
        for name, lookup in (("since", "observed_at__gte"), ("until", "observed_at__lt")):
            if params.get(name):
                value = parse_datetime(params[name])
                if value is None or value.tzinfo is None:
                    raise ValidationError({name: "an ISO 8601 time with its offset, e.g. 2025-10-26T00:00:00Z"})
                queryset = queryset.filter(**{lookup: value})
        return queryset


class DeviceEventViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = DeviceEvent
    serializer_class = serializers.DeviceEventSerializer


class ImportBatchViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = ImportBatch
    serializer_class = serializers.ImportBatchSerializer


class QuarantineViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The quarantine: filter by ``status``, ``reason``, ``batch``; fix, re-process or discard."""

    model = QuarantinedRecord
    serializer_class = serializers.QuarantinedRecordSerializer

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        for name in ("status", "reason", "batch"):
            value = self.request.query_params.get(name)
            if value:
                queryset = queryset.filter(**{name: value})
        return queryset

    @extend_schema(request=serializers.FixSerializer, responses=serializers.QuarantinedRecordSerializer)
    @action(detail=True, methods=["post"])
    def fix(self, request: Request, pk: str | None = None) -> Response:
        data = serializers.FixSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = actions.fix_quarantined(self.actor, self.get_object(), **data.validated_data)
        return Response(self.get_serializer(record).data)

    def _selected(self, request: Request) -> tuple[list[QuarantinedRecord], dict[str, Any]]:
        data = serializers.SelectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        records = list(self.get_queryset().filter(pk__in=data.validated_data["ids"]))
        if len(records) != len(set(data.validated_data["ids"])):
            raise ValidationError({"ids": "some of these records do not exist"})
        return records, data.validated_data

    @extend_schema(request=serializers.SelectionSerializer, responses=serializers.ImportSummarySerializer)
    @action(detail=False, methods=["post"])
    def reprocess(self, request: Request) -> Response:
        records, _ = self._selected(request)
        return Response(summary(actions.reprocess_quarantined(self.actor, records)))

    @extend_schema(request=serializers.SelectionSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def discard(self, request: Request) -> Response:
        records, data = self._selected(request)
        count = actions.discard_quarantined(self.actor, records, reason=data.get("reason", ""))
        return Response({"discarded": count}, status=status.HTTP_200_OK)


class AlertViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Alerts ranked by PLN at stake; filter by ``status`` (``open`` = not resolved), ``alert_class``,
    ``severity``, ``meter``, ``zone``; acknowledge, assign and resolve (each an audited action)."""

    model = Alert
    serializer_class = serializers.AlertSerializer

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        params = self.request.query_params
        if params.get("status") == "open":
            queryset = queryset.exclude(status=AlertStatus.RESOLVED)
        elif params.get("status"):
            queryset = queryset.filter(status=params["status"])
        for name in ("alert_class", "severity", "meter", "zone"):
            value = params.get(name)
            if value:
                queryset = queryset.filter(**{name: value})
        return queryset

    @extend_schema(request=None, responses=serializers.AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        alert = actions.acknowledge_alert(self.actor, self.get_object())
        return Response(self.get_serializer(alert).data)

    @extend_schema(request=serializers.AssignSerializer, responses=serializers.AlertSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        data = serializers.AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = self.get_object()
        user = User.objects.filter(pk=data.validated_data["user"]).first()
        if user is None:
            raise ValidationError({"user": "no such user"})
        alert = actions.assign_alert(self.actor, alert, user=user)
        return Response(self.get_serializer(alert).data)

    @extend_schema(request=serializers.ResolveSerializer, responses=serializers.AlertSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        data = serializers.ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = actions.resolve_alert(self.actor, self.get_object(), **data.validated_data)
        return Response(self.get_serializer(alert).data)


class DetectionRunViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = DetectionRun
    serializer_class = serializers.DetectionRunSerializer
