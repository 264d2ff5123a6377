"""Time ``gmina.sim`` on one 2,000-service-point zone for 90 days (the P3 performance target: <= 60 s).

    .venv/bin/python bench/sim_speed.py [--network Net3] [--days 90] [--points 2000] [--write DIR]

Prints the simulation time (and the output writing time with --write) as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from gmina.sim import ScenarioConfig, simulate, write_scenario


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--network", default="Net3")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--write", help="also write the outputs into this folder and time it")
    args = parser.parse_args()
    config = ScenarioConfig(
        network=args.network, days=args.days, zones=1, points_per_zone=(args.points, args.points), seed=1
    )
    began = time.perf_counter()
    scenario = simulate(config)
    result = {
        "network": args.network,
        "days": args.days,
        "service_points": int(scenario.points.metered.sum()),
        "readings": scenario.readings.num_rows,
        "simulate_s": round(time.perf_counter() - began, 2),
    }
    if args.write:
        began = time.perf_counter()
        write_scenario(scenario, args.write)
        result["write_s"] = round(time.perf_counter() - began, 2)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
