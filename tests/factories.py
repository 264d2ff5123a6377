"""Test factories. They build objects through the actions, like the product does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from gmina.consortium import actions
from gmina.consortium.actors import Actor
from gmina.consortium.models import ApiToken, Member, MemberKind, Membership, Role, User

SYSTEM = Actor.system("tests")
PASSWORD = "correct-horse-battery-9"
_counter = itertools.count(1)


def make_member(name: str | None = None, kind: str = MemberKind.GMINA) -> Member:
    n = next(_counter)
    teryt = f"{n:06d}1" if kind == MemberKind.GMINA else ""
    return actions.create_member(SYSTEM, name=name or f"Gmina {n}", kind=kind, teryt=teryt)


def make_user(username: str | None = None, *, staff: bool = False) -> User:
    return actions.create_user(
        SYSTEM, username=username or f"user{next(_counter)}", password=PASSWORD, center_staff=staff
    )


def grant(user: User, member: Member, role: str) -> Membership:
    return actions.grant_role(SYSTEM, user=user, member=member, role=role)


def make_token(member: Member, *, can_write: bool = False, name: str | None = None) -> tuple[ApiToken, str]:
    return actions.issue_api_token(
        SYSTEM, member=member, name=name or f"token {next(_counter)}", can_write=can_write
    )


@dataclass
class Tenant:
    """One member with a user of every role and a write token, all named with ``marker``."""

    marker: str
    member: Member
    users: dict[str, User]
    token: ApiToken
    token_plaintext: str

    @property
    def manager(self) -> User:
        return self.users[Role.MANAGER]


def make_tenant(marker: str) -> Tenant:
    member = make_member(f"Gmina {marker}")
    users = {}
    for role in Role:
        user = make_user(f"{marker.lower()}-{role.value}")
        grant(user, member, role.value)
        users[role.value] = user
    token, plaintext = make_token(member, can_write=True, name=f"{marker} gateway")
    return Tenant(marker, member, users, token, plaintext)
