"""Background detection: the zones an import touched, the incremental pass, the schedules, the real worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django_q.models import Schedule

from gmina.water import jobs
from gmina.water.detection import merge_cases
from gmina.water.models import Alert, DetectionRun, ImportBatch
from gmina.water.store import ingest_batches
from tests.factories import SYSTEM, Tenant, make_meter, make_zone
from tests.water.batches import T0, batch, reading

ROOT = Path(__file__).resolve().parents[2]


def store(tenant: Tenant, serial: str, hours: range) -> ImportBatch:
    rows = [reading(serial, h, 1000 + 20 * h) for h in hours]
    return ingest_batches(SYSTEM, tenant.member, [batch(rows)], source="api", label="test").batch


@pytest.mark.django_db
def test_an_import_records_the_zones_it_touched(tenant_a: Tenant) -> None:
    north, south = make_zone(tenant_a.member, "N"), make_zone(tenant_a.member, "S")
    make_meter(tenant_a.member, "N1", zone=north)
    make_meter(tenant_a.member, "S1", zone=south)
    assert store(tenant_a, "N1", range(5)).zones == [north.pk]
    rows = [reading("N1", 10, 2000), reading("S1", 10, 2000), reading("NOBODY", 10, 1)]
    both = ingest_batches(SYSTEM, tenant_a.member, [batch(rows)], source="api").batch
    assert both.zones == sorted([north.pk, south.pk])
    nothing_new = store(tenant_a, "N1", range(5))
    assert nothing_new.accepted == 0 and nothing_new.zones == []


@pytest.mark.django_db
def test_the_incremental_pass_analyses_only_new_data_and_only_once(tenant_a: Tenant, tenant_b: Tenant) -> None:
    north, south = make_zone(tenant_a.member, "N"), make_zone(tenant_a.member, "S")
    make_meter(tenant_a.member, "N1", zone=north)
    make_meter(tenant_a.member, "S1", zone=south)
    store(tenant_a, "S1", range(48))
    newest = store(tenant_a, "N1", range(48))
    assert jobs.pending_zones(tenant_a.member.pk) == (sorted([north.pk, south.pk]), newest.pk)
    assert jobs.pending_zones(tenant_b.member.pk) == ([], None)

    as_of = T0 + timedelta(days=3)
    assert jobs.detect_new_data(as_of) == 1  # tenant_b has no zones: nothing to do there
    run = DetectionRun.all_tenants.get(member=tenant_a.member)
    assert run.zones == sorted([north.pk, south.pk]) and run.through_batch == newest.pk and run.readings == 96
    assert jobs.detect_new_data(as_of) == 0  # nothing new since

    later = store(tenant_a, "N1", range(48, 60))
    assert jobs.detect_new_data(as_of) == 1
    run = DetectionRun.all_tenants.filter(member=tenant_a.member).first()
    assert run is not None and run.zones == [north.pk] and run.through_batch == later.pk and run.readings == 60


@pytest.mark.django_db
def test_a_run_limited_to_some_zones_clears_nothing_elsewhere(tenant_a: Tenant) -> None:
    north, south = make_zone(tenant_a.member, "N"), make_zone(tenant_a.member, "S")
    case = {
        "alert_class": "network_leak",
        "location_kind": "zone",
        "location_id": south.pk,
        "start": T0,
        "end": None,
        "confidence": 0.9,
        "volume_m3": 10.0,
        "cost_pln": 120.0,
        "detectors": "network",
        "evidence": "{}",
    }
    assert merge_cases(tenant_a.member.pk, [case], T0, set()) == (1, 0, 0)
    assert merge_cases(tenant_a.member.pk, [], T0, set(), [north.pk]) == (0, 0, 0)
    assert Alert.all_tenants.get(zone=south).resolved_at is None
    assert merge_cases(tenant_a.member.pk, [], T0 + timedelta(hours=23), set(), [south.pk]) == (0, 0, 0)  # held
    assert merge_cases(tenant_a.member.pk, [], T0 + timedelta(hours=24), set(), [south.pk]) == (0, 0, 1)
    assert Alert.all_tenants.get(zone=south).resolution == "cleared"


@pytest.mark.django_db
def test_a_full_pass_covers_every_member_with_zones(tenant_a: Tenant, tenant_b: Tenant) -> None:
    for tenant in (tenant_a, tenant_b):
        make_meter(tenant.member, f"{tenant.marker}1")
        store(tenant, f"{tenant.marker}1", range(24))
    assert jobs.detect_everyone(T0 + timedelta(days=2)) == 2
    runs = DetectionRun.all_tenants.all()
    assert {r.member_id for r in runs} == {tenant_a.member.pk, tenant_b.member.pk}
    assert all(r.zones == [] and r.through_batch is not None for r in runs)
    assert jobs.detect_new_data(T0 + timedelta(days=2)) == 0  # a full pass took the imports in


@pytest.mark.django_db
def test_schedules_follow_the_settings_and_are_kept_once(settings: object) -> None:
    settings.GMINA_DETECT_EVERY_MINUTES = 90  # type: ignore[attr-defined]
    jobs.ensure_schedules()
    jobs.ensure_schedules()
    schedules = {s.name: s for s in Schedule.objects.all()}
    assert set(schedules) == {jobs.NEW_DATA_SCHEDULE, jobs.FULL_SCHEDULE}
    assert schedules[jobs.FULL_SCHEDULE].minutes == 90 and schedules[jobs.FULL_SCHEDULE].repeats == -1
    assert schedules[jobs.NEW_DATA_SCHEDULE].func == "gmina.water.jobs.detect_new_data"


# --- the real worker: django-q2's cluster as a process, on this pass's database kind --------------


@pytest.fixture
def worker_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh database of the kind this pass tests (SQLite file, or a new PostgreSQL database)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(GMINA_DATA_DIR=str(tmp_path), GMINA_WORKER_TICK_MS="100", PYTHONPATH=str(ROOT))
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["GMINA_DATABASE_URL"] = ""
        yield env
        return
    name = f"gmina_worker_{uuid.uuid4().hex[:8]}"
    admin = {"host": db["HOST"], "port": db["PORT"] or None, "user": db["USER"], "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    env["GMINA_DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    try:
        yield env
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _helper(env: dict[str, str], verb: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.water.worker_seed", verb],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gmina_worker_runs_detection_on_new_data_by_itself(worker_env: dict[str, str]) -> None:
    _helper(worker_env, "seed")
    log = Path(worker_env["GMINA_DATA_DIR"]) / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "gmina.cli", "worker"], env=worker_env, cwd=ROOT, stdout=out, stderr=out
        )
    try:
        report: dict[str, list] = {"runs": []}  # type: ignore[type-arg]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not report["runs"]:
            time.sleep(1.0)
            assert worker.poll() is None, log.read_text()
            report = json.loads(_helper(worker_env, "report"))
        assert report["runs"], f"no detection run within 90 s:\n{log.read_text()}"
        run = report["runs"][0]
        assert run["readings"] == 240 and run["through_batch"] is not None
        assert run["zones"] == report["zones"] or run["zones"] == []  # the incremental or the first full pass
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert "schedule 'gmina: detection on new data'" in log.read_text()
