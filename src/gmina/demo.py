"""The demo: the consortium (members, users of every role) and each gmina's water data."""

from __future__ import annotations

from gmina.consortium.actors import Actor
from gmina.consortium.demo import DEMO_MEMBERS, DemoLogin, seed_consortium
from gmina.consortium.models import Member, MemberKind
from gmina.water.demo import seed_water


def seed_demo() -> tuple[list[DemoLogin], str | None, list[str]]:
    """Seed everything (idempotent); returns the logins, a fresh API token, and a line per seeded gmina."""
    logins, token = seed_consortium()
    actor = Actor.system("demo")
    notes = []
    for name, kind, _teryt, prefix in DEMO_MEMBERS:
        if kind == MemberKind.GMINA:
            water = seed_water(actor, Member.all_tenants.get(name=name), prefix)
            if water is not None:
                notes.append(
                    f"{name}: {water.meters} meters, {water.readings:,} readings over {water.days} days, "
                    f"{water.injected_events} simulated events, {water.alerts_open} open alerts"
                )
    return logins, token, notes
