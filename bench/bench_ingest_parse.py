"""Benchmark: CSV parse rate of gmina.ingest.read_csv per built-in profile, against bare pyarrow.

Generates N rows per profile into a temporary file, parses it ``--repeat`` times, and prints the median
rows/s, the ratio to ``pyarrow.csv.read_csv`` of the same file (no normalisation), and the peak RSS.

    .venv/bin/python bench/bench_ingest_parse.py --rows 2000000
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.csv as pcsv

from gmina.ingest import PROFILES, read_csv

START = datetime(2025, 10, 20, tzinfo=UTC)
LOCAL_START = datetime(2025, 10, 25, 20)  # noqa: DTZ001 - wall-clock times written into the file


def gmina_rows(count: int) -> Iterator[str]:
    """The project's own format: UTC ISO timestamps, integer litres, some flags."""
    yield "meter,observed_at,index_l,flow_lph,flags\n"
    for i in range(count):
        meter = 10_000_000 + i % 50_000
        when = START + timedelta(minutes=15 * (i // 50_000))
        flags = "leak" if i % 97 == 0 else ""
        yield f"{meter},{when:%Y-%m-%dT%H:%M:%SZ},{i * 3 + 1000},{(i % 7) * 10.5},{flags}\n"


def walkby_rows(count: int) -> Iterator[str]:
    """The §4.4 shape: local day-first times across the October DST change, decimal comma, grouping."""
    yield "Nr odbiorcy;Adres;Nr wodomierza;Nr radiowy;Data odczytu;Stan [m3];Typ odczytu;Alarmy\r\n"
    for i in range(count):
        local = LOCAL_START + timedelta(seconds=7 * (i // 1000))
        litres = 1_000_000 + i * 37
        whole, frac = divmod(litres, 1000)
        grouped = f"{whole:,}".replace(",", "\u00a0")
        alarm = "Wyciek (aktywny)" if i % 101 == 0 else ""
        yield (
            f"{i % 90_000:06d};ul. Łąkowa {i % 300};{i % 90_000 + 100_000:08d};{36_500_000 + i % 90_000};"
            f"{local:%d.%m.%Y %H:%M};{grouped},{frac:03d};rzeczywisty;{alarm}\r\n"
        )


def fields_rows(count: int) -> Iterator[str]:
    """wmbusmeters --format=fields: id;total_m3;status;timestamp (local)."""
    for i in range(count):
        local = LOCAL_START + timedelta(hours=4, seconds=3 * (i // 100))
        yield f"{61_000_000 + i % 80_000:08x};{i * 0.013:.3f};OK;{local:%Y-%m-%d %H:%M.%S}\n"


GENERATORS: dict[str, tuple[Callable[[int], Iterator[str]], str, str]] = {
    # profile: (generator, file encoding, delimiter)
    "gmina": (gmina_rows, "utf-8", ","),
    "pl-walkby": (walkby_rows, "cp1250", ";"),
    "wmbusmeters-fields": (fields_rows, "utf-8", ";"),
}


def write(path: Path, rows: Iterator[str], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as out:
        buffer: list[str] = []
        for row in rows:
            buffer.append(row)
            if len(buffer) >= 100_000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))


def time_ingest(path: Path, profile_name: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    readings = rejections = 0
    for batch in read_csv(path, PROFILES[profile_name]):
        readings += batch.readings.num_rows
        rejections += batch.rejections.num_rows
    return time.perf_counter() - started, readings, rejections


def time_pyarrow(path: Path, encoding: str, delimiter: str, header: bool) -> float:
    started = time.perf_counter()
    pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(encoding=encoding, autogenerate_column_names=not header),
        parse_options=pcsv.ParseOptions(delimiter=delimiter),
    )
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per profile (default 1M)")
    parser.add_argument("--repeat", type=int, default=5, help="parses per profile (median reported)")
    parser.add_argument("--profile", choices=sorted(GENERATORS), action="append", help="only these profiles")
    args = parser.parse_args(argv)
    names = args.profile or list(GENERATORS)
    out = sys.stdout
    columns = ("profile", "rows", "MiB", "ingest rows/s", "pyarrow rows/s", "ratio")
    out.write("{:<20} {:>10} {:>7} {:>14} {:>15} {:>6}\n".format(*columns))
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            generator, encoding, delimiter = GENERATORS[name]
            path = Path(tmp) / f"{name}.csv"
            write(path, generator(args.rows), encoding)
            size = path.stat().st_size / 2**20
            ingest_times, arrow_times = [], []
            for _ in range(args.repeat):
                seconds, readings, rejections = time_ingest(path, name)
                if readings + rejections != args.rows:
                    raise SystemExit(f"{name}: parsed {readings} + {rejections} rows, expected {args.rows}")
                ingest_times.append(seconds)
                arrow_times.append(time_pyarrow(path, encoding, delimiter, PROFILES[name].has_header))
            ingest_rate = args.rows / statistics.median(ingest_times)
            arrow_rate = args.rows / statistics.median(arrow_times)
            out.write(
                f"{name:<20} {args.rows:>10} {size:>7.1f} {ingest_rate:>14,.0f} {arrow_rate:>15,.0f}"
                f" {ingest_rate / arrow_rate:>6.2f}   (rejections: {rejections})\n"
            )
            out.flush()
    out.write(f"peak RSS: {peak_rss_mib():.0f} MiB\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
