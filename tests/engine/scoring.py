"""Match alert candidates to scenario labels: per-class recall/precision, and false alarms on non-event meters."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from gmina.engine.grid import HOUR_US
from tests.engine.scenario import T0, Label

T0_US = int(T0.timestamp()) * 1_000_000


@dataclass
class ClassScore:
    labels: int = 0
    found: int = 0
    alerts: int = 0
    true_alerts: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.labels if self.labels else 1.0

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else 1.0


def _matches(row: dict[str, object], label: Label, slack_h: int = 24) -> bool:
    if row["alert_class"] != label.alert_class or row["location_kind"] != label.location_kind:
        return False
    if row["location_id"] != label.location_id:
        return False
    start_h = (int(row["start_us"]) - T0_US) / HOUR_US  # type: ignore[call-overload]
    end_h = label.end_h if label.end_h is not None else 10**9
    return label.start_h - slack_h <= start_h <= end_h + slack_h


def score(alerts: pl.DataFrame, labels: list[Label], min_confidence: float = 0.5) -> dict[str, ClassScore]:
    raised = alerts.filter(pl.col("confidence") >= min_confidence).with_columns(
        pl.col("start").cast(pl.Int64).alias("start_us")
    )
    rows = raised.to_dicts()
    out: dict[str, ClassScore] = {}
    for lab in labels:
        s = out.setdefault(lab.alert_class, ClassScore())
        s.labels += 1
        s.found += any(_matches(r, lab) for r in rows)
    for r in rows:
        s = out.setdefault(str(r["alert_class"]), ClassScore())
        s.alerts += 1
        s.true_alerts += any(_matches(r, lab) for lab in labels)
    return out


def onset_error_h(alerts: pl.DataFrame, label: Label) -> float | None:
    for r in alerts.with_columns(pl.col("start").cast(pl.Int64).alias("start_us")).to_dicts():
        if _matches(r, label):
            return (int(r["start_us"]) - T0_US) / HOUR_US - label.start_h
    return None
