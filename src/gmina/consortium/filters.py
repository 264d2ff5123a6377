"""Filters shared by the UI and the API, so both accept the same parameters."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gmina.consortium.actors import Actor
from gmina.consortium.models import AuditEntry, Member
from gmina.consortium.models.audit import ACTION_LABELS


class AuditFilterForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.all_tenants.none(), required=False, label=_("member"))
    action = forms.ChoiceField(required=False, label=_("action"))
    actor = forms.CharField(required=False, max_length=200, label=_("actor"))
    object_type = forms.CharField(required=False, max_length=100, label=_("object type"))
    since = forms.DateField(required=False, label=_("from (date)"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label=_("to (date)"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: object, actor: Actor, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["member"].queryset = Member.objects.scoped(actor.scope)  # type: ignore[attr-defined]
        labels = sorted(ACTION_LABELS.items(), key=lambda item: str(item[1]))
        self.fields["action"].choices = [("", "—"), *labels]  # type: ignore[attr-defined]

    def filter(self, queryset: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        """Apply the cleaned filters to an already scoped queryset."""
        data = self.cleaned_data
        if data.get("member"):
            queryset = queryset.filter(member=data["member"])
        if data.get("action"):
            queryset = queryset.filter(action=data["action"])
        if data.get("actor"):
            queryset = queryset.filter(actor_label__icontains=data["actor"])
        if data.get("object_type"):
            queryset = queryset.filter(object_type=data["object_type"])
        zone = timezone.get_current_timezone()
        if data.get("since"):
            queryset = queryset.filter(at__gte=datetime.combine(data["since"], time.min, tzinfo=zone))
        if data.get("until"):
            queryset = queryset.filter(at__lte=datetime.combine(data["until"], time.max, tzinfo=zone))
        return queryset
