"""Alert pages: the ranked list, the evidence, and the lifecycle buttons (each an audited action)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gmina.water import actions
from gmina.water.models import Alert
from gmina.water.models.alerts import AlertClass, AlertStatus, Resolution, Severity


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = Alert.objects.scoped(request.actor.scope).select_related("meter", "zone", "member")  # type: ignore[attr-defined]
    status = request.GET.get("status", "open")
    if status == "open":
        alerts = alerts.exclude(status=AlertStatus.RESOLVED)
    elif status in AlertStatus.values:
        alerts = alerts.filter(status=status)
    for name, choices in (("alert_class", AlertClass.values), ("severity", Severity.values)):
        value = request.GET.get(name)
        if value in choices:
            alerts = alerts.filter(**{name: value})
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": AlertStatus.choices,
        "classes": AlertClass.choices,
        "severities": Severity.choices,
        "selected_class": request.GET.get("alert_class", ""),
        "selected_severity": request.GET.get("severity", ""),
    }
    return render(request, "water/alert_list.html", context)


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(
        Alert.objects.scoped(request.actor.scope).select_related("meter", "zone", "assigned_to"),  # type: ignore[attr-defined]
        pk=pk,
    )
    context = {
        "alert": alert,
        "evidence": json.dumps(alert.evidence, ensure_ascii=False, indent=1),
        "assignees": actions.alert_assignees(alert),
        "outcomes": [
            (Resolution.CONFIRMED, Resolution.CONFIRMED.label),
            (Resolution.FALSE_ALARM, Resolution.FALSE_ALARM.label),
        ],
    }
    return render(request, "water/alert_detail.html", context)


def _act(request: HttpRequest, pk: int, do: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    alert = get_object_or_404(Alert.objects.scoped(actor.scope), pk=pk)
    try:
        if do == "acknowledge":
            actions.acknowledge_alert(actor, alert)
        elif do == "assign":
            user = next((u for u in actions.alert_assignees(alert) if str(u.pk) == request.POST.get("user")), None)
            if user is None:
                raise ValidationError({"user": _("Choose an operator or manager of this member.")})
            actions.assign_alert(actor, alert, user=user)
        else:
            actions.resolve_alert(
                actor, alert, outcome=request.POST.get("outcome", ""), reason=request.POST.get("reason", "")
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("water:alert_detail", pk=alert.pk)


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "acknowledge")


@login_required
@require_POST
def alert_assign(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "assign")


@login_required
@require_POST
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "resolve")
