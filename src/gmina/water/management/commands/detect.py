"""``gmina detect --member M --since DATE``: run the engine day by day up to now (or ``--until``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from gmina.consortium.actors import Actor
from gmina.consortium.lookup import find_member
from gmina.water.detection import run_detection


def _utc(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{name}: expected a date or time such as 2025-03-01 or 2025-03-01T06:00Z") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Run anomaly detection for a member at each analysis time from --since to --until (daily by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", required=True, help="member id, TERYT code or name")
        parser.add_argument("--since", required=True, help="first analysis time (UTC date or ISO time)")
        parser.add_argument("--until", help="last analysis time (default: now)")
        parser.add_argument("--step-hours", type=int, default=24, help="hours between analysis times")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        member = find_member(options["member"])
        since = _utc(options["since"], "--since")
        until = _utc(options["until"], "--until") if options["until"] else datetime.now(UTC)
        if until < since:
            raise CommandError("--until is before --since")
        step = timedelta(hours=max(1, options["step_hours"]))
        times = []
        at = since
        while at <= until:
            times.append(at)
            at += step
        actor = Actor.system("detect")
        totals = {"opened": 0, "updated": 0, "cleared": 0}
        for at in tqdm(times, unit="run", disable=options["no_progress"], file=self.stderr):
            run = run_detection(actor, member, as_of=at)
            totals = {k: totals[k] + getattr(run, k) for k in totals}
        self.stdout.write(
            f"{member.name}: {len(times)} analysis times; alerts opened {totals['opened']}, "
            f"updated {totals['updated']}, cleared {totals['cleared']}"
        )
