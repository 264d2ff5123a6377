"""Machine authentication by per-member API tokens: hashed at rest, revocable, no detail leaks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gmina.consortium import actions
from gmina.consortium.actors import Actor
from gmina.consortium.models import ApiToken, AuditEntry
from tests.factories import SYSTEM, Tenant, make_token

WHOAMI = "/api/v1/whoami/"


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.django_db
def test_a_valid_token_acts_for_its_member_only(tenant_a: Tenant, tenant_b: Tenant) -> None:
    response = bearer(tenant_a.token_plaintext).get(WHOAMI)
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "token" and not body["all_members"]
    assert [m["id"] for m in body["members"]] == [tenant_a.member.pk]
    assert ApiToken.all_tenants.get(pk=tenant_a.token.pk).last_used_at is not None


@pytest.mark.django_db
def test_only_a_keyed_hash_is_stored(tenant_a: Tenant) -> None:
    token = ApiToken.all_tenants.get(pk=tenant_a.token.pk)
    secret = tenant_a.token_plaintext.split("_", 2)[2]
    stored = " ".join(str(value) for value in ApiToken.all_tenants.filter(pk=token.pk).values().first().values())
    assert secret not in stored and tenant_a.token_plaintext not in stored
    assert len(token.digest) == 64 and token.matches(tenant_a.token_plaintext)
    audit_text = " ".join(str(e.after) for e in AuditEntry.all_tenants.filter(action="issue_api_token"))
    assert secret not in audit_text and "digest" not in audit_text


def _bad_headers(tenant: Tenant) -> dict[str, str]:
    plaintext = tenant.token_plaintext
    prefix, key_id, secret = plaintext.split("_", 2)
    return {
        "unknown key id": f"Bearer {prefix}_ffffffffffff_{secret}",
        "wrong secret": f"Bearer {prefix}_{key_id}_{secret[:-2]}xx",
        "garbage": "Bearer not-a-token",
        "two words": f"Bearer {plaintext} extra",
        "no secret": f"Bearer {prefix}_{key_id}_",
        "non-ascii": "Bearer gmina_\xe9\xe8_\xf3",  # WSGI headers arrive latin-1 decoded
    }


@pytest.mark.django_db
def test_every_bad_token_gets_the_same_401(tenant_a: Tenant) -> None:
    missing = Client().get(WHOAMI)
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    bodies = set()
    for case, header in _bad_headers(tenant_a).items():
        response = Client(HTTP_AUTHORIZATION=header).get(WHOAMI)
        assert response.status_code == 401, case
        bodies.add(response.content)
    assert bodies == {b'{"detail":"Invalid or missing credentials."}'}


@pytest.mark.django_db
def test_revoked_expired_and_inactive_member_tokens_are_refused_alike(tenant_a: Tenant, tenant_b: Tenant) -> None:
    expiring, expiring_plain = make_token(tenant_a.member)
    ApiToken.all_tenants.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_plain = make_token(tenant_a.member)
    actions.revoke_api_token(SYSTEM, revoked)
    actions.set_member_active(SYSTEM, tenant_b.member, False)
    expected = bearer(tenant_a.token_plaintext.replace("_", "_f", 1)).get(WHOAMI).content
    for plaintext in (expiring_plain, revoked_plain, tenant_b.token_plaintext):
        response = bearer(plaintext).get(WHOAMI)
        assert response.status_code == 401
        assert response.content == expected
    assert bearer(tenant_a.token_plaintext).get(WHOAMI).status_code == 200


@pytest.mark.django_db
def test_a_read_only_token_cannot_write(tenant_a: Tenant) -> None:
    _token, plaintext = make_token(tenant_a.member, can_write=False)
    response = bearer(plaintext).post(
        reverse("apitoken-revoke", kwargs={"pk": tenant_a.token.pk}), content_type="application/json"
    )
    assert response.status_code == 403
    assert ApiToken.all_tenants.get(pk=tenant_a.token.pk).revoked_at is None


@pytest.mark.django_db
def test_a_token_cannot_issue_tokens(tenant_a: Tenant) -> None:
    response = bearer(tenant_a.token_plaintext).post(
        reverse("apitoken-list"), {"member": tenant_a.member.pk, "name": "x"}, content_type="application/json"
    )
    assert response.status_code in (400, 403)
    assert not ApiToken.all_tenants.filter(name="x").exists()


@pytest.mark.django_db
def test_a_manager_issues_and_revokes_through_the_api(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(tenant_a.manager)
    created = client.post(
        reverse("apitoken-list"),
        {"member": tenant_a.member.pk, "name": "wmbus gateway"},
        content_type="application/json",
    )
    assert created.status_code == 201
    plaintext = created.json()["token"]
    assert bearer(plaintext).get(WHOAMI).status_code == 200
    revoked = client.post(reverse("apitoken-revoke", kwargs={"pk": created.json()["id"]}))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert bearer(plaintext).get(WHOAMI).status_code == 401
    actions_logged = set(
        AuditEntry.all_tenants.filter(
            object_type="consortium.apitoken", object_id=str(created.json()["id"])
        ).values_list("action", flat=True)
    )
    assert actions_logged == {"issue_api_token", "revoke_api_token"}


@pytest.mark.django_db
def test_roles_below_manager_cannot_manage_tokens(tenant_a: Tenant) -> None:
    for role in ("operator", "clerk", "viewer"):
        client = Client()
        client.force_login(tenant_a.users[role])
        response = client.post(
            reverse("apitoken-list"),
            {"member": tenant_a.member.pk, "name": role},
            content_type="application/json",
        )
        assert response.status_code == 403, role
    assert Actor.for_user(tenant_a.users["viewer"]).scope.roles == {tenant_a.member.pk: "viewer"}
