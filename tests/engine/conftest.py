from __future__ import annotations

import pytest

from tests.engine.scenario import Scenario, build


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return build(seed=7)
