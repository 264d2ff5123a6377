"""The engine adapter: the benchmark's tables as engine frames, the replay, the class mapping, and quality floors.

The floors are what the engine scores on the small shared scenario (Net1, 21 days, seed 7, 400 meters, mixed
cadences) minus about one event's worth: a regression of the engine or of the adapter fails them.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from gmina.engine import fuse, run_detectors
from gmina.sim import Scenario
from gmina.sim.bench.detectors import AlertCandidate
from gmina.sim.bench.engine_adapter import CLASS_MAP, EngineDetector, EngineFrames, instants, replay
from gmina.sim.bench.scoring import score
from gmina.sim.bench.suite import detector_meta, ingested_readings, resolve_detectors
from gmina.sim.events import EventClass

F1_FLOORS = {
    EventClass.COMM_LOSS: 0.85,  # measured 1.00 (4 of 4, no false alarm)
    EventClass.REVERSE_INSTALLATION: 0.7,  # measured 0.86 (3 of 4)
    EventClass.INDEX_SPIKE: 0.7,  # measured 1.00 (4 of 4, no false alarm)
}
# Network leaks are not floored here: both start on days 6 and 7 of the 21, before the two weeks of reference nights
# the leak rule needs (tests/engine covers it: test_mixed_cadence, test_quality).
MIN_DETECTED = 18  # measured 19 events detected in all
MAX_FALSE_ALARMS_PER_1000_METER_MONTHS = 8.0  # measured 0 (one false alarm here is 3.6)

T = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def inputs(scenario: Scenario) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    return ingested_readings(scenario), scenario.inlet_readings, detector_meta(scenario)


@pytest.fixture(scope="module")
def alerts(inputs: tuple[pa.Table, pa.Table, dict[str, Any]]) -> list[AlertCandidate]:
    readings, inlet, meta = inputs
    # only what the product knows: no labels, no truth series, nothing but zones, inlets, meters and the window
    known = {k: copy.deepcopy(meta[k]) for k in ("zones", "meters", "start", "days")}
    before = (readings, inlet, copy.deepcopy(known))
    out = EngineDetector().detect(readings, inlet, known)
    assert before[0].equals(readings) and before[1].equals(inlet) and before[2] == known  # inputs untouched
    return out


def test_alerts_have_mapped_classes_and_known_locations(
    alerts: list[AlertCandidate], inputs: tuple[pa.Table, pa.Table, dict[str, Any]]
) -> None:
    meta = inputs[2]
    zones = {z["zone"] for z in meta["zones"]}
    inlets = {link["meter"] for z in meta["zones"] for link in z["inlets"]}
    assert alerts
    assert {a.event_class for a in alerts} <= {c for c in CLASS_MAP.values() if c is not None}
    for a in alerts:
        assert a.zone in zones
        if a.event_class in (EventClass.NETWORK_LEAK, EventClass.NETWORK_BURST, EventClass.ILLEGAL_CONNECTION):
            assert a.meter is None
        else:
            assert a.meter in meta["meters"] or a.meter in inlets
        assert 0.5 <= a.confidence <= 1.0


def test_alerts_are_raised_at_the_first_hour_that_reports_them_not_at_inferred_onsets(
    alerts: list[AlertCandidate], scenario: Scenario, inputs: tuple[pa.Table, pa.Table, dict[str, Any]]
) -> None:
    end = scenario.start + timedelta(days=scenario.days)
    runs = set(instants(scenario.start, end, 6.0, 24.0))
    hours = set(instants(scenario.start, end, 1.0, 24.0))
    assert all(a.start in hours for a in alerts)
    assert any(a.start not in runs for a in alerts)  # dated between the 6-hourly runs


def test_a_refined_alert_was_not_reported_an_hour_earlier(inputs: tuple[pa.Table, pa.Table, dict[str, Any]]) -> None:
    frames = EngineFrames.build(*inputs)
    end = frames.start + timedelta(days=12)
    runs = set(instants(frames.start, end, 6.0, 24.0))
    refined = [c for c in replay(frames, end) if c.raised not in runs]
    assert refined
    gap = timedelta(hours=24)
    for case in refined:
        earlier = fuse(run_detectors(frames.input(case.raised - timedelta(hours=1))))
        same = earlier.filter(
            (pl.col("confidence") >= 0.5)
            & (pl.col("alert_class") == case.alert_class)
            & (pl.col("location_kind") == case.location_kind)
            & (pl.col("location_id") == case.location_id)
        )
        for start, end in same.select("start", "end").rows():
            assert not ((case.end is None or start <= case.end + gap) and (end is None or case.start <= end + gap))


def test_engine_meets_its_floors_on_the_small_scenario(alerts: list[AlertCandidate], scenario: Scenario) -> None:
    meters = len(detector_meta(scenario)["meters"])
    result = score(alerts, scenario.labels, scenario.start, scenario.days, meters)
    classes = {k: c.as_dict() for k, c in result.classes.items()}
    for cls, floor in F1_FLOORS.items():
        f1 = classes[cls.value]["f1"]
        assert f1 is not None and f1 >= floor, f"{cls}: F1 {f1} < {floor} ({classes[cls.value]})"
    assert sum(c["detected"] for c in classes.values()) >= MIN_DETECTED
    assert result.false_alarms_per_1000_meter_months <= MAX_FALSE_ALARMS_PER_1000_METER_MONTHS


def _tiny() -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    at = [T + timedelta(hours=h) for h in range(4)]
    readings = pa.table(
        {
            "meter": ["B", "A", "B", "A", "B", "A", "B", "A"],
            "observed_at": pa.array([t for t in at for _ in range(2)], pa.timestamp("us", "UTC")),
            "index_l": pa.array([0, 10, 5, 20, 9, 30, 9, 40], pa.int64()),
            "flags": [[], [], ["leak"], [], ["leak"], [], [], []],
        }
    )
    inlet = pa.table(
        {
            "meter": ["FM-1"] * 4,
            "link": ["1"] * 4,
            "observed_at": pa.array(at, pa.timestamp("us", "UTC")),
            "index_l": pa.array([0, 100, 200, 200], pa.int64()),
            "reverse_l": pa.array([0, 0, 0, 40], pa.int64()),
            "flow_lph": [4000.0, 4000.0, 4000.0, -400.0],  # peak 4 m³/h: Q3 sized 25 % above
        }
    )
    meta = {
        "start": "2025-03-01T00:00:00Z",
        "days": 1,
        "zones": [{"zone": "Z1", "inlets": [{"meter": "FM-1", "link": "1", "sign": -1}]}],
        "meters": {"A": "Z1", "B": "Z1"},
    }
    return readings, inlet, meta


def test_frames_translate_meters_boundary_and_flag_episodes() -> None:
    frames = EngineFrames.build(*_tiny())
    assert frames.meter_names == {1: "A", 2: "B", 3: "FM-1"} and frames.zone_names == {1: "Z1"}
    assert frames.boundary.rows() == [(1, 3, "out")]
    inlet = frames.meters.filter(pl.col("meter_id") == 3).row(0, named=True)
    assert inlet["kind"] == "zone" and inlet["q3_m3h"] == pytest.approx(5.0)
    assert frames.readings.filter(pl.col("meter_id") == 3)["backflow_l"].to_list() == [0, 0, 0, 40]
    # the leak flag on B's readings at 1 h and 2 h is one episode, ended by the reading at 3 h
    closed = frames.events(T + timedelta(hours=3)).row(0, named=True)
    assert (closed["meter_id"], closed["code"], closed["state"]) == (2, "leak", "active")
    assert closed["first_seen"] == T + timedelta(hours=1) and closed["last_seen"] == T + timedelta(hours=2)
    assert closed["ended_at"] == T + timedelta(hours=3)
    # seen from 2 h, the episode is still open
    open_ = frames.events(T + timedelta(hours=2)).row(0, named=True)
    assert open_["ended_at"] is None and open_["last_seen"] == T + timedelta(hours=2)
    assert frames.events(T).is_empty()
    # the engine sees the readings up to as_of only
    assert frames.input(T + timedelta(hours=1)).readings.height == 6


def test_detector_names_resolve() -> None:
    names = [d.name for d in resolve_detectors("engine,reference")]
    assert names == ["engine", "flag_echo", "zero_run", "night_flow"]
    assert [d.name for d in resolve_detectors("zero_run, engine")] == ["zero_run", "engine"]
    with pytest.raises(ValueError, match="unknown detector"):
        resolve_detectors("engine,oracle")


def test_the_replay_reopens_a_cleared_alert_for_the_same_episode_as_the_app_does() -> None:
    from types import SimpleNamespace
    from unittest.mock import patch

    from gmina.sim.bench import engine_adapter

    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    onset = t0 + timedelta(hours=10)

    def replayed(reported_days: set[int]) -> list[engine_adapter.RaisedCase]:
        def cases(frames: Any, as_of: datetime, min_confidence: float, seed: int) -> pl.DataFrame:
            day = int((as_of - t0) / timedelta(days=1))
            rows = [("network_leak", "zone", 7, onset, None, 0.9, "{}", "network")] if day in reported_days else []
            schema = ["alert_class", "location_kind", "location_id", "start", "end", "confidence", "evidence"]
            return pl.DataFrame(rows, schema=[*schema, "detectors"], orient="row")

        with patch.object(engine_adapter, "_cases", cases):
            frames = SimpleNamespace(start=t0)
            return replay(frames, t0 + timedelta(days=20), step_h=24.0, refine_h=None)  # type: ignore[arg-type]

    # reported on days 1-2, cleared on day 4 (a day unreported), the same onset again on day 6: one alert
    assert len(replayed({1, 2, 6, 7})) == 1
    # … and again on day 13, more than 7 days after the clearing: a second alert
    assert len(replayed({1, 2, 13})) == 2
