#!/usr/bin/env python
"""Time ``gmina.sim`` on one 2,000-service-point zone for 90 days (the P3 performance target: <= 60 s).

    .venv/bin/python bench/sim_speed.py [--network Net3] [--days 90] [--points 2000] [--runs 3] [--write DIR]

Baseline, run side by side: WNTR's own ``EpanetSimulator`` on the same network for the same days at the same
hydraulic step with the network's design demand patterns — the hydraulics alone, with no consumers, meters or
events. gmina's scenario runs EPANET too (stepped through the toolkit, with its consumers' demands), so the ratio
says how much the households, meters, events and labels cost on top of the physics.

Prints one JSON line per run and a Markdown table with the medians.
"""

# ruff: noqa: T201 - a benchmark script reports on stdout

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

from gmina.sim import ScenarioConfig, simulate, write_scenario
from gmina.sim.networks import load_network


def baseline(network: str, days: int, step_s: int) -> float:
    """Seconds for WNTR's EpanetSimulator over ``days`` of the network's design demands."""
    import wntr

    wn = load_network(network)
    wn.options.time.duration = days * 86400
    wn.options.time.hydraulic_timestep = step_s
    wn.options.time.report_timestep = step_s
    with tempfile.TemporaryDirectory(prefix="gmina-bench-epanet-") as folder:
        began = time.perf_counter()
        wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(Path(folder) / "run"))
        return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--network", default="Net3")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", help="also write the outputs into this folder and time it")
    args = parser.parse_args()
    config = ScenarioConfig(
        network=args.network, days=args.days, zones=1, points_per_zone=(args.points, args.points), seed=1
    )
    cm.print_machine()
    sims, bases, writes = [], [], []
    result: dict[str, object] = {}
    for run in range(args.runs):
        bases.append(baseline(args.network, args.days, config.hydraulic_step_s))
        began = time.perf_counter()
        scenario = simulate(config)
        sims.append(time.perf_counter() - began)
        result = {
            "run": run + 1,
            "network": args.network,
            "days": args.days,
            "service_points": int(scenario.points.metered.sum()),
            "readings": scenario.readings.num_rows,
            "simulate_s": round(sims[-1], 2),
            "epanet_baseline_s": round(bases[-1], 2),
        }
        if args.write:
            began = time.perf_counter()
            write_scenario(scenario, args.write)
            writes.append(time.perf_counter() - began)
            result["write_s"] = round(writes[-1], 2)
        print(json.dumps(result), flush=True)
    sim, base = statistics.median(sims), statistics.median(bases)
    rows = [
        [
            args.network,
            result["service_points"],
            args.days,
            f"{result['readings']:,}",
            args.runs,
            f"{base:.1f}",
            f"{sim:.1f}",
            f"{sim / base:.1f}×",
            "met" if sim <= 60.0 else "not met",
        ]
    ]
    headers = ["network", "service points", "days", "readings", "runs", "EPANET alone s", "gmina.sim s", "ratio"]
    print(cm.table([*headers, "≤ 60 s"], rows))
    if writes:
        print(f"writing CSV + JSONL: {statistics.median(writes):.1f} s (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
