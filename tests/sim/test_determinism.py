"""Same seed ⇒ identical outputs; another seed ⇒ different outputs."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from gmina.sim import Scenario, simulate, write_scenario
from tests.sim.conftest import SMALL


def _digest(paths: dict[str, Path]) -> dict[str, str]:
    return {
        name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in paths.items() if name != "manifest.json"
    }


def test_same_seed_same_bytes(scenario: Scenario, written: dict[str, Path], tmp_path: Path) -> None:
    again = write_scenario(simulate(SMALL), tmp_path)
    assert _digest(again) == _digest(written)


def test_other_seed_differs(scenario: Scenario) -> None:
    other = simulate(dataclasses.replace(SMALL, seed=SMALL.seed + 1, days=7))
    assert other.readings.slice(0, 200) != scenario.readings.slice(0, 200)
