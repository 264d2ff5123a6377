"""The Django-free packages import and run without Django (ARCHITECTURE: engine, ingest, sim, conf)."""

from __future__ import annotations

import subprocess
import sys

import pytest

DJANGO_FREE = ["gmina.conf", "gmina.ingest", "gmina.sim", "gmina.engine"]


@pytest.mark.parametrize("package", DJANGO_FREE)
def test_package_does_not_import_django(package: str) -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(len(bad)); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "0"
