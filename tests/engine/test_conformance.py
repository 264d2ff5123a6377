"""One conformance suite over every registered detector (river's habit): contract, determinism, no mutation."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import timedelta

import polars as pl
import pytest

from gmina.engine.base import ALERT_CANDIDATES, AlertClass, BaseParams, Detector, EngineInput, registered_detectors
from gmina.engine.frames import BOUNDARY, EVENTS, READINGS, empty
from tests.engine.scenario import T0, Scenario

DETECTORS = registered_detectors()
IDS = [d.name for d in DETECTORS]


def _fresh(s: Scenario) -> EngineInput:
    d = s.data
    return EngineInput(d.readings, d.meters, d.as_of, d.boundary, d.events)


def test_registry_names_are_unique_and_cover_every_class() -> None:
    assert len(IDS) == len(set(IDS))
    covered = set().union(*(d.alert_classes for d in DETECTORS))
    missing = set(AlertClass) - covered
    assert not missing, missing


@pytest.mark.parametrize("det", DETECTORS, ids=IDS)
def test_output_schema_and_values(det: Detector, scenario: Scenario) -> None:
    out = det.detect(scenario.data)
    assert out.schema == pl.Schema(ALERT_CANDIDATES.dtypes)
    assert out["confidence"].is_between(0.0, 1.0).all()
    assert (out["volume_m3"] >= 0).all() and (out["cost_pln"] >= 0).all()
    assert set(out["alert_class"]) <= {str(c) for c in det.alert_classes}
    assert (out["detector"] == det.name).all()
    assert out.filter(pl.col("end").is_not_null() & (pl.col("end") < pl.col("start"))).is_empty()
    for ev in out["evidence"]:
        assert isinstance(json.loads(ev), dict)


@pytest.mark.parametrize("det", DETECTORS, ids=IDS)
def test_deterministic_under_a_seed(det: Detector, scenario: Scenario) -> None:
    a = det.detect(_fresh(scenario), seed=3)
    b = det.detect(_fresh(scenario), seed=3)
    assert a.equals(b)


@pytest.mark.parametrize("det", DETECTORS, ids=IDS)
def test_inputs_are_not_mutated(det: Detector, scenario: Scenario) -> None:
    d = scenario.data
    frames = [d.readings, d.meters, d.boundary, d.events]
    before = [f.clone() for f in frames]
    data = EngineInput(*frames[:2], d.as_of, *frames[2:])
    det.detect(data)
    for f, b in zip(frames, before, strict=True):
        assert f.equals(b)


@pytest.mark.parametrize("det", DETECTORS, ids=IDS)
def test_empty_input_gives_empty_output(det: Detector, scenario: Scenario) -> None:
    data = EngineInput(empty(READINGS), scenario.data.meters, T0, empty(BOUNDARY), empty(EVENTS))
    out = det.detect(data)
    assert out.is_empty() and out.schema == pl.Schema(ALERT_CANDIDATES.dtypes)


@pytest.mark.parametrize("det", DETECTORS, ids=IDS)
def test_short_window_does_not_fail(det: Detector, scenario: Scenario) -> None:
    out = det.detect(scenario.at(5))
    assert out.schema == pl.Schema(ALERT_CANDIDATES.dtypes)


@pytest.mark.parametrize("det", DETECTORS, ids=IDS)
def test_parameters_are_declared(det: Detector) -> None:
    params = det.params_type()
    assert isinstance(params, BaseParams)
    for f in fields(params):
        assert "unit" in f.metadata and f.metadata.get("doc"), f"{det.name}.{f.name} lacks unit/doc"
    with pytest.raises(TypeError):
        det.detect(EngineInput(empty(READINGS), empty_meters(), T0), params=object())


@pytest.mark.parametrize("det", DETECTORS, ids=IDS)
def test_cost_follows_the_price(det: Detector, scenario: Scenario) -> None:
    params = replace(det.params_type(), price_pln_per_m3=1.0)
    out = det.detect(scenario.data, params=params)
    assert ((out["cost_pln"] - out["volume_m3"]).abs() < 1e-9).all()


def test_order_of_readings_does_not_change_results(scenario: Scenario) -> None:
    d = scenario.data
    shuffled = d.readings.sample(fraction=1.0, shuffle=True, seed=1)
    a = EngineInput(shuffled, d.meters, d.as_of + timedelta(0), d.boundary, d.events)
    for det in DETECTORS:
        assert det.detect(a).equals(det.detect(_fresh(scenario))), det.name


def empty_meters() -> pl.DataFrame:
    from gmina.engine.frames import METERS

    return empty(METERS)
