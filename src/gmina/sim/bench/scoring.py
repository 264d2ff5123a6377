"""Scoring alerts against labels with a strict matching rule; metrics and the economic score.

Matching rule (strict): an alert counts for a labelled anomaly only if

1. the class is the same;
2. the location is the same: the meter for meter-located classes; the zone for network leaks, bursts
   and illegal connections; and
3. the alert was raised inside the event's window, from 1 hour before its start to ``TOLERANCE``
   (2 days: a daily meter needs a day to show anything) after its end; an event still running at the end
   of the scenario has its window run to the end.

Each label is matched at most once (by its earliest matching alert) and each alert to at most one label;
extra alerts for an already-detected event are duplicates (neither true nor false positives). Every other
alert is a false alarm — alerts on a non-event (vacation, new tenant, garden, pool) included.

Economic score: ``loss stopped`` is the event's loss rate × (end − detection) for events that end, and
× (scenario end + ``HORIZON`` − detection) for events still running (they would have gone on); valued at
``WATER_PRICE_PLN`` per m³; minus ``CREW_COST_PLN`` per true alert (a dispatch) and per false alarm.
Localisation: zone classes are localised by rule 2; for theft classes the alert's ranked ``candidates``
(or its meter) are checked for the true meter in the top 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from gmina.sim.bench.detectors import AlertCandidate
from gmina.sim.events import ANOMALIES, ZONE_CLASSES, EventClass, Label

BEFORE = timedelta(hours=1)
TOLERANCE = timedelta(days=2)
HORIZON = timedelta(days=30)
WATER_PRICE_PLN = 6.0  # PLN per m³ of water (tariffs in Polish gminy: about 4–9 PLN/m³ net of sewage)
CREW_COST_PLN = 400.0  # one dispatch of a two-person crew with a van, about half a day
THEFT = (EventClass.METER_BYPASS, EventClass.ILLEGAL_CONNECTION)


def matches(alert: AlertCandidate, label: Label, end_of_scenario: datetime) -> bool:
    if alert.event_class is not label.event_class or not label.anomaly:
        return False
    if label.event_class in ZONE_CLASSES:
        if alert.zone != label.zone:
            return False
    elif alert.meter != label.meter:
        return False
    end = (label.end or end_of_scenario) + TOLERANCE
    return label.start - BEFORE <= alert.start <= end


@dataclass
class ClassScore:
    event_class: str
    events: int = 0
    detected: int = 0
    alerts: int = 0
    true_alerts: int = 0
    false_alarms: int = 0
    delays_h: list[float] = field(default_factory=list)
    top3: int = 0
    stopped_m3: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        precision = self.true_alerts / (self.true_alerts + self.false_alarms) if self.alerts else None
        recall = self.detected / self.events if self.events else None
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
        return {
            "event_class": self.event_class,
            "events": self.events,
            "detected": self.detected,
            "alerts": self.alerts,
            "false_alarms": self.false_alarms,
            "precision": precision,
            "recall": recall,
            # no alert at all: precision is undefined, but every event was missed, so F1 is 0
            "f1": f1 if precision is not None and recall is not None else (0.0 if recall == 0 else None),
            "ttd_median_h": float(np.median(self.delays_h)) if self.delays_h else None,
            "ttd_p90_h": float(np.percentile(self.delays_h, 90)) if self.delays_h else None,
            "localisation_top3": self.top3 / self.detected if self.detected and self.event_class in THEFT else None,
            "stopped_m3": self.stopped_m3,
        }


@dataclass
class Score:
    classes: dict[str, ClassScore]
    meters: int
    days: float
    false_alarms: int
    dispatches: int
    stopped_m3: float

    @property
    def false_alarms_per_1000_meter_months(self) -> float:
        exposure = self.meters / 1000.0 * self.days / 30.0
        return self.false_alarms / exposure if exposure else 0.0

    @property
    def economic_pln(self) -> float:
        return self.stopped_m3 * WATER_PRICE_PLN - CREW_COST_PLN * (self.dispatches + self.false_alarms)

    def merge(self, other: Score) -> Score:
        classes = {k: ClassScore(k) for k in sorted(set(self.classes) | set(other.classes))}
        for source in (self.classes, other.classes):
            for k, c in source.items():
                t = classes[k]
                t.events += c.events
                t.detected += c.detected
                t.alerts += c.alerts
                t.true_alerts += c.true_alerts
                t.false_alarms += c.false_alarms
                t.delays_h += c.delays_h
                t.top3 += c.top3
                t.stopped_m3 += c.stopped_m3
        return Score(
            classes,
            self.meters + other.meters,
            max(self.days, other.days),
            self.false_alarms + other.false_alarms,
            self.dispatches + other.dispatches,
            self.stopped_m3 + other.stopped_m3,
        )


def score(alerts: list[AlertCandidate], labels: list[Label], start: datetime, days: float, meters: int) -> Score:
    """Apply the matching rule; see the module docstring."""
    end = start + timedelta(days=days)
    classes = {c.value: ClassScore(c.value) for c in ANOMALIES}
    for label in labels:
        if label.anomaly:
            classes[label.event_class.value].events += 1
    matched: set[str] = set()
    false_alarms = dispatches = 0
    stopped = 0.0
    for alert in sorted(alerts, key=lambda a: (a.start, a.event_class.value, a.zone, a.meter or "")):
        cls = classes[alert.event_class.value]
        cls.alerts += 1
        hits = [lb for lb in labels if matches(alert, lb, end)]
        fresh = [lb for lb in hits if lb.event_id not in matched]
        if not hits:
            cls.false_alarms += 1
            false_alarms += 1
            continue
        if not fresh:
            cls.alerts -= 1  # a duplicate of an already-detected event
            continue
        label = min(fresh, key=lambda lb: lb.start)
        matched.add(label.event_id)
        cls.detected += 1
        cls.true_alerts += 1
        dispatches += 1
        cls.delays_h.append(max((alert.start - label.start).total_seconds() / 3600.0, 0.0))
        suspects = alert.candidates or ((alert.meter,) if alert.meter else ())
        if label.event_class in THEFT and (label.meter is None or label.meter in suspects[:3]):
            cls.top3 += 1
        until = label.end if label.end is not None else end + HORIZON
        saved = max((until - max(alert.start, label.start)).total_seconds() / 3600.0, 0.0) * label.loss_lph / 1000
        cls.stopped_m3 += saved
        stopped += saved
    return Score(classes, meters, days, false_alarms, dispatches, stopped)
