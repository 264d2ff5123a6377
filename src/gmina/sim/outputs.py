"""Writing a scenario: the project's own ingestion formats plus ground truth and a manifest.

Files in the output folder:

* ``readings.csv`` — customer meters in the ``gmina`` CSV profile (UTF-8, ``,``,
  ``meter,observed_at,index_l,flags,read_type``; ISO 8601 UTC; integer litres; ``;``-separated canonical flags;
  ``read_type`` empty except for the ``final`` and ``initial`` readings of a meter exchange);
* ``inlets.csv`` — zone inlet meters in the same profile (``meter,observed_at,index_l,flow_lph``);
* ``readings.jsonl`` — the API/MQTT JSON, one ``{"readings": [...]}`` batch of at most 1000 records per
  line (``meter``, ``observed_at``, ``index_l``, optional ``flags`` and ``read_type``);
* ``labels.json`` / ``labels.csv`` — ground truth (:class:`gmina.sim.events.Label`);
* ``zone_truth.csv`` — per zone and hydraulic step, the net inflow (L/h); ``pressures.csv``;
* ``meters.csv`` — meter → service point, junction, zone, kind, cadence, technology;
* ``network.json`` — zones, inlet meters with their signs, pressure sensors;
* ``manifest.json`` — the configuration with the seed, versions, row counts and the zone volume summary.
"""

from __future__ import annotations

import csv
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from gmina.sim.events import Label
from gmina.sim.results import Scenario

ISO = "%Y-%m-%dT%H:%M:%SZ"
BATCH = 1000


def _iso(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.strftime(pc.cast(column, pa.timestamp("s", "UTC")), format=ISO)


def _write_csv(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, str(path), write_options=pacsv.WriteOptions(quoting_style="needed"))


def gmina_csv_table(readings: pa.Table) -> pa.Table:
    """Customer readings as the ``gmina`` CSV profile's columns (all strings/ints)."""
    return pa.table(
        {
            "meter": readings.column("meter"),
            "observed_at": _iso(readings.column("observed_at")),
            "index_l": readings.column("index_l"),
            "flags": pc.binary_join(readings.column("flags"), ";"),
            # a meter exchange: the old meter's "final" and the new one's "initial" reading (empty: actual)
            "read_type": pc.if_else(pc.equal(readings.column("read_type"), "actual"), "", readings.column("read_type")),
        }
    )


def inlet_csv_table(inlets: pa.Table) -> pa.Table:
    return pa.table(
        {
            "meter": inlets.column("meter"),
            "observed_at": _iso(inlets.column("observed_at")),
            "index_l": inlets.column("index_l"),
            "flow_lph": inlets.column("flow_lph"),
        }
    )


def jsonl_lines(readings: pa.Table, batch: int = BATCH) -> list[str]:
    """API/MQTT JSON batches, one per line (records in the table's order)."""
    if readings.num_rows == 0:
        return []
    flags = readings.column("flags")
    has_flags = pc.greater(pc.list_value_length(flags), 0)
    quoted = pc.binary_join_element_wise('"', pc.binary_join(flags, '","'), '"', "")
    flag_part = pc.if_else(has_flags, pc.binary_join_element_wise(',"flags":[', quoted, "]", ""), "")
    read_type = readings.column("read_type")
    type_part = pc.if_else(
        pc.equal(read_type, "actual"), "", pc.binary_join_element_wise(',"read_type":"', read_type, '"', "")
    )
    record = pc.binary_join_element_wise(
        '{"meter":"',
        readings.column("meter"),
        '","observed_at":"',
        _iso(readings.column("observed_at")),
        '","index_l":',
        pc.cast(readings.column("index_l"), pa.string()),
        flag_part,
        type_part,
        "}",
        "",
    ).to_pylist()
    return ['{"readings":[' + ",".join(record[i : i + batch]) + "]}" for i in range(0, len(record), batch)]


def write_labels_csv(labels: list[Label], path: Path) -> None:
    fields = [
        "event_id", "event_class", "family", "anomaly", "start", "end", "zone", "location_kind", "meter",
        "service_point", "junction", "pipe", "magnitude", "unit", "loss_m3", "loss_lph",
    ]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for label in labels:
            writer.writerow({k: ("" if v is None else v) for k, v in label.as_dict().items()})


def _versions() -> dict[str, str]:
    out = {}
    for name in ("gmina", "wntr", "numpy", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def write_scenario(scenario: Scenario, out: str | Path, formats: tuple[str, ...] = ("csv", "jsonl")) -> dict[str, Path]:
    """Write every output file into ``out`` (created if needed); returns name → path."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if "csv" in formats:
        paths["readings.csv"] = folder / "readings.csv"
        _write_csv(gmina_csv_table(scenario.readings), paths["readings.csv"])
        paths["inlets.csv"] = folder / "inlets.csv"
        _write_csv(inlet_csv_table(scenario.inlet_readings), paths["inlets.csv"])
    if "jsonl" in formats:
        paths["readings.jsonl"] = folder / "readings.jsonl"
        with paths["readings.jsonl"].open("w", encoding="utf-8") as handle:
            for line in jsonl_lines(scenario.readings):
                handle.write(line + "\n")
    paths["labels.json"] = folder / "labels.json"
    _dump([label.as_dict() for label in scenario.labels], paths["labels.json"])
    paths["labels.csv"] = folder / "labels.csv"
    write_labels_csv(scenario.labels, paths["labels.csv"])
    truth = scenario.zone_truth
    paths["zone_truth.csv"] = folder / "zone_truth.csv"
    _write_csv(truth.set_column(1, "observed_at", _iso(truth.column("observed_at"))), paths["zone_truth.csv"])
    pressures = scenario.pressures
    paths["pressures.csv"] = folder / "pressures.csv"
    _write_csv(pressures.set_column(2, "observed_at", _iso(pressures.column("observed_at"))), paths["pressures.csv"])
    paths["meters.csv"] = folder / "meters.csv"
    _write_csv(scenario.meter_table(), paths["meters.csv"])
    paths["network.json"] = folder / "network.json"
    _dump(scenario.network_meta(), paths["network.json"])
    paths["manifest.json"] = folder / "manifest.json"
    _dump(
        {
            "generator": "gmina.sim",
            "config": scenario.config,
            "seed": scenario.config["seed"],
            "versions": _versions(),
            "rows": {"readings": scenario.readings.num_rows, "inlet_readings": scenario.inlet_readings.num_rows},
            "labels": len(scenario.labels),
            "summary": scenario.summary,
            "files": sorted(paths),
        },
        paths["manifest.json"],
    )
    return paths


def _dump(data: Any, path: Path) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
