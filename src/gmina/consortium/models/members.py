from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from gmina.consortium.scoping import TenantManager, TenantModel


class MemberKind(models.TextChoices):
    GMINA = "gmina", _("gmina")
    POWIAT = "powiat", _("powiat")
    OTHER = "other", _("other")


# TERYT (TERC) identifiers: a powiat has 4 digits (WWPP), a gmina 7 (WWPPGGR, R = gmina type 1-9).
_TERYT_LENGTH = {MemberKind.GMINA: 7, MemberKind.POWIAT: 4}


class Role(models.TextChoices):
    OPERATOR = "operator", _("water operator")
    CLERK = "clerk", _("clerk")
    MANAGER = "manager", _("manager")
    VIEWER = "viewer", _("viewer")


class Member(models.Model):
    """A consortium member: the tenant. Its own rows are scoped by primary key."""

    tenant_field: ClassVar[str] = "pk"

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=MemberKind.choices)
    teryt = models.CharField(_("TERYT code"), max_length=7, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    all_tenants = models.Manager()
    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(
                fields=["teryt"], condition=~models.Q(teryt=""), name="consortium_member_teryt_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        expected = _TERYT_LENGTH.get(MemberKind(self.kind)) if self.kind else None
        if self.teryt and not self.teryt.isdigit():
            raise ValidationError({"teryt": _("A TERYT code has digits only.")})
        if expected and len(self.teryt) != expected:
            raise ValidationError(
                {"teryt": _("A TERYT code of a %(kind)s has %(n)d digits.") % {"kind": self.kind, "n": expected}}
            )
        if self.kind == MemberKind.GMINA and self.teryt[-1:] not in set("123456789"):
            raise ValidationError({"teryt": _("The last digit of a gmina's TERYT code is its type (1-9).")})


class User(AbstractUser):
    """A person. ``is_staff`` marks competence-centre staff, who act across all members."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_center_staff(self) -> bool:
        return bool(self.is_active and self.is_staff)


class Membership(TenantModel):
    """A user's role in one member."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        ordering = ["member__name", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "member"], name="consortium_membership_one_role_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.member}: {self.get_role_display()}"
