"""``gmina demo``: migrate, seed the demo consortium, print logins, serve on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gmina.consortium.demo import DEMO_PASSWORD
from gmina.consortium.management.commands.serve import run_gunicorn
from gmina.demo import seed_demo


class Command(BaseCommand):
    help = "Set up and run the demo on the embedded SQLite database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--check",
            action="store_true",
            help="start the server, fetch the login page and /healthz, then stop (used by the tests)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("gmina demo refuses to run with GMINA_MODE=production (it creates known passwords)")
        call_command("migrate", interactive=False, verbosity=0)
        logins, token, notes = seed_demo()
        for note in notes:
            self.stdout.write(note)
        url = f"http://127.0.0.1:{options['port']}/"
        self.stdout.write(f"gmina demo: data in {settings.DATA_DIR}")
        self.stdout.write(f"Open {url} and sign in (password for every account: {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.username:<14} {login.role:<18} {login.member}")
        if token:
            self.stdout.write(f"API token of the first member (shown once): {token}")
        if options["check"]:
            self._check(options["port"])
            return
        run_gunicorn(f"127.0.0.1:{options['port']}", workers=2, threads=4)

    def _check(self, port: int) -> None:
        """Run the real server (gunicorn) in a child process and ask it for two pages."""
        server = subprocess.Popen(
            [sys.executable, "-m", "gmina.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        )
        try:
            for path in ("healthz", "accounts/login/"):
                self._get(f"http://127.0.0.1:{port}/{path}")
            self.stdout.write("demo check: the server answered /healthz and /accounts/login/")
        finally:
            server.terminate()
            server.wait(timeout=30)

    @staticmethod
    def _get(url: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
                    raise CommandError(f"demo check: {url} answered {response.status}")
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise CommandError(f"demo check: {url} did not answer: {exc}") from exc
                time.sleep(0.3)
