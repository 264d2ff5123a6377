"""The demo: the consortium (members, users of every role) and each gmina's water data."""

from __future__ import annotations

from gmina.consortium.actors import Actor
from gmina.consortium.demo import DEMO_MEMBERS, DemoLogin, seed_consortium
from gmina.consortium.models import Member, MemberKind
from gmina.water.demo import seed_water


def seed_demo() -> tuple[list[DemoLogin], str | None]:
    logins, token = seed_consortium()
    actor = Actor.system("demo")
    for name, kind, _teryt, prefix in DEMO_MEMBERS:
        if kind == MemberKind.GMINA:
            seed_water(actor, Member.all_tenants.get(name=name), prefix)
    return logins, token
