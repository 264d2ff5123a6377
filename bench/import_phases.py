#!/usr/bin/env python
"""Where the time of a CSV import goes: the same import as `gmina import readings`, in-process, with timers.

Wraps (without changing src/) the functions gmina.water.store.ingest calls — the parser's batch
iterator, MeterResolver.resolve, write_stage (Arrow CSV + COPY / executemany), the new-keys path
(_store_clean), classify, the final INSERT … SELECT, apply_device_flags — and records every SQL statement Django runs
(connection.execute_wrapper) with its duration. Prints a phase table and the slowest statements.
"""

# ruff: noqa: T201 - a benchmark script reports on stdout

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm
import csv_import

DB = "gmina_bench_phases"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["pg", "sqlite"], default="pg")
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--meters", type=int, default=10_000)
    ap.add_argument("--order", choices=["meter", "time"], default="meter")
    ap.add_argument("--quick", action="store_true", help="200k rows")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.meters = 200_000, 1000

    work = cm.SCRATCH / "phases"
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    if args.db == "pg":
        cm.ensure_pg()
        cm.recreate_pg_db(DB)
        env = cm.gmina_env(data_dir, cm.pg_url(DB))
    else:
        for f in data_dir.glob("gmina.sqlite3*"):
            f.unlink()
        env = cm.gmina_env(data_dir)
    cm.migrate(env)
    ids = cm.fixture(env, meters=args.meters, ids=True)["meter_ids"]
    path, id_path = work / "phases.csv", work / "phases_ids.csv"
    csv_import.generate(path, id_path, args.rows, args.meters, ids, args.order)  # type: ignore[arg-type]
    id_path.unlink()

    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "gmina.settings"
    import django

    django.setup()
    from django.db import connection

    from gmina.consortium.actors import Actor
    from gmina.consortium.models import Member
    from gmina.ingest import load_profile
    from gmina.water import actions
    from gmina.water.store import ingest as store_ingest
    from gmina.water.store import resolve as store_resolve

    times: dict[str, float] = defaultdict(float)

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*a, **kw):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                times[name] += time.perf_counter() - t0

        return wrapper

    for name in (
        "write_stage",
        "copy_rows",
        "_store_clean",
        "classify",
        "apply_device_flags",
        "_quarantine_classified",
        "create_staging",
        "_finish",
        "write_quarantine",
    ):
        if hasattr(store_ingest, name):
            setattr(store_ingest, name, timed(name, getattr(store_ingest, name)))
    store_resolve.MeterResolver.resolve = timed("resolve", store_resolve.MeterResolver.resolve)  # type: ignore[method-assign]
    store_ingest.MeterResolver.__init__ = timed("resolver load", store_ingest.MeterResolver.__init__)  # type: ignore[method-assign]

    original_ingest = store_ingest.ingest_batches

    def ingest_batches(actor, member, batches, **kw):  # type: ignore[no-untyped-def]
        def parsed():  # type: ignore[no-untyped-def]
            it = iter(batches)
            while True:
                t0 = time.perf_counter()
                try:
                    b = next(it)
                except StopIteration:
                    times["parse (CSV → Arrow)"] += time.perf_counter() - t0
                    return
                times["parse (CSV → Arrow)"] += time.perf_counter() - t0
                yield b

        t0 = time.perf_counter()
        try:
            return original_ingest(actor, member, parsed(), **kw)
        finally:
            times["ingest_batches (transaction, total)"] += time.perf_counter() - t0

    actions.ingest_batches = ingest_batches  # type: ignore[attr-defined]

    statements: list[tuple[float, str]] = []

    def sql_timer(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - t0, sql))

    member = Member.all_tenants.get(teryt=cm.MEMBER_TERYT)
    profile = load_profile("gmina")
    t0 = time.perf_counter()
    with connection.execute_wrapper(sql_timer):
        result = actions.import_readings_file(Actor.system("bench"), member, path, profile)
    total = time.perf_counter() - t0
    path.unlink()
    assert result.accepted == args.rows, (result.accepted, args.rows)

    fin = times.get("_finish", 0.0)
    clean = times.get("_store_clean", 0.0)
    parts = {
        "sha256 of the file + setup (outside ingest_batches)": total - times["ingest_batches (transaction, total)"],
        "parse (CSV → Arrow)": times["parse (CSV → Arrow)"],
        "resolver load (meters)": times["resolver load"],
        "resolve serials → ids": times["resolve"],
        "write_stage (Arrow CSV + COPY / executemany)": times["write_stage"],
        "new-keys path: decreasing check + INSERT … SELECT (or the attempt)": clean,
        "classify (SQL; only when the new-keys path does not apply)": times["classify"],
        "final INSERT after classify, zones, batch save": fin
        - clean
        - times["classify"]
        - times.get("_quarantine_classified", 0.0)
        - times.get("apply_device_flags", 0.0),
        "apply_device_flags": times.get("apply_device_flags", 0.0),
        "_quarantine_classified": times.get("_quarantine_classified", 0.0),
    }
    accounted = sum(v for k, v in parts.items() if not k.startswith("sha256"))
    parts["other inside the transaction (audit, commit, staging DDL…)"] = (
        times["ingest_batches (transaction, total)"] - accounted
    )
    print(
        f"\nImport phases, {args.db}, {args.rows:,} {args.order}-ordered rows, {args.meters:,} meters: "
        f"total {total:.1f}s = {args.rows / total:,.0f} rows/s\n"
    )
    print(
        cm.table(["phase", "seconds", "share"], [[k, f"{v:.2f}", f"{100 * v / total:.0f}%"] for k, v in parts.items()])
    )
    print("\nslowest SQL statements (Django cursor; COPY runs on the raw psycopg cursor and is not listed):\n")
    top = sorted(statements, reverse=True)[:8]
    print(
        cm.table(
            ["seconds", "statement"],
            [[f"{s:.2f}", re.sub(r"\s+", " ", sql)[:150].replace("|", "\\|")] for s, sql in top],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
