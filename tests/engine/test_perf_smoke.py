"""The throughput check runs end to end on a tiny input and reports every run, the medians and every stage."""

from __future__ import annotations

import pytest

from gmina.engine.base import registered_detectors, run_detectors
from gmina.engine.perf import breakdown, main, measure, synthetic_frames


def test_measure_times_each_run_and_finds_what_a_plain_pass_finds() -> None:
    frames = synthetic_frames(30, 3, per_zone=10)
    result = measure(frames, runs=2)
    assert len(result.engine_s) == len(result.baseline_s) == 2 and min(result.engine_s) > 0
    assert result.readings == (30 + 3) * 72 and result.alerts == run_detectors(frames.engine_input()).height
    assert result.readings_per_s == result.readings / result.engine_median_s


def test_breakdown_times_every_stage() -> None:
    stages = breakdown(synthetic_frames(30, 3, per_zone=10))
    assert list(stages) == ["input", "grid", "zone_balance", *(d.name for d in registered_detectors())]
    assert all(seconds >= 0 for seconds in stages.values())


def test_command_prints_runs_medians_and_stages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--meters", "20", "--days", "2", "--runs", "2", "--breakdown"]) == 0
    out = capsys.readouterr().out
    assert "run 2:" in out and "(median of 2)" in out and "readings/s" in out and "breakdown: input" in out
