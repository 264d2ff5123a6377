"""Django-free simulator: labelled scenarios on real EPANET networks (WNTR/EPANET), and the benchmark.

    from gmina.sim import ScenarioConfig, simulate, write_scenario
    scenario = simulate(ScenarioConfig(network="Net3", days=90, seed=1))
    write_scenario(scenario, "out/")

See docs/simulator.md.
"""

from gmina.sim.events import ANOMALIES, NON_EVENTS, EventClass, Family, Label
from gmina.sim.networks import available_networks, load_network
from gmina.sim.outputs import write_scenario
from gmina.sim.results import Scenario
from gmina.sim.scenario import ScenarioConfig, simulate

__all__ = [
    "ANOMALIES",
    "NON_EVENTS",
    "EventClass",
    "Family",
    "Label",
    "Scenario",
    "ScenarioConfig",
    "available_networks",
    "load_network",
    "simulate",
    "write_scenario",
]
