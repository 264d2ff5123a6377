"""Quality floors on the labelled scenario: every class found, few false alarms, none on the non-events.

The floors are what the engine achieves on this scenario (seed 7); a regression of any detector fails them.
Time-to-detect checks replay the scenario up to an earlier ``as_of`` (the issue's targets at hourly cadence).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from gmina.engine.base import ALERT_CANDIDATES, EngineInput, run_detectors
from gmina.engine.fusion import fuse
from tests.engine.scenario import Label, Scenario
from tests.engine.scoring import onset_error_h, score

RECALL_FLOOR = 1.0  # every injected event of every class is found
PRECISION_FLOOR = 0.75  # per class, among raised alerts (confidence >= 0.5)


@pytest.fixture(scope="module")
def alerts(scenario: Scenario) -> pl.DataFrame:
    return run_detectors(scenario.data)


def test_every_class_meets_its_floor(alerts: pl.DataFrame, scenario: Scenario) -> None:
    scores = score(alerts, scenario.labels)
    for cls, s in scores.items():
        assert s.recall >= RECALL_FLOOR, f"{cls}: recall {s.recall:.2f} ({s})"
        assert s.precision >= PRECISION_FLOOR, f"{cls}: precision {s.precision:.2f} ({s})"
    assert len([c for c, s in scores.items() if s.labels]) == 10


def test_no_alarm_on_non_events(alerts: pl.DataFrame, scenario: Scenario) -> None:
    raised = alerts.filter((pl.col("confidence") >= 0.5) & pl.col("location_id").is_in(list(scenario.non_event_meters)))
    assert raised.is_empty(), raised


def test_contradicted_device_flag_is_downgraded(alerts: pl.DataFrame) -> None:
    flag = alerts.filter((pl.col("detector") == "device_alarms") & (pl.col("location_id") == 1030))
    assert flag.height == 1 and flag["confidence"][0] < 0.5 and '"contradicted"' in flag["evidence"][0]


@pytest.mark.parametrize("days", [12, 22, 31, 41, 47, 52])
def test_no_non_event_alarm_along_the_way(scenario: Scenario, days: int) -> None:
    out = run_detectors(scenario.at(days * 24))
    raised = out.filter((pl.col("confidence") >= 0.5) & pl.col("location_id").is_in(list(scenario.non_event_meters)))
    assert raised.is_empty(), raised
    assert score(out, scenario.labels)["network_burst"].precision == 1.0


def _label(s: Scenario, cls: str, location_id: int) -> Label:
    return next(lab for lab in s.labels if lab.alert_class == cls and lab.location_id == location_id)


@pytest.mark.parametrize(
    ("cls", "location_id", "after_h"),
    [
        ("customer_burst", 2005, 1),  # burst <= 1 h of data after onset
        ("customer_burst", 1020, 1),
        ("network_burst", 3, 1),
        ("customer_leak", 1005, 26),  # customer-side leak <= 24 h (+ the run's start before the onset hour)
        ("customer_leak", 4020, 24),
        ("stuck", 1003, 72),  # stuck <= 3 days
        ("stuck", 3010, 72),
        ("network_leak", 2, 72),  # incipient network leak <= 3 days
        ("comm_loss", 1013, 26),
        ("meter_bypass", 4003, 7 * 24),  # theft <= 7 days (localisation alone: the tamper flag is removed)
    ],
)
def test_time_to_detect(scenario: Scenario, cls: str, location_id: int, after_h: int) -> None:
    lab = _label(scenario, cls, location_id)
    data = scenario.at(lab.start_h + after_h)
    if cls == "meter_bypass":
        data = EngineInput(data.readings, data.meters, data.as_of, data.boundary, data.events.clear())
    out = run_detectors(data).filter(pl.col("confidence") >= 0.5)
    err = onset_error_h(out, lab)
    assert err is not None, f"{cls} at {location_id} not detected {after_h} h after onset"
    assert abs(err) <= 48


def test_fusion_gives_one_case_per_cause(alerts: pl.DataFrame, scenario: Scenario) -> None:
    cases = fuse(alerts)
    assert cases["rank"].to_list() == list(range(1, cases.height + 1))
    bypass = cases.filter(pl.col("alert_class") == "meter_bypass")
    assert bypass.height == 1 and bypass["detectors"][0] == "bypass,device_alarms"
    raised = cases.filter(pl.col("confidence") >= 0.5)
    keys = raised.select("alert_class", "location_kind", "location_id")
    assert keys.n_unique() == raised.height  # separate episodes at one place are separate cases; here none is
    top = cases.row(0, named=True)
    # the most water and money at stake: the leak, running for weeks (the burst was repaired within two days)
    assert top["alert_class"] == "network_leak" and top["expected_cost_pln"] == cases["expected_cost_pln"].max()


def test_a_detectors_repeated_candidates_are_one_witness() -> None:
    t = datetime(2025, 3, 3, 10, tzinfo=UTC)
    row = {"alert_class": "customer_burst", "location_kind": "meter", "location_id": 7, "end": None,
           "volume_m3": 1.0, "cost_pln": 6.0, "evidence": "{}"}  # fmt: skip
    # a device burst flag a busy premise trips every working day, each contradicted by the data (0.15)
    flags = [{**row, "detector": "device_alarms", "confidence": 0.15, "start": t + timedelta(days=d)} for d in range(6)]
    cases = fuse(pl.DataFrame(flags, schema=ALERT_CANDIDATES.dtypes))
    assert cases.height == 1 and cases["confidence"][0] == pytest.approx(0.15)  # not 1 − 0.85⁶ ≈ 0.62: not raised
    data = {**row, "detector": "customer_burst", "confidence": 0.6, "start": t + timedelta(days=5)}
    both = fuse(pl.DataFrame([*flags, data], schema=ALERT_CANDIDATES.dtypes))
    assert both["confidence"][0] == pytest.approx(1 - 0.85 * 0.4)  # two witnesses
