from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gmina.consortium.models import Role


class IssueTokenForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    can_write = forms.BooleanField(label=_("may write (send readings)"), required=False)
    expires_at = forms.DateTimeField(
        label=_("expires at"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class GrantRoleForm(forms.Form):
    username = forms.CharField(label=_("user name"), max_length=150)
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
