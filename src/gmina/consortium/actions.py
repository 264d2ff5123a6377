"""Every state change of the consortium app, as verb-named actions.

Each action checks the actor's right, runs in one transaction and appends one audit row with
the state before and after. Views, the API, admin, commands and jobs all call these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gmina.consortium.actors import Actor
from gmina.consortium.audit import record_audit, snapshot
from gmina.consortium.models import ApiToken, Member, Membership, Role, User
from gmina.consortium.models.tokens import digest_token, new_token_material

__all__ = [
    "create_member",
    "create_user",
    "grant_role",
    "issue_api_token",
    "record_login",
    "record_password_change",
    "revoke_api_token",
    "revoke_role",
    "save_user",
    "set_member_active",
    "update_member",
]

_MEMBER_FIELDS = ("name", "kind", "teryt", "active")
_USER_FIELDS = ("username", "email", "first_name", "last_name", "is_staff", "is_superuser", "is_active")


@transaction.atomic
def create_member(actor: Actor, *, name: str, kind: str, teryt: str = "", active: bool = True) -> Member:
    actor.require_global()
    member = Member(name=name.strip(), kind=kind, teryt=teryt.strip(), active=active)
    member.full_clean()
    member.save()
    record_audit(actor, "create_member", member, member=member, after=snapshot(member, _MEMBER_FIELDS))
    return member


@transaction.atomic
def update_member(actor: Actor, member: Member, **changes: Any) -> Member:
    actor.require_global()
    unknown = set(changes) - set(_MEMBER_FIELDS)
    if unknown:
        raise ValueError(f"update_member: unknown fields {sorted(unknown)}")
    member = Member.all_tenants.select_for_update().get(pk=member.pk)
    before = snapshot(member, _MEMBER_FIELDS)
    for field, value in changes.items():
        setattr(member, field, value)
    member.full_clean()
    member.save()
    record_audit(actor, "update_member", member, member=member, before=before, after=snapshot(member, _MEMBER_FIELDS))
    return member


def set_member_active(actor: Actor, member: Member, active: bool) -> Member:
    """Deactivating a member locks its users and tokens out; nothing is deleted."""
    return update_member(actor, member, active=active)


@transaction.atomic
def create_user(
    actor: Actor,
    *,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    center_staff: bool = False,
) -> User:
    actor.require_global()
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.is_staff = center_staff
    user.is_superuser = False
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    record_audit(actor, "create_user", user, member=None, after=snapshot(user, _USER_FIELDS))
    return user


@transaction.atomic
def save_user(actor: Actor, user: User, *, password_changed: bool = False) -> User:
    """Save a user edited in a form (the admin): audited as ``create_user`` or ``update_user``."""
    actor.require_global()
    if user.is_superuser and not (actor.user is not None and actor.user.is_superuser):
        raise PermissionDenied(_("Only a superuser may create or edit a superuser."))
    adding = user._state.adding
    before = None if adding else snapshot(User.objects.get(pk=user.pk), _USER_FIELDS)
    user.full_clean(exclude=["password"])
    user.save()
    after = snapshot(user, _USER_FIELDS)
    if password_changed:
        after["password_changed"] = True
    record_audit(actor, "create_user" if adding else "update_user", user, member=None, before=before, after=after)
    return user


@transaction.atomic
def grant_role(actor: Actor, *, user: User, member: Member, role: str) -> Membership:
    """Give ``user`` a role in ``member`` (replacing the role they had there)."""
    actor.require_role(member.pk, Role.MANAGER)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    membership = Membership.all_tenants.select_for_update().filter(user=user, member=member).first()
    before = snapshot(membership, ("user", "member", "role")) if membership else None
    if membership is None:
        membership = Membership(user=user, member=member, role=role)
    else:
        membership.role = role
    membership.save()
    record_audit(
        actor,
        "grant_role",
        membership,
        member=member,
        before=before,
        after=snapshot(membership, ("user", "member", "role")),
    )
    return membership


@transaction.atomic
def revoke_role(actor: Actor, membership: Membership) -> None:
    actor.require_role(membership.member_id, Role.MANAGER)
    before = snapshot(membership, ("user", "member", "role"))
    record_audit(actor, "revoke_role", membership, member=membership.member_id, before=before)
    Membership.all_tenants.filter(pk=membership.pk).delete()


@transaction.atomic
def issue_api_token(
    actor: Actor,
    *,
    member: Member,
    name: str,
    can_write: bool = False,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it with its plaintext, which is shown once and never stored."""
    actor.require_role(member.pk, Role.MANAGER)
    if actor.token is not None:
        raise ValidationError(_("An API token cannot issue tokens."))
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    key_id, plaintext = new_token_material()
    token = ApiToken(
        member=member,
        name=name.strip(),
        key_id=key_id,
        digest=digest_token(plaintext),
        can_write=can_write,
        expires_at=expires_at,
        created_by=actor.user,
    )
    token.full_clean()
    token.save()
    fields = ("name", "key_id", "can_write", "expires_at")
    record_audit(actor, "issue_api_token", token, member=member, after=snapshot(token, fields))
    return token, plaintext


@transaction.atomic
def revoke_api_token(actor: Actor, token: ApiToken) -> ApiToken:
    actor.require_role(token.member_id, Role.MANAGER)
    token = ApiToken.all_tenants.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    before = snapshot(token, ("revoked_at",))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_audit(
        actor,
        "revoke_api_token",
        token,
        member=token.member_id,
        before=before,
        after=snapshot(token, ("revoked_at",)),
    )
    return token


@transaction.atomic
def record_password_change(actor: Actor, user: User) -> None:
    """A password set by centre staff in the admin (the hash itself is never logged)."""
    actor.require_global()
    record_audit(actor, "set_password", user, member=None, after={"password_changed": True})


@transaction.atomic
def record_login(user: User) -> None:
    """A successful sign-in, so the log shows who was in the system when."""
    actor = Actor.for_user(user)
    record_audit(actor, "log_in", user, member=None, after={"last_login": user.last_login})
