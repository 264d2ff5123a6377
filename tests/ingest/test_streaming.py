"""Constant memory: a large file is parsed in bounded memory, far below its size."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pyarrow as pa

from gmina.ingest import PROFILES, read_csv

ROWS = 2_000_000


def write_large_file(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("meter,observed_at,index_l,flags\n")
        step = 100_000
        for start in range(0, ROWS, step):
            out.write(
                "".join(
                    f"{10_000_000 + i % 50_000},2025-10-26T01:{i % 60:02d}:00Z,{i},{'leak' if i % 1000 == 0 else ''}\n"
                    for i in range(start, start + step)
                )
            )


def test_large_file_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    write_large_file(path)
    size = path.stat().st_size
    rows = batches = 0
    arrow_peak = 0
    last_line = 0
    started = time.perf_counter()
    tracemalloc.start()
    try:
        for batch in read_csv(path, PROFILES["gmina"], batch_rows=100_000):
            rows += batch.readings.num_rows
            batches += 1
            arrow_peak = max(arrow_peak, pa.total_allocated_bytes())
            assert batch.rejections.num_rows == 0
            lines = batch.readings.column("line")
            assert lines[0].as_py() == last_line + 1 if last_line else lines[0].as_py() == 2
            last_line = lines[-1].as_py()
        _, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert rows == ROWS and last_line == ROWS + 1 and batches >= 10
    assert python_peak < size / 4, f"Python peak {python_peak / 2**20:.1f} MiB for a {size / 2**20:.1f} MiB file"
    assert arrow_peak < size / 4, f"Arrow peak {arrow_peak / 2**20:.1f} MiB for a {size / 2**20:.1f} MiB file"
    assert elapsed < 60, f"{rows} rows took {elapsed:.1f} s"  # a hang guard, not a benchmark
