"""The ``gmina`` console script: a thin wrapper over the project's management commands.

``gmina demo``, ``gmina serve``, ``gmina migrate``, ``gmina createsuperuser`` and every other
command of ``manage.py`` run the same code; ``gmina sim`` and ``gmina bench`` run the Django-free
simulator (:mod:`gmina.sim.cli`).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmina.settings")
    from gmina.conf import SettingsError

    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("sim", "bench"):
        # The simulator and its benchmark need no Django and no database.
        from gmina.sim.cli import run_bench_cli, run_sim_cli

        runner = run_sim_cli if args[0] == "sim" else run_bench_cli
        raise SystemExit(runner(args[1:]))
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["gmina", *args])
    except SettingsError as exc:
        print(f"gmina: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
