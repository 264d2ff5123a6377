"""The water pages: upload a file, browse, correct and re-process the quarantine."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gmina.water.models import ImportBatch, QuarantinedRecord, Reading
from tests.factories import Tenant, make_meter

pytestmark = pytest.mark.django_db

GOOD = (
    b"meter,observed_at,index_l\n"
    b"W1,2025-03-01T00:00:00Z,1000\nW1,2025-03-01T01:00:00Z,1010\nW9,2025-03-01T01:00:00Z,5\n"
)


def signed_in(tenant: Tenant, role: str = "operator") -> Client:
    client = Client()
    client.force_login(tenant.users[role])
    return client


def upload(client: Client, tenant: Tenant, body: bytes, name: str = "odczyty.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("water:upload"),
        {"member": tenant.member.pk, "profile": "gmina", "file": SimpleUploadedFile(name, body)},
        follow=True,
    )


def test_upload_stores_and_quarantines_then_shows_the_batch(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "W1")
    response = upload(signed_in(tenant_a), tenant_a, GOOD)
    assert response.status_code == 200
    page = response.content.decode()
    assert "3 / 2 / 0 / 1" in page and "unknown_meter" in page
    assert Reading.all_tenants.filter(member=tenant_a.member).count() == 2


def test_a_broken_file_is_refused_whole_with_line_and_column(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "W1")
    broken = b"meter,observed_at,index_l\nW1,2025-03-01T00:00:00Z,1000\nW1,2025-03-01T01:00:00Z\n"
    response = upload(signed_in(tenant_a), tenant_a, broken)
    page = response.content.decode()
    assert "line 3" in page
    assert not Reading.all_tenants.filter(member=tenant_a.member).exists()
    assert ImportBatch.all_tenants.get(member=tenant_a.member).status == "rejected"


def test_fix_and_reprocess_in_the_ui(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "W1")
    client = signed_in(tenant_a)
    upload(client, tenant_a, GOOD)
    record = QuarantinedRecord.all_tenants.get(member=tenant_a.member)
    detail = client.get(reverse("water:quarantine_detail", kwargs={"pk": record.pk}))
    assert "W9" in detail.content.decode()
    response = client.post(
        reverse("water:quarantine_fix", kwargs={"pk": record.pk}),
        {
            "meter_ref": "W1",
            "ref_kind": "serial",
            "observed_at": "2025-03-01T04:00",
            "index_l": 1050,
            "then": "reprocess",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert QuarantinedRecord.all_tenants.get(pk=record.pk).status == "reprocessed"
    assert Reading.all_tenants.filter(member=tenant_a.member, index_l=1050).exists()


def test_discarding_needs_a_reason_and_keeps_the_record(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "W1")
    client = signed_in(tenant_a)
    upload(client, tenant_a, GOOD)
    record = QuarantinedRecord.all_tenants.get(member=tenant_a.member)
    client.post(reverse("water:quarantine_bulk"), {"ids": [record.pk], "do": "discard", "reason": ""})
    assert QuarantinedRecord.all_tenants.get(pk=record.pk).status == "open"
    client.post(reverse("water:quarantine_bulk"), {"ids": [record.pk], "do": "discard", "reason": "test meter"})
    kept = QuarantinedRecord.all_tenants.get(pk=record.pk)
    assert (kept.status, kept.resolution_note) == ("discarded", "test meter")


def test_viewers_cannot_import(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "W1")
    response = upload(signed_in(tenant_a, "viewer"), tenant_a, GOOD)
    assert response.status_code == 403
    assert not Reading.all_tenants.exists()


def test_pages_render(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "W1")
    client = signed_in(tenant_a)
    upload(client, tenant_a, GOOD)
    for name, kwargs in [
        ("water:overview", {}),
        ("water:zone_list", {}),
        ("water:meter_list", {}),
        ("water:event_list", {}),
        ("water:batch_list", {}),
        ("water:quarantine_list", {}),
        ("water:meter_detail", {"pk": meter.pk}),
        ("water:zone_detail", {"pk": meter.zone_id}),
    ]:
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 200, name
    assert "1,010" in client.get(reverse("water:meter_detail", kwargs={"pk": meter.pk})).content.decode()
