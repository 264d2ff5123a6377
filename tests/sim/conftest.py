"""One small scenario shared by the simulator tests (simulating is the slow part)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gmina.sim import Scenario, ScenarioConfig, simulate, write_scenario

SMALL = ScenarioConfig(network="Net1", days=21, seed=7, zones=2, points_per_zone=(200, 200))


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return simulate(SMALL)


@pytest.fixture(scope="session")
def written(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_scenario(scenario, tmp_path_factory.mktemp("sim"))
