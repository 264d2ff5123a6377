"""The audit log: one row per action in the action's transaction; append-only everywhere."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from gmina.consortium import actions
from gmina.consortium.actors import Actor
from gmina.consortium.audit import record_audit
from gmina.consortium.models import AuditEntry, Member, MemberKind
from gmina.consortium.models.audit import AppendOnlyError
from tests.factories import Tenant, make_member

STAFF = Actor.system("test")


@pytest.mark.django_db
def test_each_action_writes_one_row_with_before_and_after() -> None:
    start = AuditEntry.all_tenants.count()
    member = actions.create_member(STAFF, name="Gmina Audytowa", kind=MemberKind.GMINA, teryt="1234561")
    actions.update_member(STAFF, member, name="Gmina Audytowana")
    entries = list(AuditEntry.all_tenants.order_by("id"))[start:]
    assert [e.action for e in entries] == ["create_member", "update_member"]
    created, updated = entries
    assert created.before is None and created.after["name"] == "Gmina Audytowa"
    assert updated.before["name"] == "Gmina Audytowa" and updated.after["name"] == "Gmina Audytowana"
    assert updated.member_id == member.pk and updated.actor_label == "system:test"
    assert updated.at.utcoffset().total_seconds() == 0  # stored and returned in UTC
    assert updated.object_type == "consortium.member" and updated.object_id == str(member.pk)


@pytest.mark.django_db
def test_a_failed_action_leaves_no_row_and_no_change() -> None:
    member = make_member()
    start = AuditEntry.all_tenants.count()
    with pytest.raises(Exception, match="TERYT"):
        actions.update_member(STAFF, member, teryt="12ab")
    assert AuditEntry.all_tenants.count() == start
    assert Member.all_tenants.get(pk=member.pk).teryt == member.teryt


@pytest.mark.django_db(transaction=True)
def test_audit_needs_the_actions_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the action's transaction"):
        record_audit(STAFF, "x", None, member=None)


@pytest.mark.django_db(transaction=True)
def test_the_audit_row_commits_with_the_change_or_not_at_all() -> None:
    start = AuditEntry.all_tenants.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        actions.create_member(STAFF, name="Gmina Wycofana", kind=MemberKind.OTHER)
        1 / 0  # noqa: B018 - the surrounding transaction fails after the action
    assert AuditEntry.all_tenants.count() == start
    assert not Member.all_tenants.filter(name="Gmina Wycofana").exists()


@pytest.mark.django_db
def test_the_application_has_no_update_or_delete_path(tenant_a: Tenant) -> None:
    entry = AuditEntry.all_tenants.filter(member=tenant_a.member).first()
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.all_tenants.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.all_tenants.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.scoped(Actor.for_user(tenant_a.manager).scope).update(action="forged")
    assert AuditEntry.all_tenants.get(pk=entry.pk).action != "forged"


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql", ["UPDATE consortium_auditentry SET action = 'forged'", "DELETE FROM consortium_auditentry"]
)
def test_postgresql_refuses_changes_to_the_audit_log(sql: str, tenant_a: Tenant) -> None:
    assert connection.vendor == "postgresql"
    count = AuditEntry.all_tenants.count()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEntry.all_tenants.count() == count
    assert not AuditEntry.all_tenants.filter(action="forged").exists()


@pytest.mark.django_db
def test_audit_log_is_viewable_filterable_and_exportable(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(tenant_a.manager)
    page = client.get(reverse("audit_list"), {"action": "issue_api_token"})
    assert page.status_code == 200
    rows = page.content.decode().split("<tbody>", 1)[1]
    assert 'title="issue_api_token"' in rows and 'title="grant_role"' not in rows
    csv_response = client.get(reverse("audit_export"), {"action": "grant_role"})
    lines = b"".join(csv_response.streaming_content).decode().splitlines()
    assert lines[0].startswith("at_utc,actor,member,action")
    assert len(lines) == 1 + 4  # one grant per role
    assert all(",grant_role," in line for line in lines[1:])
    assert all(line.split(",")[0].endswith("+00:00") for line in lines[1:])
    api = client.get(reverse("auditentry-list"), {"action": "grant_role", "actor": "system"})
    assert api.json()["count"] == 4


@pytest.mark.django_db
def test_times_are_shown_in_warsaw(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(tenant_a.manager)
    entry = AuditEntry.all_tenants.filter(member=tenant_a.member).first()
    from zoneinfo import ZoneInfo

    local = entry.at.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%Y-%m-%d %H:%M:%S")
    assert local in client.get(reverse("audit_list")).content.decode()
