"""The store: idempotent by (meter, time), never overwrites, quarantines with reasons, loses nothing."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest

from gmina.consortium.actors import Actor
from gmina.water.models import DeviceEvent, ImportBatch, QuarantinedRecord, Reading
from gmina.water.store import ingest_batches
from tests.factories import SYSTEM, Tenant, make_meter
from tests.water.batches import T0, batch, flag, reading

pytestmark = pytest.mark.django_db


def ingest(tenant: Tenant, rows, rejections=None, actor: Actor = SYSTEM):  # type: ignore[no-untyped-def]
    return ingest_batches(actor, tenant.member, [batch(rows, rejections)], source="api", label="test")


def stored(tenant: Tenant) -> list[tuple[str, datetime, int]]:
    rows = Reading.all_tenants.filter(member=tenant.member).order_by("meter__serial", "observed_at")
    return [(r.meter.serial, r.observed_at, r.index_l) for r in rows.select_related("meter")]


def test_new_readings_are_stored_and_counted(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    result = ingest(tenant_a, [reading("M1", h, 1000 + 10 * h) for h in range(24)])
    assert (result.received, result.accepted, result.duplicates, result.quarantined) == (24, 24, 0, 0)
    assert len(stored(tenant_a)) == 24
    batch_row = ImportBatch.all_tenants.get(pk=result.batch.pk)
    assert (batch_row.status, batch_row.accepted) == ("done", 24)


def test_reingesting_changes_nothing(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    rows = [reading("M1", h, 1000 + 10 * h) for h in range(10)]
    ingest(tenant_a, rows)
    before = stored(tenant_a)
    again = ingest(tenant_a, [reading("M1", h, 1000 + 10 * h) for h in range(10)])
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 10, 0)
    assert stored(tenant_a) == before


def test_same_key_other_value_is_a_conflict_and_never_overwrites(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    ingest(tenant_a, [reading("M1", 1, 1000)])
    result = ingest(tenant_a, [reading("M1", 1, 1500)])
    assert (result.accepted, result.quarantined) == (0, 1)
    assert stored(tenant_a)[0][2] == 1000
    record = QuarantinedRecord.all_tenants.get(batch=result.batch)
    assert record.reason == "conflict" and "1000" in record.message and "1500" in record.message
    assert record.payload["index_l"] == 1500  # nothing is lost: the refused value is kept


def test_in_file_duplicates_and_conflicts_do_not_depend_on_order(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    rows = [reading("M1", 1, 100), reading("M1", 1, 100), reading("M1", 2, 200), reading("M1", 2, 250)]
    result = ingest(tenant_a, rows)
    assert (result.accepted, result.duplicates, result.quarantined) == (1, 1, 2)
    assert stored(tenant_a) == [("M1", T0 + timedelta(hours=1), 100)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_record_order_does_not_change_the_stored_result(seed: int, tenant_a: Tenant, tenant_b: Tenant) -> None:
    import random

    rows = [reading("M1", h, 1000 + 7 * h) for h in range(30)] + [reading("M1", 5, 9), reading("M1", 40, 5)]
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    make_meter(tenant_a.member, "M1")
    make_meter(tenant_b.member, "M1")
    a = ingest(tenant_a, [dict(r) for r in rows])
    b = ingest(tenant_b, [dict(r, line=0) for r in shuffled])
    assert stored(tenant_a) == stored(tenant_b)
    assert (a.accepted, a.duplicates, a.quarantined) == (b.accepted, b.duplicates, b.quarantined)


def test_out_of_order_data_is_accepted(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    ingest(tenant_a, [reading("M1", h, 1000 + 10 * h) for h in range(10, 20)])
    result = ingest(tenant_a, [reading("M1", h, 1000 + 10 * h) for h in range(0, 10)])
    assert result.accepted == 10 and len(stored(tenant_a)) == 20


def test_a_decreasing_index_is_quarantined_but_a_spike_does_not_condemn_what_follows(
    tenant_a: Tenant,
) -> None:
    make_meter(tenant_a.member, "M1")
    rows = [
        reading("M1", 0, 1000),
        reading("M1", 1, 1100),
        reading("M1", 2, 999_999),
        reading("M1", 3, 1200),
        reading("M1", 4, 1300),
        reading("M1", 5, 1250),
        reading("M1", 6, 1400),
    ]
    result = ingest(tenant_a, rows)
    refused = {r.index_l: r.reason for r in QuarantinedRecord.all_tenants.filter(batch=result.batch)}
    assert refused == {1250: "decreasing_index"}
    assert [i for _, _, i in stored(tenant_a)] == [1000, 1100, 999_999, 1200, 1300, 1400]


@pytest.mark.parametrize("with_stored_duplicate", [False, True], ids=["new keys only", "with a stored key"])
def test_a_backfill_is_judged_by_the_stored_readings_next_to_it(tenant_a: Tenant, with_stored_duplicate: bool) -> None:
    # Stored: hours 0-1 and 5-9 of two meters. Backfilled: hours 2-4, judged by the readings around
    # them, the stored ones included. M1's dip at hour 3 is back up at hour 4: refused. M2's last
    # backfilled reading is far below the two before it, but the stored reading after it agrees with
    # it: the two before are the odd ones (stored; spikes are the detectors' business), it is kept.
    for serial in ("M1", "M2"):
        make_meter(tenant_a.member, serial)
        ingest(tenant_a, [reading(serial, 0, 1000), reading(serial, 1, 1100)])
        ingest(tenant_a, [reading(serial, h, 1150 + 10 * h) for h in range(5, 10)])
    rows = [reading("M1", 2, 1120), reading("M1", 3, 1050), reading("M1", 4, 1130)]
    rows += [reading("M2", 2, 2000), reading("M2", 3, 2010), reading("M2", 4, 1110)]
    if with_stored_duplicate:
        rows.append(reading("M1", 5, 1200))
    result = ingest(tenant_a, rows)
    refused = {r.index_l: r.reason for r in QuarantinedRecord.all_tenants.filter(batch=result.batch)}
    assert refused == {1050: "decreasing_index"}
    assert (result.accepted, result.duplicates) == (5, int(with_stored_duplicate))


def test_small_dips_within_tolerance_and_register_rollover_are_accepted(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1", register_capacity_l=100_000)
    rows = [
        reading("M1", 0, 98_000),
        reading("M1", 1, 99_500),
        reading("M1", 2, 99_495),
        reading("M1", 3, 400),
    ]
    result = ingest(tenant_a, rows)
    assert (result.accepted, result.quarantined) == (4, 0)


def test_unknown_meters_and_future_times_are_quarantined_with_reasons(tenant_a: Tenant, tenant_b: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    make_meter(tenant_b.member, "B-ONLY")
    future = datetime.now(UTC) + timedelta(days=2) - T0
    rows = [
        reading("M1", 1, 10),
        reading("NOPE", 1, 10),
        reading("B-ONLY", 1, 10),
        reading("M1", future.total_seconds() / 3600, 20),
    ]
    result = ingest(tenant_a, rows)
    reasons = sorted(QuarantinedRecord.all_tenants.filter(batch=result.batch).values_list("reason", flat=True))
    assert reasons == ["future_timestamp", "unknown_meter", "unknown_meter"]  # B's meter is unknown to A
    assert {i.reason for i in result.issues} == {"future_timestamp", "unknown_meter"}
    assert result.accepted == 1


def test_parser_rejections_are_kept_in_quarantine(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    rejection = {
        "line": 7,
        "column": "index",
        "reason": "bad_number",
        "message": "'12,3,4' is not a number",
        "raw": "M1;01.03.2025 00:00;12,3,4",
    }
    result = ingest(tenant_a, [reading("M1", 1, 10)], [rejection])
    record = QuarantinedRecord.all_tenants.get(batch=result.batch)
    assert (record.line, record.source_field, record.reason, record.raw) == (
        7,
        "index",
        "bad_number",
        rejection["raw"],
    )
    assert result.received == 2 and result.quarantined == 1


def test_device_radio_ids_resolve_by_time(tenant_a: Tenant) -> None:
    from gmina.water import actions

    old = make_meter(tenant_a.member, "OLD", device_key="36512345")
    swap = T0 + timedelta(hours=5)
    actions.replace_meter(SYSTEM, old=old, new_serial="NEW", at=swap, final_index_l=5000, keep_device=True)
    rows = [reading("36512345", h, 4000 + 100 * h, kind="device") for h in range(5)]
    rows += [reading("36512345", h, 10 * (h - 5), kind="device") for h in range(5, 9)]
    result = ingest(tenant_a, rows)
    assert (result.accepted, result.quarantined) == (9, 0)  # the index restart is not "decreasing"
    serials = [s for s, _, _ in stored(tenant_a)]
    assert serials.count("OLD") == 5 and serials.count("NEW") == 4


def test_device_flags_become_events_that_open_and_close(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "M1")
    rows = [reading("M1", h, 100 + h, flags=[flag("leak")] if 2 <= h <= 4 else []) for h in range(8)]
    ingest(tenant_a, rows)
    event = DeviceEvent.all_tenants.get(meter=meter)
    assert (event.code, event.state, event.occurrences) == ("leak", "active", 3)
    assert event.first_seen == T0 + timedelta(hours=2) and event.last_seen == T0 + timedelta(hours=4)
    assert event.ended_at == T0 + timedelta(hours=5)


def test_an_event_spanning_batches_is_one_event(tenant_a: Tenant) -> None:
    meter = make_meter(tenant_a.member, "M1")
    ingest(
        tenant_a,
        [reading("M1", h, 100 + h, flags=[flag("tamper_magnet", "historic", "P_MAGNETIC_FIELD")]) for h in range(3)],
    )
    ingest(
        tenant_a,
        [reading("M1", h, 100 + h, flags=[flag("tamper_magnet", "historic", "P_MAGNETIC_FIELD")]) for h in range(3, 6)],
    )
    events = list(DeviceEvent.all_tenants.filter(meter=meter))
    assert len(events) == 1 and events[0].occurrences == 6 and events[0].ended_at is None


def test_a_read_only_actor_cannot_ingest(tenant_a: Tenant) -> None:
    from django.core.exceptions import PermissionDenied

    make_meter(tenant_a.member, "M1")
    viewer = Actor.for_user(tenant_a.users["viewer"])
    with pytest.raises(PermissionDenied):
        ingest(tenant_a, [reading("M1", 1, 10)], actor=viewer)
    assert not Reading.all_tenants.exists()


def test_consumption_across_a_meter_replacement_is_never_negative(tenant_a: Tenant) -> None:
    from gmina.water import actions
    from gmina.water.consumption import consumption_l

    old = make_meter(tenant_a.member, "OLD")
    ingest(tenant_a, [reading("OLD", h, 50_000 + 100 * h) for h in range(5)])  # 50 000 … 50 400 L
    swap = T0 + timedelta(hours=5)
    new = actions.replace_meter(SYSTEM, old=old, new_serial="NEW", at=swap, final_index_l=50_450, initial_index_l=3)
    ingest(tenant_a, [reading("NEW", h, 3 + 100 * (h - 5)) for h in range(6, 10)])  # 103 … 403 L
    point = old.service_point
    used = consumption_l(point, T0, T0 + timedelta(hours=10))
    assert used == (50_450 - 50_000) + (403 - 3)
    assert consumption_l(point, T0 + timedelta(hours=6), T0 + timedelta(hours=10)) == 403 - 103
    assert new.service_point == point


def test_every_stored_reading_points_at_its_own_members_meter_and_batch(tenant_a: Tenant, tenant_b: Tenant) -> None:
    # water_reading has no database foreign keys (see the model): the store alone keeps them true.
    for tenant in (tenant_a, tenant_b):
        make_meter(tenant.member, "SAME-SERIAL")
        make_meter(tenant.member, f"{tenant.marker}-ONLY")
    b_only = f"{tenant_b.marker}-ONLY"
    ingest(tenant_a, [reading("SAME-SERIAL", h, 100 + h) for h in range(5)] + [reading(b_only, 1, 5)])
    ingest(tenant_b, [reading("SAME-SERIAL", h, 900 + h) for h in range(3)] + [reading(b_only, 1, 5)])
    rows = Reading.all_tenants.select_related("meter", "batch", "member")
    assert rows.count() == 5 + 3 + 1
    for r in rows:
        assert r.meter.member_id == r.member_id == r.batch.member_id
    assert Reading.all_tenants.filter(member=tenant_a.member, meter__serial=b_only).count() == 0
    assert QuarantinedRecord.all_tenants.filter(member=tenant_a.member, reason="unknown_meter").count() == 1


def _outcome(tenant: Tenant, result) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    refused = sorted(QuarantinedRecord.all_tenants.filter(batch=result.batch).values_list("line", "reason", "index_l"))
    events = sorted(DeviceEvent.all_tenants.filter(member=tenant.member).values_list("code", "occurrences", "ended_at"))
    return (result.accepted, result.duplicates, result.quarantined, refused, stored(tenant), events)


SCENARIOS = {
    "clean": ([], [reading("M1", h, 100 + 10 * h) for h in range(12)]),
    "decreasing": ([], [reading("M1", h, 100 + 10 * h - (500 if h == 6 else 0)) for h in range(12)]),
    "in-file duplicate": ([], [reading("M1", h, 100 + 10 * h) for h in range(12)] + [reading("M1", 3, 130)]),
    "in-file conflict": ([], [reading("M1", h, 100 + 10 * h) for h in range(12)] + [reading("M1", 3, 131)]),
    "stored before": ([reading("M1", 2, 120)], [reading("M1", h, 100 + 10 * h) for h in range(12)]),
    "stored conflict": ([reading("M1", 2, 125)], [reading("M1", h, 100 + 10 * h) for h in range(12)]),
    "before stored history": (
        [reading("M1", h, 1000 + h) for h in range(20, 24)],
        [reading("M1", h, 100 + 10 * h) for h in range(12)],
    ),
    "flags": ([], [reading("M1", h, 100 + h, flags=[flag("leak")] if 3 <= h <= 5 else []) for h in range(9)]),
}


@pytest.mark.parametrize(
    ("plain_insert_from", "direct"),
    [(0, False), (10**9, False), (0, True)],
    ids=["plain INSERT", "ON CONFLICT", "direct COPY"],
)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_clean_file_path_gives_what_the_full_classification_gives(
    scenario: str, plain_insert_from: int, direct: bool, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """A file of new keys in order skips the classification; any other file must not notice the attempt.

    ``direct``: on PostgreSQL, the direct ``COPY`` into the readings table (elsewhere the same as off).
    """
    from gmina.water.store import ingest as store

    earlier, rows = SCENARIOS[scenario]
    outcomes = []
    for tenant, attempt, use_direct in ((tenant_a, store._store_clean, direct), (tenant_b, lambda *a: None, False)):
        make_meter(tenant.member, "M1")
        with (
            patch.object(store, "_store_clean", attempt),
            patch.object(store, "PLAIN_INSERT_FROM", plain_insert_from),
            patch.object(store, "DIRECT_COPY", use_direct),
        ):
            if earlier:
                ingest(tenant, [dict(r) for r in earlier])
            outcomes.append(_outcome(tenant, ingest(tenant, [dict(r) for r in rows])))
    assert outcomes[0] == outcomes[1]


def test_the_clean_file_path_is_taken_only_for_new_keys(tenant_a: Tenant) -> None:
    from gmina.water.store import ingest as store

    make_meter(tenant_a.member, "M1")
    with patch.object(store, "classify", wraps=store.classify) as classify:
        ingest(tenant_a, [reading("M1", h, 100 + h) for h in range(5)])
        assert classify.call_count == 0
        ingest(tenant_a, [reading("M1", h, 100 + h) for h in range(4, 8)])  # hour 4 is stored
        assert classify.call_count == 1
    assert len(stored(tenant_a)) == 8


def test_meters_and_zones_are_looked_up_in_chunks(tenant_a: Tenant) -> None:
    from django.db.models import F
    from django.db.models.functions import Coalesce

    from gmina.water.models import Meter, Zone, ZoneBoundaryMeter
    from gmina.water.store.resolve import MeterResolver

    shared = Zone.all_tenants.create(member=tenant_a.member, code="SHARED", name="Shared")
    bounded = Zone.all_tenants.create(member=tenant_a.member, code="BOUNDED", name="Bounded")
    for i in range(7):
        make_meter(tenant_a.member, f"S{i}", device_key=f"d{i}")
    boundary = make_meter(tenant_a.member, "BOUNDARY")
    ZoneBoundaryMeter.all_tenants.create(member=tenant_a.member, zone=bounded, meter=boundary, direction="in")
    Meter.all_tenants.filter(serial__in=["S0", "S1"]).update(zone=shared)  # the meter's own zone comes first
    rows = [reading(f"S{i}", 1, 10) for i in range(7)] + [reading(f"d{i}", 2, 10, kind="device") for i in range(7)]
    rows += [reading("NOPE", 1, 10), reading("BOUNDARY", 1, 10)]
    with patch.object(MeterResolver, "_CHUNK", 3):
        resolver = MeterResolver(tenant_a.member.pk)
        ids = resolver.resolve(batch(rows).readings).to_pylist()
        touched = resolver.zones({i for i in ids if i is not None})
    expected = dict(Meter.all_tenants.filter(member=tenant_a.member).values_list("serial", "id"))
    assert ids[:7] == ids[7:14] == [expected[f"S{i}"] for i in range(7)]
    assert ids[14:] == [None, expected["BOUNDARY"]]
    zone_of = Meter.all_tenants.filter(member=tenant_a.member).annotate(
        zone_of=Coalesce(F("zone_id"), F("service_point__zone_id"))
    )
    oracle = set(zone_of.values_list("zone_of", flat=True)) | {bounded.pk}
    assert touched == sorted(oracle) and shared.pk in touched


def test_fractions_of_a_second_are_stored_exactly(tenant_a: Tenant) -> None:
    make_meter(tenant_a.member, "M1")
    times = [T0 + timedelta(microseconds=us) for us in (0, 123_456, 250_000, 7, 999_999)]
    rows = [reading("M1", 0, 100 + i, observed_at=t) for i, t in enumerate(times)]
    rows.append(reading("NOPE", 0, 5, observed_at=times[1]))  # quarantined with its time
    result = ingest(tenant_a, rows)
    assert [t for _, t, _ in stored(tenant_a)] == sorted(times)
    assert QuarantinedRecord.all_tenants.get(batch=result.batch).observed_at == times[1]
    again = ingest(tenant_a, [dict(r) for r in rows[:5]])  # the same keys: duplicates, not new readings
    assert (again.accepted, again.duplicates) == (0, 5)


def _random_case(rng, serials: list[str]):  # type: ignore[no-untyped-def]
    """Stored history and a file in several batches, with dips, spikes, repeats and disorder at random."""
    earlier, rows = [], []
    for serial in serials:
        index, hours = rng.randint(0, 5000), sorted(rng.sample(range(60), rng.randint(1, 14)))
        series = []
        for h in hours:
            index += rng.choice([0, 1, 7, 30, 250])
            value = index
            roll = rng.random()
            if roll < 0.12:
                value = index - rng.choice([5, 11, 40, 900])  # a dip, within the tolerance or not
            elif roll < 0.17:
                value = index + 100_000  # a spike
            series.append(reading(serial, h, max(value, 0)))
        cut = rng.randint(0, len(series))
        if rng.random() < 0.5:
            earlier += series[:cut]  # stored before the file, and sometimes after part of it too
            series = series[cut:] + ([series[0]] if cut and rng.random() < 0.2 else [])
        if series and rng.random() < 0.1:
            series.append(dict(series[rng.randrange(len(series))]))  # a repeated key
        rows += series
    if rng.random() < 0.4:
        rng.shuffle(rows)
    cuts = sorted(rng.sample(range(len(rows) + 1), min(2, len(rows) + 1)))
    parts = [rows[: cuts[0]], rows[cuts[0] : cuts[-1]], rows[cuts[-1] :]]
    return earlier, [p for p in parts if p]


@pytest.mark.django_db(transaction=True)  # each import commits: one test transaction would pile up temp-table locks
def test_skipping_the_decreasing_check_never_changes_an_outcome(tenant_a: Tenant, tenant_b: Tenant) -> None:
    """Random files through the new-keys path (with its evidence) and through the full classification."""
    import random

    from gmina.water.store import ingest as store

    for case in range(int(os.environ.get("STORE_RANDOM_CASES", "40"))):  # raise it locally to search harder
        rng = random.Random(case)
        serials = [f"R{case}-{i}" for i in range(rng.randint(1, 3))]
        earlier, parts = _random_case(rng, serials)
        outcomes = []
        plain_insert_from = 0 if case % 2 else 10**9  # both ways of inserting the staged rows
        direct = case % 3 != 0  # and (on PostgreSQL) the direct COPY, with its fallback to staging
        for tenant, attempt, use_direct in ((tenant_a, store._store_clean, direct), (tenant_b, lambda *a: None, False)):
            for serial in serials:
                make_meter(tenant.member, serial)
            with (
                patch.object(store, "_store_clean", attempt),
                patch.object(store, "PLAIN_INSERT_FROM", plain_insert_from),
                patch.object(store, "DIRECT_COPY", use_direct),
            ):
                if earlier:
                    ingest(tenant, [dict(r) for r in earlier])
                result = ingest_batches(
                    SYSTEM, tenant.member, [batch([dict(r) for r in p]) for p in parts], source="api", label="t"
                )
            refused = QuarantinedRecord.all_tenants.filter(batch=result.batch)
            kept = [r for r in stored(tenant) if r[0] in serials]
            outcomes.append(
                (result.accepted, result.duplicates, sorted(refused.values_list("line", "reason", "index_l")), kept)
            )
        assert outcomes[0] == outcomes[1], f"case {case}"


def _full_row(tenant: Tenant) -> list[tuple[object, ...]]:
    rows = Reading.all_tenants.filter(member=tenant.member).order_by("meter__serial", "observed_at")
    return list(
        rows.values_list(
            "meter__serial",
            "observed_at",
            "index_l",
            "flow_lph",
            "backflow_l",
            "source",
            "time_basis",
            "read_type",
            "time_ambiguous",
        )
    )


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("one_shot", "spool_memory"),
    [(False, 0), (True, 0), (True, 10**9)],
    ids=["list read again", "stream, spool on disk", "stream, spool in memory"],
)
def test_the_direct_copy_falls_back_to_staging_with_the_same_stored_result(
    one_shot: bool, spool_memory: int, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """All-new batches are copied straight in; a stored key met in a later batch sends the whole
    source (read again, or replayed from the spool) through the full classification: the same
    outcome as without."""
    from django.db import connection

    from gmina.water.store import direct
    from gmina.water.store import ingest as store

    assert connection.vendor == "postgresql"
    extra = {"flow_lph": 12.5, "backflow_l": 3, "time_basis": "reception", "read_type": "estimated"}
    parts = [
        [reading("M1", h, 100 + h, **(extra if h % 2 else {})) for h in range(5)],
        [reading("M2", h, 500 + h, time_ambiguous=h == 1) for h in range(5)]
        + [reading("NOPE", 1, 5), reading("M2", 9, 10**9, flags=[flag("leak")])],
        [reading("M1", h, 100 + h) for h in range(5, 10)] + [reading("M3", 2, 7)],  # M3 at hour 2 is stored
    ]
    outcomes = []
    for tenant, use_direct in ((tenant_a, True), (tenant_b, False)):
        for serial in ("M1", "M2", "M3"):
            make_meter(tenant.member, serial)
        ingest(tenant, [reading("M3", 2, 7), reading("M3", 3, 8)])  # stored before the source
        with (
            patch.object(store, "DIRECT_COPY", use_direct),
            patch.object(direct, "SPOOL_MEMORY", spool_memory),
            patch.object(direct.DirectCopy, "abandon", autospec=True, side_effect=direct.DirectCopy.abandon) as abandon,
            patch.object(store, "classify", wraps=store.classify) as classify,
        ):
            source = [batch([dict(r) for r in p]) for p in parts]
            counted: list[int] = []
            result = ingest_batches(
                SYSTEM,
                tenant.member,
                iter(source) if one_shot else source,
                source="api",
                label="t",
                on_batch=counted.append,
            )
            assert abandon.call_count == int(use_direct) and classify.call_count == 1
            assert counted == [len(p) for p in parts]
        refused = QuarantinedRecord.all_tenants.filter(batch=result.batch)
        events = list(DeviceEvent.all_tenants.filter(member=tenant.member).values_list("code", "first_seen"))
        outcomes.append(
            (
                result.summary(),
                [(i.line, i.reason) for i in result.issues],
                sorted(refused.values_list("line", "reason", "index_l")),
                _full_row(tenant),
                events,
            )
        )
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == {"received": 18, "accepted": 16, "duplicates": 1, "quarantined": 1}


@pytest.mark.postgres_only
def test_the_direct_copy_stores_every_column_as_the_staging_path_does(tenant_a: Tenant, tenant_b: Tenant) -> None:
    from gmina.water.store import ingest as store

    extra = {"flow_lph": 12.5, "backflow_l": 3, "time_basis": "reception", "read_type": "estimated"}
    rows = [reading("M1", h, 100 + h, **(extra if h % 2 else {})) for h in range(6)]
    rows += [
        reading("M1", 6, 106, flow_lph=-0.25, time_ambiguous=True, observed_at=T0 + timedelta(hours=6, microseconds=7))
    ]
    rows += [reading("M2", 1, 1, flags=[flag("leak")]), reading("M2", 2, 2)]
    outcomes = []
    for tenant, use_direct in ((tenant_a, True), (tenant_b, False)):
        make_meter(tenant.member, "M1")
        make_meter(tenant.member, "M2")
        with (
            patch.object(store, "DIRECT_COPY", use_direct),
            patch.object(store, "_store_clean", wraps=store._store_clean) as staged,
        ):
            result = ingest(tenant, [dict(r) for r in rows])
            assert staged.call_count == int(not use_direct)
        events = list(
            DeviceEvent.all_tenants.filter(member=tenant.member).values_list("code", "first_seen", "ended_at")
        )
        outcomes.append((result.summary(), _full_row(tenant), events))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0]["accepted"] == len(rows)
