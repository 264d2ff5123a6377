"""``gmina worker``: the scheduler and job queue (django-q2 ``qcluster``) with gmina's schedules."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from gmina.water.jobs import ensure_schedules


class Command(BaseCommand):
    help = (
        "Run the background worker: detection on new data and periodic full detection "
        "(schedules from GMINA_DETECT_NEW_DATA_MINUTES and GMINA_DETECT_EVERY_MINUTES)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schedules-only", action="store_true", help="create or update the schedules, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        for schedule in ensure_schedules():
            self.stdout.write(f"schedule {schedule.name!r}: {schedule.func} every {schedule.minutes} min")
        if options["schedules_only"]:
            return
        call_command("qcluster")
