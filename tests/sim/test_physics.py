"""Physical sanity: zone inlet volume = metered consumption + network leaks + illegal draws."""

from __future__ import annotations

import numpy as np
import pytest

from gmina.sim import EventClass, Scenario
from gmina.sim.consumers import integrate_pulses
from gmina.sim.profiles import litres_per_person_day

TOLERANCE = 0.005  # 0.5 % of the inflow: EPANET's convergence (ACCURACY 0.001) and PDA deficits


def test_zone_inflow_equals_consumption_plus_leaks_plus_illegal(scenario: Scenario) -> None:
    for zone, truth in scenario.summary["zones"].items():
        expected = truth["consumption_m3"] + truth["network_leak_m3"] + truth["illegal_m3"]
        assert truth["inflow_m3"] == pytest.approx(expected, rel=TOLERANCE), zone
        assert truth["network_leak_m3"] > 0 and truth["illegal_m3"] > 0


def test_meters_register_less_than_true_use_but_close(scenario: Scenario) -> None:
    for truth in scenario.summary["zones"].values():
        assert 0.9 * truth["consumption_m3"] < truth["registered_m3"] < truth["consumption_m3"]


def test_consumption_is_realistic(scenario: Scenario) -> None:
    assert 95 < litres_per_person_day() < 115
    for truth in scenario.summary["zones"].values():
        per_point_day = truth["consumption_m3"] * 1000 / truth["points"] / scenario.days
        assert 150 < per_point_day < 600  # households ~270 L/d, some commercial points


def test_pulses_integrate_exactly() -> None:
    rng = np.random.default_rng(0)
    start = rng.uniform(-5, 100, 500)
    end = start + rng.uniform(0, 20, 500)
    rate = rng.uniform(0, 10, 500)
    out = integrate_pulses(3, 100, rng.integers(0, 3, 500), start, end, rate)
    clipped = (np.clip(end, 0, 100) - np.clip(start, 0, 100)) * rate
    assert out.sum() == pytest.approx(clipped.sum(), rel=1e-9)


def test_network_leak_grows_and_burst_is_abrupt(scenario: Scenario) -> None:
    leaks = [lb for lb in scenario.labels if lb.event_class is EventClass.NETWORK_LEAK]
    bursts = [lb for lb in scenario.labels if lb.event_class is EventClass.NETWORK_BURST]
    assert leaks and bursts
    for label in leaks:
        assert label.params["final_lph"] >= label.loss_lph > 0  # growing: the mean is below the final size
    for label in bursts:
        assert label.loss_lph > 0
