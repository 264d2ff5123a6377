from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gmina.consortium.actors import Actor
from gmina.consortium.models import Member
from gmina.ingest import PROFILES
from gmina.water.models.choices import QuarantineStatus


class UploadForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.all_tenants.none(), label=_("member"))
    profile = forms.ChoiceField(label=_("file format (profile)"))
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.scoped(actor.scope).filter(active=True)  # type: ignore[attr-defined]
        self.fields["profile"].choices = [(name, name) for name in sorted(PROFILES)]  # type: ignore[attr-defined]


class QuarantineFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), required=False, choices=[("", "—"), *QuarantineStatus.choices])
    reason = forms.CharField(label=_("reason"), required=False, max_length=32)
    batch = forms.IntegerField(label=_("import batch"), required=False, min_value=1)


class FixForm(forms.Form):
    meter_ref = forms.CharField(label=_("meter (serial or radio id)"), max_length=64)
    ref_kind = forms.ChoiceField(
        label=_("meter identified by"), choices=[("serial", _("serial number")), ("device", _("radio id"))]
    )
    observed_at = forms.DateTimeField(
        label=_("time (local)"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    index_l = forms.IntegerField(label=_("index (L)"), min_value=0)


class SelectionForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], label=_("records"))
    reason = forms.CharField(label=_("reason (for discarding)"), required=False, max_length=300)

    def __init__(self, *args: Any, ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(i, str(i)) for i in ids]  # type: ignore[attr-defined]
