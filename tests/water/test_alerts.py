"""Alerts: the engine's cases merged across runs, auto-cleared, silenced and adapted by feedback; the lifecycle."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import polars as pl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from gmina.consortium.actors import Actor
from gmina.consortium.models import AuditEntry
from gmina.water import actions
from gmina.water.detection import _confident, class_thresholds, merge_cases, run_detection
from gmina.water.models import Alert, DetectionRun
from gmina.water.models.alerts import AlertStatus, Resolution
from gmina.water.store import ingest_batches
from tests.factories import SYSTEM, Tenant, make_meter, make_user
from tests.water.batches import T0, batch, reading

pytestmark = pytest.mark.django_db


def hourly(serial: str, first_h: int, last_h: int, per_h: int = 20) -> list[dict[str, Any]]:
    return [reading(serial, h, 1000 + per_h * h) for h in range(first_h, last_h)]


def store(tenant: Tenant, rows: list[dict[str, Any]]) -> None:
    ingest_batches(SYSTEM, tenant.member, [batch(rows)], source="api", label="test")


def operator(tenant: Tenant) -> Actor:
    return Actor.for_user(tenant.users["operator"])


def case(meter_id: int, alert_class: str = "customer_leak", confidence: float = 0.9, cost: float = 120.0) -> dict:
    return {
        "alert_class": alert_class,
        "location_kind": "meter",
        "location_id": meter_id,
        "start": T0,
        "end": None,
        "confidence": confidence,
        "volume_m3": cost / 12.0,
        "cost_pln": cost,
        "detectors": alert_class,
        "evidence": json.dumps({"flow_lph": 6.0}),
    }


# --- detection runs ---------------------------------------------------------------------------------


def test_a_silent_meter_opens_one_alert_kept_across_runs_and_cleared_when_it_reports_again(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "S1")
    store(tenant_a, hourly("S1", 0, 24 * 10))
    as_of = T0 + timedelta(days=13)

    first = run_detection(operator(tenant_a), tenant_a.member, as_of=as_of)
    alerts = Alert.all_tenants.filter(member=tenant_a.member, meter=meter, alert_class="comm_loss")
    assert first.opened >= 1 and alerts.count() == 1
    alert = alerts.get()
    assert alert.status == AlertStatus.NEW and alert.evidence and alert.first_detected_at == as_of
    assert AuditEntry.all_tenants.filter(member=tenant_a.member, action="run_detection").count() == 1

    second = run_detection(operator(tenant_a), tenant_a.member, as_of=as_of + timedelta(hours=6))
    assert second.updated >= 1 and alerts.count() == 1
    alert.refresh_from_db()
    assert alert.last_detected_at == as_of + timedelta(hours=6) and alert.first_detected_at == as_of

    store(tenant_a, hourly("S1", 24 * 10, 24 * 15))
    third = run_detection(operator(tenant_a), tenant_a.member, as_of=T0 + timedelta(days=15))
    alert.refresh_from_db()
    assert third.cleared >= 1
    assert alert.status == AlertStatus.RESOLVED and alert.resolution == Resolution.CLEARED
    assert DetectionRun.all_tenants.filter(member=tenant_a.member).count() == 3


def test_detection_needs_an_operator_or_manager(tenant_a: Tenant) -> None:
    with pytest.raises(PermissionDenied):
        run_detection(Actor.for_user(tenant_a.users["viewer"]), tenant_a.member, as_of=T0)


def test_detection_stays_inside_the_member(tenant_a: Tenant, tenant_b: Tenant) -> None:
    make_meter(tenant_b.member, "SB")
    store(tenant_b, hourly("SB", 0, 24 * 5))
    run = run_detection(operator(tenant_a), tenant_a.member, as_of=T0 + timedelta(days=9))
    assert run.readings == 0 and not Alert.all_tenants.filter(member=tenant_a.member).exists()


def test_the_detect_command_runs_each_analysis_time(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "S1")
    store(tenant_a, hourly("S1", 0, 24 * 10))
    out = StringIO()
    since, until = (T0 + timedelta(days=d) for d in (11, 13))
    call_command(
        "detect",
        member=str(tenant_a.member.pk),
        since=since.isoformat(),
        until=until.isoformat(),
        no_progress=True,
        stdout=out,
    )
    assert "3 analysis times" in out.getvalue() and "alerts opened 1" in out.getvalue()
    assert DetectionRun.all_tenants.filter(member=tenant_a.member).count() == 3


def test_the_detect_command_refuses_a_bad_date(tenant_a: Tenant) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--since"):
        call_command("detect", member=str(tenant_a.member.pk), since="1.3.2025")


# --- merging, silencing, adaptation ------------------------------------------------------------------


def test_severity_follows_the_money_and_a_bigger_case_updates_it(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "M1")
    assert merge_cases(tenant_a.member.pk, [case(meter.pk, cost=30.0)], T0, set()) == (1, 0, 0)
    alert = Alert.all_tenants.get(meter=meter)
    assert alert.severity == "low"
    assert merge_cases(tenant_a.member.pk, [case(meter.pk, cost=6000.0)], T0 + timedelta(hours=1), {meter.pk}) == (
        0,
        1,
        0,
    )
    alert.refresh_from_db()
    assert alert.severity == "critical" and alert.cost_pln == 6000.0


def test_a_false_alarm_silences_the_same_problem_for_a_while(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "M1")
    merge_cases(tenant_a.member.pk, [case(meter.pk)], T0, set())
    alert = Alert.all_tenants.get(meter=meter)
    actions.resolve_alert(operator(tenant_a), alert, outcome="false_alarm", reason="garden watering")
    alert.refresh_from_db()
    soon = alert.resolved_at + timedelta(days=1)
    assert merge_cases(tenant_a.member.pk, [case(meter.pk)], soon, {meter.pk}) == (0, 0, 0)
    later = alert.resolved_at + timedelta(days=31)
    assert merge_cases(tenant_a.member.pk, [case(meter.pk)], later, {meter.pk}) == (1, 0, 0)


def test_the_same_episode_reported_again_reopens_its_cleared_alert(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "M1")
    member = tenant_a.member.pk
    assert merge_cases(member, [case(meter.pk)], T0, set()) == (1, 0, 0)
    first = Alert.all_tenants.get(meter=meter)
    actions.assign_alert(operator(tenant_a), first, user=tenant_a.manager)
    cleared_at = T0 + timedelta(days=2)
    assert merge_cases(member, [], cleared_at, {meter.pk}) == (0, 0, 1)  # not reported for over a day
    first.refresh_from_db()
    assert (first.status, first.resolution) == (AlertStatus.RESOLVED, Resolution.CLEARED)
    # the engine reports the episode that began at T0 again: the same alert, open as before, assignee kept
    assert merge_cases(member, [case(meter.pk)], cleared_at + timedelta(days=3), {meter.pk}) == (0, 1, 0)
    first.refresh_from_db()
    assert (first.status, first.resolution, first.resolved_at) == (AlertStatus.ASSIGNED, "", None)
    assert first.assigned_to == tenant_a.manager
    # cleared again; a case that began after the clearing is a new episode: a new alert
    assert merge_cases(member, [], cleared_at + timedelta(days=5), {meter.pk}) == (0, 0, 1)
    first.refresh_from_db()
    later = {**case(meter.pk), "start": first.resolved_at + timedelta(hours=6)}
    assert merge_cases(member, [later], first.resolved_at + timedelta(days=1), {meter.pk}) == (1, 0, 0)
    # and long after a clearing, even the old episode raises a new alert
    other = make_meter(tenant_a.member, "M2")
    merge_cases(member, [case(other.pk)], T0, set())
    merge_cases(member, [], cleared_at, {other.pk})
    assert merge_cases(member, [case(other.pk)], cleared_at + timedelta(days=8), {other.pk}) == (1, 0, 0)
    assert Alert.all_tenants.filter(meter__in=[meter, other]).count() == 4


def test_feedback_moves_the_threshold_of_a_class_for_that_member_only(tenant_a: Tenant, tenant_b: Tenant) -> None:
    meters = [make_meter(tenant_a.member, f"M{i}") for i in range(5)]
    merge_cases(tenant_a.member.pk, [case(m.pk) for m in meters], T0, set())
    for alert in Alert.all_tenants.filter(member=tenant_a.member):
        actions.resolve_alert(operator(tenant_a), alert, outcome="false_alarm", reason="no leak on site")
    now = datetime.now(tz=T0.tzinfo)
    thresholds = class_thresholds(tenant_a.member.pk, now)
    assert thresholds == {"customer_leak": 0.75}
    assert class_thresholds(tenant_b.member.pk, now) == {}
    candidates = pl.DataFrame(
        {"alert_class": ["customer_leak", "customer_leak", "stuck"], "confidence": [0.7, 0.8, 0.6]}
    )
    assert _confident(candidates, thresholds)["confidence"].to_list() == [0.8, 0.6]
    # two confirmations bring it back down
    merge_cases(tenant_a.member.pk, [case(m.pk, "stuck") for m in meters[:2]], T0, set())
    for alert in Alert.all_tenants.filter(member=tenant_a.member, alert_class="stuck"):
        actions.resolve_alert(operator(tenant_a), alert, outcome="confirmed", reason="meter replaced")
    assert class_thresholds(tenant_a.member.pk, now)["stuck"] == 0.4


# --- the lifecycle -------------------------------------------------------------------------------------


@pytest.fixture
def alert(tenant_a: Tenant) -> Alert:
    meter = make_meter(tenant_a.member, "M1")
    merge_cases(tenant_a.member.pk, [case(meter.pk)], T0, set())
    return Alert.all_tenants.get(meter=meter)


def test_acknowledge_assign_resolve_each_audited(tenant_a: Tenant, alert: Alert) -> None:
    actor = operator(tenant_a)
    assert actions.acknowledge_alert(actor, alert).status == AlertStatus.ACKNOWLEDGED
    assert actions.assign_alert(actor, alert, user=tenant_a.manager).assigned_to == tenant_a.manager
    done = actions.resolve_alert(actor, alert, outcome="confirmed", reason="leaking toilet cistern")
    assert (done.status, done.resolution, done.resolution_reason) == ("resolved", "confirmed", "leaking toilet cistern")
    verbs = list(
        AuditEntry.all_tenants.filter(member=tenant_a.member, action__endswith="_alert")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert verbs == ["acknowledge_alert", "assign_alert", "resolve_alert"]
    with translation.override("en"), pytest.raises(ValidationError, match="already resolved"):
        actions.acknowledge_alert(actor, done)
    with pytest.raises(ValidationError, match="już zamknięty"):  # Polish by default
        actions.acknowledge_alert(actor, done)


def test_the_lifecycle_refuses_bad_requests(tenant_a: Tenant, tenant_b: Tenant, alert: Alert) -> None:
    actor = operator(tenant_a)
    with pytest.raises(ValidationError):
        actions.assign_alert(actor, alert, user=tenant_b.manager)
    with pytest.raises(ValidationError):
        actions.assign_alert(actor, alert, user=tenant_a.users["viewer"])
    with pytest.raises(ValidationError):
        actions.resolve_alert(actor, alert, outcome="confirmed", reason="  ")
    with pytest.raises(ValidationError):
        actions.resolve_alert(actor, alert, outcome="maybe", reason="x")
    with pytest.raises(PermissionDenied):
        actions.acknowledge_alert(Actor.for_user(tenant_a.users["viewer"]), alert)
    with pytest.raises(PermissionDenied):
        actions.acknowledge_alert(operator(tenant_b), alert)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.NEW


# --- pages and API -------------------------------------------------------------------------------------


def test_pages_list_explain_and_resolve(tenant_a: Tenant, alert: Alert) -> None:
    client = Client()
    client.force_login(tenant_a.users["operator"])
    listing = client.get(reverse("water:alert_list")).content.decode()
    assert "M1" in listing and reverse("water:alert_detail", args=[alert.pk]) in listing
    detail = client.get(reverse("water:alert_detail", args=[alert.pk])).content.decode()
    assert "flow_lph" in detail
    client.post(reverse("water:alert_assign", args=[alert.pk]), {"user": tenant_a.manager.pk})
    response = client.post(
        reverse("water:alert_resolve", args=[alert.pk]), {"outcome": "false_alarm", "reason": ""}, follow=True
    )
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ASSIGNED and alert.assigned_to == tenant_a.manager  # no reason: refused
    client.post(reverse("water:alert_resolve", args=[alert.pk]), {"outcome": "false_alarm", "reason": "pool"})
    alert.refresh_from_db()
    assert alert.resolution == Resolution.FALSE_ALARM
    assert "M1" not in client.get(reverse("water:alert_list")).content.decode()  # open alerts only by default
    assert "M1" in client.get(reverse("water:alert_list"), {"status": "resolved"}).content.decode()


def test_api_resolves_with_a_token_and_validates(tenant_a: Tenant, alert: Alert) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tenant_a.token_plaintext}")
    listed = client.get(reverse("alert-list"), {"status": "open"}).json()
    assert listed["count"] == 1 and listed["results"][0]["evidence"] == {"flow_lph": 6.0}
    bad = client.post(
        reverse("alert-resolve", args=[alert.pk]), {"outcome": "confirmed"}, content_type="application/json"
    )
    assert bad.status_code == 400
    stranger = make_user("stranger")
    refused = client.post(
        reverse("alert-assign", args=[alert.pk]), {"user": stranger.pk}, content_type="application/json"
    )
    assert refused.status_code == 400
    done = client.post(
        reverse("alert-resolve", args=[alert.pk]),
        {"outcome": "confirmed", "reason": "burst service pipe"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
