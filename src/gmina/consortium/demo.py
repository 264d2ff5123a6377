"""The demo consortium: members, a user of every role in each, one competence-centre account.

Everything is created through the actions, so the demo's audit log shows how it was built.
"""

from __future__ import annotations

from dataclasses import dataclass

from gmina.consortium import actions
from gmina.consortium.actors import Actor
from gmina.consortium.models import Member, MemberKind, Role, User

DEMO_PASSWORD = "demo-gmina-2026"  # noqa: S105 - printed by `gmina demo`; refused in production mode

# Fictional members; TERYT codes have the right shape but are made up.
DEMO_MEMBERS = [
    ("Gmina Zielona Dolina", MemberKind.GMINA, "3021052", "zd"),
    ("Gmina Brzozów Wielki", MemberKind.GMINA, "3021063", "bw"),
    ("Powiat Nadrzeczny", MemberKind.POWIAT, "3021", "pn"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    member: str
    role: str


def seed_consortium() -> tuple[list[DemoLogin], str | None]:
    """Create the demo consortium once; returns the logins and, on first run, one API token."""
    actor = Actor.system("demo")
    logins = [DemoLogin("centrum", "*", "competence centre")]
    first_run = not User.objects.filter(username="centrum").exists()
    if first_run:
        actions.create_user(actor, username="centrum", password=DEMO_PASSWORD, center_staff=True)
    token_plaintext = None
    for name, kind, teryt, prefix in DEMO_MEMBERS:
        member = Member.all_tenants.filter(name=name).first() or actions.create_member(
            actor, name=name, kind=kind, teryt=teryt
        )
        for role in Role:
            username = f"{prefix}.{role.value}"
            user = User.objects.filter(username=username).first() or actions.create_user(
                actor, username=username, password=DEMO_PASSWORD
            )
            if first_run:
                actions.grant_role(actor, user=user, member=member, role=role.value)
            logins.append(DemoLogin(username, name, role.value))
        if first_run and token_plaintext is None:
            _token, token_plaintext = actions.issue_api_token(actor, member=member, name="demo gateway", can_write=True)
    return logins, token_plaintext
