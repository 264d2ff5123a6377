"""Test factories. They build objects through the actions, like the product does."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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
    return actions.issue_api_token(SYSTEM, member=member, name=name or f"token {next(_counter)}", can_write=can_write)


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


# --- water -------------------------------------------------------------------------------------


def make_zone(member: Member, code: str = "Z1"):  # type: ignore[no-untyped-def]
    from gmina.water import actions as water

    return water.create_zone(SYSTEM, member=member, code=code, name=f"Strefa {code}")


def make_meter(member: Member, serial: str, *, zone=None, device_key: str = "", **details):  # type: ignore[no-untyped-def]

    from gmina.water import actions as water

    zone = zone or make_zone(member, f"Z-{serial}")
    point = water.create_service_point(SYSTEM, member=member, code=f"PP-{serial}", zone=zone)
    return water.register_meter(
        SYSTEM,
        member=member,
        serial=serial,
        service_point=point,
        device_key=device_key,
        installed_at=datetime(2024, 1, 1, tzinfo=UTC),
        **details,
    )


def populate_water(tenant: Tenant) -> None:
    """One of everything the water app stores, named with the tenant's marker (isolation harness)."""
    from gmina.water import actions as water
    from gmina.water.models import CustomerContact
    from gmina.water.store import ingest_batches
    from tests.water.batches import batch, flag, reading

    mark = tenant.marker
    zone = water.create_zone(SYSTEM, member=tenant.member, code=f"{mark}-Z", name=f"Strefa {mark}")
    meter = make_meter(tenant.member, f"{mark}-M1", zone=zone, device_key=f"{mark.lower()}-radio")
    inlet = water.register_meter(SYSTEM, member=tenant.member, serial=f"{mark}-INLET", kind="zone", zone=zone)
    water.add_boundary_meter(SYSTEM, zone=zone, meter=inlet, direction="in")
    CustomerContact.all_tenants.create(
        member=tenant.member, service_point=meter.service_point, customer_ref=f"{mark}-C1", name=f"Jan {mark}"
    )
    water.add_mqtt_subscription(
        SYSTEM, member=tenant.member, topic=f"gmina/{mark.lower()}/#", payload_format="wmbusmeters"
    )
    rows = [reading(meter.serial, h, 1000 + 10 * h, flags=[flag("leak")] if h == 2 else []) for h in range(4)]
    rows.append(reading(f"{mark}-UNKNOWN", 1, 5))
    ingest_batches(SYSTEM, tenant.member, [batch(rows)], source="api", label=f"{mark} import")
    populate_alerts(tenant, meter)


def populate_alerts(tenant: Tenant, meter: Any) -> None:
    """A detection run and one open alert on the tenant's meter (evidence carries the marker)."""
    from gmina.water.detection import merge_cases, run_detection

    as_of = datetime(2025, 3, 2, tzinfo=UTC)
    run_detection(SYSTEM, tenant.member, as_of=as_of)
    case = {
        "alert_class": "customer_leak",
        "location_kind": "meter",
        "location_id": meter.pk,
        "start": as_of - timedelta(days=1),
        "end": None,
        "confidence": 0.9,
        "volume_m3": 3.0,
        "cost_pln": 36.0,
        "detectors": "customer_leak",
        "evidence": json.dumps({"note": f"{tenant.marker} continuous flow"}),
    }
    merge_cases(tenant.member.pk, [case], as_of, set())
