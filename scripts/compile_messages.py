"""Compile every ``src/gmina/locale/*/LC_MESSAGES/django.po`` to ``django.mo`` with polib.

No GNU gettext is needed. Run from anywhere: ``python scripts/compile_messages.py``.
Exits non-zero if a catalogue has untranslated or fuzzy entries, unless ``--allow-incomplete``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "src" / "gmina" / "locale"


def catalogues(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every ``django.po`` under ``locale_dir``, sorted."""
    return sorted(locale_dir.glob("*/LC_MESSAGES/django.po"))


def compile_po(po_path: Path, mo_path: Path | None = None) -> Path:
    """Compile ``po_path`` to ``mo_path`` (default: next to it, as ``django.mo``); return the .mo path."""
    target = mo_path if mo_path is not None else po_path.with_suffix(".mo")
    polib.pofile(str(po_path)).save_as_mofile(str(target))
    return target


def problems(po_path: Path) -> list[str]:
    """Untranslated and fuzzy entries of the catalogue, as readable lines."""
    po = polib.pofile(str(po_path))
    found = [f"untranslated: {entry.msgid!r}" for entry in po.untranslated_entries()]
    found += [f"fuzzy: {entry.msgid!r}" for entry in po.fuzzy_entries()]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-incomplete", action="store_true", help="compile even with gaps")
    args = parser.parse_args(argv)
    paths = catalogues()
    if not paths:
        sys.stderr.write(f"no catalogues under {LOCALE_DIR}\n")
        return 1
    status = 0
    for po_path in paths:
        issues = problems(po_path)
        for issue in issues:
            sys.stderr.write(f"{po_path}: {issue}\n")
        if issues and not args.allow_incomplete:
            status = 1
            continue
        mo_path = compile_po(po_path)
        sys.stdout.write(f"compiled {mo_path}\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
