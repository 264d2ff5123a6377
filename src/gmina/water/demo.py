"""Demo water data: a few months simulated on a real EPANET network per gmina, ingested, analysed.

Each demo gmina gets its own seeded scenario from :mod:`gmina.sim` (households, meters at mixed
cadences, injected leaks, meter faults and theft, and non-events), registered as zones, service
points, customer meters and zone inlet meters. The readings go through the product's own CSV
pipeline (so the quarantine shows what a real import would refuse), meter replacements are
registered as a utility would, and detection runs over the last days so the alert list is full.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from gmina.consortium.actors import Actor
from gmina.consortium.models import Member
from gmina.ingest import PROFILES
from gmina.sim import EventClass, Scenario, ScenarioConfig, simulate
from gmina.sim.outputs import gmina_csv_table, inlet_csv_table
from gmina.water import actions
from gmina.water.detection import run_detection
from gmina.water.models import Alert, Meter, Zone

DAYS = 90
DETECTION_DAYS = 3  # analysis runs on each of the last days (alerts merge across runs)
NETWORKS = {"zd": "Net1", "bw": "Net3"}
POINTS_PER_ZONE = (60, 100)


@dataclass(frozen=True)
class DemoWater:
    meters: int
    readings: int
    days: int
    injected_events: int
    alerts_open: int


def scenario_for(prefix: str, end: datetime, days: int = DAYS) -> Scenario:
    start = end - timedelta(days=days)
    config = ScenarioConfig(
        network=NETWORKS.get(prefix, "Net1"),
        days=days,
        seed=zlib.crc32(prefix.encode()),
        start=start.date().isoformat(),
        zones=2,
        points_per_zone=POINTS_PER_ZONE,
    )
    return simulate(config)


def seed_water(actor: Actor, member: Member, prefix: str, *, end: datetime | None = None) -> DemoWater | None:
    """Simulate, register, ingest and analyse one gmina's water network; nothing if it has zones already."""
    if Zone.all_tenants.filter(member=member).exists():
        return None
    end = (end or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    scenario = scenario_for(prefix, end)
    installed = scenario.start - timedelta(days=365)
    _register(actor, member, scenario, installed)
    readings = _replace_meters(actor, member, scenario)
    inlets = inlet_csv_table(scenario.inlet_readings)
    for table, label in ((gmina_csv_table(readings), "customer meters"), (inlets, "zone inlets")):
        actions.import_readings_stream(actor, member, _csv(table), PROFILES["gmina"], label=f"demo: {label}")
    for day in range(DETECTION_DAYS - 1, -1, -1):
        run_detection(actor, member, as_of=end - timedelta(days=day))
    return DemoWater(
        meters=scenario.meter_table().num_rows,
        readings=readings.num_rows,
        days=scenario.days,
        injected_events=len(scenario.labels),
        alerts_open=Alert.all_tenants.filter(member=member, resolved_at__isnull=True).count(),
    )


def _register(actor: Actor, member: Member, scenario: Scenario, installed: datetime) -> None:
    zones: dict[str, Zone] = {}
    flow_meters: dict[str, Meter] = {}  # a link between two zones is one zone's inlet and the other's outlet
    for zone in scenario.zones:
        zones[zone.name] = actions.create_zone(
            actor, member=member, code=zone.name, name=f"Strefa {zone.name}", description=scenario.network
        )
        for inlet in zone.inlets:
            if inlet.meter not in flow_meters:
                flow_meters[inlet.meter] = actions.register_meter(
                    actor,
                    member=member,
                    serial=inlet.meter,
                    kind="zone",
                    zone=zones[zone.name],
                    installed_at=installed,
                    manufacturer="Apator",
                    dn_mm=100,
                )
            direction = "in" if inlet.sign > 0 else "out"
            actions.add_boundary_meter(
                actor, zone=zones[zone.name], meter=flow_meters[inlet.meter], direction=direction
            )
    for row in scenario.meter_table().to_pylist():
        point = actions.create_service_point(
            actor,
            member=member,
            code=row["service_point"],
            zone=zones[row["zone"]],
            address=f"ul. Przykładowa {row['service_point'][2:].lstrip('0')}",
            category="commercial" if row["kind"] == "commercial" else "household",
        )
        actions.register_meter(
            actor,
            member=member,
            serial=row["meter"],
            service_point=point,
            installed_at=installed,
            manufacturer="Apator" if row["technology"].startswith("mechanical") else "Kamstrup",
            dn_mm=20 if row["kind"] == "commercial" else 15,
        )


def _replacements(scenario: Scenario) -> Iterator[tuple[str, datetime]]:
    for label in scenario.labels:
        if label.event_class is EventClass.METER_REPLACEMENT and label.meter:
            yield label.meter, label.start


def _replace_meters(actor: Actor, member: Member, scenario: Scenario) -> pa.Table:
    """Register each simulated meter swap (new serial from the swap on), as the utility's records would."""
    readings = scenario.readings
    for serial, at in _replacements(scenario):
        new_serial = f"{serial}-W"
        mine = pc.equal(readings.column("meter"), serial)
        when = pa.scalar(at, pa.timestamp("us", "UTC"))
        after = pc.and_(mine, pc.greater_equal(readings.column("observed_at"), when))
        before_rows = readings.filter(pc.and_(mine, pc.invert(after)))
        after_rows = readings.filter(after)
        final = int(pc.max(before_rows.column("index_l")).as_py() or 0) if before_rows.num_rows else 0
        initial = int(pc.min(after_rows.column("index_l")).as_py() or 0) if after_rows.num_rows else 0
        old = Meter.all_tenants.get(member=member, serial=serial)
        actions.replace_meter(
            actor, old=old, new_serial=new_serial, at=at, final_index_l=final, initial_index_l=initial
        )
        renamed = pc.if_else(after, pa.scalar(new_serial), readings.column("meter"))
        readings = readings.set_column(readings.schema.get_field_index("meter"), "meter", renamed)
    return readings


def _csv(table: pa.Table) -> io.BytesIO:
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, write_options=pacsv.WriteOptions(quoting_style="needed"))
    buffer.seek(0)
    return buffer
