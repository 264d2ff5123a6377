"""Running the engine on a member's data and merging what it finds into alerts.

``run_detection`` reads one window of the member's data as polars frames, runs every registered
detector of :mod:`gmina.engine`, fuses the candidates into one case per cause, and merges the
cases into :class:`~gmina.water.models.Alert` rows:

* one alert per ongoing problem, keyed by (class, location): a case matching an open alert
  updates it (confidence, volume, cost, evidence, last detected);
* an open alert the engine no longer reports (its location was analysed) is resolved as
  ``cleared`` — the condition went away; if the same episode is reported again within
  ``REOPEN_WITHIN_H`` (a case that began before the clearing), that alert is reopened rather than
  a second one raised;
* a case whose key an operator resolved as a false alarm in the last ``FALSE_ALARM_QUIET_DAYS``
  days opens nothing: operator feedback silences a repeated false alarm at the same place;
* operator feedback also adapts the member's confidence threshold per alert class
  (:func:`class_thresholds`): every resolved alert is a label, and a class whose alerts the
  operators keep calling false alarms needs more confidence to raise a new one.

Severity comes from the money at stake (``SEVERITY_PLN``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from gmina.consortium.actors import Actor
from gmina.consortium.audit import record_audit
from gmina.consortium.models import Member, Role
from gmina.engine import ALERT_FAMILY, AlertClass, EngineInput, fuse, run_detectors
from gmina.engine.fusion import CLEAR_AFTER_H, REOPEN_WITHIN_H
from gmina.water.models import Alert, DetectionRun, DeviceEvent, Meter, Reading, ZoneBoundaryMeter
from gmina.water.models.alerts import AlertStatus, Resolution, Severity
from gmina.water.models.choices import ReadType

WINDOW = timedelta(days=60)
MIN_CONFIDENCE = 0.5
FALSE_ALARM_QUIET_DAYS = 30
# Threshold adaptation from labels: each net false alarm (false alarms − confirmed) of a class in the
# last FEEDBACK_DAYS moves that class's threshold up by THRESHOLD_STEP, each net confirmation down,
# within [THRESHOLD_MIN, THRESHOLD_MAX].
FEEDBACK_DAYS = 180
THRESHOLD_STEP = 0.05
THRESHOLD_MIN, THRESHOLD_MAX = 0.3, 0.9
# (upper bound in PLN, severity): what is at stake decides how loudly an alert speaks.
SEVERITY_PLN = ((50.0, Severity.LOW), (500.0, Severity.MEDIUM), (5000.0, Severity.HIGH))


def severity_of(cost_pln: float) -> str:
    """>>> severity_of(10.0), severity_of(700.0), severity_of(1e6)
    ('low', 'high', 'critical')
    """
    for bound, severity in SEVERITY_PLN:
        if cost_pln < bound:
            return str(severity)
    return str(Severity.CRITICAL)


@dataclass(frozen=True)
class Frames:
    readings: pl.DataFrame
    meters: pl.DataFrame
    boundary: pl.DataFrame
    events: pl.DataFrame


def load_frames(member_id: int, start: datetime, as_of: datetime, zones: Collection[int] | None = None) -> Frames:
    """The member's data in [start, as_of] as the engine's input frames (UTC, litres).

    With ``zones``, only those zones: their customer meters and the meters on their boundaries.
    """
    meter_qs = Meter.all_tenants.filter(member_id=member_id).annotate(
        zone_of=Coalesce(F("zone_id"), F("service_point__zone_id"))
    )
    boundary_qs = ZoneBoundaryMeter.all_tenants.filter(member_id=member_id)
    if zones is not None:
        boundary_qs = boundary_qs.filter(zone_id__in=list(zones))
        on_boundary = boundary_qs.values("meter_id")
        meter_qs = meter_qs.filter(Q(zone_of__in=list(zones)) | Q(pk__in=on_boundary))
    meters = list(meter_qs.values_list("id", "zone_of", "kind", "dn_mm", "q3_m3h", "register_capacity_l"))
    reading_qs = Reading.all_tenants.filter(member_id=member_id, observed_at__gte=start, observed_at__lte=as_of)
    event_qs = DeviceEvent.all_tenants.filter(member_id=member_id, first_seen__lte=as_of)
    if zones is not None:
        chosen = meter_qs.values("pk")
        reading_qs = reading_qs.filter(meter_id__in=chosen)
        event_qs = event_qs.filter(meter_id__in=chosen)
    readings = [
        (*row[:5], row[5] == ReadType.INITIAL)
        for row in reading_qs.values_list("meter_id", "observed_at", "index_l", "flow_lph", "backflow_l", "read_type")
    ]
    boundary = list(boundary_qs.values_list("zone_id", "meter_id", "direction"))
    events = list(
        event_qs.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start)).values_list(
            "meter_id", "code", "state", "first_seen", "last_seen", "ended_at"
        )
    )
    utc = pl.Datetime("us", "UTC")
    return Frames(
        readings=pl.DataFrame(
            readings,
            schema={
                "meter_id": pl.Int64,
                "observed_at": utc,
                "index_l": pl.Int64,
                "flow_lph": pl.Float64,
                "backflow_l": pl.Int64,
                "restart": pl.Boolean,
            },
            orient="row",
        ),
        meters=pl.DataFrame(
            [(i, z, k, d, float(q) if q is not None else None, c) for i, z, k, d, q, c in meters],
            schema={
                "meter_id": pl.Int64,
                "zone_id": pl.Int64,
                "kind": pl.String,
                "dn_mm": pl.Int64,
                "q3_m3h": pl.Float64,
                "register_capacity_l": pl.Int64,
            },
            orient="row",
        ),
        boundary=pl.DataFrame(
            boundary, schema={"zone_id": pl.Int64, "meter_id": pl.Int64, "direction": pl.String}, orient="row"
        ),
        events=pl.DataFrame(
            events,
            schema={
                "meter_id": pl.Int64,
                "code": pl.String,
                "state": pl.String,
                "first_seen": utc,
                "last_seen": utc,
                "ended_at": utc,
            },
            orient="row",
        ),
    )


def adapted_threshold(false_alarms: int, confirmed: int) -> float:
    """The confidence a case needs, given the operators' recent verdicts on its class.

    >>> adapted_threshold(0, 0), adapted_threshold(4, 0), adapted_threshold(0, 4), adapted_threshold(50, 0)
    (0.5, 0.7, 0.3, 0.9)
    """
    value = MIN_CONFIDENCE + THRESHOLD_STEP * (false_alarms - confirmed)
    return round(min(THRESHOLD_MAX, max(THRESHOLD_MIN, value)), 3)


def class_thresholds(member_id: int, now: datetime) -> dict[str, float]:
    """Per-class confidence thresholds of a member, adapted from its labels (resolved alerts)."""
    counts: dict[str, list[int]] = {}
    labels = Alert.all_tenants.filter(
        member_id=member_id,
        resolution__in=[Resolution.FALSE_ALARM, Resolution.CONFIRMED],
        resolved_at__gte=now - timedelta(days=FEEDBACK_DAYS),
    ).values_list("alert_class", "resolution")
    for alert_class, resolution in labels:
        pair = counts.setdefault(alert_class, [0, 0])
        pair[0 if resolution == Resolution.FALSE_ALARM else 1] += 1
    return {cls: adapted_threshold(fa, ok) for cls, (fa, ok) in counts.items()}


def _confident(candidates: pl.DataFrame, thresholds: dict[str, float]) -> pl.DataFrame:
    needed = pl.col("alert_class").replace_strict(thresholds, default=MIN_CONFIDENCE, return_dtype=pl.Float64)
    return candidates.filter(pl.col("confidence") >= needed)


def _location(case: dict[str, Any]) -> dict[str, Any]:
    kind, ident = case["location_kind"], case["location_id"]
    if kind == "zone":
        return {"location_kind": "zone", "zone_id": ident, "meter_id": None}
    return {"location_kind": kind, "meter_id": ident, "zone_id": None}


def _silenced(member_id: int, now: datetime) -> set[tuple[str, int | None, int | None]]:
    recent = Alert.all_tenants.filter(
        member_id=member_id,
        resolution=Resolution.FALSE_ALARM,
        resolved_at__gte=now - timedelta(days=FALSE_ALARM_QUIET_DAYS),
    )
    return set(recent.values_list("alert_class", "meter_id", "zone_id"))


def merge_cases(
    member_id: int,
    cases: Iterable[dict[str, Any]],
    as_of: datetime,
    analysed_meters: set[int],
    analysed_zones: Collection[int] | None = None,
) -> tuple[int, int, int]:
    """Merge fused cases into the member's alerts; returns (opened, updated, cleared), a reopened alert as updated.

    An open alert that no case matches is cleared only where this run looked (a meter with readings
    in the window, a zone among ``analysed_zones``; ``None``: every zone) and only once no run has
    reported it for ``CLEAR_AFTER_H`` hours; a case matching it before then continues it.
    """
    opened = updated = 0
    seen: set[int] = set()
    open_alerts = {
        (a.alert_class, a.meter_id, a.zone_id): a
        for a in Alert.all_tenants.filter(member_id=member_id).exclude(status=AlertStatus.RESOLVED)
    }
    cleared_lately: dict[tuple[str, int | None, int | None], Alert] = {}
    for a in Alert.all_tenants.filter(
        member_id=member_id,
        status=AlertStatus.RESOLVED,
        resolution=Resolution.CLEARED,
        resolved_at__gte=as_of - timedelta(hours=REOPEN_WITHIN_H),
    ).order_by("resolved_at"):
        cleared_lately[(a.alert_class, a.meter_id, a.zone_id)] = a  # the latest per key
    silenced = _silenced(member_id, as_of)
    for case in cases:
        where = _location(case)
        key = (case["alert_class"], where["meter_id"], where["zone_id"])
        values = {
            "confidence": float(case["confidence"]),
            "volume_m3": float(case["volume_m3"]),
            "cost_pln": float(case["cost_pln"]),
            "severity": severity_of(float(case["cost_pln"])),
            "end": case["end"],
            "detectors": str(case["detectors"])[:300],
            "evidence": json.loads(case["evidence"]),
            "last_detected_at": as_of,
        }
        alert = open_alerts.get(key)
        again = cleared_lately.pop(key, None) if alert is None else None
        if again is not None and again.resolved_at is not None and case["start"] <= again.resolved_at:
            # the episode it was cleared from: reopened as it stood before (its assignee kept)
            alert = again
            alert.status = AlertStatus.ASSIGNED if alert.assigned_to_id is not None else AlertStatus.NEW
            alert.resolution, alert.resolved_at = "", None
            open_alerts[key] = alert
        if alert is not None:
            for name, value in values.items():
                setattr(alert, name, value)
            alert.start = min(alert.start, case["start"])
            alert.save()
            seen.add(alert.pk)
            updated += 1
            continue
        if key in silenced:
            continue
        alert = Alert(
            member_id=member_id,
            alert_class=case["alert_class"],
            family=ALERT_FAMILY[AlertClass(case["alert_class"])],
            location_kind=where["location_kind"],
            meter_id=where["meter_id"],
            zone_id=where["zone_id"],
            start=case["start"],
            first_detected_at=as_of,
            **values,
        )
        alert.save()
        seen.add(alert.pk)
        opened += 1
    cleared = 0
    for alert in open_alerts.values():
        if alert.zone_id is not None:
            analysed = analysed_zones is None or alert.zone_id in analysed_zones
        else:
            analysed = alert.meter_id in analysed_meters
        held = as_of - alert.last_detected_at < timedelta(hours=CLEAR_AFTER_H)
        if alert.pk not in seen and analysed and not held:
            alert.status = AlertStatus.RESOLVED
            alert.resolution = Resolution.CLEARED
            alert.resolved_at = as_of
            alert.save(update_fields=["status", "resolution", "resolved_at"])
            cleared += 1
    return opened, updated, cleared


def run_detection(
    actor: Actor,
    member: Member,
    *,
    as_of: datetime | None = None,
    window: timedelta = WINDOW,
    zones: Collection[int] | None = None,
    through_batch: int | None = None,
) -> DetectionRun:
    """Analyse the member's data up to ``as_of`` and merge the findings into alerts (one transaction).

    ``zones`` limits the run to those zones (the incremental run after an import); ``through_batch``
    records the newest import batch whose data the run took in.
    """
    actor.require_role(member.pk, Role.OPERATOR, Role.MANAGER)
    as_of = as_of or datetime.now(UTC)
    start = as_of - window
    zones = sorted(set(zones)) if zones is not None else None
    frames = load_frames(member.pk, start, as_of, zones)
    data = EngineInput(frames.readings, frames.meters, as_of, frames.boundary, frames.events, start=start)
    thresholds = class_thresholds(member.pk, as_of)
    candidates = _confident(run_detectors(data), thresholds)
    cases = fuse(candidates) if candidates.height else candidates
    analysed = set(frames.readings["meter_id"].unique().to_list())
    with transaction.atomic():
        run = DetectionRun.all_tenants.create(
            member=member,
            as_of=as_of,
            window_start=start,
            readings=frames.readings.height,
            cases=cases.height,
            zones=zones or [],
            through_batch=through_batch,
        )
        opened, updated, cleared = merge_cases(member.pk, cases.iter_rows(named=True), as_of, analysed, zones)
        run.opened, run.updated, run.cleared = opened, updated, cleared
        run.finished_at = datetime.now(UTC)
        run.save(update_fields=["opened", "updated", "cleared", "finished_at"])
        record_audit(
            actor,
            "run_detection",
            run,
            member=member,
            after={
                "as_of": as_of,
                "cases": cases.height,
                "zones": zones or "all",
                "opened": opened,
                "updated": updated,
                "cleared": cleared,
                "thresholds": thresholds,
            },
        )
    return run
