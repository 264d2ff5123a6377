#!/usr/bin/env python
"""CSV import throughput and memory: `gmina import readings` against a bare-table baseline.

PostgreSQL: baseline = `psql \\copy` of the same rows (meter ids instead of serials) into a bare
table with the same primary key; gmina = `gmina import readings FILE --profile gmina` into a fresh
database (migrated, bench meters registered), timed and measured (peak RSS) with /usr/bin/time -v.

SQLite: baseline = Python sqlite3 `executemany` of the same rows (parsed from the id CSV with the
csv module) into a bare table with the same primary key, one transaction, the pragmas gmina uses;
gmina = the same import into a fresh SQLite database.

Every figure is the median of --runs runs. Prints Markdown tables.
"""

# ruff: noqa: T201 - a benchmark script reports on stdout

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def generate(path: Path, id_path: Path, rows: int, meters: int, ids: dict[str, int], order: str) -> float:
    """Write the gmina-profile CSV and the equivalent id CSV (streamed, one hour/meter block at a time)."""
    hours = -(-rows // meters)
    serials = [f"B{i:07d}" for i in range(meters)]
    id_texts = [str(ids[s]) for s in serials]
    stamps = [(START + dt.timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in range(hours)]
    t0 = time.perf_counter()
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out, id_path.open("w", encoding="ascii", newline="") as out_id:
        out.write("meter,observed_at,index_l\n")
        out_id.write("meter_id,observed_at,index_l\n")
        if order == "meter":  # one meter's series after another (sorted by the primary key)
            for m in range(meters):
                if written >= rows:
                    break
                n = min(hours, rows - written)
                step, base, s, mid = 7 + m % 13, 1000 * m, serials[m], id_texts[m]
                out.write("".join(f"{s},{stamps[h]},{base + h * step}\n" for h in range(n)))
                out_id.write("".join(f"{mid},{stamps[h]},{base + h * step}\n" for h in range(n)))
                written += n
        else:  # every meter's reading for one hour, then the next hour
            for h in range(hours):
                if written >= rows:
                    break
                n = min(meters, rows - written)
                t = stamps[h]
                out.write("".join(f"{serials[m]},{t},{1000 * m + h * (7 + m % 13)}\n" for m in range(n)))
                out_id.write("".join(f"{id_texts[m]},{t},{1000 * m + h * (7 + m % 13)}\n" for m in range(n)))
                written += n
    return time.perf_counter() - t0


SQLITE_BASELINE = r"""
import csv, sqlite3, sys
db, src = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db, isolation_level=None)
con.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
con.execute("CREATE TABLE r (meter_id integer NOT NULL, observed_at text NOT NULL, index_l integer NOT NULL,"
            " PRIMARY KEY (meter_id, observed_at))")
with open(src, newline="") as f:
    reader = csv.reader(f)
    next(reader)
    rows = ((int(m), t[:10] + " " + t[11:19], int(i)) for m, t, i in reader)
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO r VALUES (?, ?, ?)", rows)
    con.execute("COMMIT")
print(con.execute("SELECT count(*) FROM r").fetchone()[0])
"""

BASE_DB = "gmina_bench_copy"
GMINA_DB = "gmina_bench"


def prepare_gmina_pg(meters: int, data_dir: Path) -> dict[str, str]:
    cm.recreate_pg_db(GMINA_DB)
    env = cm.gmina_env(data_dir, cm.pg_url(GMINA_DB))
    cm.migrate(env)
    cm.fixture(env, meters=meters)
    cm.psql("CHECKPOINT", GMINA_DB)
    return env


def prepare_gmina_sqlite(meters: int, data_dir: Path) -> dict[str, str]:
    for f in data_dir.glob("gmina.sqlite3*"):
        f.unlink()
    env = cm.gmina_env(data_dir)
    cm.migrate(env)
    cm.fixture(env, meters=meters)
    return env


def import_cmd(path: Path) -> list[str]:
    return [
        cm.GMINA,
        "import",
        "readings",
        str(path),
        "--profile",
        "gmina",
        "--member",
        cm.MEMBER_TERYT,
        "--no-progress",
    ]


def run_copy(id_path: Path) -> dict[str, float | str]:
    cm.psql(
        "DROP TABLE IF EXISTS r; CREATE TABLE r (meter_id bigint NOT NULL, observed_at timestamptz NOT NULL,"
        " index_l bigint NOT NULL, PRIMARY KEY (meter_id, observed_at)); CHECKPOINT",
        BASE_DB,
    )
    return cm.time_v(
        [
            "psql",
            "-h",
            cm.PG_HOST,
            "-U",
            cm.PG_USER,
            "-d",
            BASE_DB,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"\\copy r FROM '{id_path}' WITH (FORMAT csv, HEADER true)",
        ]
    )


def check_import(out: dict[str, float | str], rows: int) -> None:
    text = str(out["stdout"])
    if f"{rows} stored" not in text.replace(",", ""):
        raise SystemExit(f"import did not store all {rows} rows:\n{text}\n{str(out['stderr'])[-2000:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="readings in the PostgreSQL file (default 10M)")
    ap.add_argument("--meters", type=int, default=10_000, help="meters (rows = meters × hours)")
    ap.add_argument("--sqlite-rows", type=int, default=2_000_000, help="readings in the SQLite file")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--double", action="store_true", help="also import a 2× file once, for peak memory")
    ap.add_argument(
        "--order",
        choices=["meter", "time"],
        default="meter",
        help="row order: meter = each meter's series in turn (PK order), time = hour by hour",
    )
    ap.add_argument("--skip", choices=["pg", "sqlite"], action="append", default=[])
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--quick", action="store_true", help="smoke test: 300k rows (+600k for memory), 1 run each")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.meters, args.sqlite_rows, args.runs, args.double = 300_000, 1000, 200_000, 1, True

    cm.ensure_pg()
    work = cm.SCRATCH / "csv"
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    ids = {f"B{i:07d}": i + 1 for i in range(args.meters)}  # replaced below by the real ids
    results: list[list[object]] = []
    notes: list[str] = []
    cm.print_machine()
    print(f"\nCSV import, {args.order}-ordered rows, {args.meters:,} meters, median of {args.runs} run(s)\n")

    if "pg" not in args.skip:
        env = prepare_gmina_pg(args.meters, data_dir)
        ids = cm.fixture(env, meters=args.meters, ids=True)["meter_ids"]  # type: ignore[assignment]
        sizes = [args.rows] + ([args.rows * 2] if args.double else [])
        cm.recreate_pg_db(BASE_DB)
        for size in sizes:
            path, id_path = work / f"readings_{size}.csv", work / f"readings_{size}_ids.csv"
            gen = generate(path, id_path, size, args.meters, ids, args.order)
            cm.log(f"generated {size:,} rows ({path.stat().st_size / 1e6:,.0f} MB) in {gen:.1f}s")
            runs = args.runs if size == args.rows else 1
            copy_t, imp_t, imp_rss = [], [], []
            for r in range(runs):
                out = run_copy(id_path)
                copy_t.append(float(out["wall"]))
                n = int(cm.psql("SELECT count(*) FROM r", BASE_DB))
                assert n == size, (n, size)
                cm.log(f"pg \\copy {size:,}: {copy_t[-1]:.1f}s ({size / copy_t[-1]:,.0f}/s)")
                env = prepare_gmina_pg(args.meters, data_dir)
                out = cm.time_v(import_cmd(path), env)
                check_import(out, size)
                n = int(cm.psql("SELECT count(*) FROM water_reading", GMINA_DB))
                assert n == size, (n, size)
                imp_t.append(float(out["wall"]))
                imp_rss.append(float(out["rss_mb"]))
                cm.log(
                    f"pg gmina import {size:,}: {imp_t[-1]:.1f}s ({size / imp_t[-1]:,.0f}/s), "
                    f"peak RSS {imp_rss[-1]:.0f} MB, user {out['user']}s sys {out['sys']}s (run {r + 1})"
                )
            c, g = cm.median(copy_t), cm.median(imp_t)
            results.append(
                [
                    "PostgreSQL",
                    f"{size:,}",
                    runs,
                    f"{c:.1f}",
                    f"{size / c:,.0f}",
                    f"{g:.1f}",
                    f"{size / g:,.0f}",
                    f"{(size / g) / (size / c):.2f}×",
                    f"{cm.median([b / t for b, t in zip(copy_t, imp_t, strict=True)]):.2f}×",
                    f"{max(imp_rss):.0f}",
                    ", ".join(f"{t:.1f}" for t in copy_t),
                    ", ".join(f"{t:.1f}" for t in imp_t),
                ]
            )
            if not args.keep:
                path.unlink()
                id_path.unlink()
        cm.psql(f"DROP DATABASE IF EXISTS {BASE_DB}")

    if "sqlite" not in args.skip:
        size = args.sqlite_rows
        env = prepare_gmina_sqlite(args.meters, data_dir)
        ids = cm.fixture(env, meters=args.meters, ids=True)["meter_ids"]  # type: ignore[assignment]
        path, id_path = work / f"sqlite_{size}.csv", work / f"sqlite_{size}_ids.csv"
        gen = generate(path, id_path, size, args.meters, ids, args.order)
        cm.log(f"generated {size:,} rows for SQLite in {gen:.1f}s")
        base_t, imp_t, imp_rss = [], [], []
        for r in range(args.runs):
            base_db = work / "baseline.sqlite3"
            for f in work.glob("baseline.sqlite3*"):
                f.unlink()
            out = cm.time_v([cm.PY, "-c", SQLITE_BASELINE, str(base_db), str(id_path)])
            assert int(str(out["stdout"]).strip()) == size
            base_t.append(float(out["wall"]))
            cm.log(f"sqlite executemany {size:,}: {base_t[-1]:.1f}s ({size / base_t[-1]:,.0f}/s)")
            env = prepare_gmina_sqlite(args.meters, data_dir)
            out = cm.time_v(import_cmd(path), env)
            check_import(out, size)
            imp_t.append(float(out["wall"]))
            imp_rss.append(float(out["rss_mb"]))
            cm.log(
                f"sqlite gmina import {size:,}: {imp_t[-1]:.1f}s ({size / imp_t[-1]:,.0f}/s), "
                f"peak RSS {imp_rss[-1]:.0f} MB (run {r + 1})"
            )
        b, g = cm.median(base_t), cm.median(imp_t)
        results.append(
            [
                "SQLite",
                f"{size:,}",
                args.runs,
                f"{b:.1f}",
                f"{size / b:,.0f}",
                f"{g:.1f}",
                f"{size / g:,.0f}",
                f"{(size / g) / (size / b):.2f}×",
                f"{cm.median([x / t for x, t in zip(base_t, imp_t, strict=True)]):.2f}×",
                f"{max(imp_rss):.0f}",
                ", ".join(f"{t:.1f}" for t in base_t),
                ", ".join(f"{t:.1f}" for t in imp_t),
            ]
        )
        for f in work.glob("baseline.sqlite3*"):
            f.unlink()
        if not args.keep:
            path.unlink()
            id_path.unlink()

    print(
        cm.table(
            [
                "database",
                "rows",
                "runs",
                "baseline s",
                "baseline rows/s",
                "gmina s",
                "gmina rows/s",
                "ratio of medians",
                "median of paired ratios",
                "gmina peak RSS MB (max)",
                "baseline runs s",
                "gmina runs s",
            ],
            results,
        )
    )
    print(
        "\nbaseline: PostgreSQL = psql \\copy into a bare table with PK (meter_id, observed_at); "
        "SQLite = sqlite3 executemany, one transaction, WAL + synchronous=FULL."
    )
    for n in notes:
        print(n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
