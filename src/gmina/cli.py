"""The ``gmina`` console script: a thin wrapper over the project's management commands.

``gmina demo``, ``gmina serve``, ``gmina migrate``, ``gmina createsuperuser`` and every other
command of ``manage.py`` run the same code.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmina.settings")
    from gmina.conf import SettingsError

    args = sys.argv[1:] if argv is None else argv
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["gmina", *args])
    except SettingsError as exc:
        print(f"gmina: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
