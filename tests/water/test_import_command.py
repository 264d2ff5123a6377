"""``gmina import readings``: the CLI over the same pipeline; a bad file is refused whole."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmina.water.models import ImportBatch, Reading
from tests.factories import Tenant, make_meter

pytestmark = pytest.mark.django_db

HEADER = "meter,observed_at,index_l\n"


def run_import(path: Path, tenant: Tenant) -> str:
    out = StringIO()
    call_command(
        "import",
        "readings",
        str(path),
        "--profile",
        "gmina",
        "--member",
        str(tenant.member.pk),
        "--no-progress",
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()


def write(tmp_path: Path, lines: list[str], name: str = "readings.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_import_prints_a_summary_and_reingesting_changes_nothing(tenant_a: Tenant, tmp_path: Path) -> None:
    make_meter(tenant_a.member, "C1")
    lines = [f"C1,2025-03-01T{h:02d}:00:00Z,{1000 + h * 10}" for h in range(24)] + ["C2,2025-03-01T00:00:00Z,5"]
    path = write(tmp_path, lines)
    out = run_import(path, tenant_a)
    assert "25 records: 24 stored, 0 duplicates, 1 quarantined" in out
    assert "quarantined as unknown_meter: 1" in out
    again = run_import(path, tenant_a)
    assert "25 records: 0 stored, 24 duplicates, 1 quarantined" in again
    assert Reading.all_tenants.filter(member=tenant_a.member).count() == 24
    assert ImportBatch.all_tenants.filter(member=tenant_a.member).first().sha256


def test_a_structurally_broken_file_imports_nothing(tenant_a: Tenant, tmp_path: Path) -> None:
    make_meter(tenant_a.member, "C1")
    lines = [f"C1,2025-03-01T{h:02d}:00:00Z,{1000 + h}" for h in range(10)] + ["C1,2025-03-01T11:00:00Z"]
    with pytest.raises(CommandError, match="line 12"):
        run_import(write(tmp_path, lines), tenant_a)
    assert not Reading.all_tenants.exists()


def test_unknown_member_and_missing_file_are_clear_errors(tenant_a: Tenant, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        call_command("import", "readings", str(tmp_path / "nope.csv"), "--member", str(tenant_a.member.pk))
    path = write(tmp_path, [])
    with pytest.raises(CommandError, match="--member 'Atlantyda'"):
        call_command("import", "readings", str(path), "--member", "Atlantyda")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=30),
    order=st.randoms(use_true_random=False),
)
def test_order_of_lines_does_not_change_what_is_stored(tenant_a: Tenant, tmp_path_factory, steps, order) -> None:  # type: ignore[no-untyped-def]
    from gmina.water.models import Meter

    meter = Meter.all_tenants.filter(member=tenant_a.member, serial="P1").first() or make_meter(tenant_a.member, "P1")
    Reading.all_tenants.filter(meter=meter).delete()
    index, lines = 1000, []
    for hour, step in enumerate(steps):
        index += step
        lines.append(f"P1,2025-03-0{1 + hour // 24}T{hour % 24:02d}:00:00Z,{index}")
    lines.append(lines[0])  # an in-file duplicate
    shuffled = list(lines)
    order.shuffle(shuffled)
    directory = tmp_path_factory.mktemp("order")
    run_import(write(directory, lines, "a.csv"), tenant_a)
    first = list(Reading.all_tenants.filter(meter=meter).order_by("observed_at").values_list("observed_at", "index_l"))
    Reading.all_tenants.filter(meter=meter).delete()
    run_import(write(directory, shuffled, "b.csv"), tenant_a)
    second = list(Reading.all_tenants.filter(meter=meter).order_by("observed_at").values_list("observed_at", "index_l"))
    assert first == second and len(first) == len(steps)
