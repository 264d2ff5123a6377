"""Who is acting: a signed-in user, an API token, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from gmina.consortium.scoping import Scope

if TYPE_CHECKING:
    from gmina.consortium.models import ApiToken, User


@dataclass(frozen=True)
class Actor:
    scope: Scope
    label: str
    user: User | None = None
    token: ApiToken | None = None

    @classmethod
    def system(cls, label: str) -> Actor:
        """A job or command acting for the competence centre."""
        return cls(scope=Scope.everything(), label=f"system:{label}")

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        from gmina.consortium.models import Membership

        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls(scope=Scope.nothing(), label="anonymous")
        if user.is_center_staff:
            return cls(scope=Scope.everything(), label=user.get_username(), user=user)
        roles = dict(Membership.all_tenants.filter(user=user, member__active=True).values_list("member_id", "role"))
        return cls(scope=Scope.of_members(roles), label=user.get_username(), user=user)

    @classmethod
    def for_token(cls, token: ApiToken) -> Actor:
        from gmina.consortium.models import Role

        role = Role.OPERATOR if token.can_write else Role.VIEWER
        return cls(scope=Scope.of_members({token.member_id: role}), label=f"token:{token.name}", token=token)

    @property
    def is_global(self) -> bool:
        return self.scope.is_global

    def require_role(self, member_id: int | None, *roles: str) -> None:
        """Raise PermissionDenied unless the actor holds one of ``roles`` in the member."""
        if not self.scope.has_role(member_id, roles):
            raise PermissionDenied(_("You do not have the required role in this member."))

    def require_global(self) -> None:
        if not self.scope.is_global:
            raise PermissionDenied(_("Only competence-centre staff may do this."))
