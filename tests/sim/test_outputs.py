"""Outputs parse with the project's own parsers; the CLI and the benchmark harness run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gmina.ingest import PROFILES, parse_api_json, read_csv
from gmina.sim import Scenario
from gmina.sim.cli import main, run_sim_cli


def test_csv_parses_without_rejections(scenario: Scenario, written: dict[str, Path]) -> None:
    for name, rows in (("readings.csv", scenario.readings.num_rows), ("inlets.csv", scenario.inlet_readings.num_rows)):
        batches = list(read_csv(written[name], PROFILES["gmina"]))
        assert sum(b.rejections.num_rows for b in batches) == 0
        assert sum(b.readings.num_rows for b in batches) == rows


def test_csv_carries_the_read_types_of_a_meter_exchange(scenario: Scenario, written: dict[str, Path]) -> None:
    batches = list(read_csv(written["readings.csv"], PROFILES["gmina"]))
    parsed = [t for b in batches for t in b.readings.column("read_type").to_pylist()]
    simulated = scenario.readings.column("read_type").to_pylist()
    assert {"final", "initial"} <= set(simulated)  # the scenario exchanges meters
    assert sorted(parsed) == sorted(simulated)


def test_jsonl_parses_without_rejections(scenario: Scenario, written: dict[str, Path]) -> None:
    total = 0
    for line in written["readings.jsonl"].read_text(encoding="utf-8").splitlines():
        batch = parse_api_json(line)
        assert batch.rejections.num_rows == 0
        total += batch.readings.num_rows
    assert total == scenario.readings.num_rows


def test_manifest_and_labels(written: dict[str, Path]) -> None:
    manifest = json.loads(written["manifest.json"].read_text(encoding="utf-8"))
    assert manifest["seed"] == 7 and manifest["config"]["network"] == "Net1"
    labels = json.loads(written["labels.json"].read_text(encoding="utf-8"))
    assert labels and {"event_class", "start", "end", "zone", "loss_m3"} <= set(labels[0])


def test_cli_sim(tmp_path: Path, capsys: object) -> None:
    code = run_sim_cli(["--network", "Net1", "--days", "3", "--zones", "1", "--points", "50", "50",
                        "--out", str(tmp_path), "--format", "csv"])  # fmt: skip
    assert code == 0
    assert (tmp_path / "readings.csv").is_file() and (tmp_path / "labels.json").is_file()
    assert run_sim_cli(["--network", "NoSuchNet", "--out", str(tmp_path)]) == 2


def test_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert main(["bench", "detect", "--quick", "--json", str(out), "--markdown", str(tmp_path / "b.md")]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))["results"]  # one history line
    assert set(report["detectors"]) == {"engine", "flag_echo", "zero_run", "night_flow"}
    night = report["detectors"]["night_flow"]["classes"]
    assert any(c["event_class"] == "network_leak" and c["detected"] for c in night)


def test_no_django() -> None:
    code = (
        "import sys, importlib, pkgutil, gmina.sim\n"
        "for info in pkgutil.walk_packages(gmina.sim.__path__, 'gmina.sim.'):\n"
        "    importlib.import_module(info.name)\n"
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
