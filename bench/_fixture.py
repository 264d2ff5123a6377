"""Create (idempotently) the bench member, its zone and meters, and optionally a token and subscriptions.

Run with the GMINA_* environment of the target database; prints one JSON line:
``{"member": id, "meters": n, "token": "...", "meter_ids": {...}?}``.
"""

# ruff: noqa: T201 - a benchmark script reports on stdout

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmina.settings")

import django

django.setup()

from gmina.consortium import actions as c  # noqa: E402
from gmina.consortium.actors import Actor  # noqa: E402
from gmina.consortium.models import Member  # noqa: E402
from gmina.water.models import DeviceAssignment, Meter, MqttSubscription, Zone  # noqa: E402

TERYT = "0000001"


def serial(i: int) -> str:
    return f"B{i:07d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--token", action="store_true", help="issue a write token (printed)")
    parser.add_argument("--mqtt-topic", help="add an MqttSubscription for this topic filter")
    parser.add_argument("--mqtt-format", default="gmina")
    parser.add_argument("--device-keys", action="store_true", help="attach radio id 'd<serial>' to every meter")
    parser.add_argument("--ids", action="store_true", help="print serial→id map (for the \\copy baseline)")
    args = parser.parse_args()

    system = Actor.system("bench")
    member = Member.all_tenants.filter(teryt=TERYT).first()
    if member is None:
        member = c.create_member(system, name="Gmina Bench", kind="gmina", teryt=TERYT)
    zone = Zone.all_tenants.filter(member=member, code="Z").first() or Zone.all_tenants.create(
        member=member, code="Z", name="Bench zone"
    )
    have = set(Meter.all_tenants.filter(member=member).values_list("serial", flat=True))
    new = [Meter(member=member, serial=serial(i), zone=zone) for i in range(args.meters) if serial(i) not in have]
    Meter.all_tenants.bulk_create(new, batch_size=5000)
    out: dict[str, object] = {"member": member.pk, "meters": args.meters}
    if args.device_keys:
        keyed = set(DeviceAssignment.all_tenants.filter(member=member).values_list("device_key", flat=True))
        since = datetime(2000, 1, 1, tzinfo=UTC)
        rows = [
            DeviceAssignment(member=member, device_key=f"d{s.lower()}", meter_id=mid, valid_from=since)
            for s, mid in Meter.all_tenants.filter(member=member).values_list("serial", "id")
            if f"d{s.lower()}" not in keyed
        ]
        DeviceAssignment.all_tenants.bulk_create(rows, batch_size=5000)
    if args.token:
        _, plaintext = c.issue_api_token(
            system, member=member, name=f"bench {datetime.now(UTC):%H%M%S%f}", can_write=True
        )
        out["token"] = plaintext
    if args.mqtt_topic and not MqttSubscription.all_tenants.filter(topic=args.mqtt_topic).exists():
        from gmina.water import actions as w

        w.add_mqtt_subscription(system, member=member, topic=args.mqtt_topic, payload_format=args.mqtt_format)
    if args.ids:
        out["meter_ids"] = dict(Meter.all_tenants.filter(member=member).values_list("serial", "id"))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
