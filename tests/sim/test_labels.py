"""Labels are consistent with the readings, and every event class is produced."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gmina.sim import ANOMALIES, NON_EVENTS, EventClass, Label, Scenario

E = EventClass


def _series(scenario: Scenario, meter: str) -> tuple[list[object], np.ndarray]:
    table = scenario.readings.filter(pc.equal(scenario.readings.column("meter"), meter))
    return table.column("observed_at").to_pylist(), table.column("index_l").to_numpy()


def _of(scenario: Scenario, cls: EventClass) -> list[Label]:
    return [lb for lb in scenario.labels if lb.event_class is cls]


def test_every_event_class_is_produced(scenario: Scenario) -> None:
    produced = {lb.event_class for lb in scenario.labels}
    assert set(ANOMALIES) <= produced
    assert set(NON_EVENTS) - {E.GARDEN_WATERING} <= produced


def test_garden_watering_is_labelled_in_season() -> None:
    from gmina.sim import ScenarioConfig, simulate

    summer = simulate(
        ScenarioConfig(
            network="Net1", days=7, seed=3, zones=1, points_per_zone=(60, 60), start="2025-06-02", events_per_zone={}
        )  # fmt: skip
    )
    assert _of(summer, E.GARDEN_WATERING)


def test_stuck_meter_index_is_constant(scenario: Scenario) -> None:
    for label in _of(scenario, E.METER_STUCK):
        times, index = _series(scenario, str(label.meter))
        during = [x for t, x in zip(times, index, strict=True) if t >= label.start + timedelta(minutes=2)]
        assert len(set(during)) <= 1


def test_replacement_resets_the_index(scenario: Scenario) -> None:
    for label in _of(scenario, E.METER_REPLACEMENT):
        times, index = _series(scenario, str(label.meter))
        before = [x for t, x in zip(times, index, strict=True) if t < label.start - timedelta(minutes=2)]
        after = [x for t, x in zip(times, index, strict=True) if t > label.start + timedelta(minutes=2)]
        if before and after:
            assert after[0] < 1000 < before[-1]
            assert label.anomaly is False


def test_reverse_mechanical_meter_counts_down(scenario: Scenario) -> None:
    for label in _of(scenario, E.REVERSE_INSTALLATION):
        times, index = _series(scenario, str(label.meter))
        during = np.asarray([x for t, x in zip(times, index, strict=True) if t > label.start])
        if label.params["technology"] == "electronic":
            assert len(set(during.tolist())) <= 1
        elif len(during) > 1:
            assert during[-1] <= during[0]


def test_spike_is_one_reading_and_rollback_drops(scenario: Scenario) -> None:
    for label in _of(scenario, E.INDEX_SPIKE):
        _, index = _series(scenario, str(label.meter))
        jumps = np.diff(index)
        assert jumps.max() >= label.magnitude * 0.99 and jumps.min() <= -label.magnitude * 0.99
    for label in _of(scenario, E.INDEX_ROLLBACK):
        times, index = _series(scenario, str(label.meter))
        if any(t > label.start for t in times) and any(t < label.start for t in times):
            assert np.diff(index).min() < 0


def test_comm_loss_has_no_readings(scenario: Scenario) -> None:
    for label in _of(scenario, E.COMM_LOSS):
        times, _ = _series(scenario, str(label.meter))
        end = label.end or (scenario.start + timedelta(days=scenario.days))
        assert not [t for t in times if label.start + timedelta(minutes=2) < t < end - timedelta(minutes=2)]


def test_vacation_registers_nothing(scenario: Scenario) -> None:
    for label in _of(scenario, E.VACATION):
        times, index = _series(scenario, str(label.meter))
        end = label.end or (scenario.start + timedelta(days=scenario.days))
        during = [x for t, x in zip(times, index, strict=True) if label.start + timedelta(hours=1) < t < end]
        assert len(set(during)) <= 1


def test_customer_leak_volume_and_flags(scenario: Scenario) -> None:
    for label in _of(scenario, E.CUSTOMER_LEAK):
        assert 3 <= label.magnitude <= 60
        assert label.loss_m3 > 0
    flagged = scenario.readings.filter(pc.greater(pc.list_value_length(scenario.readings.column("flags")), 0))
    codes = set(pc.list_flatten(flagged.column("flags")).to_pylist())
    assert {"leak", "backflow"} <= codes


def test_labels_roundtrip(scenario: Scenario) -> None:
    for label in scenario.labels:
        assert Label.from_dict(label.as_dict()).as_dict() == label.as_dict()


def test_readings_schema(scenario: Scenario) -> None:
    assert scenario.readings.schema.field("observed_at").type == pa.timestamp("us", "UTC")
    assert pc.min(scenario.readings.column("index_l")).as_py() >= 0
