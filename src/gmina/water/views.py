"""Browser views of the water app: thin and scoped; every change goes through ``actions``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from gmina.ingest import PROFILES, FileRejected
from gmina.water import actions
from gmina.water.forms import FixForm, QuarantineFilterForm, SelectionForm, UploadForm
from gmina.water.models import DeviceEvent, ImportBatch, Meter, QuarantinedRecord, Reading, Zone
from gmina.water.models.choices import QuarantineStatus
from gmina.water.store import ImportResult


def _summary_message(result: ImportResult) -> str:
    return _(
        "Received: %(received)d, stored: %(accepted)d, duplicates: %(duplicates)d, quarantined: %(quarantined)d."
    ) % (result.summary())


def _scope(request: HttpRequest) -> Any:
    return request.actor.scope  # type: ignore[attr-defined]


def _page(request: HttpRequest, queryset: Any, size: int = 50) -> Any:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    day_ago = timezone.now() - timedelta(days=1)
    context = {
        "zones": Zone.objects.scoped(scope).count(),
        "meters": Meter.objects.scoped(scope).count(),
        "readings_day": Reading.objects.scoped(scope).filter(observed_at__gte=day_ago).count(),
        "quarantine_open": QuarantinedRecord.objects.scoped(scope).filter(status=QuarantineStatus.OPEN).count(),
        "events_open": DeviceEvent.objects.scoped(scope).filter(ended_at__isnull=True).count(),
        "batches": ImportBatch.objects.scoped(scope).select_related("member")[:10],
    }
    return render(request, "water/overview.html", context)


@login_required
def zone_list(request: HttpRequest) -> HttpResponse:
    zones = Zone.objects.scoped(_scope(request)).select_related("member", "parent")
    return render(request, "water/zone_list.html", {"page": _page(request, zones)})


@login_required
def zone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    zone = get_object_or_404(Zone.objects.scoped(scope), pk=pk)
    meters = Meter.objects.scoped(scope).filter(Q(zone=zone) | Q(service_point__zone=zone)).distinct()
    boundary = zone.boundary_meters.select_related("meter")
    return render(
        request,
        "water/zone_detail.html",
        {"zone": zone, "page": _page(request, meters), "boundary": boundary},
    )


@login_required
def meter_list(request: HttpRequest) -> HttpResponse:
    meters = Meter.objects.scoped(_scope(request)).select_related("zone", "service_point")
    query = request.GET.get("q", "").strip()
    if query:
        meters = meters.filter(Q(serial__icontains=query) | Q(devices__device_key__icontains=query)).distinct()
    return render(request, "water/meter_list.html", {"page": _page(request, meters), "q": query})


@login_required
def meter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    meter = get_object_or_404(Meter.objects.scoped(scope).select_related("zone", "service_point"), pk=pk)
    readings = Reading.objects.scoped(scope).filter(meter=meter).order_by("-observed_at")
    context = {
        "meter": meter,
        "devices": meter.devices.all(),
        "installations": meter.installations.select_related("service_point"),
        "events": DeviceEvent.objects.scoped(scope).filter(meter=meter)[:50],
        "page": _page(request, readings, 100),
    }
    return render(request, "water/meter_detail.html", context)


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    events = DeviceEvent.objects.scoped(_scope(request)).select_related("meter")
    if request.GET.get("open"):
        events = events.filter(ended_at__isnull=True)
    return render(request, "water/event_list.html", {"page": _page(request, events)})


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = ImportBatch.objects.scoped(_scope(request)).select_related("member")
    return render(request, "water/batch_list.html", {"page": _page(request, batches)})


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    batch = get_object_or_404(ImportBatch.objects.scoped(scope), pk=pk)
    records = QuarantinedRecord.objects.scoped(scope).filter(batch=batch).order_by("line")
    return render(request, "water/batch_detail.html", {"batch": batch, "page": _page(request, records)})


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = UploadForm(request.POST or None, request.FILES or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = actions.import_readings_stream(
                actor, data["member"], data["file"], PROFILES[data["profile"]], label=data["file"].name
            )
        except FileRejected as exc:
            messages.error(request, _("The file was rejected and nothing was imported: %(error)s") % {"error": exc})
        else:
            messages.success(
                request,
                _summary_message(result),
            )
            return redirect("water:batch_detail", pk=result.batch.pk)
    return render(request, "water/upload.html", {"form": form})


def _quarantine_queryset(request: HttpRequest) -> tuple[QuarantineFilterForm, Any]:
    form = QuarantineFilterForm(request.GET or None)
    records = QuarantinedRecord.objects.scoped(_scope(request)).select_related("batch")
    if form.is_bound and form.is_valid():
        for name in ("status", "reason", "batch"):
            if form.cleaned_data.get(name):
                records = records.filter(**{name: form.cleaned_data[name]})
    elif not form.is_bound:
        records = records.filter(status=QuarantineStatus.OPEN)
    return form, records


@login_required
def quarantine_list(request: HttpRequest) -> HttpResponse:
    form, records = _quarantine_queryset(request)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "water/quarantine_list.html",
        {"form": form, "page": _page(request, records), "query": query.urlencode()},
    )


@login_required
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(QuarantinedRecord.objects.scoped(_scope(request)).select_related("batch"), pk=pk)
    initial = {
        "meter_ref": record.meter_ref,
        "ref_kind": record.ref_kind or "serial",
        "observed_at": timezone.localtime(record.observed_at).replace(tzinfo=None) if record.observed_at else None,
        "index_l": record.index_l,
    }
    context = {"record": record, "form": FixForm(initial=initial), "payload": actions.payload_json(record)}
    return render(request, "water/quarantine_detail.html", context)


@login_required
@require_POST
def quarantine_fix(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    record = get_object_or_404(QuarantinedRecord.objects.scoped(actor.scope), pk=pk)
    form = FixForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("water:quarantine_detail", pk=record.pk)
    actions.fix_quarantined(actor, record, **form.cleaned_data)
    if request.POST.get("then") == "reprocess":
        return _reprocess(request, [record])
    messages.success(request, _("Record corrected; re-process it to store it."))
    return redirect("water:quarantine_detail", pk=record.pk)


def _reprocess(request: HttpRequest, records: list[QuarantinedRecord]) -> HttpResponse:
    try:
        result = actions.reprocess_quarantined(request.actor, records)  # type: ignore[attr-defined]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("water:quarantine_list")
    messages.success(
        request,
        _summary_message(result),
    )
    return redirect("water:batch_detail", pk=result.batch.pk)


@login_required
@require_POST
def quarantine_bulk(request: HttpRequest) -> HttpResponse:
    """Re-process or discard the selected records (POST ``ids`` and ``do``)."""
    actor = request.actor  # type: ignore[attr-defined]
    scoped = QuarantinedRecord.objects.scoped(actor.scope)
    raw_ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    allowed = list(scoped.filter(pk__in=raw_ids).values_list("pk", flat=True))
    form = SelectionForm(request.POST, ids=allowed)
    if not form.is_valid():
        messages.error(request, _("Select records of your own members."))
        return redirect("water:quarantine_list")
    records = list(scoped.filter(pk__in=form.cleaned_data["ids"]))
    if request.POST.get("do") == "discard":
        try:
            count = actions.discard_quarantined(actor, records, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                ngettext("%(count)d record discarded.", "%(count)d records discarded.", count) % {"count": count},
            )
        return redirect("water:quarantine_list")
    return _reprocess(request, records)
