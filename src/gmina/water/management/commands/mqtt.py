"""``gmina mqtt``: subscribe to the members' topics and store readings (see gmina.water.mqtt)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gmina.water.mqtt import Consumer


class Command(BaseCommand):
    help = "Run the MQTT subscriber (QoS 1, acknowledges a message only after its readings are committed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1883)
        parser.add_argument("--client-id", default="gmina-ingest", help="fixed id: the broker keeps the session")
        parser.add_argument("--batch-size", type=int, default=1000, help="messages per transaction at most")
        parser.add_argument("--max-delay", type=float, default=0.2, help="seconds a message may wait for its group")
        parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        consumer = Consumer(
            host=options["host"],
            port=options["port"],
            client_id=options["client_id"],
            batch_size=options["batch_size"],
            max_delay=options["max_delay"],
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: consumer.stop())
        stats = consumer.run(duration=options["duration"])
        self.stdout.write(
            f"mqtt: {stats.received} received, {stats.acknowledged} acknowledged, {stats.stored} readings stored, "
            f"{stats.unrouted} without a member, {stats.failures} failed attempts"
        )
