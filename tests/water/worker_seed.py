"""Run as ``python -m tests.water.worker_seed seed|report`` against the database of the environment.

``seed`` migrates and stores one member with a zone, a meter and the last ten days of hourly
readings; ``report`` prints the detection runs as JSON. Used by the real-worker test in ``test_jobs.py``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta


def seed() -> None:
    from django.core.management import call_command

    from gmina.water.store import ingest_batches
    from tests.factories import SYSTEM, make_member, make_meter, make_zone
    from tests.water.batches import batch, reading

    call_command("migrate", verbosity=0)
    member = make_member("Gmina Robocza")
    make_meter(member, "W1", zone=make_zone(member, "ZW"))
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=24 * 10)
    rows = [reading("W1", 0, 1000 + 15 * h, observed_at=start + timedelta(hours=h)) for h in range(24 * 10)]
    ingest_batches(SYSTEM, member, [batch(rows)], source="api", label="worker test")


def report() -> None:
    from gmina.water.models import DetectionRun, Zone

    runs = DetectionRun.all_tenants.order_by("pk").values("zones", "through_batch", "readings")
    zones = list(Zone.all_tenants.values_list("pk", flat=True))
    sys.stdout.write(json.dumps({"zones": zones, "runs": list(runs)}) + "\n")


def main(verb: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmina.settings")
    import django

    django.setup()
    {"seed": seed, "report": report}[verb]()


if __name__ == "__main__":
    main(sys.argv[1])
