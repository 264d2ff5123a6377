"""The EPANET emitter used for leaks reproduces WNTR's own pressure-dependent leak model (add_leak)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import wntr  # type: ignore[import-untyped,unused-ignore]

from gmina.sim.hydraulics import EpanetRun, emitter_coefficient_lps, leak_area_m2
from gmina.sim.networks import available_networks, load_network

AREA = 2e-4  # m², a leak of a few L/s at Net1's pressures
HOURS = 6


def _net1_constant_demand() -> object:
    wn = load_network("Net1")
    wn.add_pattern("flat", [1.0])
    wn.options.hydraulic.pattern = "flat"
    for name in wn.junction_name_list:
        junction = wn.get_node(name)
        junction.demand_timeseries_list.clear()
        junction.add_demand(0.002, "flat")
    return wn


def test_emitter_matches_wntr_add_leak() -> None:
    reference = _net1_constant_demand()
    reference.options.hydraulic.demand_model = "PDD"
    reference.options.hydraulic.required_pressure = 5.0
    reference.options.hydraulic.minimum_pressure = 0.0
    reference.options.time.duration = HOURS * 3600
    reference.options.time.hydraulic_timestep = 3600
    reference.get_node("22").add_leak(reference, area=AREA, discharge_coeff=0.75, start_time=0, end_time=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = wntr.sim.WNTRSimulator(reference).run_sim()
    wntr_leak_lps = results.node["leak_demand"]["22"].to_numpy()[:HOURS] * 1000.0

    ours = _net1_constant_demand()
    junctions = list(ours.junction_name_list)
    run = EpanetRun(ours, HOURS * 3600, 3600, 5.0)
    try:
        emitter = np.full((1, HOURS), float(emitter_coefficient_lps(AREA)))
        demand = np.full((len(junctions), HOURS), 2.0)
        result = run.run(junctions, demand, [], [], ["22"], emitter)
    finally:
        run.close()
    assert result.leak_lps[0] == pytest.approx(wntr_leak_lps, rel=0.02)


def test_leak_area_inverts_the_orifice_law() -> None:
    area = leak_area_m2(1.5, 40.0)
    assert float(emitter_coefficient_lps(area)) * 40.0**0.5 == pytest.approx(1.5)


def test_library_networks_are_listed() -> None:
    assert {"Net1", "Net3", "ky4"} <= set(available_networks())
