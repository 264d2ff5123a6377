"""Demo water data: a zone per gmina with customer meters and two weeks of hourly readings.

Readings go through the same store as every import (so the demo also shows the quarantine).
Until the simulator lands, consumption is a simple seeded diurnal pattern.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from gmina.consortium.actors import Actor
from gmina.consortium.models import Member
from gmina.ingest import READINGS_SCHEMA, REJECTIONS_SCHEMA, ParsedBatch
from gmina.water import actions
from gmina.water.models import Zone
from gmina.water.models.choices import Source
from gmina.water.store import ingest_batches

METERS_PER_ZONE = 30
DAYS = 14


def _profile(hour: int) -> float:
    """Relative household use by local hour: morning and evening peaks, quiet nights."""
    return 0.15 + math.exp(-((hour - 7) ** 2) / 4) + 0.8 * math.exp(-((hour - 20) ** 2) / 6)


def seed_water(actor: Actor, member: Member, prefix: str, *, end: datetime | None = None) -> None:
    if Zone.all_tenants.filter(member=member).exists():
        return
    rng = random.Random(f"gmina-demo-{prefix}")
    end = (end or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=DAYS)
    installed = start - timedelta(days=365)
    zone = actions.create_zone(actor, member=member, code=f"{prefix.upper()}-01", name="Strefa Centrum")
    inlet = actions.register_meter(
        actor,
        member=member,
        serial=f"{prefix.upper()}-INLET-01",
        kind="zone",
        zone=zone,
        installed_at=installed,
        manufacturer="Apator",
        dn_mm=100,
    )
    actions.add_boundary_meter(actor, zone=zone, meter=inlet, direction="in")
    rows = []
    hours = int((end - start).total_seconds() // 3600)
    inlet_index = 5_000_000
    for number in range(1, METERS_PER_ZONE + 1):
        point = actions.create_service_point(
            actor,
            member=member,
            code=f"PP-{prefix.upper()}-{number:04d}",
            zone=zone,
            address=f"ul. Przykładowa {number}",
        )
        meter = actions.register_meter(
            actor,
            member=member,
            serial=f"{prefix.upper()}{number:06d}",
            service_point=point,
            installed_at=installed,
            device_key=f"{rng.getrandbits(32):08x}",
            manufacturer="Apator",
            dn_mm=15,
        )
        daily_l = rng.uniform(150, 450)
        index = rng.randint(10_000, 900_000)
        leak = number == 7  # one customer-side leak: a running toilet, continuous 6 L/h
        for hour in range(hours):
            at = start + timedelta(hours=hour)
            local_hour = (at.hour + 1) % 24
            use = daily_l / 24 * _profile(local_hour) / 0.55 * rng.uniform(0.5, 1.5)
            index += int(use + (6 if leak else 0))
            rows.append(
                _row(
                    meter.serial,
                    at,
                    index,
                    flags=[{"code": "leak", "state": "active", "raw": "LEAK"}] if leak and hour > 48 else [],
                )
            )
    for hour in range(hours):
        inlet_index += int(METERS_PER_ZONE * 300 / 24 * _profile((hour + 1) % 24) / 0.55 * 1.12)
        rows.append(_row(inlet.serial, start + timedelta(hours=hour), inlet_index))
    rows.append(_row(f"{prefix.upper()}-UNREGISTERED", end - timedelta(hours=1), 1234))  # shows the quarantine
    readings = pa.RecordBatch.from_pylist(rows, schema=READINGS_SCHEMA)
    batch = ParsedBatch(readings, pa.RecordBatch.from_pylist([], schema=REJECTIONS_SCHEMA))
    ingest_batches(actor, member, [batch], source=Source.API, label="demo data")


def _row(serial: str, at: datetime, index: int, flags: list[dict[str, str]] | None = None) -> dict[str, object]:
    return {
        "line": 0,
        "meter_ref": serial,
        "ref_kind": "serial",
        "observed_at": at,
        "index_l": index,
        "flow_lph": None,
        "backflow_l": None,
        "time_basis": "meter_clock",
        "time_ambiguous": False,
        "read_type": "actual",
        "flags": flags or [],
    }
