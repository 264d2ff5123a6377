"""Browser views of the consortium app: thin, scoped, calling actions for every change."""

from __future__ import annotations

import csv
import json
from datetime import UTC
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gmina.consortium import actions
from gmina.consortium.filters import AuditFilterForm
from gmina.consortium.forms import GrantRoleForm, IssueTokenForm
from gmina.consortium.models import ApiToken, AuditEntry, Member, Membership, Role, User


class LoginView(auth_views.LoginView):
    """Django's login, plus an audit row for every successful sign-in."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        actions.record_login(form.get_user())
        return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    members = Member.objects.scoped(actor.scope).filter(active=True)
    recent = AuditEntry.objects.scoped(actor.scope).select_related("member")[:10]
    rows = [(m, Role(actor.scope.roles[m.pk]).label if m.pk in actor.scope.roles else None) for m in members]
    return render(request, "consortium/home.html", {"member_rows": rows, "recent": recent})


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    members = Member.objects.scoped(request.actor.scope)  # type: ignore[attr-defined]
    return render(request, "consortium/member_list.html", {"members": members})


@login_required
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    member = get_object_or_404(Member.objects.scoped(actor.scope), pk=pk)
    is_manager = actor.scope.has_role(member.pk, [Role.MANAGER])
    context: dict[str, Any] = {"member": member, "is_manager": is_manager}
    if is_manager:
        context["memberships"] = Membership.objects.scoped(actor.scope).filter(member=member).select_related("user")
        context["tokens"] = ApiToken.objects.scoped(actor.scope).filter(member=member)
        context["token_form"] = IssueTokenForm()
        context["grant_form"] = GrantRoleForm()
    return render(request, "consortium/member_detail.html", context)


@login_required
@require_POST
def token_issue(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    member = get_object_or_404(Member.objects.scoped(actor.scope), pk=pk)
    form = IssueTokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The token was not issued: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("member_detail", pk=member.pk)
    try:
        token, plaintext = actions.issue_api_token(actor, member=member, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("member_detail", pk=member.pk)
    response = render(request, "consortium/token_issued.html", {"token": token, "plaintext": plaintext})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    token = get_object_or_404(ApiToken.objects.scoped(actor.scope), pk=pk)
    actions.revoke_api_token(actor, token)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("member_detail", pk=token.member_id)


@login_required
@require_POST
def role_grant(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    member = get_object_or_404(Member.objects.scoped(actor.scope), pk=pk)
    form = GrantRoleForm(request.POST)
    user = User.objects.filter(username=form.data.get("username"), is_active=True).first()
    if not form.is_valid() or user is None:
        messages.error(request, _("No active user with that name, or no valid role."))
        return redirect("member_detail", pk=member.pk)
    actions.grant_role(actor, user=user, member=member, role=form.cleaned_data["role"])
    messages.success(request, _("Role granted."))
    return redirect("member_detail", pk=member.pk)


@login_required
@require_POST
def role_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    membership = get_object_or_404(Membership.objects.scoped(actor.scope), pk=pk)
    actions.revoke_role(actor, membership)
    messages.success(request, _("Role revoked."))
    return redirect("member_detail", pk=membership.member_id)


def _filtered_audit(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEntry]]:
    actor = request.actor  # type: ignore[attr-defined]
    form = AuditFilterForm(request.GET or None, actor=actor)
    queryset: QuerySet[AuditEntry] = AuditEntry.objects.scoped(actor.scope).select_related("member")
    if form.is_bound and form.is_valid():
        queryset = form.filter(queryset)
    elif form.is_bound:
        queryset = queryset.none()
    return form, queryset


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    form, queryset = _filtered_audit(request)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "consortium/audit_list.html", {"form": form, "page": page, "query": query.urlencode()})


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered audit log as CSV (UTC timestamps, ISO 8601), streamed."""
    _form, queryset = _filtered_audit(request)
    writer = csv.writer(_Echo())
    header = ["at_utc", "actor", "member", "action", "object_type", "object_id", "object", "before", "after"]

    def rows() -> Any:
        yield writer.writerow(header)
        for entry in queryset.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    entry.at.astimezone(UTC).isoformat(),
                    entry.actor_label,
                    entry.member.name if entry.member else "",
                    entry.action,
                    entry.object_type,
                    entry.object_id,
                    entry.object_repr,
                    json.dumps(entry.before, ensure_ascii=False) if entry.before is not None else "",
                    json.dumps(entry.after, ensure_ascii=False) if entry.after is not None else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response
