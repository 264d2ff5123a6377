"""The REST ingestion endpoint and the quarantine workflow over the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from gmina.water.models import QuarantinedRecord, Reading
from tests.factories import Tenant, make_meter, make_token

pytestmark = pytest.mark.django_db


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def post_batch(client: Client, readings: list[dict], **params: str):  # type: ignore[no-untyped-def]
    url = reverse("reading-batch") + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
    return client.post(url, json.dumps({"readings": readings}), content_type="application/json")


def test_a_batch_answers_counts_and_reasons_per_record(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    readings = [
        {"meter": "M1", "observed_at": "2025-03-01T00:00:00Z", "index_l": 1000},
        {"meter": "M1", "observed_at": "2025-03-01T01:00:00+01:00", "index_m3": "1.000"},
        {"meter": "M1", "observed_at": "2025-03-01T02:00:00Z", "index_l": 1020},
        {"meter": "NOPE", "observed_at": "2025-03-01T02:00:00Z", "index_l": 5},
        {"meter": "M1", "observed_at": "not a time", "index_l": 5},
    ]
    response = post_batch(bearer(tenant_a.token_plaintext), readings)
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("received", "accepted", "duplicates", "quarantined")} == {
        "received": 5,
        "accepted": 2,
        "duplicates": 1,
        "quarantined": 2,
    }
    reasons = {issue["index"]: issue["reason"] for issue in body["issues"]}
    assert reasons == {3: "unknown_meter", 4: "bad_timestamp"}
    assert Reading.all_tenants.filter(member=tenant_a.member).count() == 2


def test_resending_a_batch_changes_nothing(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    readings = [{"meter": "M1", "observed_at": f"2025-03-01T0{h}:00:00Z", "index_l": 1000 + h} for h in range(5)]
    client = bearer(tenant_a.token_plaintext)
    first = post_batch(client, readings).json()
    second = post_batch(client, readings).json()
    assert (first["accepted"], second["accepted"], second["duplicates"]) == (5, 0, 5)


def test_invalid_json_is_refused_whole_with_line_and_column(tenant_a: Tenant) -> None:
    response = bearer(tenant_a.token_plaintext).post(
        reverse("reading-batch"), b'{"readings": [\n  {"meter": "M1",}\n]}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["line"] == 2 and response.json()["column"] > 0


def test_a_read_only_token_cannot_ingest(tenant_a: Tenant) -> None:
    _token, plaintext = make_token(tenant_a.member, can_write=False)
    response = post_batch(bearer(plaintext), [{"meter": "M1", "observed_at": "2025-03-01T00:00:00Z", "index_l": 1}])
    assert response.status_code == 403


def test_quarantine_fix_and_reprocess_over_the_api(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    client = bearer(tenant_a.token_plaintext)
    post_batch(client, [{"meter": "M-TYPO", "observed_at": "2025-03-01T00:00:00Z", "index_l": 1000}])
    record = QuarantinedRecord.all_tenants.get(member=tenant_a.member)
    fixed = client.post(
        reverse("quarantinedrecord-fix", kwargs={"pk": record.pk}),
        {"meter_ref": "M1", "observed_at": "2025-03-01T00:00:00Z", "index_l": 1000},
        content_type="application/json",
    )
    assert fixed.status_code == 200, fixed.content
    result = client.post(reverse("quarantinedrecord-reprocess"), {"ids": [record.pk]}, content_type="application/json")
    assert result.status_code == 200 and result.json()["accepted"] == 1
    assert QuarantinedRecord.all_tenants.get(pk=record.pk).status == "reprocessed"
    assert Reading.all_tenants.filter(member=tenant_a.member, index_l=1000).exists()


def test_the_openapi_schema_is_published(tenant_a: Tenant) -> None:
    response = bearer(tenant_a.token_plaintext).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/readings/batch/" in paths and "/api/v1/quarantine/{id}/fix/" in paths
