from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gmina.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo consortium (members, users of every role) if it is not there yet."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with GMINA_MODE=production")
        logins, _token, notes = seed_demo()
        for note in notes:
            self.stdout.write(note)
        self.stdout.write(f"{len(logins)} demo logins ready")
