"""The meter lookups a process keeps between imports: reused while nothing changed, never stale.

Every change that could alter a lookup (a meter added, renamed, moved to another zone; a service
point's zone; a boundary meter; a device assignment), made through the ORM, the actions or plain
SQL, changes the database's stamp, and the next import looks up again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection

from gmina.water import actions as water
from gmina.water.models import Meter, ServicePoint
from gmina.water.store import ingest_batches, resolve
from tests.factories import SYSTEM, Tenant, make_meter, make_zone
from tests.water.batches import T0, batch, reading

pytestmark = pytest.mark.django_db


@pytest.fixture
def lookups() -> Iterator[list[Any]]:
    """Every lookup query the resolver sends (its serial and zone queries go through ``_fetch``)."""
    sent: list[Any] = []
    real = resolve._fetch

    def counting(sql: str, values: list[Any], member_id: int) -> list[tuple[Any, ...]]:
        sent.append(values)
        return real(sql, values, member_id)

    with patch.object(resolve, "_fetch", counting):
        yield sent


def ingest(tenant: Tenant, rows: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    return ingest_batches(SYSTEM, tenant.member, [batch(rows)], source="api", label="test")


def test_known_meters_are_not_looked_up_again(tenant_a: Tenant, lookups: list[Any]) -> None:
    meters = [make_meter(tenant_a.member, f"K{i}") for i in range(3)]
    first = ingest(tenant_a, [reading(f"K{i}", 0, 100) for i in range(3)])
    assert first.accepted == 3 and len(lookups) == 1
    second = ingest(tenant_a, [reading(f"K{i}", 1, 110) for i in range(3)])
    assert second.accepted == 3 and len(lookups) == 1  # nothing changed: no lookup query at all
    assert second.batch.zones == sorted({m.service_point.zone_id for m in meters})
    Meter.all_tenants.filter(pk=meters[0].pk).update(status="removed")  # a column the lookup does not read
    assert ingest(tenant_a, [reading("K0", 2, 120)]).accepted == 1 and len(lookups) == 1


def test_a_new_meter_is_found_after_its_serial_was_unknown(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "K0")
    unknown = ingest(tenant_a, [reading("K0", 0, 100), reading("LATE", 0, 100)])
    assert (unknown.accepted, unknown.quarantined) == (1, 1)
    make_meter(tenant_a.member, "LATE")
    assert ingest(tenant_a, [reading("LATE", 1, 110)]).accepted == 1


def test_a_renamed_meter_answers_to_its_new_serial_only(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "OLD")
    assert ingest(tenant_a, [reading("OLD", 0, 100)]).accepted == 1
    Meter.all_tenants.filter(pk=meter.pk).update(serial="NEW")
    result = ingest(tenant_a, [reading("OLD", 1, 110), reading("NEW", 1, 110)])
    assert (result.accepted, result.quarantined) == (1, 1)


def test_plain_sql_changes_are_seen_too(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "SQL1")
    assert ingest(tenant_a, [reading("SQL1", 0, 100)]).accepted == 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE water_meter SET serial = %s WHERE id = %s", ["SQL2", meter.pk])
    result = ingest(tenant_a, [reading("SQL2", 1, 110)])
    assert result.accepted == 1


def test_zone_changes_reach_the_batch_zones(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "Z1")
    Meter.all_tenants.filter(pk=meter.pk).update(zone=None)  # measured through its service point's zone
    before = ingest(tenant_a, [reading("Z1", 0, 100)])
    assert before.batch.zones == [meter.service_point.zone_id]
    elsewhere = make_zone(tenant_a.member, "ELSEWHERE")
    ServicePoint.all_tenants.filter(pk=meter.service_point_id).update(zone=elsewhere)
    assert ingest(tenant_a, [reading("Z1", 1, 110)]).batch.zones == [elsewhere.pk]
    bounded = make_zone(tenant_a.member, "BOUNDED")
    water.add_boundary_meter(SYSTEM, zone=bounded, meter=meter, direction="in")
    assert ingest(tenant_a, [reading("Z1", 2, 120)]).batch.zones == sorted([elsewhere.pk, bounded.pk])


def test_a_device_attached_later_resolves(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "D1")
    refused = ingest(tenant_a, [reading("radio-1", 0, 100, kind="device")])
    assert refused.quarantined == 1
    water.attach_device(SYSTEM, meter=meter, device_key="radio-1", at=T0)
    assert ingest(tenant_a, [reading("radio-1", 1, 110, kind="device")]).accepted == 1


def test_members_keep_separate_directories(tenant_a: Tenant, tenant_b: Tenant) -> None:
    make_meter(tenant_a.member, "SAME")
    make_meter(tenant_b.member, "SAME")
    a = ingest(tenant_a, [reading("SAME", 0, 100)])
    b = ingest(tenant_b, [reading("SAME", 0, 100)])
    assert a.accepted == b.accepted == 1
    stored = {m.member_id: m.pk for m in Meter.all_tenants.filter(serial="SAME")}
    assert set(a.batch.readings.values_list("meter_id", flat=True)) == {stored[tenant_a.member.pk]}
    assert set(b.batch.readings.values_list("meter_id", flat=True)) == {stored[tenant_b.member.pk]}


def test_without_a_stamp_nothing_is_kept(tenant_a: Tenant, lookups: list[Any]) -> None:
    make_meter(tenant_a.member, "NS")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM water_meterdirectorystamp")  # as a test runner's flush leaves it
    ingest(tenant_a, [reading("NS", 0, 100)])
    ingest(tenant_a, [reading("NS", 1, 110)])
    assert len(lookups) == 2
