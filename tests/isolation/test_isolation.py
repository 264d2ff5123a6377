"""Member A's users and tokens can never read, list, search, count, export, change, delete or
attach member B's data, on any route or model (declared in ``registry.py``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import models
from django.test import Client
from django.urls import reverse

from gmina.consortium.actors import Actor
from gmina.consortium.models import AuditEntry, Member
from gmina.consortium.models.audit import AppendOnlyError
from gmina.consortium.scoping import UnscopedQueryError, tenant_models
from tests.factories import Tenant, populate_water
from tests.isolation.registry import API_LIST_MODELS, MODEL_FACTORIES, ROUTE_CASES, RouteCase
from tests.isolation.routes import admin_routes

B_MARK = "betamark"
A_MARK = "alphamark"


def _state_of(tenant: Tenant) -> dict[str, Any]:
    """Everything of B's, row by row, that a refused request must leave as it was."""
    state: dict[str, Any] = {}
    for model in tenant_models():
        field = "pk" if model is Member else "member_id"
        rows = model.all_tenants.filter(**{field: tenant.member.pk}).values()  # type: ignore[attr-defined]
        state[model.__name__] = sorted(rows, key=repr)
    return state


def _body(response: Any) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _clients(case: RouteCase, a: Tenant) -> list[tuple[str, Client]]:
    session = Client()
    session.force_login(a.manager)
    clients = [("session as A's manager", session)]
    if case.api:
        clients.append(("A's write token", Client(HTTP_AUTHORIZATION=f"Bearer {a.token_plaintext}")))
    return clients


def _request(client: Client, case: RouteCase, a: Tenant, b: Tenant) -> Any:
    url = reverse(case.name, kwargs=case.kwargs(b) if case.kind in ("read", "write") else case.kwargs(a))
    if case.method == "get":
        return client.get(url, case.query(b))
    if case.query(b):
        url = f"{url}?{urlencode(case.query(b))}"
    if case.api and not case.multipart:
        return getattr(client, case.method)(url, json.dumps(case.data(a, b)), content_type="application/json")
    return getattr(client, case.method)(url, case.data(a, b))


def assert_route_isolated(case: RouteCase, a: Tenant, b: Tenant) -> None:
    """The harness's check of one route case; raises AssertionError on any leak."""
    for who, client in _clients(case, a):
        before = _state_of(b)
        response = _request(client, case, a, b)
        body = _body(response)
        if case.kind == "list":
            # A filter naming B's objects may be rejected as invalid (400): B's ids do not exist for A.
            allowed = (200, 400) if case.query(b) else (200,)
            assert response.status_code in allowed, (who, response.status_code)
            assert B_MARK not in body.lower(), f"{who}: B's data in {case.name}"
            if case.models:
                assert A_MARK in body.lower(), f"{who}: {case.name} does not show A's own data"
            if case.name in API_LIST_MODELS and not case.query(b):
                actor = Actor.for_token(a.token) if "token" in who else Actor.for_user(a.manager)
                expected = API_LIST_MODELS[case.name].objects.scoped(actor.scope).count()
                assert response.json()["count"] == expected, who
        elif case.kind == "read":
            assert response.status_code in (403, 404), (who, response.status_code)
            assert B_MARK not in body.lower(), who
        elif case.kind == "write":
            assert response.status_code in (400, 403, 404, 405), (who, response.status_code, body)
            assert B_MARK not in body.lower(), who
        # attach: refused outright, or (a form re-shown, a token writing for its own member) B untouched
        assert _state_of(b) == before, f"{who}: {case.name} changed B's data"


@pytest.fixture
def worlds(tenant_a: Tenant, tenant_b: Tenant) -> tuple[Tenant, Tenant]:
    """Both members with one of everything (every tenant-owned model has rows on both sides)."""
    populate_water(tenant_a)
    populate_water(tenant_b)
    return tenant_a, tenant_b


@pytest.mark.parametrize("case", ROUTE_CASES, ids=lambda c: f"{c.name}-{c.kind}-{c.method}")
def test_route_isolation(case: RouteCase, worlds: tuple[Tenant, Tenant]) -> None:
    assert_route_isolated(case, *worlds)


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m.__name__)
def test_model_scoping(model: type[models.Model], worlds: tuple[Tenant, Tenant]) -> None:
    """Through the scoped manager A cannot see, count, search or change B's rows."""
    tenant_a, tenant_b = worlds
    b_object = MODEL_FACTORIES[model](tenant_b)
    a_object = MODEL_FACTORIES[model](tenant_a)
    for actor in (Actor.for_user(tenant_a.manager), Actor.for_token(tenant_a.token)):
        scoped = model.objects.scoped(actor.scope)
        assert a_object in scoped
        assert b_object not in list(scoped)
        assert not scoped.filter(pk=b_object.pk).exists()
        assert scoped.filter(pk=b_object.pk).count() == 0
        if model is AuditEntry:
            with pytest.raises(AppendOnlyError):
                scoped.filter(pk=b_object.pk).delete()
        else:
            assert scoped.filter(pk=b_object.pk).delete()[0] == 0
        assert model.all_tenants.filter(pk=b_object.pk).exists()
        assert b_object.pk not in scoped.values_list("pk", flat=True)
        assert scoped.aggregate(n=models.Count("pk"))["n"] == scoped.count()
    with pytest.raises(UnscopedQueryError):
        list(model.objects.all())


def _b_object_id(route_name: str, b: Tenant) -> str:
    """The id of B's object for a model admin route such as ``consortium_apitoken_change``."""
    by_name = {f"{m._meta.app_label}_{m._meta.model_name}": m for m in MODEL_FACTORIES}
    for prefix, model in by_name.items():
        if route_name.startswith(prefix + "_"):
            return str(MODEL_FACTORIES[model](b).pk)
    return str(b.member.pk)


def test_admin_refuses_member_users(worlds: tuple[Tenant, Tenant]) -> None:
    """No admin route, with or without B's object ids, opens for a member's user."""
    tenant_a, tenant_b = worlds
    client = Client()
    client.force_login(tenant_a.manager)
    checked = 0
    for name, params in admin_routes():
        values = {
            "app_label": "consortium",
            "object_id": _b_object_id(name, tenant_b),
            "content_type_id": "1",
        }
        kwargs = {param: values.get(param, "1") for param in params}
        url = reverse(f"admin:{name}", kwargs=kwargs)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            body = _body(response)
            assert B_MARK not in body.lower(), (name, method)
            if name in ("login", "logout"):
                continue  # the admin's own sign-in/out pages show no member data
            assert response.status_code in (302, 403, 404), (name, method, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("admin:login")), name
            checked += 1
    assert checked > 20
