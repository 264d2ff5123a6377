"""``gmina import readings FILE --profile NAME --member MEMBER``: stream a CSV export into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from gmina.consortium.actors import Actor
from gmina.consortium.lookup import find_member
from gmina.ingest import FileRejected, load_profile
from gmina.water import actions


class Command(BaseCommand):
    help = "Import data files. `gmina import readings FILE --profile NAME --member MEMBER`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["readings"], help="what the file holds")
        parser.add_argument("file", type=Path)
        parser.add_argument("--profile", default="gmina", help="a built-in profile name or a TOML profile file")
        parser.add_argument("--member", required=True, help="member id, TERYT code or name")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        member = find_member(options["member"])
        try:
            profile = load_profile(options["profile"])
        except (ValueError, OSError) as exc:
            raise CommandError(f"--profile: {exc}") from exc
        bar = tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=path.name,
            disable=options["no_progress"],
            file=self.stderr,
        )
        position = 0

        def progress(done: int) -> None:
            nonlocal position
            bar.update(done - position)
            position = done

        actor = Actor.system(f"import:{path.name}")
        try:
            result = actions.import_readings_file(actor, member, path, profile, on_progress=progress)
        except FileRejected as exc:
            bar.close()
            raise CommandError(f"{path}: file rejected, nothing imported: {exc}") from exc
        bar.close()
        self.stdout.write(
            f"{path.name}: {result.received} records: {result.accepted} stored, {result.duplicates} duplicates, "
            f"{result.quarantined} quarantined (batch {result.batch.pk})"
        )
        reasons: dict[str, int] = {}
        for issue in result.issues:
            reasons[issue.reason] = reasons.get(issue.reason, 0) + 1
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  quarantined as {reason}: {count}")
