from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from gmina.consortium.scoping import TenantQuerySet

# Readable names of the audited actions; each app adds its own with ``register_action_labels``.
ACTION_LABELS: dict[str, Any] = {
    "create_member": _("member created"),
    "update_member": _("member changed"),
    "create_user": _("user created"),
    "update_user": _("user changed"),
    "set_password": _("password set"),
    "grant_role": _("role granted"),
    "revoke_role": _("role revoked"),
    "issue_api_token": _("API token issued"),
    "revoke_api_token": _("API token revoked"),
    "log_in": _("signed in"),
}


def register_action_labels(labels: dict[str, Any]) -> None:
    """Let another app name its actions for the audit log's UI."""
    ACTION_LABELS.update(labels)


class AppendOnlyError(RuntimeError):
    """The audit log has no update or delete path."""


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"the audit log is append-only: {what} refused")


class AppendOnlyMixin:
    """No update or delete path through a queryset."""

    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("update")

    def delete(self) -> NoReturn:
        _refuse("delete")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("bulk update")


class AuditQuerySet(AppendOnlyMixin, TenantQuerySet):
    pass


class UnscopedAuditQuerySet(AppendOnlyMixin, models.QuerySet):  # type: ignore[type-arg]
    pass


class AuditEntry(models.Model):
    """Who did what, when (UTC), in which member, with the object's state before and after.

    Written only by :func:`gmina.consortium.audit.record_audit` inside the action's transaction.
    On PostgreSQL a trigger also refuses UPDATE and DELETE on the table.
    """

    tenant_field = "member"

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    actor_token = models.ForeignKey(
        "consortium.ApiToken", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=200)
    member = models.ForeignKey(
        "consortium.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("member"),
    )
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)

    all_tenants = UnscopedAuditQuerySet.as_manager()
    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["member", "-at"], name="consortium_audit_member_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete")

    @property
    def action_label(self) -> Any:
        return ACTION_LABELS.get(self.action, self.action)
