"""The competence centre's admin. Only centre staff (``is_staff``) can sign in to it (Django's rule).

Changes made here go through the same actions as everywhere else, so they are audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gmina.consortium import actions
from gmina.consortium.actors import Actor
from gmina.consortium.audit import record_audit, snapshot
from gmina.consortium.models import ApiToken, AuditEntry, Member, Membership, User

admin.site.site_header = "gmina"
admin.site.site_title = "gmina"


class CenterStaffPermissions:
    """Competence-centre staff may use these registries; nobody else may enter the admin."""

    def _is_center_staff(self, request: HttpRequest) -> bool:
        return bool(getattr(request.user, "is_center_staff", False))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_center_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_center_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_center_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_center_staff(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_center_staff(request)


class AuditedAdmin(CenterStaffPermissions, admin.ModelAdmin):  # type: ignore[type-arg]
    """A registry edited by centre staff: each save or delete is one transaction with its audit row."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = snapshot(type(obj)._base_manager.get(pk=obj.pk)) if change else None
            super().save_model(request, obj, form, change)
            verb = "admin_change" if change else "admin_create"
            record_audit(
                Actor.for_user(request.user),
                verb,
                obj,
                member=getattr(obj, "member_id", None),
                before=before,
                after=snapshot(obj),
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            record_audit(
                Actor.for_user(request.user),
                "admin_delete",
                obj,
                member=getattr(obj, "member_id", None),
                before=snapshot(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyAdmin(CenterStaffPermissions, admin.ModelAdmin):  # type: ignore[type-arg]
    """Data written only by the product's own paths (imports, the store): viewable, never edited here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Member)
class MemberAdmin(CenterStaffPermissions, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "kind", "teryt", "active", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "teryt"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # members are deactivated, never deleted: their audit history stays

    def save_model(self, request: HttpRequest, obj: Member, form: Any, change: bool) -> None:
        actor = Actor.for_user(request.user)
        fields = {name: getattr(obj, name) for name in ("name", "kind", "teryt", "active")}
        saved = actions.update_member(actor, obj, **fields) if change else actions.create_member(actor, **fields)
        obj.pk = saved.pk


@admin.register(User)
class UserAdmin(CenterStaffPermissions, DjangoUserAdmin):  # type: ignore[type-arg]
    list_display = ["username", "email", "is_staff", "is_active", "last_login"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # users are deactivated, never deleted: the audit log refers to them

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        password_changed = "password" in form.changed_data or "password1" in form.changed_data
        actions.save_user(Actor.for_user(request.user), obj, password_changed=password_changed)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """Django's password form, with the change and its audit row in one transaction."""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.get(pk=id)
                actions.record_password_change(Actor.for_user(request.user), user)
        return response


@admin.register(Membership)
class MembershipAdmin(CenterStaffPermissions, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "member", "role", "granted_at"]
    list_filter = ["role", "member"]
    autocomplete_fields = ["user"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        saved = actions.grant_role(Actor.for_user(request.user), user=obj.user, member=obj.member, role=obj.role)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        actions.revoke_role(Actor.for_user(request.user), obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


@admin.register(ApiToken)
class ApiTokenAdmin(CenterStaffPermissions, admin.ModelAdmin):  # type: ignore[type-arg]
    """Tokens are issued in the member's page (the secret is shown once); here they are listed and revoked."""

    list_display = ["name", "member", "key_id", "can_write", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["member", "can_write"]
    readonly_fields = [f.name for f in ApiToken._meta.fields]
    actions = ["revoke_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke selected tokens"))
    def revoke_selected(self, request: HttpRequest, queryset: Any) -> None:
        actor = Actor.for_user(request.user)
        for token in queryset:
            actions.revoke_api_token(actor, token)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "member", "action", "object_type", "object_repr"]
    list_filter = ["action", "member", "object_type"]
    search_fields = ["actor_label", "object_repr", "action"]
    date_hierarchy = "at"
