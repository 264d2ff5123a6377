#!/usr/bin/env python
"""HTTP batch ingestion throughput: `POST /api/v1/readings/batch/` under `gmina serve` on PostgreSQL.

A load generator (--clients processes, one keep-alive connection each) posts batches of
--batch readings with unique (meter, time) keys for --duration seconds (and at most --max-requests
requests). Accepted readings/s come from the responses and are checked against
``count(*) FROM water_reading``. Baselines, with the same client and the same request bodies:

* ``echo``: a trivial WSGI app under the same gunicorn (--workers × --threads, default 2 × 4, access log on) that
  reads the body and answers 200 — the ceiling of server + client on this machine;
* ``healthz``: `GET /healthz` of gmina itself (Django's middleware stack, no database).

Prints one Markdown table; every figure is the median of --runs runs.
"""

# ruff: noqa: T201 - a benchmark script reports on stdout

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

DB = "gmina_bench_http"
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def body_for(g: int, meters: int, batch: int, serials: list[str], base_hour: int) -> bytes:
    """Batch number g: ``batch`` consecutive meters at one hour; distinct g ⇒ distinct keys."""
    blocks = meters // batch
    block, hour = g % blocks, base_hour + g // blocks
    t = (START + dt.timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = block * batch
    items = ",".join(
        f'{{"meter":"{serials[m]}","observed_at":"{t}","index_l":{1000 * m + hour * 10}}}'
        for m in range(first, first + batch)
    )
    return ('{"readings":[' + items + "]}").encode()


def client(
    idx: int,
    nclients: int,
    port: int,
    mode: str,
    token: str,
    meters: int,
    batch: int,
    base_hour: int,
    duration: float,
    max_requests: int,
    out: mp.Queue,
) -> None:  # type: ignore[type-arg]
    serials = [f"B{i:07d}" for i in range(meters)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    path = {"gmina": "/api/v1/readings/batch/", "echo": "/", "healthz": "/healthz"}[mode]
    stats = {"requests": 0, "ok": 0, "accepted": 0, "duplicates": 0, "quarantined": 0, "errors": 0, "lat": []}
    stats["last_g"] = idx
    deadline = time.monotonic() + duration
    g = idx
    first_error = ""
    while time.monotonic() < deadline and stats["requests"] < max_requests:
        body = body_for(g, meters, batch, serials, base_hour)
        stats["last_g"] = g
        g += nclients
        t0 = time.perf_counter()
        try:
            if mode == "healthz":
                conn.request("GET", path, headers=headers)
            else:
                conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            stats["errors"] += 1
            first_error = first_error or repr(exc)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            continue
        stats["lat"].append(time.perf_counter() - t0)
        stats["requests"] += 1
        if resp.status == 200:
            stats["ok"] += 1
            if mode == "gmina":
                answer = json.loads(data)
                stats["accepted"] += answer["accepted"]
                stats["duplicates"] += answer["duplicates"]
                stats["quarantined"] += answer["quarantined"]
            else:
                stats["accepted"] += batch
        else:
            stats["errors"] += 1
            first_error = first_error or f"HTTP {resp.status}: {data[:300]!r}"
    conn.close()
    stats["first_error"] = first_error
    out.put(stats)


def load(port: int, mode: str, token: str, args: argparse.Namespace, base_hour: int) -> dict[str, float]:
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [
        mp.Process(
            target=client,
            args=(
                i,
                args.clients,
                port,
                mode,
                token,
                args.meters,
                args.batch,
                base_hour,
                args.duration,
                args.max_requests // args.clients,
                q,
            ),
        )
        for i in range(args.clients)
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [q.get(timeout=args.duration + 300) for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=30)
    lat = sorted(x for r in results for x in r["lat"])
    total = {
        k: sum(r[k] for r in results) for k in ("requests", "ok", "accepted", "duplicates", "quarantined", "errors")
    }
    errors = [r["first_error"] for r in results if r["first_error"]]
    if errors:
        cm.log(f"{mode}: errors: {errors[:3]}")
    total.update(
        last_g=max(r["last_g"] for r in results),
        elapsed=elapsed,
        rps=total["ok"] / elapsed,
        readings_s=total["accepted"] / elapsed,
        p50=lat[len(lat) // 2] * 1000 if lat else float("nan"),
        p99=lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan"),
    )
    return total


def serve(env: dict[str, str], port: int, log: Path, echo: bool, workers: int = 2, threads: int = 4) -> object:
    if echo:
        cmd = [
            str(cm.VENV / "bin" / "gunicorn"),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-",
            "--chdir",
            str(cm.REPO / "bench"),
            "_echo_wsgi:app",
        ]
    else:
        cmd = [cm.GMINA, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]
    proc = cm.start(cmd, env, log)
    cm.wait_for(lambda: cm.port_open(port), 60, "the server to listen")
    return proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=30, help="seconds of load per run")
    ap.add_argument("--max-requests", type=int, default=20_000, help="request cap per run (all clients)")
    ap.add_argument("--clients", type=int, default=4, help="client processes (one connection each)")
    ap.add_argument("--batch", type=int, default=1000, help="readings per request")
    ap.add_argument("--meters", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--reuse-db",
        metavar="NAME",
        help="ingest into this existing gmina database (e.g. gmina_bench, which csv_import.py "
        "leaves holding its last import) instead of a fresh gmina_bench_http",
    )
    ap.add_argument("--skip-baselines", action="store_true")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (gmina serve and the echo baseline)")
    ap.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    ap.add_argument("--quick", action="store_true", help="smoke test: 8 s runs, 1 run each")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.runs = 8, 1
    if args.meters % args.batch:
        ap.error("--meters must be a multiple of --batch")

    cm.ensure_pg()
    work = cm.SCRATCH / "http"
    work.mkdir(parents=True, exist_ok=True)
    db = args.reuse_db or DB
    if not args.reuse_db:
        cm.recreate_pg_db(db)
    env = cm.gmina_env(work / "data", cm.pg_url(db))
    cm.migrate(env)
    stored_before = int(cm.psql("SELECT count(*) FROM water_reading", db))
    token = str(cm.fixture(env, meters=args.meters, token=True)["token"])
    cm.print_machine()
    figures: dict[str, list[dict[str, float]]] = {"echo": [], "healthz": [], "gmina": []}
    # keys after anything already stored (2024-01-01 + this many hours, past any csv_import file)
    base_hour = 5000 if args.reuse_db else 0
    for run in range(args.runs):
        if not args.skip_baselines:
            port = cm.free_port()
            proc = serve(env, port, work / "echo.log", echo=True, workers=args.workers, threads=args.threads)
            figures["echo"].append(load(port, "echo", token, args, 0))
            cm.stop(proc)  # type: ignore[arg-type]
        port = cm.free_port()
        proc = serve(env, port, work / "serve.log", echo=False, workers=args.workers, threads=args.threads)
        try:
            if not args.skip_baselines:
                figures["healthz"].append(load(port, "healthz", token, args, 0))
            before = int(cm.psql("SELECT count(*) FROM water_reading", db))
            res = load(port, "gmina", token, args, base_hour)
            after = int(cm.psql("SELECT count(*) FROM water_reading", db))
            res["db_delta"] = after - before
            figures["gmina"].append(res)
            # the next run continues after the last hour any client used: keys stay unique across runs
            base_hour += int(res["last_g"]) // (args.meters // args.batch) + 2
        finally:
            cm.stop(proc)  # type: ignore[arg-type]
        for mode in ("echo", "healthz", "gmina"):
            if not figures[mode]:
                continue
            f = figures[mode][-1]
            cm.log(
                f"run {run + 1} {mode}: {f['ok']:.0f} ok / {f['errors']:.0f} errors in {f['elapsed']:.1f}s, "
                f"{f['rps']:.1f} req/s, {f['readings_s']:,.0f} readings/s, p50 {f['p50']:.0f} ms, "
                f"p99 {f['p99']:.0f} ms" + (f", db +{f['db_delta']:,.0f}" if mode == "gmina" else "")
            )

    def med(mode: str, key: str) -> float:
        return cm.median([f[key] for f in figures[mode]]) if figures[mode] else float("nan")

    rows = []
    for mode, what in (
        ("echo", f"baseline: bare gunicorn WSGI app reading the {args.batch}-reading body"),
        ("healthz", "baseline: gmina GET /healthz (Django, no DB)"),
        ("gmina", f"gmina POST /api/v1/readings/batch/ ({args.batch} readings)"),
    ):
        rows.append(
            [
                what,
                args.runs,
                f"{med(mode, 'rps'):.1f}",
                f"{med(mode, 'readings_s'):,.0f}" if mode != "healthz" else "—",
                f"{med(mode, 'p50'):.0f}",
                f"{med(mode, 'p99'):.0f}",
                f"{sum(f['errors'] for f in figures[mode]):.0f}",
            ]
        )
    print(
        f"\nHTTP ingestion, {args.clients} client processes, {args.duration:.0f} s per run, median of {args.runs}; "
        f"water_reading held {stored_before:,} rows at the start\n"
    )
    print(cm.table(["what", "runs", "requests/s", "readings/s", "p50 ms", "p99 ms", "errors"], rows))
    g = figures["gmina"]
    acc, delta = sum(f["accepted"] for f in g), sum(f["db_delta"] for f in g)
    dup, quar = sum(f["duplicates"] for f in g), sum(f["quarantined"] for f in g)
    print(
        f"\nverification: accepted per responses {acc:,.0f}, rows added to water_reading {delta:,.0f} "
        f"({'match' if acc == delta else 'MISMATCH'}); duplicates {dup:,.0f}, quarantined {quar:,.0f}"
    )
    ratio = med("gmina", "readings_s") / med("echo", "readings_s")
    print(f"ratio gmina / echo baseline: {ratio:.2f}×")
    return 0 if acc == delta and dup == 0 and quar == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
