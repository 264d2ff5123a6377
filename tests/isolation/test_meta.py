"""The harness covers everything: a new route or tenant-owned model that is not declared
in ``registry.py`` fails here, and the harness is shown to catch a real leak."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gmina.consortium.scoping import TenantModel, tenant_models
from tests.factories import Tenant
from tests.isolation.registry import (
    ADMIN_NAMESPACE,
    MODEL_FACTORIES,
    NOT_EXPOSED,
    PUBLIC_ROUTES,
    ROUTE_CASES,
    RouteCase,
)
from tests.isolation.routes import all_route_names
from tests.isolation.test_isolation import assert_route_isolated

SRC = Path(__file__).resolve().parents[2] / "src" / "gmina"

# Modules allowed to read across members with ``all_tenants``, each for a stated reason.
ALL_TENANTS_ALLOWED = {
    "consortium/scoping.py": "defines the managers",
    "consortium/models/members.py": "declares the manager",
    "consortium/models/audit.py": "declares the manager",
    "consortium/actions.py": "re-reads an object the action has already authorised, under lock",
    "consortium/actors.py": "reads the signed-in user's own memberships to build the scope",
    "consortium/audit.py": "appends audit rows",
    "consortium/api/authentication.py": "looks a token up by key id before anyone is known",
    "consortium/demo.py": "the demo seeds every member as the system",
    "consortium/filters.py": "an empty placeholder queryset, replaced by the scoped one",
    "water/actions.py": "re-reads objects the action has authorised, under lock",
    "water/forms.py": "an empty placeholder queryset, replaced by the scoped one",
    "water/store/resolve.py": "loads the importing member's own meters (filtered by member id)",
    "water/store/events.py": "device events of meters the store has just resolved for the member",
    "water/store/ingest.py": "writes the import batch of the member being imported",
    "water/mqtt.py": "routes messages to members by their subscriptions (a system job)",
    "water/demo.py": "the demo seeds each member as the system",
    "water/consumption.py": "readings of a service point the caller has already scoped",
    "demo.py": "the demo seeds every member as the system",
    "consortium/lookup.py": "finds the member named on a command line (centre staff)",
    "water/detection.py": "reads the data of the member being analysed (filtered by member id)",
    "water/jobs.py": "a system job that walks the active members, each analysed on its own",
}


def test_every_route_is_declared() -> None:
    declared = {case.name for case in ROUTE_CASES} | set(PUBLIC_ROUTES)
    routes = all_route_names()
    missing = sorted(name for name in routes if name not in declared and not name.startswith(f"{ADMIN_NAMESPACE}:"))
    assert not missing, f"routes not covered by the isolation harness (declare them in registry.py): {missing}"
    stale = sorted(declared - routes)
    assert not stale, f"registry.py declares routes that no longer exist: {stale}"


def test_every_tenant_model_is_declared() -> None:
    models = tenant_models()
    assert len(models) >= 4
    for model in models:
        assert model in MODEL_FACTORIES, f"{model.__name__}: add a factory to MODEL_FACTORIES"
        listed = [case for case in ROUTE_CASES if model in case.models]
        assert listed or model in NOT_EXPOSED, f"{model.__name__}: no route case lists it (RouteCase.models)"


def test_tenant_models_use_the_scoping_base() -> None:
    """Tenant-owned models derive from TenantModel unless they are a documented exception."""
    exceptions = {
        "Member": "the tenant itself, scoped by pk",
        "AuditEntry": "member is optional (global rows)",
    }
    for model in tenant_models():
        assert issubclass(model, TenantModel) or model.__name__ in exceptions, model


def test_all_tenants_is_used_only_where_allowed() -> None:
    pattern = re.compile(r"\.all_tenants\b|\ball_tenants\s*=")
    offenders = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        if "/migrations/" in relative:
            continue
        if pattern.search(path.read_text(encoding="utf-8")) and relative not in ALL_TENANTS_ALLOWED:
            offenders.append(relative)
    assert not offenders, f"cross-member reads outside the allowed modules: {offenders}"


@pytest.mark.urls("tests.isolation.leaky_urls")
@pytest.mark.parametrize(
    "case",
    [
        RouteCase("leaky_member_list", "list"),
        RouteCase("leaky_member_detail", "read", lambda t: {"pk": t.member.pk}),
    ],
    ids=["list", "read"],
)
def test_harness_catches_a_leak(case: RouteCase, tenant_a: Tenant, tenant_b: Tenant) -> None:
    with pytest.raises(AssertionError):
        assert_route_isolated(case, tenant_a, tenant_b)
