"""The benchmark suite: scenarios → ``gmina`` CSV → the project's parser → detectors → scores → report.

Scenarios: three networks (Net1, Net3, ky4) × two seeds, every event class in every zone, the default
mixed cadences. ``quick`` runs one small Net1 scenario (a smoke test of the harness).

Detectors: ``engine`` (every registered :mod:`gmina.engine` detector + fusion, replayed over the scenario; see
:mod:`gmina.sim.bench.engine_adapter`) and the trivial references (``flag_echo``, ``zero_run``, ``night_flow``;
``reference`` names all three). :func:`resolve_detectors` turns ``"engine,reference"`` into detectors.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from gmina.ingest import PROFILES, read_csv
from gmina.sim.bench.detectors import REFERENCE_DETECTORS, Detector
from gmina.sim.bench.engine_adapter import EngineDetector
from gmina.sim.bench.scoring import CREW_COST_PLN, WATER_PRICE_PLN, Score, score
from gmina.sim.outputs import write_scenario
from gmina.sim.results import Scenario
from gmina.sim.scenario import ScenarioConfig, simulate

FULL_SUITE: tuple[ScenarioConfig, ...] = tuple(
    ScenarioConfig(network=net, days=60, seed=seed, zones=zones, points_per_zone=(200, 500), hydraulic_step_s=step)
    for net, zones, step in (("Net1", 2, 900), ("Net3", 3, 900), ("ky4", 3, 3600))
    for seed in (1, 2)
)
QUICK_SUITE: tuple[ScenarioConfig, ...] = (
    ScenarioConfig(network="Net1", days=21, seed=1, zones=2, points_per_zone=(200, 200)),
)


DEFAULT_DETECTORS = "engine,reference"


def resolve_detectors(spec: str, engine_step_h: float = 6.0) -> list[Detector]:
    """Detectors named in a comma-separated ``spec``: ``engine``, ``reference`` (the three references) or a
    reference detector's own name. Unknown names raise ``ValueError``."""
    known: dict[str, list[Detector]] = {
        "engine": [EngineDetector(step_h=engine_step_h)],
        "reference": list(REFERENCE_DETECTORS),
        **{d.name: [d] for d in REFERENCE_DETECTORS},
    }
    out: list[Detector] = []
    for name in (part.strip() for part in spec.split(",")):
        if not name:
            continue
        if name not in known:
            raise ValueError(f"unknown detector {name!r} (known: {', '.join(known)})")
        out += [d for d in known[name] if d not in out]
    if not out:
        raise ValueError("no detector named")
    return out


def ingested_readings(scenario: Scenario) -> pa.Table:
    """The scenario's readings after a round trip through ``readings.csv`` and the ``gmina`` CSV parser."""
    with tempfile.TemporaryDirectory(prefix="gmina-bench-") as folder:
        paths = write_scenario(scenario, folder, formats=("csv",))
        batches = list(read_csv(paths["readings.csv"], PROFILES["gmina"]))
    rejected = sum(b.rejections.num_rows for b in batches)
    if rejected:
        raise RuntimeError(f"the parser rejected {rejected} simulated readings")
    table = pa.Table.from_batches([b.readings for b in batches])
    codes = [[flag["code"] for flag in flags or []] for flags in table.column("flags").to_pylist()]
    return pa.table(
        {
            "meter": table.column("meter_ref"),
            "observed_at": table.column("observed_at"),
            "index_l": table.column("index_l"),
            "flags": pa.array(codes, pa.list_(pa.string())),
            "read_type": table.column("read_type"),
        }
    )


def detector_meta(scenario: Scenario) -> dict[str, Any]:
    meta = scenario.network_meta()
    meters = scenario.meter_table()
    meta["meters"] = dict(zip(meters.column("meter").to_pylist(), meters.column("zone").to_pylist(), strict=True))
    return meta


