"""Command line: ``gmina sim`` and ``gmina bench detect`` (argparse; the project CLI delegates here).

gmina sim --network Net3 --days 90 --seed 1 --out DIR [--zones 3] [--points 300 600] [--zone-map FILE]
gmina sim --list-networks
gmina bench detect [--quick] [--detectors engine,reference] [--engine-step H] [--markdown FILE] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gmina.sim.networks import NetworkError, available_networks
from gmina.sim.zones import ZoneError, load_assignment


def _sim_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gmina sim", description="Simulate a labelled water-network scenario.")
    parser.add_argument("--network", default="Net3", help="library name (see --list-networks) or an .inp path")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2025-03-01", help="UTC date of the first midnight")
    parser.add_argument("--zones", type=int, default=3, help="automatic partition into this many zones")
    parser.add_argument("--zone-map", help='JSON file {"zone": ["junction", ...]} (overrides --zones)')
    parser.add_argument("--points", type=int, nargs=2, default=(300, 600), metavar=("MIN", "MAX"))
    parser.add_argument("--hydraulic-step", type=int, default=900, help="seconds")
    parser.add_argument("--format", action="append", choices=("csv", "jsonl"), help="default: both")
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--list-networks", action="store_true")
    return parser


def run_sim_cli(argv: Sequence[str] | None = None) -> int:
    """``gmina sim``: returns the process exit code."""
    from gmina.sim.outputs import write_scenario
    from gmina.sim.scenario import ScenarioConfig, simulate

    args = _sim_parser().parse_args(argv)
    if args.list_networks:
        for name, path in available_networks().items():
            sys.stdout.write(f"{name}\t{path}\n")
        return 0
    if not args.out:
        sys.stderr.write("gmina sim: --out is required\n")
        return 2
    try:
        zone_map = load_assignment(args.zone_map) if args.zone_map else None
        config = ScenarioConfig(
            network=args.network,
            days=args.days,
            seed=args.seed,
            start=args.start,
            zones=args.zones,
            zone_map=zone_map,
            points_per_zone=(args.points[0], args.points[1]),
            hydraulic_step_s=args.hydraulic_step,
        )
        began = time.perf_counter()
        scenario = simulate(config)
        simulated = time.perf_counter() - began
        paths = write_scenario(scenario, args.out, tuple(args.format or ("csv", "jsonl")))
    except (NetworkError, ZoneError, ValueError, OSError) as exc:
        sys.stderr.write(f"gmina sim: {exc}\n")
        return 2
    summary = {
        "out": str(args.out),
        "service_points": int(scenario.points.metered.sum()),
        "readings": scenario.readings.num_rows,
        "labels": len(scenario.labels),
        "simulate_s": round(simulated, 2),
        "files": sorted(paths),
    }
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0


def run_bench_cli(argv: Sequence[str] | None = None) -> int:
    """``gmina bench detect``: run the scenario suite through the detectors and score them."""
    from gmina.sim.bench import publish
    from gmina.sim.bench.suite import DEFAULT_DETECTORS, resolve_detectors, run_suite

    parser = argparse.ArgumentParser(prog="gmina bench", description="Score detectors on simulated scenarios.")
    sub = parser.add_subparsers(dest="command", required=True)
    detect = sub.add_parser("detect", help="detection benchmark")
    detect.add_argument("--quick", action="store_true", help="small suite (CI smoke test)")
    detect.add_argument(
        "--markdown", default="docs/benchmarks.md", help="update the detection section of this file ('-': don't)"
    )
    detect.add_argument(
        "--json",
        default="bench/results/detect.jsonl",
        help="append the results to this JSON-lines history ('-': don't)",
    )
    detect.add_argument(
        "--detectors",
        default=DEFAULT_DETECTORS,
        help="comma-separated: engine (gmina.engine, all detectors + fusion), reference (flag_echo, zero_run, "
        f"night_flow) or one reference detector's name (default: {DEFAULT_DETECTORS})",
    )
    detect.add_argument(
        "--engine-step",
        type=float,
        default=6.0,
        metavar="HOURS",
        help="the engine is replayed every this many hours; an alert's time is the first run that raised it",
    )
    detect.add_argument("--progress", action="store_true", help="one line per scenario and detector on stderr")
    args = parser.parse_args(argv)
    try:
        chosen = resolve_detectors(args.detectors, engine_step_h=args.engine_step)
    except ValueError as exc:
        sys.stderr.write(f"gmina bench detect: {exc}\n")
        return 2
    command = "gmina bench detect" + (" --quick" if args.quick else "")
    if args.detectors != DEFAULT_DETECTORS:
        command += f" --detectors {args.detectors}"
    if args.engine_step != 6.0:
        command += f" --engine-step {args.engine_step:g}"
    started = time.monotonic()

    def progress(line: str) -> None:
        sys.stderr.write(f"[{time.monotonic() - started:6.0f} s] {line}\n")
        sys.stderr.flush()

    report = run_suite(quick=args.quick, detectors=chosen, progress=progress if args.progress else None)
    markdown = report.markdown()
    engine_note = ""
    if "engine" in report.settings:
        engine_note = (
            f"`engine` is `gmina.engine` (every registered detector + fusion) replayed every "
            f"{args.engine_step:g} h over each scenario; an alert counts from the first run that raised it with "
            "confidence ≥ 0.5 (see docs/simulator.md).\n\n"
        )
    section = (
        f"## Detection benchmark\n\nCommand: `{command}`; revision {publish.revision()}; "
        f"{datetime.now(UTC):%Y-%m-%d}; machine: {publish.machine()}; "
        f"{time.monotonic() - started:.0f} s.\n\n{engine_note}{markdown}"
    )
    if args.markdown != "-":
        publish.replace_section(Path(args.markdown), section)
    if args.json != "-":
        publish.append_history(Path(args.json), report.as_dict(), command)
    sys.stdout.write(markdown)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gmina.sim.cli sim …`` or ``… bench detect …``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sim"]:
        return run_sim_cli(args[1:])
    if args[:1] == ["bench"]:
        return run_bench_cli(args[1:])
    sys.stderr.write("usage: gmina sim … | gmina bench detect …\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
