"""``gmina bench detect`` publishes a section of docs/benchmarks.md and appends a JSON history line."""

from __future__ import annotations

import json
from pathlib import Path

from gmina.sim.bench.publish import BEGIN, END, replace_section
from gmina.sim.cli import run_bench_cli


def test_quick_benchmark_updates_its_section_and_history(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Ingestion\n\nkept as it is\n", encoding="utf-8")
    history = tmp_path / "detect.jsonl"
    for _ in range(2):
        assert run_bench_cli(["detect", "--quick", "--markdown", str(doc), "--json", str(history)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert "kept as it is" in text and text.count(BEGIN) == 1 and text.count(END) == 1
    assert "| detector | class |" in text and "`gmina bench detect --quick`" in text
    lines = [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 and lines[0]["command"] == "gmina bench detect --quick"
    assert lines[0]["results"] == lines[1]["results"]  # seeded: the same scenario scores the same


def test_replace_section_keeps_what_surrounds_it(tmp_path: Path) -> None:
    doc = tmp_path / "b.md"
    doc.write_text(f"before\n{BEGIN}\nold\n{END}\nafter\n", encoding="utf-8")
    replace_section(doc, "new")
    assert doc.read_text(encoding="utf-8") == f"before\n{BEGIN}\nnew\n{END}\nafter\n"