@dataclass
class Report:
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, Score] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    timings: list[dict[str, Any]] = field(default_factory=list)  # seconds; not in as_dict (results stay seeded)
    every_class: set[str] = field(default_factory=set)  # detectors whose misses are listed too (they claim all)

    def as_dict(self) -> dict[str, Any]:
        return {
            "matching_rule": "class + location (meter, or zone for network/illegal) + raised within "
            "[start - 1 h, end + 2 days]",
            "water_price_pln_per_m3": WATER_PRICE_PLN,
            "crew_cost_pln": CREW_COST_PLN,
            "settings": self.settings,
            "scenarios": self.scenarios,
            "detectors": {
                name: {
                    "false_alarms_per_1000_meter_months": s.false_alarms_per_1000_meter_months,
                    "economic_pln": s.economic_pln,
                    "stopped_m3": s.stopped_m3,
                    "dispatches": s.dispatches,
                    "false_alarms": s.false_alarms,
                    "classes": [c.as_dict() for c in s.classes.values()],
                }
                for name, s in self.scores.items()
            },
        }

    def markdown(self) -> str:
        lines = [
            "| detector | class | events | detected | alerts | false | P | R | F1 | TTD med h | TTD p90 h | top-3 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, s in self.scores.items():
            for c in (c.as_dict() for c in s.classes.values()):
                if not c["alerts"] and not c["detected"] and not (name in self.every_class and c["events"]):
                    continue
                cells = [name, c["event_class"], c["events"], c["detected"], c["alerts"], c["false_alarms"]]
                cells += [_fmt(c[k]) for k in ("precision", "recall", "f1", "ttd_median_h", "ttd_p90_h")]
                cells.append(_fmt(c["localisation_top3"]))
                lines.append("| " + " | ".join(str(x) for x in cells) + " |")
        lines += ["", "| detector | false alarms / 1000 meters / month | m³ stopped | economic score PLN |"]
        lines += ["|---|---:|---:|---:|"]
        for name, s in self.scores.items():
            lines.append(
                f"| {name} | {s.false_alarms_per_1000_meter_months:.1f} | {s.stopped_m3:.0f} | {s.economic_pln:.0f} |"
            )
        if self.timings:
            names = [n for n in self.scores if any(n in t for t in self.timings)]
            lines += ["", "| scenario | simulate + ingest s | " + " | ".join(f"{n} s" for n in names) + " |"]
            lines += ["|---|" + "---:|" * (len(names) + 1)]
            for t in self.timings:
                cells = [t["scenario"], f"{t['simulate_s']:.0f}", *(f"{t.get(n, 0.0):.0f}" for n in names)]
                lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def run_suite(
    quick: bool = False,
    detectors: Sequence[Detector] | None = None,
    configs: Sequence[ScenarioConfig] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Simulate each scenario, ingest it, run ``detectors`` (default: ``DEFAULT_DETECTORS``) and merge the scores."""
    chosen = list(detectors) if detectors is not None else resolve_detectors(DEFAULT_DETECTORS)
    report = Report()
    for detector in chosen:
        if isinstance(detector, EngineDetector):
            report.settings[detector.name] = detector.settings()
            report.every_class.add(detector.name)
    for config in configs if configs is not None else (QUICK_SUITE if quick else FULL_SUITE):
        began = time.perf_counter()
        scenario = simulate(config)
        readings = ingested_readings(scenario)
        meta = detector_meta(scenario)
        meters = len(meta["meters"])
        entry: dict[str, Any] = {
            "network": config.network,
            "seed": config.seed,
            "days": config.days,
            "meters": meters,
            "labels": len(scenario.labels),
        }
        report.scenarios.append(entry)
        timing = {"scenario": f"{config.network} seed {config.seed}", "simulate_s": time.perf_counter() - began}
        report.timings.append(timing)
        for detector in chosen:
            began = time.perf_counter()
            alerts = detector.detect(readings, scenario.inlet_readings, meta)
            timing[detector.name] = time.perf_counter() - began
            result = score(alerts, scenario.labels, scenario.start, config.days, meters)
            previous = report.scores.get(detector.name)
            report.scores[detector.name] = result if previous is None else previous.merge(result)
            if progress is not None:
                progress(
                    f"{config.network} seed {config.seed}: {detector.name} {len(alerts)} alerts "
                    f"in {timing[detector.name]:.0f} s"
                )
    return report
