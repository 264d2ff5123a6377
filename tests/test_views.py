"""Browser flows: sign-in, the start page, managing roles and tokens, the admin for centre staff."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gmina.consortium.models import ApiToken, AuditEntry, Member, Membership, User
from tests.factories import PASSWORD, Tenant, make_user


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_sign_in_is_audited_and_lands_on_the_start_page(tenant_a: Tenant) -> None:
    client = Client()
    response = client.post(reverse("login"), {"username": "alphamark-viewer", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Gmina ALPHAMARK" in response.content.decode()
    assert AuditEntry.all_tenants.filter(action="log_in", actor_label="alphamark-viewer").count() == 1


@pytest.mark.django_db
def test_wrong_password_is_refused_without_detail(tenant_a: Tenant) -> None:
    response = Client().post(reverse("login"), {"username": "alphamark-viewer", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not AuditEntry.all_tenants.filter(action="log_in").exists()


@pytest.mark.django_db
def test_pages_need_a_session() -> None:
    for name in ("home", "member_list", "audit_list", "audit_export"):
        response = Client().get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name


@pytest.mark.django_db
def test_a_manager_manages_roles_and_tokens(tenant_a: Tenant) -> None:
    client = signed_in(tenant_a.manager)
    detail = client.get(reverse("member_detail", kwargs={"pk": tenant_a.member.pk})).content.decode()
    assert "alphamark-clerk" in detail and tenant_a.token.key_id in detail

    newcomer = make_user("nowy-pracownik")
    client.post(
        reverse("role_grant", kwargs={"pk": tenant_a.member.pk}),
        {"username": "nowy-pracownik", "role": "clerk"},
    )
    membership = Membership.all_tenants.get(user=newcomer)
    assert membership.role == "clerk" and membership.member == tenant_a.member
    client.post(reverse("role_revoke", kwargs={"pk": membership.pk}))
    assert not Membership.all_tenants.filter(user=newcomer).exists()

    issued = client.post(reverse("token_issue", kwargs={"pk": tenant_a.member.pk}), {"name": "chirpstack"})
    assert issued["Cache-Control"] == "no-store"
    token = ApiToken.all_tenants.get(name="chirpstack")
    assert f"gmina_{token.key_id}_" in issued.content.decode()
    client.post(reverse("token_revoke", kwargs={"pk": token.pk}))
    assert ApiToken.all_tenants.get(pk=token.pk).revoked_at is not None
    logged = list(AuditEntry.all_tenants.filter(actor=tenant_a.manager).values_list("action", flat=True))
    assert sorted(logged) == ["grant_role", "issue_api_token", "revoke_api_token", "revoke_role"]


@pytest.mark.django_db
def test_other_roles_see_the_member_but_cannot_manage_it(tenant_a: Tenant) -> None:
    client = signed_in(tenant_a.users["operator"])
    detail = client.get(reverse("member_detail", kwargs={"pk": tenant_a.member.pk})).content.decode()
    assert "Gmina ALPHAMARK" in detail and tenant_a.token.key_id not in detail
    response = client.post(reverse("token_issue", kwargs={"pk": tenant_a.member.pk}), {"name": "sneaky"})
    assert response.status_code == 403
    response = client.post(reverse("token_revoke", kwargs={"pk": tenant_a.token.pk}))
    assert response.status_code == 403
    assert not ApiToken.all_tenants.filter(name="sneaky").exists()
    assert ApiToken.all_tenants.get(pk=tenant_a.token.pk).revoked_at is None


@pytest.mark.django_db
def test_centre_staff_see_every_member_and_use_the_admin(tenant_a: Tenant, tenant_b: Tenant) -> None:
    staff = make_user("centrum-1", staff=True)
    client = signed_in(staff)
    listing = client.get(reverse("member_list")).content.decode()
    assert "Gmina ALPHAMARK" in listing and "Gmina BETAMARK" in listing
    changelist = client.get(reverse("admin:consortium_member_changelist"))
    assert changelist.status_code == 200
    response = client.post(
        reverse("admin:consortium_member_add"),
        {"name": "Gmina Nowa", "kind": "gmina", "teryt": "0612011", "active": "on"},
    )
    assert response.status_code == 302
    member = Member.all_tenants.get(name="Gmina Nowa")
    entry = AuditEntry.all_tenants.get(action="create_member", member=member)
    assert entry.actor == staff
    assert client.get(reverse("admin:consortium_auditentry_changelist")).status_code == 200
    assert client.post(reverse("admin:consortium_auditentry_delete", args=[entry.pk])).status_code == 403


@pytest.mark.django_db
def test_admin_rejects_a_bad_teryt_code(center_user: User) -> None:
    client = signed_in(center_user)
    response = client.post(
        reverse("admin:consortium_member_add"), {"name": "Gmina Zła", "kind": "gmina", "teryt": "12"}
    )
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not Member.all_tenants.filter(name="Gmina Zła").exists()


@pytest.mark.django_db
def test_user_changes_in_the_admin_are_audited(center_user: User) -> None:
    client = signed_in(center_user)
    added = client.post(
        reverse("admin:consortium_user_add"),
        {
            "username": "nowa.osoba",
            "password1": "Zx9-long-password!",
            "password2": "Zx9-long-password!",
            "usable_password": "true",
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    user = User.objects.get(username="nowa.osoba")
    assert AuditEntry.all_tenants.filter(action="create_user", object_id=str(user.pk), actor=center_user).exists()
    changed = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "An0ther-long-pass!", "password2": "An0ther-long-pass!", "usable_password": "true"},
    )
    assert changed.status_code == 302
    entry = AuditEntry.all_tenants.get(action="set_password", object_id=str(user.pk))
    assert "An0ther" not in str(entry.after)
    assert client.post(reverse("admin:consortium_user_delete", args=[user.pk])).status_code == 403


def test_static_files_are_served_without_a_cdn(client: Client) -> None:
    response = client.get("/static/gmina/site.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)
