"""The scoping mechanism: unscoped tenant queries fail loudly, cross-member references are refused."""

from __future__ import annotations

import pytest
from django.db import models

from gmina.consortium.actors import Actor
from gmina.consortium.models import ApiToken, Membership
from gmina.consortium.scoping import CrossTenantReferenceError, Scope, TenantModel, UnscopedQueryError
from tests.factories import Tenant


@pytest.mark.parametrize(
    "use",
    [
        lambda qs: list(qs),
        lambda qs: qs.count(),
        lambda qs: qs.exists(),
        lambda qs: qs.first(),
        lambda qs: qs.get(pk=1),
        lambda qs: list(qs.iterator()),
        lambda qs: qs.aggregate(n=models.Count("pk")),
        lambda qs: qs.update(name="x"),
        lambda qs: qs.delete(),
        lambda qs: list(qs.values_list("pk", flat=True)),
        lambda qs: len(qs.filter(name="x").order_by("pk")),
    ],
    ids=[
        "list",
        "count",
        "exists",
        "first",
        "get",
        "iterator",
        "aggregate",
        "update",
        "delete",
        "values",
        "len",
    ],
)
def test_unscoped_queries_fail_loudly(use, tenant_a: Tenant) -> None:
    with pytest.raises(UnscopedQueryError, match=r"ApiToken\.objects was used without \.scoped"):
        use(ApiToken.objects.all())


def test_scope_survives_chaining(tenant_a: Tenant, tenant_b: Tenant) -> None:
    scope = Actor.for_user(tenant_a.manager).scope
    chained = ApiToken.objects.scoped(scope).filter(can_write=True).exclude(name="").order_by("-pk")
    assert list(chained) == [tenant_a.token]
    assert ApiToken.objects.scoped(Scope.everything()).count() == 2
    assert ApiToken.objects.scoped(Scope.nothing()).count() == 0


def test_scope_roles() -> None:
    scope = Scope.of_members({1: "manager", 2: "viewer"})
    assert scope.has_role(1, ["manager"]) and not scope.has_role(2, ["manager"])
    assert not scope.has_role(3, ["viewer"]) and not scope.allows(None)
    assert Scope.everything().has_role(99, ["manager"])


def test_reverse_relations_stay_inside_the_parent(tenant_a: Tenant, tenant_b: Tenant) -> None:
    """A member's related rows are reachable from the (already scoped) member object."""
    names = {m.user.username for m in tenant_a.member.consortium_membership_set.all()}
    assert names and all(name.startswith("alphamark") for name in names)


class TokenNote(TenantModel):
    """A tenant-owned model pointing at another (not installed: no table, not in tenant_models())."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE)

    class Meta:
        app_label = "gmina_test_only"


def test_a_foreign_key_to_another_members_object_is_refused(tenant_a: Tenant, tenant_b: Tenant) -> None:
    TokenNote(member=tenant_a.member, token=tenant_a.token).check_tenant_references()
    TokenNote(member=tenant_a.member, token_id=tenant_a.token.pk).check_tenant_references()
    with pytest.raises(CrossTenantReferenceError):
        TokenNote(member=tenant_a.member, token=tenant_b.token).check_tenant_references()
    with pytest.raises(CrossTenantReferenceError):
        TokenNote(member=tenant_a.member, token_id=tenant_b.token.pk).check_tenant_references()
    with pytest.raises(CrossTenantReferenceError):
        TokenNote(token=tenant_a.token).check_tenant_references()


def test_saving_a_tenant_object_without_member_is_refused(tenant_a: Tenant) -> None:
    with pytest.raises(CrossTenantReferenceError):
        Membership(user=tenant_a.manager, role="viewer").save()
